"""The App Home tab."""

from __future__ import annotations

from bot.core.policy import can
from bot.slack.render import home_view
from bot.slack.services import Services

__all__ = ["publish_home"]


async def publish_home(services: Services, user_id: str) -> None:
    """Admins see every active environment; everyone else sees their own."""
    actor = await services.actor(user_id)
    lifecycle = services.lifecycle
    everyone = can(services.policy, actor, "list-all")
    if everyone or can(services.policy, actor, "list"):
        envs = await lifecycle.owner.list_environments(actor, everyone=everyone)
    else:
        envs = []
    pools = await lifecycle.pools.status(actor) if everyone else []
    view = home_view(
        envs, everyone=everyone, admin=lifecycle.is_admin(actor), viewer=user_id, now=lifecycle.now(), pools=pools
    )
    await services.slack.views_publish(user_id=user_id, view=view)
