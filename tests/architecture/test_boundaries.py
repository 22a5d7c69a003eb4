"""The tree shows the architecture: the core imports no chat, Kubernetes, Helm, SQL or HTTP
library, and no adapter; adapters do not import each other's internals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
CORE = BOT / "core"

FORBIDDEN_IN_CORE = ("slack_bolt", "slack_sdk", "kubernetes", "pyhelm3", "sqlmodel", "sqlalchemy", "aiohttp", "alembic")
# The core may import itself and nothing else of the bot.
ADAPTER_PACKAGES = (
    "bot.slack",
    "bot.helm",
    "bot.hub",
    "bot.store",
    "bot.runtime",
    "bot.jobs",
    "bot.metrics",
    "bot.logs",
)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


CORE_MODULES = sorted(CORE.rglob("*.py"))


def test_the_core_is_where_it_should_be() -> None:
    names = {p.relative_to(CORE).as_posix() for p in CORE_MODULES}
    assert {"commands.py", "problems.py", "notices.py", "ports.py", "lifecycle/__init__.py"} <= names


@pytest.mark.parametrize("module", CORE_MODULES, ids=lambda p: p.relative_to(BOT).as_posix())
def test_a_core_module_imports_no_io_library_and_no_adapter(module: Path) -> None:
    bad = [
        name
        for name in _imports(module)
        if name.split(".")[0] in FORBIDDEN_IN_CORE or name.startswith(ADAPTER_PACKAGES)
    ]
    assert bad == [], f"{module.relative_to(BOT)} imports {bad}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text("import os\nfrom slack_sdk.web import WebClient\nfrom bot.helm import chart\n")
    assert _imports(module) == ["os", "slack_sdk.web", "bot.helm"]
