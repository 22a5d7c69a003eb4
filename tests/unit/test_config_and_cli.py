from __future__ import annotations

import os
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
    env = {"POLICIES_DIR": str(REPO / "policies"), "SLACK_BOT_TOKEN": "xoxb-1", "ADMIN_CHANNEL_ID": "C0123ABCD"}
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
    assert "roles: warning: no role has a member, so nobody can use the bot yet" in ok.stderr
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


LAUNCHERS = (
    "roles:\n"
    "  users:\n    members: [user:U0ALICE]\n    allow: [launch]\n    profiles: [small]\n    clusters: [dev]\n"
    "    max_lifetime: 1d\n"
    "  helpers:\n    members: []\n    allow: [list]\n"
    "profiles:\n  small: {image: 'quay.io/jupyter/minimal-notebook:2025-06-30', cpu: 1, memory: 1Gi}\n"
    "clusters:\n  dev: {context: dev-east}\n"
)


def test_check_policies_prints_warnings_and_still_succeeds(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(LAUNCHERS)
    result = _bot("check-policies", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'team.yaml'}: roles.helpers.members: warning: is empty, so nobody has this role; "
        "add Slack IDs (user:U…, user:W…, group:S…)"
    ]
    assert result.stdout == f"{tmp_path}: OK (2 roles, 1 profiles, 1 clusters; 1 warning(s))\n"


def test_check_policies_checks_contexts_against_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(LAUNCHERS.replace("  helpers:\n    members: []\n    allow: [list]\n", ""))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncontexts:\n- name: dev-west\n  context: {cluster: c}\n")
    from_env = _bot("check-policies", str(tmp_path), env={**os.environ, "KUBECONFIG": str(kubeconfig)})
    given = _bot("check-policies", str(tmp_path), "--kubeconfig", str(kubeconfig), env={**os.environ, "KUBECONFIG": ""})
    for result in (from_env, given):
        assert result.returncode == 0
        assert result.stderr.startswith(
            f"{tmp_path / 'team.yaml'}: clusters.dev.context: warning: 'dev-east' is not a context in the kubeconfig"
        )


def test_check_policies_takes_one_file(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(LAUNCHERS)
    (tmp_path / "draft.yaml").write_text("roles: {\n")
    result = _bot("check-policies", str(tmp_path / "team.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{tmp_path / 'team.yaml'}: OK (2 roles")


def test_check_policies_turns_unreadable_files_into_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(LAUNCHERS)
    (tmp_path / "latin1.yaml").write_bytes("roles: {}  # Café\n".encode("latin-1"))
    (tmp_path / "old.yaml").mkdir()
    (tmp_path / "linked.yaml").symlink_to(tmp_path / "nowhere.yaml")
    (tmp_path / "team.yaml.bak").write_text(LAUNCHERS)
    result = _bot("check-policies", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{tmp_path / 'latin1.yaml'}: line 1: is not UTF-8 text (byte 0xe9); save the file as UTF-8",
        f"{tmp_path / 'linked.yaml'}: is a broken symbolic link (to {tmp_path / 'nowhere.yaml'}, which does not exist)",
        f"{tmp_path / 'old.yaml'}: is a folder, not a policy file; rename it or move it elsewhere",
        f"{tmp_path / 'team.yaml.bak'}: note: skipped: only *.yaml and *.yml files are read",
        f"{tmp_path}: 3 problem(s)",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SLACK_BOT_TOKEN", "xapp-1-A0-123-abc", "this is an app-level token; use the Bot User OAuth Token"),
        ("SLACK_BOT_TOKEN", "xoxp-123-abc", "this is a user token"),
        ("ADMIN_CHANNEL_ID", "#admins", "'#admins' is not a channel ID; use the ID"),
    ],
)
def test_slack_settings_that_can_never_work_are_refused_with_the_fix(variable: str, value: str, said: str) -> None:
    env = {
        "POLICIES_DIR": str(REPO / "policies"),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "ADMIN_CHANNEL_ID": "C0123ABCD",
        "SLACK_SIGNING_SECRET": "s",
        variable: value,
    }
    with pytest.raises(ConfigError) as refused:
        load_settings("serve", env)
    assert any(said in problem for problem in refused.value.problems), refused.value.problems


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://bot:pw@db.example:5432/bot", "postgresql+psycopg://bot:pw@db.example:5432/bot"),
        ("postgresql://bot:pw@db.example/bot", "postgresql+psycopg://bot:pw@db.example/bot"),
        ("postgresql+psycopg://bot@db/bot", "postgresql+psycopg://bot@db/bot"),
        ("sqlite:////var/lib/bot.db", "sqlite:////var/lib/bot.db"),
    ],
)
def test_database_urls_as_platforms_set_them(given: str, used: str) -> None:
    settings = load_settings("check", {"POLICIES_DIR": str(REPO / "policies"), "DATABASE_URL": given})
    assert settings.database_url == used


def test_a_relative_sqlite_path_is_anchored_where_the_bot_starts(tmp_path: Path) -> None:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        settings = load_settings("check", {"POLICIES_DIR": str(REPO / "policies")})
    finally:
        os.chdir(cwd)
    assert settings.database_url == f"sqlite:///{tmp_path / 'jupyterhub-bot.db'}"


@pytest.mark.parametrize(
    ("given", "used"), [("debug", "DEBUG"), ("Info", "INFO"), ("WARN", "WARNING"), ("error", "ERROR")]
)
def test_log_levels_in_any_case(given: str, used: str) -> None:
    settings = load_settings("check", {"POLICIES_DIR": str(REPO / "policies"), "LOG_LEVEL": given})
    assert settings.log_level == used


def test_an_env_file_is_read_as_a_shell_would(tmp_path: Path) -> None:
    """Quotes and comments in .env, as `make run` passes it with --env-file."""
    database = tmp_path / "from-env-file.db"
    env_file = tmp_path / ".env"
    env_file.write_text(f'# settings\nDATABASE_URL="sqlite:///{database}"\nLOG_LEVEL="debug"  # loud\n')
    result = _bot("migrate", "--env-file", str(env_file), env={"PATH": os.environ["PATH"], "POLICIES_DIR": "policies"})
    assert result.returncode == 0, result.stderr
    assert database.exists() and "at revision" in result.stdout
