"""The App Home tab."""

from __future__ import annotations

from bot import blocks
from bot.policy import can
from bot.services import Services

__all__ = ["publish_home"]


async def publish_home(services: Services, user_id: str) -> None:
    """Admins see every active environment; everyone else sees their own."""
    actor = await services.actor(user_id)
    admin = can(services.policy, actor, "list-all")
    if admin or can(services.policy, actor, "list"):
        envs = await services.lifecycle.list_environments(actor, everyone=admin)
    else:
        envs = []
    view = blocks.home_view(envs, admin=admin, viewer=user_id, now=services.lifecycle.now())
    await services.slack.views_publish(user_id=user_id, view=view)
