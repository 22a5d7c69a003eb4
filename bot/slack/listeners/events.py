"""Events: the App Home tab is drawn when it is opened; Slack's own notices about the app
(uninstalled, tokens revoked) are acted on at once."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.home import publish_home
from bot.slack.replies import after_ack
from bot.slack.services import Services

__all__ = ["register"]

log = logging.getLogger(__name__)


async def app_home_opened(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    if event.get("tab") == "home" and isinstance(event.get("user"), str):
        after_ack(context, publish_home(context["services"], event["user"]))


async def app_uninstalled(ack: AsyncAck, context: AsyncBoltContext) -> None:
    await ack()
    services: Services = context["services"]
    services.workspace.lose("the app was uninstalled from the workspace")


async def tokens_revoked(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    services: Services = context["services"]
    bots = (event.get("tokens") or {}).get("bot") or []
    installation = services.workspace.installation
    if installation is not None and installation.bot_user_id in bots:
        services.workspace.lose("Slack revoked the bot's token")


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)
