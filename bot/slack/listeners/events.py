"""Events: the App Home tab is drawn when it is opened."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.home import publish_home
from bot.slack.replies import after_ack

__all__ = ["register"]


async def app_home_opened(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    if event.get("tab") == "home":
        after_ack(context, publish_home(context["services"], event["user"]))


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(app_home_opened)
