"""Deploying an approved environment: namespace and hub through the deployer, the owner's
progress message, the credentials, and a full roll-back when anything fails."""

from __future__ import annotations

import asyncio
import time

from bot.core.environment import Environment, MessageRef
from bot.core.errors import BotError
from bot.core.lifecycle.context import SYSTEM, UNCLAIMED, Context, log
from bot.core.notices import ClusterUnusable, Credentials, DeployFailed, DeployProgress, DeployStep, OrphanFound
from bot.core.ports import HubRequest
from bot.core.problems import ClusterNotConfigured, DeployTimedOut, Problem, UnexpectedFailure, to_record
from bot.core.states import State

__all__ = ["Deploys"]

# Beyond the deployer's own timeout, the margin before the lifecycle gives up on it.
_TIMEOUT_MARGIN_SECONDS = 60
DEPLOY = "deploy"


class Deploys:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def start(self, env_id: str) -> bool:
        """Queue the deploy of an approved environment; ``False`` if it is already queued
        or running here."""
        return self.ctx.work.start(env_id, DEPLOY, lambda: self._deploy_approved(env_id))

    def resume(self, env: Environment) -> bool:
        """Queue the rest of a deploy whose process died (this process has just claimed it)."""
        return self.ctx.work.start(env.id, DEPLOY, lambda: self._resume(env))

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
        )

    async def _deploy(self, env: Environment) -> None:
        ctx = self.ctx
        progress = _Progress(ctx, env)
        await progress.start()
        started = time.monotonic()
        log.info("deploying %s (%s) into %s/%s", env.id, env.name, env.cluster, env.namespace)
        try:
            deployed = await asyncio.wait_for(
                ctx.deployer.deploy(self._request(env), progress.step),
                timeout=ctx.deploy_timeout_seconds + _TIMEOUT_MARGIN_SECONDS,
            )
        except BotError as exc:
            log.warning("deploy of %s failed: %r", env.id, exc.problem)
            await self._roll_back(env, exc.problem, progress)
            return
        except TimeoutError:
            await self._roll_back(env, DeployTimedOut(ctx.deploy_timeout_seconds), progress)
            return
        except Exception:
            log.exception("deploy of %s failed unexpectedly", env.id)
            await self._roll_back(env, UnexpectedFailure(), progress)
            return
        ctx.secrets.register(env.id, deployed.password)

        now = ctx.now()
        ready = await ctx.transition(
            env.id,
            State.DEPLOYING,
            State.READY,
            actor=SYSTEM,
            action="ready",
            detail=deployed.url,
            ready_at=now,
            expires_at=now + env.lifetime,
            url=deployed.url,
            **UNCLAIMED,
        )
        if ready is None:
            log.warning("environment %s left 'deploying' while we deployed it", env.id)
            return
        ctx.metrics.launch_finished("ready", time.monotonic() - started)
        log.info("environment %s is ready at %s", env.id, deployed.url)
        await progress.finish(deployed.url)
        await self._send_credentials(ready, deployed.username, deployed.password)

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

    async def _roll_back(self, env: Environment, problem: Problem, progress: _Progress) -> None:
        ctx = self.ctx
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
        await progress.fail(problem)
        ctx.replies.pop(env.id, None)
        await ctx.tell(env.owner_id, DeployFailed(env, problem, cleaned_up=cleaned))


class _Progress:
    """The owner's private message that follows a deploy step by step."""

    def __init__(self, ctx: Context, env: Environment) -> None:
        self._ctx = ctx
        self._env = env
        self._done: list[DeployStep] = [DeployStep.ACCEPTED]
        self._where: MessageRef | None = None

    async def _show(self, url: str | None = None, failure: Problem | None = None) -> None:
        notice = DeployProgress(self._env, tuple(self._done), url=url, failure=failure)
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
