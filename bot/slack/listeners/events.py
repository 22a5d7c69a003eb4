"""Events: the App Home tab is drawn when it is opened."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.slack.home import publish_home

__all__ = ["register"]


async def acknowledge(ack: AsyncAck) -> None:
    await ack()


async def app_home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
    if event.get("tab") == "home":
        await publish_home(context["services"], event["user"])


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(ack=acknowledge, lazy=[app_home_opened])
