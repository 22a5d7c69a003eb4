"""What every section of the lifecycle shares: the ports, the policy, the clock, this
process's background work, and the few look-ups and sends they all need."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock
from bot.core.environment import Environment, MessageRef
from bot.core.errors import NotAllowed, NotFound
from bot.core.notices import Notice
from bot.core.policy import Actor, Policy, Verb, can, is_admin
from bot.core.ports import Deployer, HubActivity, LaunchMetrics, Notifier, ReplyChannel, SecretRegistry, Store
from bot.core.problems import Action, EnvironmentGone, NoSuchEnvironment
from bot.core.problems import NotAllowed as Refused
from bot.core.states import State

__all__ = ["SYSTEM", "UNCLAIMED", "Context", "Work", "default_worker_id"]

log = logging.getLogger("bot.core.lifecycle")

# The actor of changes the bot makes on its own.
SYSTEM = "bot"
# Columns that end a process's claim on an environment.
UNCLAIMED: dict[str, Any] = {"worker": None, "worker_until": None}


def default_worker_id() -> str:
    """Names this process in work claims: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Work:
    """This process's background work: tasks, the one concurrency limit on deploys and
    teardowns, and claims on the environments being worked on (renewed by a heartbeat,
    so another replica can resume the work once a claim lapses).

    Work on an environment counts as in flight from the moment it is queued, not only
    once it has a slot: a teardown waiting behind other deploys keeps its claim renewed,
    so no other process, and no later resume in this one, starts it a second time."""

    def __init__(self, *, worker_id: str, max_concurrent: int, claim_ttl: timedelta, clock: Clock) -> None:
        self.worker_id = worker_id
        self.limit = asyncio.Semaphore(max_concurrent)
        # Warm pools' work waits for a slot of its own as well, so refilling a pool can use
        # at most half the slots: launches never queue behind it.
        self.background = asyncio.Semaphore(max(1, max_concurrent // 2))
        self._claim_ttl = claim_ttl
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        # (environment id, kind of work) queued or running in this process.
        self._queued: set[tuple[str, str]] = set()

    @property
    def in_flight(self) -> set[str]:
        """Environments this process has work queued or running for."""
        return {env_id for env_id, _kind in self._queued}

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background; its failure is logged, never lost."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def start(self, env_id: str, kind: str, work: Callable[[], Awaitable[None]], *, background: bool = False) -> bool:
        """Queue ``work`` (a ``kind`` of work on ``env_id``) for a slot under the concurrency
        limit (and, for ``background`` work, under the background limit first); ``False``,
        and nothing queued, if this process already has that work queued or running."""
        key = (env_id, kind)
        if key in self._queued:
            log.info("%s of %s is already queued or running here", kind, env_id)
            return False
        self._queued.add(key)
        self.spawn(self._in_a_slot(key, work, background))
        return True

    async def _in_a_slot(self, key: tuple[str, str], work: Callable[[], Awaitable[None]], background: bool) -> None:
        try:
            async with contextlib.AsyncExitStack() as slots:
                if background:
                    await slots.enter_async_context(self.background)
                await slots.enter_async_context(self.limit)
                await work()
        finally:
            self._queued.discard(key)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for all background work (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def claim(self) -> dict[str, Any]:
        """Columns that mark an environment as being worked on by this process."""
        return {"worker": self.worker_id, "worker_until": self._clock() + self._claim_ttl}

    def claim_until(self) -> datetime:
        return self._clock() + self._claim_ttl


@dataclass
class Context:
    store: Store
    policy: Policy
    deployer: Deployer
    notifier: Notifier
    activity: HubActivity
    metrics: LaunchMetrics
    secrets: SecretRegistry
    clock: Clock
    work: Work
    deploy_timeout_seconds: int
    # Ways back to where a launch was requested, while this process holds them.
    replies: dict[str, ReplyChannel] = field(default_factory=dict)
    # Reconciliation findings already reported to the admins by this process.
    reported: set[str] = field(default_factory=set)
    # Warm pools whose last hub failed to deploy, and until when they pause before the next.
    failing_pools: dict[str, datetime] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def require(self, actor: Actor, verb: Verb) -> None:
        if not can(self.policy, actor, verb):
            raise NotAllowed(Refused(Action(verb)))

    def is_admin(self, actor: Actor) -> bool:
        return is_admin(self.policy, actor)

    async def environment(self, env_id: str) -> Environment:
        env = await self.store.run(self.store.get, env_id)
        if env is None:
            raise NotFound(EnvironmentGone())
        return env

    async def own(self, actor: Actor, name: str) -> Environment:
        """The actor's own environment called ``name`` (active, else the latest that ended)."""
        env = await self.store.run(self.store.find_by_name, actor.user_id, name)
        if env is None:
            raise NotFound(NoSuchEnvironment(name))
        return env

    async def transition(
        self, env_id: str, expected: State, target: State, *, actor: str, action: str, **changes: Any
    ) -> Environment | None:
        """The store's compare-and-set move from ``expected`` to ``target`` (``None``: lost the race)."""
        return await self.store.run(
            self.store.transition, env_id, expected, target, actor=actor, action=action, **changes
        )

    async def update_if(
        self, env_id: str, expected: dict[str, Any], values: dict[str, Any], *, actor: str, action: str, **audit: Any
    ) -> Environment | None:
        """The store's compare-and-set on any columns (``None``: lost the race)."""
        return await self.store.run(self.store.update_if, env_id, expected, values, actor=actor, action=action, **audit)

    async def still_claimed(self, env: Environment) -> bool:
        """Renew this process's claim on ``env`` if it still holds it (same state, same worker).

        Work that waited for a slot asks this before it starts: if its claim lapsed and
        another process took the environment over meanwhile, that process does the work."""
        renewed = await self.update_if(
            env.id,
            {"state": env.state, "worker": self.work.worker_id},
            {"worker_until": self.work.claim_until()},
            actor=SYSTEM,
            action="claim-renewed",
            audit=False,
        )
        if renewed is None:
            log.info("%s of %s was taken over by another process; leaving it to that one", env.state, env.id)
        return renewed is not None

    async def record(self, env_id: str, *, actor: str, action: str, detail: str = "") -> None:
        await self.store.run(self.store.record, env_id, actor=actor, action=action, detail=detail)

    async def tell(self, user_id: str, notice: Notice, *, reply: ReplyChannel | None = None) -> MessageRef | None:
        """Tell someone privately; a failure is logged, not raised (the work it reports is done)."""
        try:
            return await self.notifier.tell(user_id, notice, reply=reply)
        except Exception:
            log.exception("could not send %s to %s", type(notice).__name__, user_id)
            return None

    async def tell_admins(self, notice: Notice) -> MessageRef | None:
        try:
            return await self.notifier.tell_admins(notice)
        except Exception:
            log.exception("could not send %s to the admins", type(notice).__name__)
            return None

    async def revise(self, where: MessageRef, notice: Notice) -> None:
        try:
            await self.notifier.revise(where, notice)
        except Exception:
            log.exception("could not revise a message with %s", type(notice).__name__)
