"""Hubs that misbehave cost the idle sweep a bounded time and never delay anyone's expiry.

The real bot, its real scheduler (every job each second), and a real HTTP server playing
five hubs: one whose pagination never ends, one that never answers, one that answers
each page just inside the request timeout but never finishes within the hub's deadline,
one that is slow but fine, and a healthy one. A sixth environment's lifetime ends while
the sweep is busy with them; it must be removed at once. The bot's clock is moved, the
scheduler runs on the wall clock, and every wait is a bounded poll.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.core.environment import Target
from bot.core.ports import Deployed, HubRequest, Progress
from bot.core.states import State
from bot.hub.activity import ReadLimits
from tests.support.bot_harness import BotUnderTest, assert_acked, running_bot

OWNER = "U0HUBSOWNER"
POLICY = f"""
roles:
  users:
    members: [user:{OWNER}]
    allow: [launch, list, status, creds, extend, delete]
    profiles: [small]
    clusters: [dev]
    max_environments: 6
profiles:
  small: {{image: "quay.io/jupyter/minimal-notebook:2025-06-30", cpu: "1", memory: 1Gi, storage: 1Gi}}
clusters:
  dev: {{}}
defaults: {{lifetime: 8h, idle_timeout: 1d, warn_before: 30m}}
"""
TOKEN = "misbehaving-hubs-test-token"
LAST_USED = datetime(2026, 11, 23, 8, 55, tzinfo=UTC)
LIMITS = ReadLimits()
# Each page of the crawling hub comes just inside one request's timeout; all of them
# together take well over a hub's deadline.
CRAWL_SECONDS = LIMITS.request_seconds - 1
CRAWL_PAGES = int(LIMITS.deadline_seconds // CRAWL_SECONDS) + 3


def _page(items: list[dict[str, Any]], offset: int, following: int | None) -> web.Response:
    pagination = {"offset": offset, "limit": 200, "total": None, "next": None}
    if following is not None:
        pagination["next"] = {"offset": following, "limit": 200, "url": f"/hub/api/users?offset={following}"}
    return web.json_response({"items": items, "_pagination": pagination})


def _user() -> dict[str, Any]:
    stamp = LAST_USED.isoformat()
    return {"name": "admin", "last_activity": stamp, "servers": {"": {"last_activity": stamp}}}


@dataclass
class Hubs:
    """One HTTP server playing every hub, by the first segment of the path."""

    requests: Counter[str] = field(default_factory=Counter)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""

    async def users(self, request: web.Request) -> web.Response:
        kind = request.match_info["hub"]
        self.requests[kind] += 1
        if request.headers.get("Authorization") != f"token {TOKEN}":
            return web.json_response({"status": 403}, status=403)
        offset = int(request.query.get("offset", "0"))
        match kind:
            case "endless":  # the field's hub: 'next' forever, each page at once
                return _page([], offset, offset + 200)
            case "silent":
                await self.released.wait()
                return _page([], offset, None)
            case "crawling":
                await asyncio.sleep(CRAWL_SECONDS)  # wait-ok: the hub's behaviour under test
                last = offset >= 200 * (CRAWL_PAGES - 1)
                return _page([_user()], offset, None if last else offset + 200)
            case "sluggish":
                await asyncio.sleep(1)  # wait-ok: the hub's behaviour under test
                return _page([_user()], offset, None)
            case _:
                return _page([_user()], offset, None)


@asynccontextmanager
async def serving(hubs: Hubs) -> AsyncIterator[None]:
    app = web.Application()
    app.router.add_get("/{hub}/hub/api/users", hubs.users)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hubs.base_url = f"http://127.0.0.1:{port}"
    try:
        yield
    finally:
        hubs.released.set()
        await runner.cleanup()


@dataclass
class HubPerEnvironment:
    """A deployer stand-in: each environment's hub API is the one named like it."""

    hubs: Hubs
    names: dict[str, str] = field(default_factory=dict)
    teardowns: list[str] = field(default_factory=list)

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        self.names[request.target.namespace] = request.name
        return Deployed(url=f"{self.hubs.base_url}/{request.name}/", username="admin", password="unused")

    async def teardown(self, target: Target) -> None:
        self.teardowns.append(target.namespace)

    async def credentials(self, target: Target) -> tuple[str, str]:
        return "admin", "unused"

    async def hub_token(self, target: Target) -> str:
        return TOKEN

    @asynccontextmanager
    async def hub_api_url(self, target: Target) -> AsyncIterator[str]:
        yield f"{self.hubs.base_url}/{self.names[target.namespace]}/hub/api"

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        return {}

    async def check(self, cluster: str) -> None:
        return None


