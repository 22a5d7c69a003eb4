"""Warm pools in the core: kept at size by the scheduled job, handed to launches with one
compare-and-set, replaced when taken, outdated or unhealthy, drained when a schedule
shrinks them; a launch that finds none free deploys as it would without a pool."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import notices as n
from bot.core.commands import Launch
from bot.core.environment import POOL_OWNER, Environment
from bot.core.errors import NotAllowed
from bot.core.ports import ActivityUnknown
from bot.core.problems import HelmFailed
from bot.core.states import State
from tests.core.conftest import ADMIN, OWNER, POLICY, RESEARCHER, Core, running_core
from tests.support.stand_ins import ADMINS

POOLED: dict[str, Any] = copy.deepcopy(POLICY)
POOLED["roles"]["students"]["max_environments"] = 5
POOLED["clusters"]["dev"]["pool_limit"] = 3
# Mondays 08:45-10:00 in Berlin, 3 ready hubs; else 2. The core's clock starts on
# Monday 2026-11-23 at 09:00 UTC, which is 10:00 in Berlin: just after the window.
POOLED["pools"] = {
    "course": {
        "profile": "small",
        "cluster": "dev",
        "size": 2,
        "timezone": "Europe/Berlin",
        "schedule": [{"days": ["mon"], "from": "08:45", "to": "10:00", "size": 3}],
    }
}


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[Core]:
    async with running_core(tmp_path / "core.db", policy=POOLED) as running:
        yield running


async def _fill(core: Core) -> list[Environment]:
    """Run the pool job and let the deploys it started finish; the pool's hubs."""
    await core.lifecycle.pools.maintain()
    await core.lifecycle.drain()
    return list(core.store.pool_hubs("course"))


def _ready(hubs: list[Environment]) -> list[Environment]:
    return [hub for hub in hubs if hub.state is State.READY]


async def test_the_job_fills_a_pool_with_hubs_nobody_has_seen(pooled: Core) -> None:
    hubs = await _fill(pooled)
    assert len(_ready(hubs)) == 2
    for hub in hubs:
        assert hub.owner_id == POOL_OWNER and hub.expires_at is None and hub.spec_hash
        labels = pooled.deployer.releases[hub.namespace]["labels"]
        assert labels["jupyterhub-bot.io/pool"] == "course" and labels["jupyterhub-bot.io/owner"] is None
    # Nobody was told anything: no owner, no progress, no login, nothing for the admins.
    assert pooled.notifier.sent == [] and pooled.notifier.revised == []
    assert pooled.metrics.launches == [] and pooled.metrics.pool_deploys == [("course", "ready")] * 2
    # Already at size: another run starts nothing.
    report = await pooled.lifecycle.pools.maintain()
    assert report.started == 0


async def test_a_launch_takes_a_ready_hub_and_its_lifetime_starts_then(pooled: Core) -> None:
    [first, _] = await _fill(pooled)
    pooled.later(timedelta(hours=3))  # the hub waited three hours in the pool
    secret = pooled.deployer.releases[first.namespace]["secrets"].admin_password

    env = await pooled.launch(OWNER, "lab", lifetime=timedelta(hours=2))

    assert env.state is State.READY and env.owner_id == OWNER.user_id
    assert (env.namespace, env.release) == (first.namespace, first.release)  # the longest-ready hub
    assert env.expires_at == pooled.clock.now + timedelta(hours=2)
    assert pooled.deployer.hand_overs == [env.target]
    assert env.target not in pooled.deployer.deploys[2:]  # no new deploy for the launch
    labels = pooled.deployer.releases[env.namespace]["labels"]
    assert labels["jupyterhub-bot.io/owner"] == OWNER.user_id.lower() and labels["jupyterhub-bot.io/pool"] is None
    [login] = pooled.notifier.to(OWNER.user_id, n.Credentials)
    assert login.password == secret
    assert [who for who, notice in pooled.notifier.sent if isinstance(notice, n.Credentials)] == [OWNER.user_id]
    progress = [notice for _, notice in pooled.notifier.sent + pooled.notifier.revised]
    last = [notice for notice in progress if isinstance(notice, n.DeployProgress)][-1]
    assert last.source is n.HubSource.POOL and last.done == n.POOL_STEPS and last.url == env.url
    hub = pooled.get(first.id)
    assert hub.state is State.CLAIMED and hub.claimed_by == env.id
    assert pooled.metrics.claims == ["course"] and pooled.metrics.sources == ["pool"]
    assert "warm-hub-taken" in [event.action for event in pooled.store.audit(env.id)]

    # The pool job replaces the hub that was taken.
    hubs = await _fill(pooled)
    assert len(_ready(hubs)) == 2 and first.id not in {hub.id for hub in hubs}


