"""How the sandbox starts: never beside a real workspace's settings, and `make run` picks it
only when there are none."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import run_mode
from bot.sandbox.run import SLACK_SETTINGS, slack_settings_in

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SLACK_SETTINGS}


@pytest.mark.parametrize("variable", SLACK_SETTINGS)
def test_the_sandbox_refuses_to_start_beside_slack_settings(variable: str) -> None:
    port = _free_port()
    env = {**_clean_env(), variable: "xoxb-real-workspace" if variable != "SLACK_API_URL" else "https://slack.com/api/"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refusing to start" in proc.stderr and variable in proc.stderr
    assert "python -m bot serve" in proc.stderr
    # It never listened.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert "xoxb-real-workspace" not in proc.stdout + proc.stderr


def test_empty_settings_are_no_settings() -> None:
    assert slack_settings_in({"SLACK_BOT_TOKEN": "", "PORT": "3000"}) == []
    assert slack_settings_in({"ADMIN_CHANNEL_ID": "C1"}) == ["ADMIN_CHANNEL_ID"]


def test_make_run_starts_the_sandbox_without_slack_settings_and_the_bot_with_them() -> None:
    dry = subprocess.run(["make", "-n", "run"], env=_clean_env(), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "-m bot run" in dry.stdout
    assert run_mode({}) == "sandbox"
    assert run_mode({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "ADMIN_CHANNEL_ID": "C1"}) == "serve"
    assert run_mode({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "ADMIN_CHANNEL_ID": "C1"}) == "socket"


def test_slack_settings_in_the_env_file_run_the_bot_for_slack(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('SLACK_BOT_TOKEN="xoxp-a-user-token"\nADMIN_CHANNEL_ID=C0123ABCD\nSLACK_SIGNING_SECRET=s\n')
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--env-file", str(env_file)],
        env=_clean_env(),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    # It chose to serve Slack (whose settings check refuses a user token), not the sandbox.
    assert proc.returncode == 2 and "SLACK_BOT_TOKEN: this is a user token" in proc.stderr


def test_a_port_in_use_is_named_with_what_to_do_instead() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "--port N" in proc.stderr
