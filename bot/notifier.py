"""Messages from the bot to people, through the Slack Web API."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["Notifier", "SlackNotifier"]

log = logging.getLogger(__name__)

Message = dict[str, Any]


class Notifier(Protocol):
    async def dm(self, user_id: str, message: Message) -> tuple[str, str]:
        """Send privately; return (channel, ts) so the message can be updated."""
        ...

    async def to_admins(self, message: Message) -> tuple[str, str] | None: ...

    async def update(self, channel: str, ts: str, message: Message) -> None: ...


class SlackNotifier:
    """Private messages go to the user's DM with the bot, never to a shared channel."""

    def __init__(self, client: AsyncWebClient, admin_channel: str) -> None:
        self._client = client
        self._admin_channel = admin_channel

    async def dm(self, user_id: str, message: Message) -> tuple[str, str]:
        opened = await self._client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        posted = await self._client.chat_postMessage(channel=channel, **message)
        return str(posted["channel"]), str(posted["ts"])

    async def to_admins(self, message: Message) -> tuple[str, str] | None:
        try:
            posted = await self._client.chat_postMessage(channel=self._admin_channel, **message)
        except SlackApiError as exc:
            log.error("could not post to the admin channel %s: %s", self._admin_channel, exc.response.get("error"))
            return None
        return str(posted["channel"]), str(posted["ts"])

    async def update(self, channel: str, ts: str, message: Message) -> None:
        await self._client.chat_update(channel=channel, ts=ts, **message)
