"""Fixtures for the reliability and security suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.bot_harness import BotUnderTest, running_bot
from tests.support.stand_ins import InMemoryDeployer

CONTRACT_POLICIES = Path(__file__).resolve().parents[1] / "contract" / "policies"
STUDENT = "U0STUDENT"
RESEARCHER = "U0RESEARCH"
ADMIN = "U0ADMIN"
NOBODY = "U0NOBODY"
GROUPS = {"S0STUDENTS": [STUDENT], "S0RESEARCH": [RESEARCHER], "S0ADMINS": [ADMIN]}


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
