"""The database layer on a real PostgreSQL server (tests/support/postgres.py starts one).

The migration tests of tests/unit/test_migrate.py and the store tests of
tests/unit/test_store.py run here again, unchanged, with their ``url`` and ``store``
fixtures pointing at a fresh PostgreSQL database; below them are the checks that only
make sense on PostgreSQL.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.core.states import State
from bot.store.migrate import current, head
from bot.store.sql import SqlStore as Store
from bot.store.sql import make_engine
from tests.support.postgres import PostgresServer
from tests.support.stand_ins import MutableClock
from tests.unit import test_migrate, test_store

pytestmark = pytest.mark.postgres


def _reuse(module: Any, fixture: str) -> None:
    """Collect ``module``'s tests that take ``fixture`` here as well, where it means PostgreSQL."""
    for name, value in vars(module).items():
        if name.startswith("test_") and callable(value) and fixture in inspect.signature(value).parameters:
            globals()[name] = value


_reuse(test_migrate, "url")
_reuse(test_store, "store")


@pytest.fixture
def url(fresh_postgres_url: str) -> str:
    return fresh_postgres_url


def _store(database_url: str) -> Store:
    store = Store(make_engine(database_url), clock=MutableClock())
    store.create_schema()
    return store


@pytest.fixture
def store(fresh_postgres_url: str) -> Iterator[Store]:
    store = _store(fresh_postgres_url)
    yield store
    store.engine.dispose()


def _race(attempt: Callable[[int], Any], times: int = 16) -> list[Any]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(attempt, range(times)))


def test_only_one_holder_takes_a_free_lease_and_others_take_over_once_it_lapses(store: Store) -> None:
    clock = store.clock
    assert isinstance(clock, MutableClock)
    ttl = timedelta(seconds=30)
    won = _race(lambda i: store.hold_lease("jobs", f"replica-{i}", ttl))
    assert won.count(True) == 1
    holder = f"replica-{won.index(True)}"
    assert store.hold_lease("jobs", holder, ttl), "the holder renews its own lease"
    assert not store.hold_lease("jobs", "newcomer", ttl)
    clock.advance(ttl + timedelta(seconds=1))
    takeover = _race(lambda i: store.hold_lease("jobs", f"successor-{i}", ttl))
    assert takeover.count(True) == 1
    assert not store.hold_lease("jobs", holder, ttl), "the old holder lost it"
    successor = f"successor-{takeover.index(True)}"
    store.release_lease("jobs", successor)
    assert store.hold_lease("jobs", "newcomer", ttl)


def test_times_stay_utc_whatever_the_session_time_zone(fresh_postgres_url: str) -> None:
    # Asia/Kathmandu is UTC+05:45: a zone bug cannot hide behind a whole-hour offset.
    zoned = make_url(fresh_postgres_url).update_query_dict({"options": "-c TimeZone=Asia/Kathmandu"})
    store = _store(zoned.render_as_string(hide_password=False))
    try:
        with store.engine.connect() as connection:
            assert connection.execute(text("SHOW TimeZone")).scalar_one() == "Asia/Kathmandu"
        env = test_store._create(store, "a")
        now = store.clock()
        store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="a")
        store.transition(env.id, State.APPROVED, State.DEPLOYING, actor="bot", action="d")
        end = now + timedelta(hours=1)
        store.transition(env.id, State.DEPLOYING, State.READY, actor="bot", action="r", ready_at=now, expires_at=end)
        loaded = store.get(env.id)
        assert loaded is not None
        assert loaded.created_at == now and loaded.created_at.utcoffset() == timedelta(0)
        assert loaded.expires_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        assert store.due_for_expiry(now + timedelta(minutes=59)) == []
        assert [e.id for e in store.due_for_expiry(now + timedelta(hours=1))] == [env.id]
    finally:
        store.engine.dispose()


def test_create_schema_keeps_a_password_that_needs_quoting(postgres_server: PostgresServer) -> None:
    password = "p@ss:w/rd%?#é"
    with postgres_server.connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE quoted LOGIN PASSWORD {}").format(sql.Literal(password)))
    database_url = make_url(postgres_server.create_database()).set(username="quoted", password=password)
    with postgres_server.connect() as conn:
        conn.execute(f'ALTER DATABASE "{database_url.database}" OWNER TO quoted')
    store = _store(database_url.render_as_string(hide_password=False))
    store.engine.dispose()
    assert current(database_url.render_as_string(hide_password=False)) == head()
