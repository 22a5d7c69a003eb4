"""The core's notices, delivered through the Slack Web API.

Private notices go to the person's DM with the bot, never to a shared channel. A login
goes back through the request's ``response_url`` as an ephemeral message (seen only by
its owner, kept in no history) while that URL can still be used, unless the operator
asked for direct messages; otherwise it goes by DM, and the core takes that message down
when the environment is removed."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.environment import MessageRef
from bot.core.notices import Credentials, Notice
from bot.core.ports import ReplyChannel
from bot.slack.blocks import Message
from bot.slack.identity import Workspace
from bot.slack.render import render
from bot.slack.response_url import ResponseUrl

__all__ = ["SlackGone", "SlackNotifier"]

log = logging.getLogger(__name__)


class SlackGone(Exception):
    """The app was uninstalled or its token revoked: nothing can be sent."""


class SlackNotifier:
    def __init__(
        self, client: AsyncWebClient, admin_channel: str, workspace: Workspace, *, ephemeral_credentials: bool = True
    ) -> None:
        self._client = client
        self._workspace = workspace
        self._admin_channel = admin_channel
        self._ephemeral_credentials = ephemeral_credentials

    def _speaking(self) -> None:
        if self._workspace.lost is not None:
            raise SlackGone(self._workspace.lost)

    async def direct_message(self, user_id: str, message: Message) -> MessageRef:
        self._speaking()
        opened = await self._client.conversations_open(users=user_id)
        channel = opened["channel"]["id"]
        posted = await self._client.chat_postMessage(channel=channel, **message)
        return MessageRef(str(posted["channel"]), str(posted["ts"]))

    async def tell(self, user_id: str, notice: Notice, *, reply: ReplyChannel | None = None) -> MessageRef | None:
        if self._workspace.lost is not None and not isinstance(notice, Credentials):
            log.debug("not telling %s %s: %s", user_id, type(notice).__name__, self._workspace.lost)
            return None
        message = render(notice)
        ephemeral = isinstance(notice, Credentials) and self._ephemeral_credentials
        if ephemeral and isinstance(reply, ResponseUrl) and await reply.post(message):
            return None
        return await self.direct_message(user_id, message)

    async def tell_admins(self, notice: Notice) -> MessageRef | None:
        if self._workspace.lost is not None:
            log.debug("not telling the admins %s: %s", type(notice).__name__, self._workspace.lost)
            return None
        try:
            posted = await self._client.chat_postMessage(channel=self._admin_channel, **render(notice))
        except SlackApiError as exc:
            log.error("could not post to the admin channel %s: %s", self._admin_channel, exc.response.get("error"))
            return None
        return MessageRef(str(posted["channel"]), str(posted["ts"]))

    async def revise(self, where: MessageRef, notice: Notice) -> None:
        if self._workspace.lost is not None:
            log.debug("not revising a message with %s: %s", type(notice).__name__, self._workspace.lost)
            return
        await self._client.chat_update(channel=where.conversation, ts=where.message, **render(notice))