async def _until(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Seconds until ``condition`` held; fails after ``within``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what} did not happen within {within}s"
        await asyncio.sleep(0.05)  # wait-ok: polling under a deadline
    return time.monotonic() - started


@pytest.fixture
async def bot_and_hubs(tmp_path: Path) -> AsyncIterator[tuple[BotUnderTest, Hubs, HubPerEnvironment]]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "hubs.yaml").write_text(POLICY)
    hubs = Hubs()
    deployer = HubPerEnvironment(hubs)
    async with (
        serving(hubs),
        running_bot(
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            policies_dir=tmp_path / "policies",
            groups={},
            deployer=deployer,  # type: ignore[arg-type]
            extra_env={"SWEEP_INTERVAL_SECONDS": "1", "LEASE_SECONDS": "3"},
        ) as bot,
    ):
        yield bot, hubs, deployer


async def test_bad_hubs_never_delay_expiry_and_the_healthy_hub_is_still_read(
    bot_and_hubs: tuple[BotUnderTest, Hubs, HubPerEnvironment],
) -> None:
    bot, hubs, deployer = bot_and_hubs
    for command in ("endless", "silent", "crawling", "sluggish", "healthy", "expiring ttl=1h"):
        assert_acked(await bot.slack.slash_command(OWNER, f"launch {command}"))
    await _until(lambda: len(deployer.names) == 6, within=10, what="six deploys")
    await bot.settle()
    expiring = bot.environment(OWNER, "expiring")
    assert expiring.state == State.READY and expiring.expires_at is not None

    scheduler = await bot.runtime.start_jobs()
    try:
        # The idle sweep is busy with the bad hubs...
        await _until(lambda: hubs.requests["silent"] > 0 and hubs.requests["crawling"] > 0, within=5, what="reads")
        # ...when one environment's lifetime ends: it is removed within a sweep or two.
        bot.clock.now = expiring.expires_at
        took = await _until(
            lambda: bot.environment(OWNER, "expiring").state == State.DELETED, within=4, what="the expiry"
        )
        assert deployer.teardowns == [expiring.namespace]

        # The healthy hub and the slow-but-fine one are read, whatever the others do.
        for name in ("healthy", "sluggish"):
            await _until(
                lambda name=name: bot.environment(OWNER, name).last_activity_at == LAST_USED,  # type: ignore[misc]
                within=LIMITS.deadline_seconds + 5,
                what=f"reading the {name} hub",
            )
        # Each bad hub is given up on, as unknown (never idle), within its deadline.
        for name in ("endless", "silent", "crawling"):
            await _until(
                lambda name=name: bot.environment(OWNER, name).hub_failures > 0,  # type: ignore[misc]
                within=LIMITS.deadline_seconds + 5,
                what=f"giving up on the {name} hub",
            )
    finally:
        scheduler.shutdown(wait=False)

    # One sweep's cost with all of them present: about one hub's deadline, not forever.
    before = hubs.requests["endless"]
    started = time.monotonic()
    report = await bot.runtime.lifecycle.watch.sweep_idle()
    sweep_seconds = time.monotonic() - started
    assert report.checked == 5 and report.unreachable == 3 and report.warned == report.removed == 0
    assert sweep_seconds < LIMITS.deadline_seconds + 2
    assert hubs.requests["endless"] - before <= LIMITS.max_pages
    assert all(bot.environment(OWNER, n).state == State.READY for n in ("endless", "silent", "crawling"))
    print(f"\nexpiry {took:.2f}s after the lifetime ended; one idle sweep with 3 bad hubs of 5: {sweep_seconds:.2f}s")
