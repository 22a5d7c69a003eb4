"""The lifecycle service: the only code that changes an environment's state.

Each section has one job and shares one :class:`~bot.core.lifecycle.context.Context`:

- :mod:`.launches`: launch requests (policy grant, quota slot, approval or deploy)
- :mod:`.approvals`: admins' decisions on requests
- :mod:`.deploys`: deploying (or taking a warm pool's hub), progress, credentials, roll-back
- :mod:`.pools`: keeping warm pools at size, and the admins' view of them
- :mod:`.teardown`: removing environments, whatever the reason
- :mod:`.owner`: what owners and admins do to existing environments
- :mod:`.watch`: idle sweep, expiry warnings, reconciliation

Every public method checks the actor's rights by user ID (never trusting that a button
was shown only to the right people), then moves the environment with a compare-and-set
in the store. Long work runs in background tasks under one concurrency limit; callers
get an answer as soon as the state is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.clock import Clock, utcnow
from bot.core.lifecycle.approvals import Approvals
from bot.core.lifecycle.context import SYSTEM, Context, Work, default_worker_id, log
from bot.core.lifecycle.deploys import Deploys
from bot.core.lifecycle.launches import Launches
from bot.core.lifecycle.owner import AdminActions, OwnerActions
from bot.core.lifecycle.pool_specs import PoolSpecs
from bot.core.lifecycle.pools import PoolReport, Pools
from bot.core.lifecycle.teardown import Teardowns
from bot.core.lifecycle.watch import SweepReport, Watch
from bot.core.notices import Removal, RemovalReason
from bot.core.policy import Actor, Policy, is_admin
from bot.core.ports import Deployer, HubActivity, LaunchMetrics, Notifier, SecretRegistry, Store
from bot.core.states import State

__all__ = ["Lifecycle", "PoolReport", "SweepReport"]


class Lifecycle:
    def __init__(
        self,
        *,
        store: Store,
        policy: Policy,
        deployer: Deployer,
        notifier: Notifier,
        activity: HubActivity,
        metrics: LaunchMetrics,
        secrets: SecretRegistry,
        clock: Clock = utcnow,
        max_concurrent: int = 4,
        deploy_timeout_seconds: int = 600,
        worker_id: str | None = None,
        claim_ttl: timedelta = timedelta(seconds=60),
    ) -> None:
        self.work = Work(
            worker_id=worker_id or default_worker_id(), max_concurrent=max_concurrent, claim_ttl=claim_ttl, clock=clock
        )
        self.context = Context(
            store=store,
            policy=policy,
            deployer=deployer,
            notifier=notifier,
            activity=activity,
            metrics=metrics,
            secrets=secrets,
            clock=clock,
            work=self.work,
            deploy_timeout_seconds=deploy_timeout_seconds,
        )
        pool_specs = PoolSpecs(self.context)
        self.deploys = Deploys(self.context, pool_specs)
        self.teardowns = Teardowns(self.context)
        self.pools = Pools(self.context, pool_specs, self.deploys, self.teardowns)
        self.launches = Launches(self.context, self.deploys)
        self.approvals = Approvals(self.context, self.deploys)
        self.owner = OwnerActions(self.context, self.teardowns)
        self.admin = AdminActions(self.context, self.teardowns)
        self.watch = Watch(self.context, self.teardowns)

    @property
    def policy(self) -> Policy:
        return self.context.policy

    @property
    def worker_id(self) -> str:
        return self.work.worker_id

    def now(self) -> datetime:
        return self.context.now()

    def is_admin(self, actor: Actor) -> bool:
        return is_admin(self.context.policy, actor)

    async def drain(self) -> None:
        """Wait for all background work (tests and shutdown)."""
        await self.work.drain()

    async def heartbeat(self) -> int:
        """Renew this process's claims on the work it is doing (every replica runs this)."""
        store = self.context.store
        return await store.run(
            store.renew_claims, sorted(self.work.in_flight), self.work.worker_id, self.work.claim_until()
        )

    async def resume(self) -> int:
        """Pick up work whose process died: approved but never deployed, or a deploy or
        teardown whose claim has lapsed. Work this process already has queued or running
        is left alone, however long it has waited for a slot. Every step is safe to repeat."""
        ctx = self.context
        resumed = 0
        for env in await ctx.store.run(ctx.store.in_states, [State.APPROVED]):
            if self.deploys.start(env.id, background=env.pool is not None):
                resumed += 1
        for env in await ctx.store.run(ctx.store.abandoned, [State.DEPLOYING, State.EXPIRING], ctx.now()):
            if env.id in self.work.in_flight:
                continue  # ours, waiting for a slot; it checks its claim before it starts
            claimed = await ctx.update_if(
                env.id,
                {"state": env.state, "worker": env.worker, "worker_until": env.worker_until},
                self.work.claim(),
                actor=SYSTEM,
                action="resume",
                detail=f"{env.state} was interrupted",
            )
            if claimed is None:
                continue
            log.info("resuming %s of %s after an interruption", claimed.state, claimed.id)
            if claimed.state is State.DEPLOYING:
                started = self.deploys.resume(claimed)
            else:
                started = self.teardowns.start(claimed, Removal(RemovalReason.RESUMED))
            resumed += int(started)
        return resumed
