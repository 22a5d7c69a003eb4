"""Two real ``python -m bot serve`` processes sharing one database, against the Slack
emulator and the local cluster."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs on both databases: an SQLite file, and a new empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, show the end of each bot process's log (the whole files stay in tmp_path)."""
    report = yield
    deployment = getattr(item, "funcargs", {}).get("two_bots")
    if report.failed and deployment is not None:
        report.sections.append(("bot processes", deployment.logs()))
    return report
