"""An operator reads one line per meaningful event at INFO (issue #16 item 11): the real
`python -m bot serve`, against the Slack emulator, with health probes arriving."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.contract.conftest import GROUPS, POLICIES
from tests.support.processes import bot_process, emulator_process, free_port, offline_cluster


def test_start_up_and_health_probes_log_only_what_matters(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    with emulator_process(GROUPS) as slack_url:
        port = free_port()
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": f"{slack_url}/api/",
            "ADMIN_CHANNEL_ID": "C0ADMINS",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "POLICIES_DIR": str(POLICIES),
            "PORT": str(port),
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "info",
            **offline_cluster(tmp_path),
        }
        with bot_process(env, log_file=log):
            for _ in range(5):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200
    lines = log.read_text().splitlines()
    assert any("serving Slack requests" in line for line in lines), lines
    assert any(f"database: sqlite:///{tmp_path / 'bot.db'}" in line for line in lines), lines
    assert not [line for line in lines if "/healthz" in line], "a health probe was logged"
    assert not [line for line in lines if " alembic" in line or " apscheduler" in line]
    assert not [line for line in lines if "Traceback" in line]
    assert len([line for line in lines if " INFO " in line]) <= 8, lines


def test_socket_mode_serves_its_probes_and_metrics_on_port(tmp_path: Path) -> None:
    """The bot's chart probes /healthz and /readyz in Socket Mode too (issue #16 item 12)."""
    with emulator_process(GROUPS) as slack_url:
        port = free_port()
        env = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-1-A0TEST-1-test",
            "SLACK_API_URL": f"{slack_url}/api/",
            "ADMIN_CHANNEL_ID": "C0ADMINS",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "POLICIES_DIR": str(POLICIES),
            "PORT": str(port),
            **offline_cluster(tmp_path),
        }
        with bot_process(env, args=("socket",)):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                assert b"jupyterhub_bot_environments" in response.read()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=20)
            except urllib.error.HTTPError as exc:  # the offline cluster is not reachable: 503
                checks = json.loads(exc.read())["checks"]
            assert checks["database"] == "ok" and checks["slack"] == "ok"
