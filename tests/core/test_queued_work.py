"""Work waiting for the one deploy slot (MAX_CONCURRENT_DEPLOYS=1) happens once.

A slot is held by a deploy the in-memory deployer keeps open (its gate); meanwhile the
scheduler's jobs run as they would in production, heartbeat then resume every ten
seconds of the bot's clock, for far longer than a claim lasts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from bot.core import notices as n
from bot.core.commands import Launch
from bot.core.environment import Environment
from bot.core.states import State
from tests.core.conftest import CLAIM_TTL, OWNER, Core

HEARTBEAT = timedelta(seconds=10)


async def _until(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)  # wait-ok: polling a condition under a deadline


async def _hold_the_slot(core: Core) -> asyncio.Event:
    """Start a deploy that keeps the only slot until the returned event is set."""
    gate = asyncio.Event()
    core.deployer.gate = gate
    holder = await core.lifecycle.launches.request(OWNER, Launch(name="holder"))
    await _until(lambda: holder.namespace in {t.namespace for t in core.deployer.deploys})
    return gate


async def _jobs_run_for(core: Core, duration: timedelta) -> None:
    """Heartbeat and resume, as the scheduler runs them, while the bot's clock moves on."""
    elapsed = timedelta(0)
    while elapsed < duration:
        core.later(HEARTBEAT)
        elapsed += HEARTBEAT
        await core.lifecycle.heartbeat()
        await core.lifecycle.resume()
        await asyncio.sleep(0)  # wait-ok: one turn of the loop, to let what resume started reach the slot's queue


async def _interrupted_deploy(core: Core, name: str) -> Environment:
    """An environment whose deploy a dead process started: ``deploying``, its claim lapsed."""
    store = core.store
    env = store.create_environment(
        name=name,
        owner_id=OWNER.user_id,
        profile="small",
        cluster="dev",
        lifetime=timedelta(hours=8),
        max_environments=5,
        namespace_prefix="jh-",
        actor=OWNER.user_id,
    )
    store.transition(env.id, State.REQUESTED, State.APPROVED, actor="bot", action="auto-approve")
    lapsed = {"worker": "dead-process", "worker_until": core.clock.now - timedelta(seconds=1)}
    moved = store.transition(env.id, State.APPROVED, State.DEPLOYING, actor="bot", action="deploy", **lapsed)
    assert moved is not None
    return moved


async def test_a_teardown_waiting_for_a_slot_runs_once_however_often_resume_runs(one_slot_core: Core) -> None:
    core = one_slot_core
    expiring = [await core.ready(name) for name in ("one", "two", "three")]
    gate = await _hold_the_slot(core)

    core.clock.now = max(env.expires_at for env in expiring if env.expires_at is not None)
    assert await core.lifecycle.teardowns.expire_due() == 3
    await _jobs_run_for(core, 10 * CLAIM_TTL)
    assert core.deployer.teardowns == []  # all three still wait for the slot

    gate.set()
    await core.lifecycle.drain()
    torn_down = Counter(target.namespace for target in core.deployer.teardowns)
    assert torn_down == {env.namespace: 1 for env in expiring}
    assert all(core.get(env.id).state is State.DELETED for env in expiring)
    assert len(core.notifier.to(OWNER.user_id, n.Removed)) == 3
    assert core.metrics.teardowns == ["deleted"] * 3


async def test_an_interrupted_deploy_waiting_for_a_slot_is_resumed_once(one_slot_core: Core) -> None:
    core = one_slot_core
    interrupted = await _interrupted_deploy(core, "interrupted")
    gate = await _hold_the_slot(core)

    await _jobs_run_for(core, 10 * CLAIM_TTL)
    assert interrupted.namespace not in {t.namespace for t in core.deployer.deploys}

    gate.set()
    await core.lifecycle.drain()
    deployed = Counter(target.namespace for target in core.deployer.deploys)
    assert deployed[interrupted.namespace] == 1
    assert core.get(interrupted.id).state is State.READY
    assert len([c for c in core.notifier.to(OWNER.user_id, n.Credentials) if c.env.id == interrupted.id]) == 1


async def test_an_approved_environment_waiting_for_a_slot_is_deployed_once(one_slot_core: Core) -> None:
    core = one_slot_core
    gate = await _hold_the_slot(core)
    waiting = await core.lifecycle.launches.request(OWNER, Launch(name="waiting"))
    assert waiting.state is State.APPROVED

    await _jobs_run_for(core, 10 * CLAIM_TTL)
    assert core.get(waiting.id).state is State.APPROVED

    gate.set()
    await core.lifecycle.drain()
    deployed = Counter(target.namespace for target in core.deployer.deploys)
    assert deployed[waiting.namespace] == 1
    assert core.get(waiting.id).state is State.READY
    deploy_moves = [e for e in core.store.audit(waiting.id, limit=100) if e.action == "deploy"]
    assert len(deploy_moves) == 1
