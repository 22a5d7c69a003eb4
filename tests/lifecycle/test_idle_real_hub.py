"""Idle detection against real hubs: activity comes from real logins, read with the bot's token.

The bot is the real one over HTTP with the Slack emulator; its deployer stand-in plays the
cluster: it hands the owner a public URL, and the bot the address and token of a real
`jupyterhub` process started from our chart's configuration (or a port where nothing
answers) as the hub's API inside the cluster. Nothing answers at the public URL: the bot
reads activity only where the cluster says, never through the URL its users open. The
bot's clock is moved, never slept on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.environment import Target
from bot.core.ports import Deployed, HubRequest, Progress
from bot.core.states import State
from tests.support.bot_harness import ADMIN_CHANNEL, BotUnderTest, assert_acked, running_bot
from tests.support.hub import HubSession, RunningHub, free_port, running_hub
from tests.support.stand_ins import MutableClock

pytestmark = pytest.mark.hub

OWNER = "U0IDLEOWNER"
ADMIN = "U0IDLEADMIN"
POLICY = f"""
roles:
  users:
    members: [user:{OWNER}]
    allow: [launch, list, status, creds, extend, delete]
    profiles: [small]
    clusters: [dev]
    max_environments: 3
  admins:
    members: [user:{ADMIN}]
    allow: [approve, deny, expire, list-all]
profiles:
  small: {{image: "quay.io/jupyter/minimal-notebook:2025-06-30", cpu: "1", memory: 1Gi, storage: 1Gi}}
clusters:
  dev: {{}}
defaults:
  lifetime: 1d
  idle_timeout: 1h
  warn_before: 30m
  hub_failures_before_alert: 3
