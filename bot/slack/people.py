"""Who a Slack user is, from ``users.info``: a member of our workspace, a guest, someone from
another organisation (Slack Connect), a deactivated account, or a bot. Cached briefly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.identity import Installation, Workspace

__all__ = ["AccountKind", "People", "SlackUnavailable", "classify"]

log = logging.getLogger(__name__)


class AccountKind(StrEnum):
    MEMBER = "member"
    GUEST = "guest"
    EXTERNAL = "external"
    DEACTIVATED = "deactivated"
    BOT = "bot"


class SlackUnavailable(Exception):
    """Slack's Web API did not answer a question the bot cannot go on without."""


def classify(user: Mapping[str, Any], installation: Installation) -> AccountKind:
    """What kind of account ``user`` (a ``users.info`` user object) is, for this installation."""
    if user.get("deleted"):
        return AccountKind.DEACTIVATED
    if user.get("is_bot") or user.get("is_app_user"):
        return AccountKind.BOT
    ours = user.get("team_id") == installation.team_id
    enterprise = (user.get("enterprise_user") or {}).get("enterprise_id")
    if installation.enterprise_id and enterprise == installation.enterprise_id:
        ours = True
    if not ours or user.get("is_stranger"):
        return AccountKind.EXTERNAL
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return AccountKind.GUEST
    return AccountKind.MEMBER


class People:
    def __init__(
        self,
        client: AsyncWebClient,
        workspace: Workspace,
        *,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._workspace = workspace
        self._ttl = ttl_seconds
        self._clock = clock
        self._kinds: dict[str, tuple[float, AccountKind]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def kind(self, user_id: str) -> AccountKind:
        cached = self._kinds.get(user_id)
        if cached and self._clock() - cached[0] < self._ttl:
            return cached[1]
        async with self._locks.setdefault(user_id, asyncio.Lock()):
            cached = self._kinds.get(user_id)
            if cached and self._clock() - cached[0] < self._ttl:
                return cached[1]
            installation = self._workspace.installation
            if installation is None:
                raise SlackUnavailable("the installation is not known yet")
            try:
                response = await self._client.users_info(user=user_id)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("could not look up user %s: %s", user_id, type(exc).__name__)
                raise SlackUnavailable(str(user_id)) from None
            kind = classify(response["user"], installation)
            self._kinds[user_id] = (self._clock(), kind)
            if len(self._kinds) > 10_000:
                self._kinds.clear()
            return kind
