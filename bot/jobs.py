"""Scheduled jobs, run by one replica at a time.

APScheduler 3 keeps its schedule in memory, so every replica schedules the same jobs;
a database lease decides which replica actually runs them. The lease is renewed by a
heartbeat well inside its lifetime, and when its holder dies another replica takes
it over within one lease period. Each job is a thin call into the lifecycle or the
watcher, whose compare-and-set writes keep a job idempotent even if two ran at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.lifecycle import Lifecycle
from bot.core.ports import Store

__all__ = ["JOBS_LEASE", "Jobs", "build_scheduler"]

log = logging.getLogger(__name__)

JOBS_LEASE = "scheduled-jobs"


class Jobs:
    def __init__(self, lifecycle: Lifecycle, store: Store, *, lease_ttl: timedelta) -> None:
        self.lifecycle = lifecycle
        self.store = store
        self.lease_ttl = lease_ttl
        self.leader = False

    async def heartbeat(self) -> None:
        """Every replica: renew claims on in-flight work, and take or renew the jobs lease."""
        await self.lifecycle.heartbeat()
        held = await self.store.run(self.store.hold_lease, JOBS_LEASE, self.lifecycle.worker_id, self.lease_ttl)
        if held and not self.leader:
            log.info("this replica (%s) now runs the scheduled jobs", self.lifecycle.worker_id)
            self.leader = True
            await self.lifecycle.resume()
        elif not held and self.leader:
            log.warning("this replica lost the scheduled-jobs lease")
            self.leader = False

    async def _as_leader(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        if not self.leader:
            log.debug("not the leader; skipping %s", name)
            return
        try:
            await job()
        except Exception:
            log.exception("scheduled job %s failed", name)

    async def expiry(self) -> None:
        """Expiry, expiry warnings, and resuming abandoned work. Nothing here waits on a hub."""
        await self._as_leader("expire-due", self.lifecycle.teardowns.expire_due)
        await self._as_leader("warn-expiring", self.lifecycle.watch.warn_expiring)
        await self._as_leader("resume", self.lifecycle.resume)

    async def idle_sweep(self) -> None:
        """Idle checks, which read every hub. A job of its own: while a slow hub holds it
        (each hub's read is bounded by its deadline), expiry runs on time all the same."""
        await self._as_leader("idle-sweep", self.lifecycle.watch.sweep_idle)

    async def pools(self) -> None:
        """Warm pools to size: quick (it starts deploys, never waits for one)."""
        await self._as_leader("pools", self.lifecycle.pools.maintain)

    async def reconcile(self) -> None:
        await self._as_leader("reconcile", self.lifecycle.watch.reconcile)

    async def stop(self) -> None:
        if self.leader:
            await self.store.run(self.store.release_lease, JOBS_LEASE, self.lifecycle.worker_id)
            self.leader = False


def build_scheduler(jobs: Jobs, *, sweep_seconds: int, pool_seconds: int, reconcile_seconds: int) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    heartbeat_seconds = max(int(jobs.lease_ttl.total_seconds()) // 3, 1)
    scheduler.add_job(jobs.heartbeat, "interval", seconds=heartbeat_seconds, id="heartbeat", **common)
    scheduler.add_job(jobs.expiry, "interval", seconds=sweep_seconds, id="expiry", **common)
    scheduler.add_job(jobs.idle_sweep, "interval", seconds=sweep_seconds, id="idle-sweep", **common)
    scheduler.add_job(jobs.pools, "interval", seconds=pool_seconds, id="pools", **common)
    scheduler.add_job(jobs.reconcile, "interval", seconds=reconcile_seconds, id="reconcile", **common)
    return scheduler
