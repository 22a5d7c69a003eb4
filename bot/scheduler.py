"""Scheduled jobs: thin wrappers that each call one lifecycle function."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.lifecycle import Lifecycle

__all__ = ["build_scheduler"]

log = logging.getLogger(__name__)


async def expire_due(lifecycle: Lifecycle) -> None:
    started = await lifecycle.expire_due()
    if started:
        log.info("started removing %d expired environment(s)", started)


def build_scheduler(lifecycle: Lifecycle, *, interval_seconds: int) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        expire_due,
        "interval",
        args=[lifecycle],
        seconds=interval_seconds,
        id="expire-due",
        max_instances=1,
        coalesce=True,
    )
    return scheduler
