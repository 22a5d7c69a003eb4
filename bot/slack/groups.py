"""Which Slack user groups a person belongs to, from ``usergroups.users.list``, cached briefly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = ["GroupDirectory"]

log = logging.getLogger(__name__)


class GroupDirectory:
    """Looks up only the groups the policy mentions.

    A membership Slack confirmed is used for ``ttl_seconds``. When Slack cannot be asked,
    what it last said is kept for at most ``hard_ttl_seconds`` after it said it, then
    dropped: rights that cannot be confirmed expire, so a removed admin does not keep
    them just because the look-up keeps failing."""

    def __init__(
        self,
        client: AsyncWebClient,
        group_ids: Iterable[str],
        *,
        ttl_seconds: float = 60.0,
        hard_ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._group_ids = tuple(sorted(set(group_ids)))
        self._ttl = ttl_seconds
        self._hard_ttl = hard_ttl_seconds
        self._clock = clock
        # group -> (when to ask again, its members)
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        # group -> when Slack last confirmed its members
        self._confirmed: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def groups_of(self, user_id: str) -> frozenset[str]:
        # Usually everything is cached, and this costs no task at all.
        stale = [g for g in self._group_ids if self._fresh(g) is None]
        if stale:
            await asyncio.gather(*(self._members_of(g) for g in stale))
        return frozenset(g for g in self._group_ids if user_id in self._members[g][1])

    def _fresh(self, group_id: str) -> frozenset[str] | None:
        cached = self._members.get(group_id)
        if cached and self._clock() < cached[0]:
            return cached[1]
        return None

    async def _members_of(self, group_id: str) -> frozenset[str]:
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            fresh = self._fresh(group_id)
            if fresh is not None:
                return fresh
            cached = self._members.get(group_id)
            now = self._clock()
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id)
                members = frozenset(response.get("users") or [])
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                confirmed = self._confirmed.get(group_id)
                keep = cached is not None and confirmed is not None and now - confirmed < self._hard_ttl
                members = cached[1] if cached is not None and keep else frozenset()
                log.warning(
                    "could not list members of user group %s (%s); %s",
                    group_id,
                    _reason(exc),
                    "keeping its last known members for now" if keep else "treating it as empty",
                )
                # Ask again after a tenth of the normal lifetime, not on every request.
                self._members[group_id] = (now + self._ttl / 10, members)
                return members
            self._members[group_id] = (now + self._ttl, members)
            self._confirmed[group_id] = now
            return members


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        data = exc.response.data
        error = data.get("error") if isinstance(data, dict) else None
        return f"HTTP {exc.response.status_code} {error or ''}".strip()
    return type(exc).__name__
