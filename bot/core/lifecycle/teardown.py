"""Removing a ready environment: the ``expiring`` claim, the deployer's teardown, and the
owner's notice. Expiry, deletion, idle removal and admin expiry all end here."""

from __future__ import annotations

from bot.core.environment import Environment
from bot.core.lifecycle.context import SYSTEM, UNCLAIMED, Context, log
from bot.core.notices import CredentialsWithdrawn, Removal, RemovalReason, Removed
from bot.core.states import State

__all__ = ["Teardowns"]

SCHEDULER = "scheduler"
TEARDOWN = "teardown"


class Teardowns:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def expire(self, env_id: str, *, actor: str, removal: Removal) -> Environment | None:
        """Start removing a ready environment; ``None`` if it is not ready (already going)."""
        ctx = self.ctx
        env = await ctx.transition(
            env_id,
            State.READY,
            State.EXPIRING,
            actor=actor,
            action="expire",
            detail=removal.audit_detail,
            **ctx.work.claim(),
        )
        if env is not None:
            self.start(env, removal)
        return env

    async def expire_due(self) -> int:
        """Scheduler job: start removing every environment past its lifetime."""
        ctx = self.ctx
        started = 0
        for env in await ctx.store.run(ctx.store.due_for_expiry, ctx.now()):
            removal = Removal(RemovalReason.LIFETIME_ENDED)
            if await self.expire(env.id, actor=SCHEDULER, removal=removal) is not None:
                started += 1
        return started

    def start(self, env: Environment, removal: Removal) -> bool:
        """Queue the removal of ``env``, which this process has just claimed ('expiring');
        ``False`` if its removal is already queued or running here."""
        return self.ctx.work.start(
            env.id, TEARDOWN, lambda: self._remove(env, removal), background=env.pool is not None
        )

    async def _remove(self, env: Environment, removal: Removal) -> None:
        ctx = self.ctx
        if not await ctx.still_claimed(env):
            return
        try:
            await ctx.deployer.teardown(env.target)
        except Exception:
            # The claim lapses once we stop working on it, so a later resume retries.
            log.exception("teardown of %s failed; it stays 'expiring' and is retried", env.id)
            ctx.metrics.teardown_finished("failed")
            await ctx.record(env.id, actor=SYSTEM, action="teardown-failed")
            return
        done = await ctx.transition(
            env.id,
            State.EXPIRING,
            State.DELETED,
            actor=SYSTEM,
            action="deleted",
            detail=removal.audit_detail,
            **UNCLAIMED,
        )
        if done is not None:
            ctx.activity.forget(env)
            ctx.secrets.forget(env.id)
            ctx.metrics.teardown_finished("deleted")
            if env.pool is None:  # a warm pool's hub was nobody's
                await self._withdraw_credentials(done)
                await ctx.tell(env.owner_id, Removed(done, removal))

    async def _withdraw_credentials(self, env: Environment) -> None:
        """Rewrite every message that showed the hub's password, now that it is gone."""
        ctx = self.ctx
        for where in await ctx.store.run(ctx.store.secret_messages, env.id):
            await ctx.revise(where, CredentialsWithdrawn(env))
        await ctx.store.run(ctx.store.forget_secret_messages, env.id)