async def test_a_launch_with_no_hub_free_deploys_a_new_one_and_says_so(pooled: Core) -> None:
    env = await pooled.launch(OWNER, "lab")
    assert env.state is State.READY and env.target in pooled.deployer.deploys
    first = pooled.notifier.to(OWNER.user_id, n.DeployProgress)[0]
    assert first.source is n.HubSource.POOL_EMPTY
    assert pooled.metrics.misses == ["course"] and pooled.metrics.sources == ["pool-empty"]


async def test_two_launches_for_the_last_hub_one_takes_it_one_deploys(pooled: Core) -> None:
    await _fill(pooled)
    [spare, last] = pooled.store.pool_hubs("course")
    await pooled.lifecycle.teardowns.expire(spare.id, actor="test", removal=n.Removal(n.RemovalReason.POOL_SHRUNK))
    await pooled.lifecycle.drain()

    first, second = await asyncio.gather(
        pooled.lifecycle.launches.request(OWNER, Launch(name="one")),
        pooled.lifecycle.launches.request(OWNER, Launch(name="two")),
    )
    await pooled.lifecycle.drain()

    envs = [pooled.get(first.id), pooled.get(second.id)]
    assert all(env.state is State.READY for env in envs)
    assert sorted(pooled.metrics.sources) == ["pool", "pool-empty"]
    assert sum(env.namespace == last.namespace for env in envs) == 1
    assert pooled.get(last.id).claimed_by in {env.id for env in envs}


async def test_the_schedule_grows_and_shrinks_the_pool(pooled: Core) -> None:
    await _fill(pooled)
    pooled.later(timedelta(days=7) - timedelta(minutes=30))  # next Monday, 09:30 in Berlin
    hubs = await _fill(pooled)
    assert len(_ready(hubs)) == 3
    pooled.later(timedelta(minutes=45))  # 10:15: the window is over
    hubs = await _fill(pooled)
    assert len(_ready(hubs)) == 2
    drained = [target for target in pooled.deployer.teardowns]
    assert len(drained) == 1 and drained[0].namespace not in pooled.deployer.releases
    # Draining tells nobody: the hub was nobody's.
    assert pooled.notifier.sent == []


async def test_a_new_chart_rolls_the_pool_within_the_clusters_pool_limit(tmp_path: Path) -> None:
    policy = copy.deepcopy(POOLED)
    policy["clusters"]["dev"]["pool_limit"] = 3
    async with running_core(tmp_path / "core.db", policy=policy) as core:
        await _new_chart_rolls_the_pool(core)


async def _new_chart_rolls_the_pool(pooled: Core) -> None:
    pooled.later(timedelta(days=7) - timedelta(minutes=30))  # Monday 09:30 in Berlin: 3 hubs, the limit
    old = await _fill(pooled)
    assert len(old) == 3
    pooled.deployer.version = "jupyterhub-2.0.0"
    # The old hubs go; the new ones wait until they are gone, so the pool never holds more
    # than the cluster's pool_limit.
    report = await pooled.lifecycle.pools.maintain()
    assert (report.replaced, report.started) == (3, 0)
    await pooled.lifecycle.drain()
    hubs = await _fill(pooled)
    assert len(_ready(hubs)) == 3 and not {hub.id for hub in old} & {hub.id for hub in hubs}
    assert {hub.spec_hash for hub in hubs} != {hub.spec_hash for hub in old}
    # A launch never takes a hub made from the old chart.
    env = await pooled.launch(OWNER, "lab")
    assert env.namespace in {hub.namespace for hub in hubs}


async def test_a_hub_that_stops_answering_is_replaced_and_never_handed_out(pooled: Core) -> None:
    [sick, healthy] = await _fill(pooled)
    pooled.activity.latest[sick.id] = ActivityUnknown("connection refused")
    pooled.later(timedelta(days=30))  # idle for a month: a pool's hub is never "idle"
    await pooled.lifecycle.watch.sweep_idle()
    assert pooled.get(sick.id).hub_failures == 1 and pooled.get(healthy.id).idle_warned_at is None
    assert pooled.notifier.sent == []  # no idle warning to nobody, no alert: the pool deals with it

    hubs = await _fill(pooled)
    assert pooled.get(sick.id).state is State.DELETED
    assert len(_ready(hubs)) == 2 and sick.id not in {hub.id for hub in hubs}


