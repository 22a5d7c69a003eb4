"""What people do to environments they have: look, extend, re-read the login, keep,
delete; and what admins do to anyone's: expire, remove an orphaned namespace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.core.environment import AuditEvent, Environment, Target
from bot.core.errors import Conflict, LifetimeTooLong, NotAllowed
from bot.core.lifecycle.context import SYSTEM, Context
from bot.core.lifecycle.teardown import Teardowns
from bot.core.notices import ApprovalWithdrawn, Credentials, Removal, RemovalReason
from bot.core.policy import Actor, can, extension_limits
from bot.core.ports import ReplyChannel
from bot.core.problems import (
    Action,
    ChangedConcurrently,
    ExtensionLimitReached,
    NotAnOrphan,
    PastMaxLifetime,
    UnknownCluster,
    WrongState,
)
from bot.core.problems import NotAllowed as Refused
from bot.core.states import State

__all__ = ["AdminActions", "OwnerActions"]

_AUDIT_EVENTS_SHOWN = 8


class OwnerActions:
    def __init__(self, ctx: Context, teardowns: Teardowns) -> None:
        self.ctx = ctx
        self.teardowns = teardowns

    async def list_environments(self, actor: Actor, *, everyone: bool) -> Sequence[Environment]:
        ctx = self.ctx
        if everyone:
            ctx.require(actor, "list-all")
            # Warm pools' hubs belong to nobody yet; the pools are summarised, not listed.
            return [env for env in await ctx.store.run(ctx.store.list_active) if env.pool is None]
        ctx.require(actor, "list")
        return await ctx.store.run(ctx.store.list_for_owner, actor.user_id)

    async def status(self, actor: Actor, name: str) -> tuple[Environment, Sequence[AuditEvent]]:
        ctx = self.ctx
        ctx.require(actor, "status")
        env = await ctx.own(actor, name)
        return env, await ctx.store.run(ctx.store.audit, env.id, _AUDIT_EVENTS_SHOWN)

    async def send_credentials(
        self, actor: Actor, name: str, *, reply: ReplyChannel | None = None
    ) -> tuple[Environment, bool]:
        """Show the owner their login again, privately (through ``reply`` when it can be
        used); whether it went by direct message."""
        ctx = self.ctx
        ctx.require(actor, "creds")
        env = await ctx.own(actor, name)
        if env.state is not State.READY:
            raise Conflict(WrongState(env.name, env.state, Action.CREDS))
        username, password = await ctx.deployer.credentials(env.target)
        ctx.secrets.register(env.id, password)
        env = await self._current_url(env)
        where = await ctx.notifier.tell(actor.user_id, Credentials(env, username, password), reply=reply)
        if where is not None:
            await ctx.store.run(ctx.store.remember_secret_message, env.id, where)
        await ctx.record(env.id, actor=actor.user_id, action="credentials-sent")
        return env, where is not None

    async def _current_url(self, env: Environment) -> Environment:
        """The environment with the URL its hub answers at now (the node it was first reached
        on may be gone); the record is kept in step."""
        ctx = self.ctx
        url = await ctx.deployer.url(env.target)
        if url == env.url:
            return env
        moved = await ctx.update_if(
            env.id, {"state": State.READY, "url": env.url}, {"url": url}, actor=SYSTEM, action="url-changed", detail=url
        )
        return moved or env

    async def extend(self, actor: Actor, name: str, by: timedelta | None) -> Environment:
        self.ctx.require(actor, "extend")
        return await self._extend(actor, await self.ctx.own(actor, name), by)

    async def extend_environment(self, actor: Actor, env_id: str, by: timedelta | None = None) -> Environment:
        """The [Extend] button: the owner (within policy) or an admin."""
        ctx = self.ctx
        env = await ctx.environment(env_id)
        if env.owner_id != actor.user_id and not ctx.is_admin(actor):
            raise NotAllowed(Refused(Action.EXTEND_OTHERS))
        if env.owner_id == actor.user_id:
            ctx.require(actor, "extend")
        return await self._extend(actor, env, by)

    async def _extend(self, actor: Actor, env: Environment, by: timedelta | None) -> Environment:
        ctx = self.ctx
        if env.state is not State.READY or env.expires_at is None or env.ready_at is None:
            raise Conflict(WrongState(env.name, env.state, Action.EXTEND))
        by = by or ctx.policy.defaults.extend_by
        new_expiry = max(env.expires_at, ctx.now()) + by
        if not ctx.is_admin(actor):
            limits = extension_limits(ctx.policy, actor, env.profile, env.cluster)
            if env.extensions >= limits.max_extensions:
                raise LifetimeTooLong(ExtensionLimitReached(env.name, env.extensions, limits.max_extensions))
            if limits.max_lifetime is not None and new_expiry - env.ready_at > limits.max_lifetime:
                latest = env.ready_at + limits.max_lifetime
                raise LifetimeTooLong(
                    PastMaxLifetime(env.name, int(limits.max_lifetime.total_seconds()), int(latest.timestamp()))
                )
        extended = await ctx.update_if(
            env.id,
            {"state": State.READY, "extensions": env.extensions},
            {"expires_at": new_expiry, "extensions": env.extensions + 1, "warnings_sent": ""},
            actor=actor.user_id,
            action="extend",
            detail=f"+{int(by.total_seconds())}s",
        )
        if extended is None:
            raise Conflict(ChangedConcurrently(env.name))
        return extended

    async def keep(self, actor: Actor, env_id: str) -> Environment:
        """[Keep it] on an idle warning: the idle clock starts again now."""
        ctx = self.ctx
        env = await ctx.environment(env_id)
        if env.owner_id != actor.user_id and not ctx.is_admin(actor):
            raise NotAllowed(Refused(Action.KEEP_OTHERS))
        kept = await ctx.update_if(
            env.id,
            {"state": State.READY},
            {"idle_warned_at": None, "last_activity_at": ctx.now()},
            actor=actor.user_id,
            action="keep",
        )
        if kept is None:
            raise Conflict(WrongState(env.name, env.state, Action.KEEP))
        return kept

    async def delete_request(self, actor: Actor, name: str) -> Environment:
        """First step of ``delete``: find the environment; the caller asks for confirmation."""
        ctx = self.ctx
        ctx.require(actor, "delete")
        env = await ctx.own(actor, name)
        if env.state not in (State.READY, State.PENDING_APPROVAL, State.APPROVED):
            raise Conflict(WrongState(env.name, env.state, Action.DELETE))
        return env

    async def delete(self, actor: Actor, env_id: str) -> Environment:
        ctx = self.ctx
        env = await ctx.environment(env_id)
        own = env.owner_id == actor.user_id
        if not ((own and can(ctx.policy, actor, "delete")) or ctx.is_admin(actor)):
            raise NotAllowed(Refused(Action.DELETE_OTHERS))
        removal = (
            Removal(RemovalReason.OWNER_DELETED) if own else Removal(RemovalReason.ADMIN_DELETED, by=actor.user_id)
        )
        if env.state in (State.PENDING_APPROVAL, State.APPROVED):
            withdrawn = await ctx.transition(
                env.id,
                env.state,
                State.DELETED,
                actor=actor.user_id,
                action="withdraw",
                detail=removal.audit_detail,
            )
            if withdrawn is not None:
                if withdrawn.approval_message is not None:
                    await ctx.revise(withdrawn.approval_message, ApprovalWithdrawn(withdrawn))
                return withdrawn
        elif (expiring := await self.teardowns.expire(env.id, actor=actor.user_id, removal=removal)) is not None:
            return expiring
        current = await ctx.environment(env_id)
        raise Conflict(WrongState(current.name, current.state, Action.DELETE))


class AdminActions:
    def __init__(self, ctx: Context, teardowns: Teardowns) -> None:
        self.ctx = ctx
        self.teardowns = teardowns

    async def expire(self, actor: Actor, env_id: str) -> Environment:
        ctx = self.ctx
        ctx.require(actor, "expire")
        removal = Removal(RemovalReason.ADMIN_EXPIRED, by=actor.user_id)
        env = await self.teardowns.expire(env_id, actor=actor.user_id, removal=removal)
        if env is None:
            current = await ctx.environment(env_id)
            raise Conflict(WrongState(current.name, current.state, Action.EXPIRE))
        return env

    async def remove_orphan(self, actor: Actor, cluster_and_namespace: str) -> str:
        """[Remove it] on an orphan report: only a namespace of ours that no active environment owns."""
        ctx = self.ctx
        if not ctx.is_admin(actor):
            raise NotAllowed(Refused(Action.REMOVE_ORPHAN))
        cluster, _, namespace = cluster_and_namespace.partition("/")
        if cluster not in ctx.policy.clusters:
            raise Conflict(UnknownCluster(cluster))
        namespaces = await ctx.deployer.managed_namespaces(cluster)
        active = {env.namespace for env in await ctx.store.run(ctx.store.list_active) if env.cluster == cluster}
        if namespace not in namespaces or namespace in active:
            raise Conflict(NotAnOrphan(namespace))
        await ctx.deployer.teardown(Target(cluster=cluster, namespace=namespace, release=namespace))
        env_id = namespaces[namespace]
        if env_id:
            await ctx.record(env_id, actor=actor.user_id, action="orphan-removed", detail=namespace)
        ctx.reported.discard(f"orphan:{cluster}/{namespace}")
        return namespace
