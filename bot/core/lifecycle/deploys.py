"""Deploying an approved environment: a ready hub taken from a warm pool, or namespace and
hub through the deployer; the owner's progress message, the credentials, and a full
roll-back when anything fails. A warm pool's own hubs are deployed here too, silently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import timedelta

from bot.core.environment import Environment, MessageRef
from bot.core.errors import BotError
from bot.core.lifecycle.context import SYSTEM, UNCLAIMED, Context, log
from bot.core.lifecycle.pool_specs import PoolSpecs
from bot.core.notices import (
    ClusterUnusable,
    Credentials,
    DeployFailed,
    DeployProgress,
    DeployStep,
    HubSource,
    OrphanFound,
    PoolFailing,
)
from bot.core.ports import Deployed, HubRequest
from bot.core.problems import ClusterNotConfigured, DeployTimedOut, Problem, UnexpectedFailure, to_record
from bot.core.states import State

__all__ = ["Deploys"]

# Beyond the deployer's own timeout, the margin before the lifecycle gives up on it.
_TIMEOUT_MARGIN_SECONDS = 60
DEPLOY = "deploy"
# After a warm pool's hub failed to deploy, the pause before the pool tries another.
POOL_PAUSE = timedelta(minutes=5)


class Deploys:
    def __init__(self, ctx: Context, pools: PoolSpecs) -> None:
        self.ctx = ctx
        self.pools = pools

    def start(self, env_id: str, *, background: bool = False) -> bool:
        """Queue the deploy of an approved environment (``background``: a warm pool's hub);
        ``False`` if it is already queued or running here."""
        return self.ctx.work.start(env_id, DEPLOY, lambda: self._deploy_approved(env_id), background=background)

    def resume(self, env: Environment) -> bool:
        """Queue the rest of a deploy whose process died (this process has just claimed it)."""
        return self.ctx.work.start(env.id, DEPLOY, lambda: self._resume(env), background=env.pool is not None)

    async def _deploy_approved(self, env_id: str) -> None:
        ctx = self.ctx
        # The move to 'deploying' is the claim: of all the processes and queued tasks that
        # wanted to deploy it, exactly one gets past this.
        env = await ctx.transition(
            env_id,
            State.APPROVED,
            State.DEPLOYING,
            actor=SYSTEM,
            action="deploy",
            **ctx.work.claim(),
        )
        if env is None:
            log.info("environment %s is no longer approved; not deploying", env_id)
            return
        await self._deploy(env)

    async def _resume(self, env: Environment) -> None:
        if await self.ctx.still_claimed(env):
            await self._deploy(env)

    def _request(self, env: Environment) -> HubRequest:
        policy = self.ctx.policy
        return HubRequest(
            environment_id=env.id,
            owner_id=env.owner_id,
            name=env.name,
            target=env.target,
            profile=policy.profiles[env.profile],
            cluster=policy.clusters[env.cluster],
            idle_timeout=policy.defaults.idle_timeout,
            pool=env.pool,
        )

    async def _deploy(self, env: Environment) -> None:
        if env.pool is not None:
            await self._warm(env)
            return
        ctx = self.ctx
        started = time.monotonic()
        source = HubSource.NEW
        pool = self.pools.serving(env.profile, env.cluster)
        if pool is not None:
            taken = await self._take_pool_hub(env, pool)
            if taken is not None:
                await self._hand_over(taken, started)
                return
            source = HubSource.POOL_EMPTY
            ctx.metrics.pool_missed(pool)
        progress = _Progress(ctx, env, source)
        await progress.start()
        log.info("deploying %s (%s) into %s/%s", env.id, env.name, env.cluster, env.namespace)
        outcome = await self._attempt(env, ctx.deployer.deploy(self._request(env), progress.step))
        if isinstance(outcome, Deployed):
            await self._ready(env, outcome, progress, started, source)
        else:
            await self._roll_back(env, outcome, progress)

    async def _take_pool_hub(self, env: Environment, pool: str) -> Environment | None:
        """The launch, moved into a ready hub of ``pool`` it has just taken (or took before
        its process died); ``None`` when no hub was free."""
        ctx = self.ctx
        if await ctx.store.run(ctx.store.claimed_by_launch, env.id) is not None:
            return env  # the claim moved the record into the hub's namespace already
        try:
            spec = await self.pools.spec(pool)
        except Exception:
            log.exception("pool %s: could not tell what its hubs are made from; deploying a new hub", pool)
            return None
        taken = await ctx.store.run(ctx.store.claim_pool_hub, env, worker=ctx.work.worker_id, spec_hash=spec)
        if taken is not None:
            ctx.metrics.pool_claimed(pool)
            log.info("launch %s took a ready hub of pool %s (%s)", env.id, pool, taken.namespace)
        return taken

    async def _hand_over(self, env: Environment, started: float) -> None:
        ctx = self.ctx
        progress = _Progress(ctx, env, HubSource.POOL, DeployStep.HUB_TAKEN)
        await progress.start()
        outcome = await self._attempt(env, ctx.deployer.hand_over(self._request(env), progress.step))
        if isinstance(outcome, Deployed):
            await self._ready(env, outcome, progress, started, HubSource.POOL)
        else:
            await self._roll_back(env, outcome, progress)

    async def _attempt(self, env: Environment, work: Awaitable[Deployed]) -> Deployed | Problem:
        """The deployer's result, or the problem that stopped it (within the deploy timeout)."""
        ctx = self.ctx
        try:
            return await asyncio.wait_for(work, timeout=ctx.deploy_timeout_seconds + _TIMEOUT_MARGIN_SECONDS)
        except BotError as exc:
            log.warning("deploy of %s failed: %r", env.id, exc.problem)
            return exc.problem
        except TimeoutError:
            return DeployTimedOut(ctx.deploy_timeout_seconds)
        except Exception:
            log.exception("deploy of %s failed unexpectedly", env.id)
            return UnexpectedFailure()

    async def _ready(
        self, env: Environment, deployed: Deployed, progress: _Progress, started: float, source: HubSource
    ) -> None:
        ctx = self.ctx
        ctx.secrets.register(env.id, deployed.password)
        # The lifetime starts now, also for a hub that waited in a pool.
        ready = await self._mark_ready(env, deployed.url, lifetime=env.lifetime)
        if ready is None:
            log.warning("environment %s left 'deploying' while we deployed it", env.id)
            return
        ctx.metrics.launch_finished("ready", time.monotonic() - started, source=source.value)
        log.info("environment %s is ready at %s", env.id, deployed.url)
        await progress.finish(deployed.url)
        await self._send_credentials(ready, deployed.username, deployed.password)

    async def _warm(self, hub: Environment) -> None:
        """Deploy a warm pool's hub: nobody to tell, no lifetime until a launch takes it."""
        ctx = self.ctx
        pool = str(hub.pool)
        failing = f"pool-failing:{pool}"  # the admins were told that this pool fails
        log.info("deploying hub %s of pool %s into %s/%s", hub.id, pool, hub.cluster, hub.namespace)
        outcome = await self._attempt(hub, ctx.deployer.deploy(self._request(hub), _unreported))
        if not isinstance(outcome, Deployed):
            ctx.metrics.pool_hub_deployed(pool, "failed")
            ctx.failing_pools[pool] = ctx.now() + POOL_PAUSE
            await self._roll_back(hub, outcome, None)
            if failing not in ctx.reported:
                ctx.reported.add(failing)
                await ctx.tell_admins(PoolFailing(pool, outcome))
            return
        if await self._mark_ready(hub, outcome.url, lifetime=None) is not None:
            ctx.metrics.pool_hub_deployed(pool, "ready")
            ctx.failing_pools.pop(pool, None)
            ctx.reported.discard(failing)

    async def _mark_ready(self, env: Environment, url: str, *, lifetime: timedelta | None) -> Environment | None:
        """``deploying`` to ``ready`` at ``url``; it expires ``lifetime`` from now (a pool's
        hub, nobody's yet, never: ``None``). ``None`` if it was no longer deploying."""
        now = self.ctx.now()
        return await self.ctx.transition(
            env.id,
            State.DEPLOYING,
            State.READY,
            actor=SYSTEM,
            action="ready",
            detail=url,
            ready_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            url=url,
            **UNCLAIMED,
        )

    async def _send_credentials(self, env: Environment, username: str, password: str) -> None:
        ctx = self.ctx
        try:
            where = await ctx.notifier.tell(
                env.owner_id, Credentials(env, username, password), reply=ctx.replies.pop(env.id, None)
            )
        except Exception:
            log.exception("could not send the credentials of %s to its owner", env.id)
            await ctx.record(env.id, actor=SYSTEM, action="delivery-failed")
            return
        if where is not None:
            # A direct message stays in the owner's history: it is taken down with the hub.
            await ctx.store.run(ctx.store.remember_secret_message, env.id, where)
        await ctx.record(env.id, actor=SYSTEM, action="credentials-sent")

    async def _roll_back(self, env: Environment, problem: Problem, progress: _Progress | None) -> None:
        """Remove what the failed deploy created and record the failure; its owner (a warm
        pool's hub has none) hears why."""
        ctx = self.ctx
        if env.pool is None:
            ctx.metrics.launch_finished("failed")
        cleaned = True
        if isinstance(problem, ClusterNotConfigured):
            # The cluster could not even be tried, so nothing was created there; the admins
            # hear about the cluster once, not about objects that do not exist.
            if f"unusable:{env.cluster}" not in ctx.reported:
                ctx.reported.add(f"unusable:{env.cluster}")
                await ctx.tell_admins(ClusterUnusable(env.cluster, problem.reason))
        else:
            try:
                await ctx.deployer.teardown(env.target)
            except Exception:
                cleaned = False
                log.exception("could not clean up after the failed deploy of %s", env.id)
        await ctx.transition(
            env.id,
            State.DEPLOYING,
            State.FAILED,
            actor=SYSTEM,
            action="deploy-failed",
            detail=type(problem).__name__,
            last_error=to_record(problem),
            **UNCLAIMED,
        )
        if not cleaned:
            await ctx.tell_admins(OrphanFound(env.cluster, env.namespace, env.id))
        if progress is None:
            return
        await progress.fail(problem)
        ctx.replies.pop(env.id, None)
        await ctx.tell(env.owner_id, DeployFailed(env, problem, cleaned_up=cleaned))


async def _unreported(step: DeployStep) -> None:
    """A warm pool's hub has nobody to follow its deploy."""


class _Progress:
    """The owner's private message that follows a deploy step by step."""

    def __init__(self, ctx: Context, env: Environment, source: HubSource, *done: DeployStep) -> None:
        self._ctx = ctx
        self._env = env
        self._source = source
        self._done: list[DeployStep] = [DeployStep.ACCEPTED, *done]
        self._where: MessageRef | None = None

    async def _show(self, url: str | None = None, failure: Problem | None = None) -> None:
        notice = DeployProgress(self._env, tuple(self._done), url=url, failure=failure, source=self._source)
        if self._where is None:
            self._where = await self._ctx.tell(self._env.owner_id, notice)
        else:
            await self._ctx.revise(self._where, notice)

    async def start(self) -> None:
        await self._show()

    async def step(self, step: DeployStep) -> None:
        self._done.append(step)
        ctx = self._ctx
        await ctx.record(self._env.id, actor=SYSTEM, action="progress", detail=step.value)
        await self._show()

    async def finish(self, url: str) -> None:
        await self._show(url=url)

    async def fail(self, problem: Problem) -> None:
        await self._show(failure=problem)
