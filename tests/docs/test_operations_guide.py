"""The operations guide's commands run as written (issue #16 item 12): every shell block the
guide marks *Tested* is run by bash, in order, against the local cluster (with its real
helm and kubectl) and a real PostgreSQL, with the settings an operator would export."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, namespace_exists
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "OPERATIONS.md"

pytestmark = pytest.mark.cluster

_BLOCK = re.compile(r"^(?P<before>[^\n]*)\n+```sh\n(?P<body>.*?)\n```", re.MULTILINE | re.DOTALL)


def blocks_marked_tested() -> list[str]:
    """The guide's shell blocks whose introducing line says *Tested*, in order."""
    text = GUIDE.read_text()
    return [match["body"] for match in _BLOCK.finditer(text) if "*Tested" in match["before"]]


def test_the_guide_marks_its_tested_commands() -> None:
    blocks = blocks_marked_tested()
    assert len(blocks) == 6, blocks
    assert any("helm install" in block for block in blocks) and any("helm uninstall" in block for block in blocks)


def _bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_first_day_and_day_two_commands_run_as_written(local_cluster: LocalCluster, tmp_path: Path) -> None:
    policy, install, upgrade, _postgres, uninstall, cleanup = blocks_marked_tested()
    namespace = f"jhb-guide-{secrets.token_hex(3)}"
    tools = f"{local_cluster.helm.parent}:{local_cluster.kubectl.parent}"
    env = {
        **os.environ,
        "PATH": f"{tools}:{os.environ['PATH']}",
        "KUBECONFIG": str(local_cluster.kubeconfig),
        "NAMESPACE": namespace,
        "RELEASE": "jupyterhub-bot",
        "SLACK_BOT_TOKEN": "xoxb-guide-test",
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "ADMIN_CHANNEL_ID": "C0123ABCD",
        # The local cluster's kwok node plays the pod; nothing pulls this image.
        "IMAGE_REPOSITORY": "registry.example.com/platform/jupyterhub-bot",
        "IMAGE_TAG": "0.1.0",
    }
    core = core_api(local_cluster)
    try:
        for name, block in (("policy", policy), ("install", install), ("upgrade", upgrade)):
            result = _bash(block, env, REPO)
            assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
        assert namespace_exists(core, namespace)
        environment = f"jh-guide-{secrets.token_hex(3)}"
        labels = {"jupyterhub-bot.io/installation": f"{namespace}.jupyterhub-bot"}
        core.create_namespace({"metadata": {"name": environment, "labels": labels}})
        for name, block in (("uninstall", uninstall), ("cleanup", cleanup)):
            result = _bash(block, env, REPO)
            assert result.returncode == 0, f"{name}:\n{result.stdout}\n{result.stderr}"
            if name == "uninstall":
                assert environment in result.stdout  # the guide's listing shows what is left
        assert not namespace_exists(core, environment) and not namespace_exists(core, namespace)
    finally:
        subprocess.run(
            [str(local_cluster.kubectl), "delete", "namespace", namespace, "--ignore-not-found", "--wait=false"],
            env=env,
            capture_output=True,
            check=False,
        )


@pytest.mark.postgres
def test_the_postgresql_backup_and_restore_run_as_written(postgres_server: PostgresServer, tmp_path: Path) -> None:
    _, _, _, backup_restore, _, _ = blocks_marked_tested()
    server = postgres_server
    source = server.create_database()
    target = server.create_database()
    try:
        migrated = subprocess.run(
            [".venv/bin/python", "-m", "bot", "migrate"],
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": source, "POLICIES_DIR": "policies"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        plain = {name: url.replace("+psycopg", "") for name, url in (("source", source), ("target", target))}
        env = {
            **os.environ,
            "PATH": f"{server.bin_dir}:{os.environ['PATH']}",
            "BACKUP_DATABASE_URL": plain["source"],
            "RESTORE_DATABASE_URL": plain["target"],
        }
        result = _bash(backup_restore, env, tmp_path)
        assert result.returncode == 0, result.stderr
        restored = subprocess.run(
            [".venv/bin/python", "-m", "bot", "migrate"],
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": target, "POLICIES_DIR": "policies"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restored.returncode == 0 and "at revision" in restored.stdout, restored.stderr
    finally:
        for url in (source, target):
            server.drop_database(url.rsplit("/", 1)[1])
