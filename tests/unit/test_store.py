from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import problems
from bot.core.errors import Conflict, QuotaExceeded
from bot.core.problems import NameTaken
from bot.core.states import ACTIVE_STATES, TERMINAL_STATES, State, can_transition
from bot.store.sql import SqlStore as Store
from bot.store.sql import make_engine
from tests.support.stand_ins import MutableClock


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(make_engine(f"sqlite:///{tmp_path / 'state.db'}"), clock=MutableClock())
    s.create_schema()
    return s


def _create(store: Store, name: str, owner: str = "U1", quota: int = 2):  # type: ignore[no-untyped-def]
    return store.create_environment(
        name=name,
        owner_id=owner,
        profile="small",
        cluster="dev",
        lifetime=timedelta(hours=1),
        max_environments=quota,
        namespace_prefix="jh-",
        actor=owner,
    )


def test_states_are_partitioned() -> None:
    assert ACTIVE_STATES | TERMINAL_STATES == set(State)
    assert TERMINAL_STATES == {State.DELETED, State.DENIED, State.FAILED, State.CLAIMED}
    assert not can_transition(State.READY, State.DEPLOYING)


def test_transition_is_compare_and_set_with_audit(store: Store) -> None:
    env = _create(store, "a")
    assert store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="approve") is not None
    assert store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="approve") is None
    assert [e.action for e in store.audit(env.id)] == ["approve", "request"]
    with pytest.raises(ValueError, match="no transition"):
        store.transition(env.id, State.APPROVED, State.READY, actor="bot", action="skip")


def test_only_one_of_many_racing_transitions_wins(store: Store) -> None:
    env = _create(store, "a")
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(
                lambda i: store.transition(env.id, State.REQUESTED, State.APPROVED, actor=f"U{i}", action="approve"),
                range(16),
            )
        )
    assert sum(r is not None for r in results) == 1
    assert len(store.audit(env.id, 50)) == 2


def test_names_are_unique_per_owner_while_active(store: Store) -> None:
    env = _create(store, "a")
    with pytest.raises(Conflict) as taken:
        _create(store, "a")
    assert taken.value.problem == NameTaken("a", State.REQUESTED)
    other = _create(store, "a", owner="U2")
    assert other.namespace != env.namespace
    store.transition(env.id, State.REQUESTED, State.DENIED, actor="U9", action="deny")
    assert _create(store, "a").id != env.id


def test_quota_slots_hold_under_concurrency(store: Store) -> None:
    def attempt(i: int) -> str:
        try:
            _create(store, f"env{i}", quota=3)
        except QuotaExceeded:
            return "quota"
        return "ok"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("ok") == 3
    assert len(store.list_for_owner("U1")) == 3


def test_terminal_states_free_the_slot(store: Store) -> None:
    env = _create(store, "a", quota=1)
    with pytest.raises(QuotaExceeded) as full:
        _create(store, "b", quota=1)
    assert full.value.problem == problems.QuotaExceeded(active=1, limit=1)
    store.transition(env.id, State.REQUESTED, State.DENIED, actor="U9", action="deny")
    freed = store.get(env.id)
    assert freed is not None and freed.quota_slot is None and freed.active_key is None
    assert _create(store, "b", quota=1).state == State.REQUESTED


def test_times_round_trip_as_aware_utc(store: Store) -> None:
    env = _create(store, "a")
    loaded = store.get(env.id)
    assert loaded is not None and loaded.created_at == store.clock()
    assert loaded.created_at.tzinfo is not None


def test_due_for_expiry(store: Store) -> None:
    env = _create(store, "a")
    now = store.clock()
    store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="a")
    store.transition(env.id, State.APPROVED, State.DEPLOYING, actor="bot", action="d")
    store.transition(
        env.id, State.DEPLOYING, State.READY, actor="bot", action="r", ready_at=now, expires_at=now + timedelta(hours=1)
    )
    assert store.due_for_expiry(now + timedelta(minutes=59)) == []
    assert [e.id for e in store.due_for_expiry(now + timedelta(hours=1))] == [env.id]


def test_a_pool_hub_is_claimed_by_exactly_one_launch(store: Store) -> None:
    hub = store.create_pool_hub(
        pool="course", profile="small", cluster="dev", namespace_prefix="jh-", spec_hash="s1", actor="bot"
    )
    assert hub.owner_id == "@pool" and hub.pool == "course" and hub.quota_slot is None
    for expected, target in ((State.REQUESTED, State.APPROVED), (State.APPROVED, State.DEPLOYING)):
        store.transition(hub.id, expected, target, actor="bot", action="test")
    assert store.claim_pool_hub(profile="small", cluster="dev", claimant_id="launch0") is None  # not ready yet
    store.transition(hub.id, State.DEPLOYING, State.READY, actor="bot", action="test", ready_at=store.clock())

    with ThreadPoolExecutor(8) as pool:
        claims = list(
            pool.map(lambda i: store.claim_pool_hub(profile="small", cluster="dev", claimant_id=f"launch{i}"), range(8))
        )
    winners = [c for c in claims if c is not None]
    assert len(winners) == 1 and winners[0].id == hub.id and winners[0].state is State.CLAIMED
    assert store.claimed_by_launch(str(winners[0].claimed_by)) == winners[0]
    assert store.pool_hubs("course") == []
    assert store.claims_since(store.clock()) == {"course": 1}
    assert store.claim_pool_hub(profile="small", cluster="dev", claimant_id="late") is None
