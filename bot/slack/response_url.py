"""A request's ``response_url``: private replies in the conversation where someone acted.

A post there is ephemeral (only the person who acted sees it, and it is kept in no
history) and lands in that conversation whether or not the bot is a member. Slack
honours a ``response_url`` for 30 minutes and 5 posts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.clock import Clock
from bot.slack.blocks import Message

__all__ = ["ResponseUrl"]

log = logging.getLogger(__name__)


class ResponseUrl:
    """A request's ``response_url``, used at most as often and as long as Slack allows.

    It is also the core's :class:`~bot.core.ports.ReplyChannel`: a deploy that finishes
    while it is still usable delivers the login here, ephemerally."""

    LIFETIME = timedelta(minutes=30)
    # Stop a little early: a post that arrives after Slack's limit is lost silently.
    MARGIN = timedelta(minutes=1)
    USES = 5

    def __init__(self, url: str, session: aiohttp.ClientSession, clock: Clock) -> None:
        self._url = url
        self._session = session
        self._clock = clock
        self._received: datetime = clock()
        self._used = 0

    def usable(self) -> bool:
        fresh = self._clock() - self._received < self.LIFETIME - self.MARGIN
        return fresh and self._used < self.USES

    async def post(self, message: Message, *, replace: bool = False) -> bool:
        """Post ``message`` ephemerally; ``False`` if this URL cannot be used (any more)."""
        if not self.usable():
            return False
        self._used += 1
        webhook = AsyncWebhookClient(self._url, session=self._session, timeout=10)
        response = await webhook.send_dict({"response_type": "ephemeral", "replace_original": replace, **message})
        if response.status_code != 200:
            log.warning("Slack refused a response_url post (HTTP %s: %s)", response.status_code, response.body)
            return False
        return True

    async def delete_original(self) -> None:
        if self.usable():
            self._used += 1
            webhook = AsyncWebhookClient(self._url, session=self._session, timeout=10)
            await webhook.send_dict({"delete_original": True})

    def __repr__(self) -> str:
        return f"ResponseUrl(used={self._used})"
