from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


def test_missing_settings_name_each_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings("serve", {"POLICIES_DIR": str(REPO / "policies"), "PORT": "http"})
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["PORT"]
    with pytest.raises(ConfigError) as caught:
        load_settings("serve", {"POLICIES_DIR": str(REPO / "policies")})
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "SLACK_BOT_TOKEN",
        "ADMIN_CHANNEL_ID",
        "SLACK_SIGNING_SECRET",
    ]


def test_socket_mode_needs_an_app_token() -> None:
    env = {"POLICIES_DIR": str(REPO / "policies"), "SLACK_BOT_TOKEN": "xoxb-1", "ADMIN_CHANNEL_ID": "C1"}
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        load_settings("socket", env)
    assert load_settings("socket", {**env, "SLACK_APP_TOKEN": "xapp-1"}).slack_app_token == "xapp-1"


def _bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=60
    )


def test_check_policies_command(tmp_path: Path) -> None:
    ok = _bot("check-policies", "policies")
    assert ok.returncode == 0 and "OK" in ok.stdout
    (tmp_path / "bad.yaml").write_text("roles:\n  r: {members: [bob], allow: [launch]}\n")
    bad = _bot("check-policies", str(tmp_path))
    assert bad.returncode == 1
    assert f"{tmp_path / 'bad.yaml'}: roles.r.members: 'bob' is not a member" in bad.stderr


def test_serve_exits_non_zero_with_one_line_per_problem(tmp_path: Path) -> None:
    result = _bot("serve", env={"PATH": "/usr/bin:/bin", "POLICIES_DIR": str(tmp_path / "missing")})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "SLACK_BOT_TOKEN: required (the bot token, xoxb-…)",
        "ADMIN_CHANNEL_ID: required (channel ID for approvals and alerts, C…)",
        "SLACK_SIGNING_SECRET: required in HTTP mode (app settings, Basic Information)",
        f"POLICIES_DIR: '{tmp_path / 'missing'}' is not a directory",
    ]
