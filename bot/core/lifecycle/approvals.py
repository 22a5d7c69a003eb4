"""An admin's decision on a launch request, re-checked against the policy on every click."""

from __future__ import annotations

from bot.core.environment import Environment
from bot.core.errors import Conflict, NotAllowed
from bot.core.lifecycle.context import Context
from bot.core.lifecycle.deploys import Deploys
from bot.core.notices import ApprovalDecided, RequestDecided
from bot.core.policy import Actor
from bot.core.problems import Action, AlreadyDecided
from bot.core.problems import NotAllowed as Refused
from bot.core.states import State

__all__ = ["Approvals"]


class Approvals:
    def __init__(self, ctx: Context, deploys: Deploys) -> None:
        self.ctx = ctx
        self.deploys = deploys

    async def decide(self, actor: Actor, env_id: str, *, approve: bool) -> Environment:
        ctx = self.ctx
        ctx.require(actor, "approve" if approve else "deny")
        if approve and (await ctx.environment(env_id)).owner_id == actor.user_id:
            # Four eyes: an admin's own request needs another admin.
            raise NotAllowed(Refused(Action.APPROVE_OWN))
        decided = await ctx.transition(
            env_id,
            State.PENDING_APPROVAL,
            State.APPROVED if approve else State.DENIED,
            actor=actor.user_id,
            action="approve" if approve else "deny",
        )
        if decided is None:
            current = await ctx.environment(env_id)
            raise Conflict(AlreadyDecided(current.name, current.state))
        if decided.approval_message is not None:
            await ctx.revise(decided.approval_message, ApprovalDecided(decided, approved=approve, by=actor.user_id))
        await ctx.tell(decided.owner_id, RequestDecided(decided, approved=approve, by=actor.user_id))
        if approve:
            self.deploys.start(env_id)
        return decided
