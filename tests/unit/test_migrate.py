"""Schema migrations on SQLite (tests/db/test_postgres.py runs the same checks on PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, text
from sqlmodel import SQLModel

import bot.store  # noqa: F401  (the models, on SQLModel.metadata)
from bot.store.migrate import MigrationError, current, head, upgrade

REPO = Path(__file__).resolve().parents[2]


def table_columns(database_url: str) -> dict[str, frozenset[str]]:
    """Column names of each table in the database, without Alembic's own table."""
    engine = create_engine(database_url)
    try:
        reflected = MetaData()
        reflected.reflect(engine)
    finally:
        engine.dispose()
    return {
        name: frozenset(table.columns.keys()) for name, table in reflected.tables.items() if name != "alembic_version"
    }


def assert_schema_matches_models(database_url: str) -> None:
    models = {name: frozenset(table.columns.keys()) for name, table in SQLModel.metadata.tables.items()}
    assert table_columns(database_url) == models
    # Alembic's own comparison also looks at types, nullability, indexes and unique constraints.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        engine.dispose()


def _upgrade_at_barrier(database_url: str, barrier: Any, outcomes: Any) -> None:
    barrier.wait(timeout=120)
    try:
        upgrade(database_url)
    except MigrationError as exc:
        outcomes.put(str(exc))
    else:
        outcomes.put("ok")


def race_upgrades(database_url: str, processes: int = 4) -> list[str]:
    """Start ``upgrade`` in several processes at the same moment; each one's outcome."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    outcomes = context.Queue()
    workers = [
        context.Process(target=_upgrade_at_barrier, args=(database_url, barrier, outcomes)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        return [outcomes.get(timeout=180) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)


def migrate_cli(database_url: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot migrate`` with nothing but ``DATABASE_URL`` set."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


def test_upgrade_reaches_head_and_a_second_run_changes_nothing(url: str) -> None:
    assert current(url) is None
    upgrade(url)
    assert current(url) == head()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO scheduler_lease VALUES ('jobs', 'me', '2026-01-01 00:00:00')"))
    before = table_columns(url)
    upgrade(url)
    assert current(url) == head()
    assert table_columns(url) == before
    with engine.connect() as connection:
        assert connection.execute(text("SELECT holder FROM scheduler_lease")).scalar_one() == "me"
    engine.dispose()


def test_migrated_tables_match_the_models(url: str) -> None:
    upgrade(url)
    assert_schema_matches_models(url)


def test_a_database_made_by_create_all_is_stamped_not_recreated(url: str) -> None:
    engine = create_engine(url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO scheduler_lease VALUES ('jobs', 'me', '2026-01-01 00:00:00')"))
    assert current(url) is None
    upgrade(url)
    assert current(url) == head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT holder FROM scheduler_lease")).scalar_one() == "me"
    engine.dispose()


def test_unknown_tables_without_a_version_are_refused_untouched(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE environment (id VARCHAR(32) PRIMARY KEY, name VARCHAR(64))"))
        connection.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    with pytest.raises(
        MigrationError, match=r"match no revision .*no table audit_event.*no column environment\.owner_id"
    ):
        upgrade(url)
    assert current(url) is None
    assert set(table_columns(url)) == {"environment", "unrelated"}


def test_other_tables_do_not_stop_a_fresh_migration(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unrelated (x INTEGER)"))
    engine.dispose()
    upgrade(url)
    assert current(url) == head()
    assert table_columns(url)["unrelated"] == frozenset({"x"})


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(MigrationError, match="in-memory"):
        upgrade("sqlite://")


def test_upgrades_racing_in_several_processes_all_succeed(url: str) -> None:
    assert race_upgrades(url) == ["ok"] * 4
    assert current(url) == head()


def test_migrate_command_prints_the_revision(url: str) -> None:
    result = migrate_cli(url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {head()} (head)"
    again = migrate_cli(url)
    assert again.returncode == 0 and again.stdout == result.stdout


@pytest.mark.parametrize(
    ("database_url", "problem"),
    [
        ("postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/bot", "Connection refused"),
        ("sqlite:////nonexistent-dir/bot.db", "unable to open database file"),
        ("postgresql+psycopg://bot:s3cret-pw@[::1/bot", "not a database URL"),
    ],
    ids=["unreachable-postgresql", "sqlite-in-missing-folder", "malformed-url"],
)
def test_migrate_command_fails_in_one_line(database_url: str, problem: str) -> None:
    result = migrate_cli(database_url)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migrate: ") and problem in lines[0], result.stderr
    assert "s3cret-pw" not in result.stderr
