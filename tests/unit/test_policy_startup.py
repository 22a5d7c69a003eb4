"""The bot logs each policy warning once at start-up, and starts anyway."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

POLICY = """\
roles:
  users:
    members: [user:U0ALICE]
    allow: [list]
  helpers:
    members: []
    allow: [list]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_policy_warnings_are_logged_once_at_start_up(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "team.yaml").write_text(POLICY)
    (policies / "team.yaml.bak").write_text(POLICY)
    log = tmp_path / "bot.log"
    env = {
        "PATH": os.environ["PATH"],
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "ADMIN_CHANNEL_ID": "C0ADMINS",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "POLICIES_DIR": str(policies),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "PORT": str(_free_port()),
        "LOG_FORMAT": "text",
    }
    with log.open("w") as out:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "serving Slack requests" not in log.read_text():
            assert bot.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    lines = log.read_text().splitlines()
    warned = [line for line in lines if "roles.helpers.members: warning: is empty" in line]
    noted = [line for line in lines if f"{policies / 'team.yaml.bak'}: note: skipped" in line]
    assert len(warned) == 1 and " WARNING " in warned[0]
    assert len(noted) == 1
