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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A store on SQLite, and on a fresh PostgreSQL database (where claims race for real)."""
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    s = Store(make_engine(url), clock=MutableClock())
    s.create_schema()
    return s


def _ready_pool_hub(store: Store, *, spec: str = "s1", pool: str = "course"):  # type: ignore[no-untyped-def]
    hub = store.create_pool_hub(
        pool=pool, profile="small", cluster="dev", namespace_prefix="jh-", spec_hash=spec, actor="pool"
    )
    store.transition(hub.id, State.APPROVED, State.DEPLOYING, actor="bot", action="test")
    return store.transition(hub.id, State.DEPLOYING, State.READY, actor="bot", action="test", ready_at=store.clock())


def _deploying_launch(store: Store, name: str, owner: str, worker: str = "w1"):  # type: ignore[no-untyped-def]
    env = _create(store, name, owner=owner)
    store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="test")
    return store.transition(env.id, State.APPROVED, State.DEPLOYING, actor="bot", action="test", worker=worker)


def test_a_pool_hub_is_nobodys_and_needs_no_approval(store: Store) -> None:
    hub = store.create_pool_hub(
        pool="course", profile="small", cluster="dev", namespace_prefix="jh-", spec_hash="s1", actor="pool"
    )
    assert hub.owner_id == "@pool" and hub.pool == "course" and hub.quota_slot is None
    assert hub.state is State.APPROVED
    assert store.list_for_owner("@pool") == [hub]  # nobody's: no Slack user has this id
    assert store.count_by_state() == {}  # people's environments only
    assert store.count_pool_hubs() == {("course", "approved"): 1}


def test_a_pool_hub_goes_to_exactly_one_of_many_racing_launches(any_store: Store) -> None:
    store = any_store
    launches = [_deploying_launch(store, f"lab{i}", owner=f"U{i}") for i in range(8)]
    assert store.claim_pool_hub(launches[0], worker="w1", spec_hash="s1") is None  # no hub yet
    hub = _ready_pool_hub(store)

    with ThreadPoolExecutor(8) as pool:
        taken = list(pool.map(lambda env: store.claim_pool_hub(env, worker="w1", spec_hash="s1"), launches))

    [winner] = [env for env in taken if env is not None]
    assert (winner.namespace, winner.release) == (hub.namespace, hub.release)
    assert winner.state is State.DEPLOYING and winner.owner_id != "@pool"
    claimed = store.get(hub.id)
    assert claimed is not None and claimed.state is State.CLAIMED and claimed.claimed_by == winner.id
    assert store.claimed_by_launch(winner.id) == claimed
    losers = [env for env in launches if env.id != winner.id]
    assert all(store.get(env.id).namespace == env.namespace for env in losers)  # type: ignore[union-attr]
    assert store.pool_hubs("course") == [] and store.claims_since(store.clock()) == {"course": 1}
    actions = [event.action for event in store.audit(winner.id)]
    assert "warm-hub-taken" in actions


def test_only_a_healthy_hub_of_the_current_spec_is_handed_out(store: Store) -> None:
    launch = _deploying_launch(store, "lab", owner="U1")
    _ready_pool_hub(store, spec="old")
    failing = _ready_pool_hub(store)
    store.update_if(failing.id, {}, {"hub_failures": 1}, actor="bot", action="test")
    assert store.claim_pool_hub(launch, worker="w1", spec_hash="s1") is None
    fresh = _ready_pool_hub(store)
    taken = store.claim_pool_hub(launch, worker="w1", spec_hash="s1")
    assert taken is not None and taken.namespace == fresh.namespace


def test_a_launch_no_longer_this_workers_takes_nothing(store: Store) -> None:
    launch = _deploying_launch(store, "lab", owner="U1", worker="w1")
    hub = _ready_pool_hub(store)
    assert store.claim_pool_hub(launch, worker="w2", spec_hash="s1") is None
    # The hub's half of the claim was rolled back with the rest.
    assert store.get(hub.id).state is State.READY  # type: ignore[union-attr]
    assert store.get(launch.id).namespace == launch.namespace  # type: ignore[union-attr]
