"""The core's notices, delivered through the Slack Web API.

Private notices go to the person's DM with the bot (or, for an answer to a command,
back through the command's ``response_url``), never to a shared channel."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.environment import MessageRef
from bot.core.notices import Notice
from bot.core.ports import ReplyChannel
from bot.slack.blocks import Message
from bot.slack.render import render

__all__ = ["SlackNotifier"]

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, client: AsyncWebClient, admin_channel: str) -> None:
        self._client = client
        self._admin_channel = admin_channel

    async def direct_message(self, user_id: str, message: Message) -> MessageRef:
        opened = await self._client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        posted = await self._client.chat_postMessage(channel=channel, **message)
        return MessageRef(str(posted["channel"]), str(posted["ts"]))

    async def tell(self, user_id: str, notice: Notice, *, reply: ReplyChannel | None = None) -> MessageRef | None:
        return await self.direct_message(user_id, render(notice))

    async def tell_admins(self, notice: Notice) -> MessageRef | None:
        try:
            posted = await self._client.chat_postMessage(channel=self._admin_channel, **render(notice))
        except SlackApiError as exc:
            log.error("could not post to the admin channel %s: %s", self._admin_channel, exc.response.get("error"))
            return None
        return MessageRef(str(posted["channel"]), str(posted["ts"]))

    async def revise(self, where: MessageRef, notice: Notice) -> None:
        await self._client.chat_update(channel=where.conversation, ts=where.message, **render(notice))
