"""Helm runs with none of the bot's credentials in its environment (issue #11): the real bot
process, with a wrapper around the real helm that records the environment it was given."""

from __future__ import annotations

import stat
from pathlib import Path

import aiohttp
import pytest

from bot.config import SECRET_VARIABLES
from bot.sandbox.emulator import SlackEmulator
from tests.reliability.support import Database, bot_env, bot_process, poll, unique_prefix, write_policy
from tests.support.cluster import LocalCluster

pytestmark = pytest.mark.cluster


async def test_helm_inherits_no_credential(local_cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path) -> None:
    seen = tmp_path / "helm-environment"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\nenv > "{seen}"\nexec "{local_cluster.helm}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    database = Database(tmp_path / "bot.db")
    policies = write_policy(tmp_path / "policies", local_cluster, ["U0CHILD"], unique_prefix())
    env = {
        **bot_env(local_cluster, database=database.path, policies=policies, slack=slack),
        "HELM_BINARY": str(wrapper),
        "DATABASE_URL": f"sqlite:///{database.path}?mode=rwc",
    }
    try:
        async with bot_process(env, tmp_path / "bot.log") as bot:
            # Readiness connects to the cluster, which starts helm (`helm version`).
            async with aiohttp.ClientSession() as session, session.get(bot.url.replace("/slack/events", "/readyz")):
                pass
            await poll("helm to run", seen.exists, timeout=30)
    finally:
        database.close()
    given = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert "PATH" in given  # the wrapper really recorded helm's environment
    assert [name for name in SECRET_VARIABLES if name in given] == []
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        assert env[name] not in seen.read_text(), f"the value of {name} reached helm"
