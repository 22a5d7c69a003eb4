"""At start-up the bot logs each policy warning once and starts anyway; a policy it cannot
read stops it with one line per problem, never a traceback."""

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


def _env(tmp_path: Path, policies: Path) -> dict[str, str]:
    return {
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


def test_policy_warnings_are_logged_once_at_start_up(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "team.yaml").write_text(POLICY)
    (policies / "team.yaml.bak").write_text(POLICY)
    log = tmp_path / "bot.log"
    env = _env(tmp_path, policies)
    with log.open("w") as out:
        bot = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while "serving Slack requests" not in log.read_text():
            assert bot.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)  # wait-ok: polling the log, with a deadline
    finally:
        bot.terminate()
        bot.wait(timeout=30)
    lines = log.read_text().splitlines()
    warned = [line for line in lines if "roles.helpers.members: warning: is empty" in line]
    noted = [line for line in lines if f"{policies / 'team.yaml.bak'}: note: skipped" in line]
    assert len(warned) == 1 and " WARNING " in warned[0]
    assert len(noted) == 1


def test_an_unreadable_policy_stops_the_bot_with_one_line_each(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "team.yaml").write_text(POLICY)
    (policies / "latin1.yaml").write_bytes("roles: {}  # Café\n".encode("latin-1"))
    (policies / "gone.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    (policies / "old.yaml").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=REPO,
        env=_env(tmp_path, policies),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith(str(policies))] == [
        f"{policies / 'gone.yaml'}: is a broken symbolic link (to {tmp_path / 'elsewhere.yaml'}, which does not exist)",
        f"{policies / 'latin1.yaml'}: line 1: is not UTF-8 text (byte 0xe9); save the file as UTF-8",
        f"{policies / 'old.yaml'}: is a folder, not a policy file; rename it or move it elsewhere",
    ]