def _failed_hubs(core: Core) -> list[Environment]:
    return [hub for hub in core.store.in_states([State.FAILED]) if hub.pool == "course"]


async def test_a_pool_whose_hubs_fail_tells_the_admins_once_and_tries_one_at_a_time(pooled: Core) -> None:
    pooled.deployer.fail_always = "image not found"
    hubs = await _fill(pooled)
    assert hubs == [] and len(_failed_hubs(pooled)) == 2
    [alert] = pooled.notifier.to(ADMINS, n.PoolFailing)
    assert alert.pool == "course" and alert.problem == HelmFailed("image not found")
    # What the failed deploys created is gone.
    assert sorted(t.namespace for t in pooled.deployer.teardowns) == sorted(h.namespace for h in _failed_hubs(pooled))

    # Paused: nothing new for a while...
    assert (await pooled.lifecycle.pools.maintain()).started == 0
    # ...then one hub at a time while they keep failing...
    pooled.later(timedelta(minutes=6))
    assert (await _started_and_finished(pooled)) == 1
    assert (await pooled.lifecycle.pools.maintain()).started == 0
    # ...until one works; then the pool fills as usual.
    pooled.deployer.fail_always = None
    pooled.later(timedelta(minutes=6))
    assert (await _started_and_finished(pooled)) == 1
    assert (await _started_and_finished(pooled)) == 1
    assert len(_ready(list(pooled.store.pool_hubs("course")))) == 2
    assert len(pooled.notifier.to(ADMINS, n.PoolFailing)) == 1  # told once, however often it failed


async def _started_and_finished(core: Core) -> int:
    report = await core.lifecycle.pools.maintain()
    await core.lifecycle.drain()
    return report.started


async def test_a_claim_interrupted_by_a_crash_is_finished_by_resume(pooled: Core) -> None:
    [first, _] = await _fill(pooled)
    store = pooled.store
    env = store.create_environment(
        name="lab",
        owner_id=OWNER.user_id,
        profile="small",
        cluster="dev",
        lifetime=timedelta(hours=8),
        max_environments=5,
        namespace_prefix="jh-",
        actor=OWNER.user_id,
    )
    store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="test")
    dead_claim = {"worker": "dead-process", "worker_until": pooled.clock.now + timedelta(seconds=5)}
    deploying = store.transition(env.id, State.APPROVED, State.DEPLOYING, actor="bot", action="t", **dead_claim)
    assert deploying is not None
    taken = store.claim_pool_hub(deploying, worker="dead-process", spec_hash=str(first.spec_hash))
    assert taken is not None  # ...and then the process was killed

    pooled.later(timedelta(minutes=1))
    assert await pooled.lifecycle.resume() == 1
    await pooled.lifecycle.drain()

    done = pooled.get(env.id)
    assert done.state is State.READY and done.namespace == first.namespace
    assert pooled.notifier.to(OWNER.user_id, n.Credentials)
    # Exactly one hub claimed, by this launch; the other still waits in the pool.
    claimed = [hub for hub in store.in_states([State.CLAIMED])]
    assert [hub.claimed_by for hub in claimed] == [env.id]
    assert len(_ready(list(store.pool_hubs("course")))) == 1
    assert env.target not in pooled.deployer.deploys


async def test_a_pool_that_left_the_policy_is_drained(tmp_path: Path) -> None:
    async with running_core(tmp_path / "core.db", policy=POOLED) as core:
        await _fill(core)
    without = copy.deepcopy(POOLED)
    del without["pools"]
    async with running_core(tmp_path / "core.db", policy=without) as core:
        await core.lifecycle.pools.maintain()
        await core.lifecycle.drain()
        assert core.store.pool_hubs("course") == []


async def test_admins_see_the_pools_and_nobody_else_does(pooled: Core) -> None:
    await _fill(pooled)
    await pooled.launch(OWNER, "lab")
    await pooled.lifecycle.pools.maintain()  # a replacement on its way
    [course] = await pooled.lifecycle.pools.status(ADMIN)
    assert (course.name, course.wanted, course.ready, course.warming, course.claimed_today) == ("course", 2, 1, 1, 1)
    with pytest.raises(NotAllowed):
        await pooled.lifecycle.pools.status(RESEARCHER)
    # Everyone's list shows people's environments, not the pool's hubs.
    listed = await pooled.lifecycle.owner.list_environments(ADMIN, everyone=True)
    assert [env.name for env in listed] == ["lab"]
