"""Events: the App Home tab is drawn when it is opened."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.home import publish_home

__all__ = ["register"]


async def app_home_opened(event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext) -> None:
    if event.get("tab") == "home":
        await publish_home(context["services"], client, event["user"])


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(app_home_opened)
