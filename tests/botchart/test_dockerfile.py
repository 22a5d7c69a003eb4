"""The Dockerfile cannot be built on these machines; check that it agrees with what is tested:
the harness's Helm version and build flags, the chart's user, port and command, and that
everything it copies is in the build context."""

from __future__ import annotations

import fnmatch
import json
import re

import yaml

from tests.botchart.conftest import BOT_CHART_DIR, REPO_ROOT, Render, bot_container

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
HARNESS = (REPO_ROOT / "cluster" / "harness.sh").read_text()
VERSIONS = (REPO_ROOT / "cluster" / "versions.env").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def env_values() -> dict[str, str]:
    values = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            values.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    return values


def test_helm_is_the_version_and_build_the_tests_use() -> None:
    pinned = re.search(r"^HELM_VERSION=(\S+)$", VERSIONS, re.MULTILINE)
    assert pinned is not None
    assert f"ARG HELM_VERSION={pinned.group(1)}" in DOCKERFILE
    harness_flags = re.search(
        r'-ldflags "(-s -w -X helm\.sh/helm/v4/internal/version\.version=)\$HELM_VERSION"', HARNESS
    )
    assert harness_flags is not None
    assert f'-ldflags "{harness_flags.group(1)}${{HELM_VERSION}}"' in DOCKERFILE
    assert '"helm.sh/helm/v4/cmd/helm@${HELM_VERSION}"' in DOCKERFILE
    assert ("COPY", "--from=helm /out/helm /usr/local/bin/helm") in final_stage()
    assert env_values()["HELM_BINARY"] == "/usr/local/bin/helm"


def test_python_3_11_slim_with_the_package_installed() -> None:
    assert "ARG PYTHON_VERSION=3.11" in DOCKERFILE
    assert final_stage()[0] == ("FROM", "python:${PYTHON_VERSION}-slim")
    assert "pip install --no-cache-dir '.[postgres]'" in DOCKERFILE
    assert env_values()["PATH"].startswith("/opt/venv/bin:")


def test_chart_ref_points_at_the_copied_chart() -> None:
    copies = [rest for keyword, rest in final_stage() if keyword == "COPY" and rest.startswith("charts/")]
    assert copies == ["charts/jupyterhub /opt/jupyterhub-bot/charts/jupyterhub"]
    assert env_values()["CHART_REF"] == "/opt/jupyterhub-bot/charts/jupyterhub"


def test_user_port_and_command_match_the_chart(render: Render) -> None:
    deployment = (BOT_CHART_DIR / "templates" / "bot" / "deployment.yaml").read_text()
    uid = re.search(r"runAsUser: (\d+)", deployment)
    assert uid is not None
    steps = final_stage()
    assert ("USER", f"{uid.group(1)}:{uid.group(1)}") in steps
    assert f"--uid {uid.group(1)}" in DOCKERFILE
    assert ("EXPOSE", "3000") in steps and env_values()["PORT"] == "3000"
    [cmd] = [rest for keyword, rest in steps if keyword == "CMD"]
    assert json.loads(cmd) == ["python", "-m", "bot", "serve"]
    # The chart runs the image's command in HTTP mode, and the bot's other mode in Socket Mode.
    assert bot_container(render())["args"] == ["python", "-m", "bot", "serve"]
    assert bot_container(render({"slack": {"mode": "socket"}}))["args"] == ["python", "-m", "bot", "socket"]
    app_version = yaml.safe_load((BOT_CHART_DIR / "Chart.yaml").read_text())["appVersion"]
    project_version = re.search(r'^version = "(.+)"$', (REPO_ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert project_version is not None and app_version == project_version.group(1)


def test_everything_copied_is_in_the_build_context() -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(path: str) -> bool:
        # Docker applies the patterns in order; the last match decides.
        keep = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            bare = pattern.lstrip("!")
            if bare == "**" or fnmatch.fnmatch(path, bare) or path.startswith(f"{bare}/"):
                keep = negated
        return keep

    sources = []
    for keyword, rest in instructions():
        if keyword == "COPY" and not rest.startswith("--from"):
            sources += rest.split()[:-1]
    assert sources
    for source in sources:
        assert (REPO_ROOT / source).exists(), source
        assert included(source), f"{source} is excluded by .dockerignore"
    assert not included("tests")
    assert not included(".venv")