"""


@dataclass(frozen=True)
class Hub:
    public_url: str  # what the owner is given
    api_url: str  # where the cluster lets the bot read the hub's API
    token: str = field(repr=False)
    password: str = field(repr=False)


@dataclass
class HubAddresses:
    """Deploys hand out these hubs in order."""

    hubs: list[Hub]
    deployed: dict[str, Hub] = field(default_factory=dict)
    teardowns: list[str] = field(default_factory=list)

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        hub = self.deployed[request.target.namespace] = self.hubs.pop(0)
        return Deployed(url=hub.public_url, username="admin", password=hub.password)

    async def teardown(self, target: Target) -> None:
        self.teardowns.append(target.namespace)

    async def url(self, target: Target) -> str:
        return self.deployed[target.namespace][0]

    async def credentials(self, target: Target) -> tuple[str, str]:
        return "admin", self.deployed[target.namespace].password

    async def hub_token(self, target: Target) -> str:
        return self.deployed[target.namespace].token

    @asynccontextmanager
    async def hub_api_url(self, target: Target) -> AsyncIterator[str]:
        yield self.deployed[target.namespace].api_url

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        return {}

    async def check(self, cluster: str) -> None:
        return None


@pytest.fixture(scope="module")
def hub(helm: Path) -> Iterator[RunningHub]:
    with running_hub(helm) as running:
        yield running


@pytest.fixture
async def idle_bot(tmp_path: Path, hub: RunningHub) -> AsyncIterator[tuple[BotUnderTest, HubAddresses]]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "idle.yaml").write_text(POLICY)
    public = f"http://127.0.0.1:{free_port()}/"  # nothing answers there
    nowhere = f"http://127.0.0.1:{free_port()}/hub/api"
    addresses = HubAddresses(
        hubs=[
            Hub(public, hub.api_url, hub.bot_api_token, hub.admin_password),
            Hub(public, nowhere, "unused-token", "unused"),
        ]
    )
    # The bot's clock starts 90 minutes behind the wall clock, so real hub activity can
    # happen "after" an idle warning the bot gave on its own clock.
    clock = MutableClock(datetime.now(UTC) - timedelta(minutes=90))
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=tmp_path / "policies",
        groups={},
        deployer=addresses,  # type: ignore[arg-type]
        clock=clock,
    ) as bot:
        yield bot, addresses


async def _launch(bot: BotUnderTest, name: str) -> None:
    assert_acked(await bot.slack.slash_command(OWNER, f"launch {name}"))
    await bot.slack.wait_for_private(OWNER, lambda c: f"Your JupyterHub *{name}* is ready" in c.text_blob)
    await bot.settle()


def _idle_warnings(bot: BotUnderTest) -> list[Any]:
    return bot.slack.find("chat.postMessage", lambda c: "has not been used for" in c.text_blob)


async def test_real_activity_keeps_a_hub_and_idleness_removes_it(
    idle_bot: tuple[BotUnderTest, HubAddresses], hub: RunningHub
) -> None:
    bot, addresses = idle_bot
    watcher = bot.runtime.lifecycle.watch
    await _launch(bot, "busy")
    env = bot.environment(OWNER, "busy")
    assert env.url == addresses.deployed[env.namespace].public_url != hub.base_url

    # Nobody has used it: activity is the ready time; not idle yet.
    report = await watcher.sweep_idle()
    assert (report.checked, report.warned, report.unreachable) == (1, 0, 0)

    # 61 minutes later on the bot's clock: idle, warned once, with Keep / Delete now.
    bot.clock.advance(timedelta(minutes=61))
    assert (await watcher.sweep_idle()).warned == 1
    assert (await watcher.sweep_idle()).warned == 0
    [warning] = _idle_warnings(bot)
    assert warning.args["channel"] == "D0IDLEOWNER"
    assert "keep_environment" in warning.text_blob and "delete_now" in warning.text_blob
    warned_at = bot.environment(OWNER, "busy").idle_warned_at
    assert warned_at is not None

    # The owner really logs in; the hub records it, the bot's token reads it, the warning lapses.
    session = HubSession(hub.base_url)
    assert session.login(hub.admin_user, hub.admin_password).status == 302
    assert session.get("hub/home").status == 200
    bot.clock.advance(timedelta(minutes=1))
    await watcher.sweep_idle()
    active = bot.environment(OWNER, "busy")
    assert active.idle_warned_at is None
    assert active.last_activity_at is not None and active.last_activity_at > warned_at

    # Even past the grace period it stays: it was used after the warning.
    bot.clock.advance(timedelta(minutes=40))
    report = await watcher.sweep_idle()
    assert report.removed == 0 and bot.environment(OWNER, "busy").state == State.READY

    # [Keep it] restarts the idle clock on the bot's own time.
    bot.clock.now = active.last_activity_at + timedelta(minutes=61)
    assert (await watcher.sweep_idle()).warned == 1
    second = _idle_warnings(bot)[-1]
    assert_acked(await bot.slack.click(OWNER, "keep_environment", env.id, message=second))
    await bot.slack.wait_for("response_url", lambda c: "Keeping *busy*" in c.args["text"])
    bot.clock.advance(timedelta(minutes=59))
    assert (await watcher.sweep_idle()).warned == 0

    # Idle again, warned, nobody answers: removed after the grace period, owner told why.
    bot.clock.advance(timedelta(minutes=2))
    assert (await watcher.sweep_idle()).warned == 1
    bot.clock.advance(timedelta(minutes=29))
    assert (await watcher.sweep_idle()).removed == 0
    bot.clock.advance(timedelta(minutes=1))
    assert (await watcher.sweep_idle()).removed == 1
    [gone] = await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert "it was not used for" in gone.args["text"]
    await bot.settle()
    assert bot.environment(OWNER, "busy").state == State.DELETED
    assert addresses.teardowns == [env.namespace]


async def test_an_unreachable_hub_is_never_removed_and_admins_are_alerted_once(
    idle_bot: tuple[BotUnderTest, HubAddresses], hub: RunningHub
) -> None:
    bot, addresses = idle_bot
    addresses.hubs.reverse()  # the first deploy gets the address where nothing answers
    await _launch(bot, "silent")
    watcher = bot.runtime.lifecycle.watch
    for _ in range(5):
        bot.clock.advance(timedelta(hours=2))
        report = await watcher.sweep_idle()
        assert report.unreachable == 1 and report.warned == 0 and report.removed == 0
    env = bot.environment(OWNER, "silent")
    assert env.state == State.READY and env.hub_failures == 5
    alerts = bot.slack.find("chat.postMessage", lambda c: c.args["channel"] == ADMIN_CHANNEL)
    assert len(alerts) == 1 and "did not answer 3 activity checks" in alerts[0].args["text"]
    assert _idle_warnings(bot) == [] and addresses.teardowns == []
