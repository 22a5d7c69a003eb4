"""The hub reader against a real HTTP server playing hubs that behave and hubs that do not.

Every misbehaviour ends in :class:`HubUnreachable` (activity unknown, never idle) within
the hub's deadline, having made a bounded number of requests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.hub.activity import HubActivityReader, HubApi, HubUnreachable, ReadLimits, at

TOKEN = "reader-test-token"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAST = ReadLimits(deadline_seconds=2, request_seconds=1, max_pages=5, max_users=10, max_page_bytes=4096)

Handler = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


def page(items: list[dict[str, Any]], offset: int, following: int | None) -> web.Response:
    pagination: dict[str, Any] = {"offset": offset, "limit": 200, "total": None, "next": None}
    if following is not None:
        pagination["next"] = {"offset": following, "limit": 200, "url": "ignored"}
    return web.json_response({"items": items, "_pagination": pagination})


def user(minutes: int) -> dict[str, Any]:
    return {"name": f"u{minutes}", "last_activity": (T0 + timedelta(minutes=minutes)).isoformat(), "servers": {}}


class Hubs:
    """Hubs on one server, each a handler under /<name>/hub/api/users."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.requests: Counter[str] = Counter()
        self.base_url = ""

    async def serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["hub"]
        self.requests[name] += 1
        if request.headers.get("Authorization") != f"token {TOKEN}":
            return web.json_response({"status": 403}, status=403)
        return await self.handlers[name](request, int(request.query.get("offset", "0")))

    def api(self, name: str) -> HubApi:
        return HubApi(f"{self.base_url}/{name}/hub/api", TOKEN)


@asynccontextmanager
async def running(handlers: dict[str, Handler]) -> AsyncIterator[Hubs]:
    hubs = Hubs(handlers)
    app = web.Application()
    app.router.add_get("/{hub}/hub/api/users", hubs.serve)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    hubs.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield hubs
    finally:
        await runner.cleanup()


@pytest.fixture
async def reader() -> AsyncIterator[HubActivityReader]:
    reading = HubActivityReader(limits=FAST)
    yield reading
    await reading.close()


async def _three_pages(request: web.Request, offset: int) -> web.Response:
    return page([user(offset // 200 * 10)], offset, offset + 200 if offset < 400 else None)


async def _endless(request: web.Request, offset: int) -> web.Response:
    return page([], offset, offset + 200)


async def _stuck(request: web.Request, offset: int) -> web.Response:
    return page([user(1)], offset, 200)  # the second page points at itself


async def _crowded(request: web.Request, offset: int) -> web.Response:
    return page([user(i) for i in range(4)], offset, offset + 200)


async def _huge(request: web.Request, offset: int) -> web.Response:
    return page([user(1) | {"padding": "x" * 5000}], offset, None)


async def _not_json(request: web.Request, offset: int) -> web.Response:
    return web.Response(text="<html>welcome to nginx</html>")


async def _bad_items(request: web.Request, offset: int) -> web.Response:
    return web.json_response({"items": {"name": "u"}, "_pagination": {}})


async def _bad_stamp(request: web.Request, offset: int) -> web.Response:
    return page([{"name": "u", "last_activity": "yesterday"}], offset, None)


async def _silent(request: web.Request, offset: int) -> web.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def _crawling(request: web.Request, offset: int) -> web.Response:
    await asyncio.sleep(FAST.request_seconds * 0.6)  # wait-ok: the hub's behaviour under test
    return page([user(1)], offset, offset + 200)


async def _unpaginated(request: web.Request, offset: int) -> web.Response:
    return web.json_response([user(3), user(7)])


async def test_pages_are_followed_to_the_latest_activity(reader: HubActivityReader) -> None:
    async with running({"hub": _three_pages, "plain": _unpaginated}) as hubs:
        assert await reader.latest_activity(at(hubs.api("hub"))) == T0 + timedelta(minutes=20)
        assert hubs.requests["hub"] == 3
        assert await reader.latest_activity(at(hubs.api("plain"))) == T0 + timedelta(minutes=7)


@pytest.mark.parametrize(
    ("handler", "words", "requests"),
    [
        (_endless, "more than 5 pages", 5),
        (_stuck, "does not move forward", 2),
        (_crowded, "more than 10 users", 3),
        (_huge, "more than 4096 bytes", 1),
        (_not_json, "not JSON", 1),
        (_bad_items, "malformed", 1),
        (_bad_stamp, "malformed", 1),
    ],
)
async def test_a_misbehaving_hub_is_unknown_after_a_bounded_number_of_requests(
    reader: HubActivityReader, handler: Handler, words: str, requests: int
) -> None:
    async with running({"bad": handler}) as hubs:
        with pytest.raises(HubUnreachable) as unknown:
            await reader.latest_activity(at(hubs.api("bad")))
        assert words in str(unknown.value)
        assert hubs.requests["bad"] == requests


async def test_a_wrong_token_is_unknown_not_idle(reader: HubActivityReader) -> None:
    async with running({"hub": _three_pages}) as hubs:
        with pytest.raises(HubUnreachable, match="HTTP 403"):
            await reader.latest_activity(at(HubApi(hubs.api("hub").url, "wrong")))


async def test_a_hub_that_never_answers_costs_one_request_timeout(reader: HubActivityReader) -> None:
    async with running({"silent": _silent}) as hubs:
        started = time.monotonic()
        with pytest.raises(HubUnreachable, match="TimeoutError"):
            await reader.latest_activity(at(hubs.api("silent")))
        assert time.monotonic() - started < FAST.request_seconds + 0.5


async def test_a_hub_answering_each_page_in_time_is_still_cut_off_at_its_deadline(reader: HubActivityReader) -> None:
    async with running({"crawling": _crawling}) as hubs:
        started = time.monotonic()
        with pytest.raises(HubUnreachable, match="within 2s"):
            await reader.latest_activity(at(hubs.api("crawling")))
        assert FAST.deadline_seconds <= time.monotonic() - started < FAST.deadline_seconds + 0.5
        assert hubs.requests["crawling"] < FAST.max_pages


async def test_opening_the_access_counts_against_the_deadline(reader: HubActivityReader) -> None:
    @asynccontextmanager
    async def never_opens() -> AsyncIterator[HubApi]:
        await asyncio.Event().wait()
        yield HubApi("http://127.0.0.1:9/hub/api", TOKEN)

    with pytest.raises(HubUnreachable, match="within 2s"):
        await reader.latest_activity(never_opens)


async def test_a_hub_waiting_for_its_turn_is_not_failed_for_the_wait() -> None:
    """One hub at a time: the healthy hub waits out the crawling one's whole deadline, then is read."""
    reader = HubActivityReader(hubs_at_once=1, limits=FAST)
    try:
        async with running({"crawling": _crawling, "healthy": _three_pages}) as hubs:
            crawling = asyncio.ensure_future(reader.latest_activity(at(hubs.api("crawling"))))
            await asyncio.sleep(0)  # wait-ok: one turn of the loop; the crawling hub takes the only turn first
            started = time.monotonic()
            latest = await reader.latest_activity(at(hubs.api("healthy")))
            assert latest == T0 + timedelta(minutes=20)
            assert time.monotonic() - started >= FAST.deadline_seconds * 0.9
            with pytest.raises(HubUnreachable):
                await crawling
    finally:
        await reader.close()
