"""Fixtures for the reliability and security suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import SlackEmulator
from tests.contract.conftest import ADMIN, GROUPS, NOBODY, RESEARCHER, STUDENT
from tests.contract.conftest import POLICIES as CONTRACT_POLICIES
from tests.support.bot_harness import SIGNING_SECRET, BotUnderTest, running_bot
from tests.support.stand_ins import InMemoryDeployer

__all__ = ["ADMIN", "GROUPS", "NOBODY", "RESEARCHER", "STUDENT"]


@pytest.fixture
async def inmemory_bot(tmp_path: Path) -> AsyncIterator[BotUnderTest]:
    """The real Bolt app over HTTP on 127.0.0.1, deploying to the in-memory stand-in."""
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=CONTRACT_POLICIES,
        groups=GROUPS,
        deployer=InMemoryDeployer(),
    ) as bot:
        yield bot


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    """A Slack emulator for a bot that runs as its own process."""
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    await emulator.start()
    yield emulator
    await emulator.stop()
    emulator.assert_nothing_refused()
