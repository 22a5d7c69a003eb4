"""A cluster the bot cannot even try to reach (issue #12 item 13): said at start-up, in /readyz,
and to a launcher at once with the cluster's name; the admins hear about the cluster once and
never about objects that do not exist. The real bot, its real Helm deployer, no cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.core.states import State
from tests.support.bot_harness import ADMIN_CHANNEL, BotUnderTest, assert_acked, base_url, running_bot

OWNER = "U0CLUSTERS"


def _kubeconfig(path: Path) -> Path:
    """A kubeconfig with one context, ``reachable``, for an API server nobody needs to reach."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "not-a-token"}}],
        "contexts": [{"name": "reachable", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "reachable",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _policy(directory: Path, contexts: dict[str, str]) -> Path:
    directory.mkdir()
    policy = {
        "roles": {
            "owners": {
                "members": [f"user:{OWNER}"],
                "allow": ["launch", "list", "status"],
                "profiles": ["tiny"],
                "clusters": list(contexts),
                "max_environments": 3,
                "max_lifetime": "1d",
            }
        },
        "profiles": {"tiny": {"image": "quay.io/jupyter/minimal-notebook:2025-06-30", "cpu": "1", "memory": "1Gi"}},
        "clusters": {name: {"context": context} for name, context in contexts.items()},
    }
    (directory / "clusters.yaml").write_text(yaml.safe_dump(policy))
    return directory


@pytest.fixture
async def misconfigured_bot(tmp_path: Path, helm: Path) -> AsyncIterator[BotUnderTest]:
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=_policy(tmp_path / "policies", {"good": "reachable", "broken": "gone-from-the-kubeconfig"}),
        groups={},
        extra_env={"KUBECONFIG": str(_kubeconfig(tmp_path / "kubeconfig")), "HELM_BINARY": str(helm)},
    ) as bot:
        yield bot


async def test_a_cluster_the_bot_cannot_use_is_named_at_start_up_and_in_readyz(
    misconfigured_bot: BotUnderTest,
) -> None:
    fatal, warnings = misconfigured_bot.runtime.start_up_problems()
    assert fatal == []
    assert len(warnings) == 1 and warnings[0].startswith("cluster broken: cannot be used:")
    assert "gone-from-the-kubeconfig" in warnings[0]
    async with aiohttp.ClientSession() as session, session.get(f"{base_url(misconfigured_bot)}/readyz") as response:
        assert response.status == 503
        checks = (await response.json())["checks"]
    assert checks["cluster:broken"].startswith("not configured (") and checks["slack"] == "ok"


async def test_a_launch_on_it_fails_at_once_naming_the_cluster_and_alerts_the_admins_once(
    misconfigured_bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot = misconfigured_bot
    for name in ("first", "second"):
        assert_acked(await bot.slack.slash_command(OWNER, f"launch {name} cluster=broken"))
        failed = await bot.slack.wait_for_private(
            OWNER, lambda c, n=name: f"*{n}* could not be deployed" in c.text_blob
        )
        assert "The cluster `broken` cannot be used by the bot right now" in failed.text_blob
        await bot.settle()
        env = bot.environment(OWNER, name)
        assert env.state is State.FAILED and env.quota_slot is None
    to_admins = bot.slack.find("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    assert len(to_admins) == 1 and "cannot use that cluster" in to_admins[0].text_blob
    assert "remove_orphan" not in to_admins[0].text_blob  # nothing was created, so nothing to remove
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_no_usable_cluster_at_all_stops_the_bot(tmp_path: Path, helm: Path) -> None:
    from bot.config import load_settings
    from bot.runtime import build_runtime

    async def problems() -> tuple[list[str], list[str]]:
        settings = load_settings(
            "serve",
            {
                "SLACK_BOT_TOKEN": "xoxb-test",
                "SLACK_SIGNING_SECRET": "s",
                "ADMIN_CHANNEL_ID": "C0ADMINS",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "POLICIES_DIR": str(_policy(tmp_path / "policies", {"only": "not-there"})),
                "KUBECONFIG": str(_kubeconfig(tmp_path / "kubeconfig")),
                "HELM_BINARY": str(helm),
            },
        )
        runtime = build_runtime(settings)
        try:
            return runtime.start_up_problems()
        finally:
            await runtime.close()

    import asyncio

    fatal, _ = asyncio.run(problems())
    assert fatal[-1] == "no cluster in the policy can be used; check KUBECONFIG, the contexts and helm"
    assert fatal[0].startswith("cluster only: cannot be used:")
