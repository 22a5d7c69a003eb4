"""A running bot over real HTTP, talking to the Slack emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.config import load_settings
from bot.runtime import Runtime, build_runtime
from bot.web import make_web_app
from tests.support.slack_emulator import SlackEmulator, SlackReply
from tests.support.stand_ins import InMemoryDeployer, MutableClock

POLICIES = Path(__file__).parent / "policies"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN_CHANNEL = "C0ADMINS"

STUDENT = "U0STUDENT"
RESEARCHER = "U0RESEARCH"
ADMIN = "U0ADMIN"
NOBODY = "U0NOBODY"
GROUPS = {"S0STUDENTS": [STUDENT], "S0RESEARCH": [RESEARCHER], "S0ADMINS": [ADMIN]}

# Slack gives up on an acknowledgement after 3 seconds.
ACK_LIMIT_SECONDS = 3.0


@dataclass
class BotUnderTest:
    runtime: Runtime
    slack: SlackEmulator
    deployer: InMemoryDeployer
    clock: MutableClock

    async def settle(self) -> None:
        """Wait for the bot's background work (deploys, teardowns) to finish."""
        await self.runtime.lifecycle.drain()

    def environment(self, owner: str, name: str):  # type: ignore[no-untyped-def]
        return self.runtime.store.find_by_name(owner, name)


def assert_acked(reply: SlackReply) -> None:
    assert reply.status == 200, reply.body
    assert reply.elapsed < ACK_LIMIT_SECONDS, f"ack took {reply.elapsed:.2f}s"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotUnderTest]:
    slack = SlackEmulator(signing_secret=SIGNING_SECRET, groups={k: list(v) for k, v in GROUPS.items()})
    await slack.start()
    settings = load_settings(
        "serve",
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "ADMIN_CHANNEL_ID": ADMIN_CHANNEL,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "POLICIES_DIR": str(POLICIES),
        },
    )
    deployer = InMemoryDeployer()
    clock = MutableClock()
    runtime = build_runtime(settings, deployer=deployer, clock=clock)
    runner = web.AppRunner(make_web_app(runtime.bolt, SIGNING_SECRET), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
    try:
        yield BotUnderTest(runtime=runtime, slack=slack, deployer=deployer, clock=clock)
    finally:
        await runtime.lifecycle.drain()
        await runner.cleanup()
        await slack.stop()
