pytest_plugins = ["tests.support.cluster", "tests.support.postgres", "tests.support.helm"]
