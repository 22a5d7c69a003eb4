"""Read when a hub was last used, from its REST API, with the bot's read-only token.

All requests go through one semaphore, so however many hubs a sweep visits, at most
``concurrency`` requests are in flight. Pages of ``/hub/api/users`` are followed
with JupyterHub's pagination envelope.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bot.core.ports import ActivityUnknown

__all__ = ["HubActivityReader", "HubUnreachable", "latest_activity_of"]

_PAGINATION = "application/jupyterhub-pagination+json"
_PAGE_SIZE = 200


class HubUnreachable(ActivityUnknown):
    """The hub did not answer, or answered with an error; its activity is unknown."""


def _parse(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    parsed = datetime.fromisoformat(stamp)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def latest_activity_of(users: list[dict[str, Any]]) -> datetime | None:
    """The latest ``last_activity`` of any user or any of their servers."""
    stamps = []
    for user in users:
        stamps.append(_parse(user.get("last_activity")))
        for server in (user.get("servers") or {}).values():
            stamps.append(_parse(server.get("last_activity")))
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


class HubActivityReader:
    def __init__(self, *, concurrency: int = 20, timeout_seconds: float = 5.0) -> None:
        self._limit = asyncio.Semaphore(concurrency)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def _get(self, url: str, token: str, params: dict[str, int]) -> Any:
        headers = {"Authorization": f"token {token}", "Accept": _PAGINATION}
        async with self._limit:
            try:
                async with self._client().get(url, headers=headers, params=params) as response:
                    if response.status != 200:
                        raise HubUnreachable(f"HTTP {response.status} from {url}")
                    return await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise HubUnreachable(f"{type(exc).__name__} from {url}") from None

    async def _users(self, api_url: str, token: str) -> AsyncIterator[dict[str, Any]]:
        url = api_url.rstrip("/") + "/users"
        offset = 0
        while True:
            page = await self._get(url, token, {"offset": offset, "limit": _PAGE_SIZE})
            if isinstance(page, list):  # a hub that ignores the pagination header
                for user in page:
                    yield user
                return
            for user in page.get("items", []):
                yield user
            following = (page.get("_pagination") or {}).get("next")
            if not following:
                return
            offset = int(following["offset"])

    async def latest_activity(self, api_url: str, token: str) -> datetime | None:
        """Latest activity on the hub at ``api_url`` (``…/hub/api``); ``None`` if nobody has used it."""
        return latest_activity_of([user async for user in self._users(api_url, token)])
