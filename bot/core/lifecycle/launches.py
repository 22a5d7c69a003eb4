"""Launch requests: the policy's grant, the new environment in a quota slot, then either a
deploy at once or a request for an admin's approval."""

from __future__ import annotations

from bot.core.commands import Launch
from bot.core.environment import Environment
from bot.core.lifecycle.context import SYSTEM, Context
from bot.core.lifecycle.deploys import Deploys
from bot.core.notices import ApprovalRequest
from bot.core.policy import Actor, grant_launch
from bot.core.ports import ReplyChannel
from bot.core.states import State

__all__ = ["Launches"]


class Launches:
    def __init__(self, ctx: Context, deploys: Deploys) -> None:
        self.ctx = ctx
        self.deploys = deploys

    async def request(self, actor: Actor, request: Launch, *, reply: ReplyChannel | None = None) -> Environment:
        """Record a launch request; deploy at once or ask the admins, as the policy says.

        ``reply`` is the way back to where the request was made, for the credentials."""
        if request.name is None:
            raise ValueError("a launch request needs a name")
        ctx = self.ctx
        grant = grant_launch(
            ctx.policy, actor, profile=request.profile, cluster=request.cluster, lifetime=request.lifetime
        )
        env = await ctx.store.run(
            ctx.store.create_environment,
            name=request.name,
            owner_id=actor.user_id,
            profile=grant.profile,
            cluster=grant.cluster,
            lifetime=grant.lifetime,
            max_environments=grant.max_environments,
            namespace_prefix=ctx.policy.defaults.namespace_prefix,
            actor=actor.user_id,
        )
        if reply is not None:
            ctx.replies[env.id] = reply
        if not grant.approval_required:
            approved = await ctx.transition(
                env.id,
                State.REQUESTED,
                State.APPROVED,
                actor=SYSTEM,
                action="auto-approve",
                detail="policy needs no approval",
            )
            if approved is not None:
                self.deploys.start(env.id)
                return approved
            return await ctx.environment(env.id)
        pending = await ctx.transition(
            env.id,
            State.REQUESTED,
            State.PENDING_APPROVAL,
            actor=SYSTEM,
            action="ask-approval",
        )
        if pending is None:
            return await ctx.environment(env.id)
        posted = await ctx.tell_admins(ApprovalRequest(pending))
        if posted is not None:
            await ctx.update_if(
                env.id,
                {"state": State.PENDING_APPROVAL},
                {"approval_channel": posted.conversation, "approval_ts": posted.message},
                actor=SYSTEM,
                action="approval-posted",
                detail=posted.conversation,
            )
        return pending

    async def name_in_use(self, owner_id: str, name: str) -> bool:
        return await self.ctx.store.run(self.ctx.store.find_active, owner_id, name) is not None
