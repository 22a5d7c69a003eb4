"""A running bot over real HTTP, talking to the Slack emulator, deploying to an in-memory stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.bot_harness import ADMIN_CHANNEL, BotUnderTest, assert_acked, running_bot
from tests.support.stand_ins import InMemoryDeployer

__all__ = ["ADMIN", "ADMIN_CHANNEL", "NOBODY", "RESEARCHER", "STUDENT", "ContractBot", "assert_acked"]

POLICIES = Path(__file__).parent / "policies"
STUDENT = "U0STUDENT"
RESEARCHER = "U0RESEARCH"
ADMIN = "U0ADMIN"
NOBODY = "U0NOBODY"
GROUPS = {"S0STUDENTS": [STUDENT], "S0RESEARCH": [RESEARCHER], "S0ADMINS": [ADMIN]}


@dataclass
class ContractBot(BotUnderTest):
    deployer: InMemoryDeployer


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every contract test runs on both databases; PostgreSQL gives each test a new empty database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[ContractBot]:
    deployer = InMemoryDeployer()
    async with running_bot(
        database_url=database_url, policies_dir=POLICIES, groups=GROUPS, deployer=deployer
    ) as running:
        yield ContractBot(runtime=running.runtime, slack=running.slack, clock=running.clock, deployer=deployer)
