"""Read when a hub was last used, from its REST API, with the bot's read-only token.

A hub is not trusted to behave. Each hub's read has a deadline; pages, users and the
size of a page are capped; the pagination must move forward. A hub that pages forever,
never answers, answers too slowly or answers nonsense costs at most its deadline and is
reported as unknown (:class:`HubUnreachable`), never as idle.

At most ``hubs_at_once`` hubs are read at a time. A hub's deadline starts when its own
read does, so hubs waiting for their turn behind slow ones are never failed for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.core.ports import ActivityUnknown

__all__ = ["HubActivityReader", "HubApi", "HubUnreachable", "OpenHubApi", "ReadLimits", "at", "latest_activity_of"]

_PAGINATION = "application/jupyterhub-pagination+json"
_PAGE_SIZE = 200


class HubUnreachable(ActivityUnknown):
    """The hub did not answer, or answered with an error; its activity is unknown."""


@dataclass(frozen=True)
class HubApi:
    """A hub's REST API (its ``…/hub/api`` URL) and the bot's token for it."""

    url: str
    token: str = field(repr=False)


# Gives access to a hub's API for as long as the context is open (a tunnel, say).
OpenHubApi = Callable[[], AbstractAsyncContextManager[HubApi]]


def at(api: HubApi) -> OpenHubApi:
    """Access to a hub's API that needs no opening: it answers at ``api.url``."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[HubApi]:
        yield api

    return opened


@dataclass(frozen=True)
class ReadLimits:
    """How much of a hub's time and answers one read accepts.

    The defaults leave room for hubs far larger than one environment's (one admin, a
    few servers): 50 pages of 200 users, 10,000 users, 4 MiB a page."""

    deadline_seconds: float = 10.0
    request_seconds: float = 5.0
    max_pages: int = 50
    max_users: int = 10_000
    max_page_bytes: int = 4 * 1024 * 1024


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    parsed = datetime.fromisoformat(stamp)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def latest_activity_of(users: Iterable[dict[str, Any]]) -> datetime | None:
    """The latest ``last_activity`` of any user or any of their servers."""
    stamps = []
    for user in users:
        stamps.append(_parse(user.get("last_activity")))
        for server in (user.get("servers") or {}).values():
            stamps.append(_parse(server.get("last_activity")))
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


def _later(one: datetime | None, other: datetime | None) -> datetime | None:
    return max((t for t in (one, other) if t is not None), default=None)


class HubActivityReader:
    def __init__(self, *, hubs_at_once: int = 20, limits: ReadLimits | None = None) -> None:
        self._turns = asyncio.Semaphore(hubs_at_once)
        self.limits = limits or ReadLimits()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.limits.request_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def latest_activity(self, open_api: OpenHubApi) -> datetime | None:
        """Latest activity on the hub that ``open_api`` gives access to; ``None`` if nobody
        has used it. Opening the access counts against the hub's deadline."""
        async with self._turns:
            deadline = self.limits.deadline_seconds
            try:
                async with asyncio.timeout(deadline):
                    async with open_api() as api:
                        return await self._read(api)
            except TimeoutError:
                raise HubUnreachable(f"no complete answer within {deadline:g}s") from None

    async def _read(self, api: HubApi) -> datetime | None:
        limits = self.limits
        url = api.url.rstrip("/") + "/users"
        latest: datetime | None = None
        users = 0
        offset = 0
        for _ in range(limits.max_pages):
            page = await self._get(url, api.token, {"offset": offset, "limit": _PAGE_SIZE})
            try:
                items, following = _items_and_next(page)
                users += len(items)
                if users > limits.max_users:
                    raise HubUnreachable(f"more than {limits.max_users} users at {url}")
                latest = _later(latest, latest_activity_of(items))
                if following is None:
                    return latest
                if following <= offset:
                    raise HubUnreachable(f"pagination of {url} does not move forward (offset {following})")
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                raise HubUnreachable(f"malformed answer from {url} ({type(exc).__name__})") from None
            offset = following
        raise HubUnreachable(f"more than {limits.max_pages} pages at {url}")

    async def _get(self, url: str, token: str, params: dict[str, int]) -> Any:
        headers = {"Authorization": f"token {token}", "Accept": _PAGINATION}
        limit = self.limits.max_page_bytes
        try:
            async with self._client().get(url, headers=headers, params=params) as response:
                if response.status != 200:
                    raise HubUnreachable(f"HTTP {response.status} from {url}")
                body = await response.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubUnreachable(f"{type(exc).__name__} from {url}") from None
        if len(body) > limit:
            raise HubUnreachable(f"a page of more than {limit} bytes from {url}")
        try:
            return json.loads(body)
        except ValueError:
            raise HubUnreachable(f"malformed answer from {url} (not JSON)") from None


def _items_and_next(page: Any) -> tuple[list[dict[str, Any]], int | None]:
    """A page's users and the offset of the next page (``None``: this was the last)."""
    if isinstance(page, list):  # a hub that ignores the pagination header
        return page, None
    items = page.get("items", [])
    if not isinstance(items, list):
        raise TypeError("items is not a list")
    following = (page.get("_pagination") or {}).get("next")
    return items, int(following["offset"]) if following else None
