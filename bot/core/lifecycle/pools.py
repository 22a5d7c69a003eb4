"""Warm pools: hubs deployed ahead of time, owned by nobody, handed to launches.

:class:`PoolSpecs` says which pool serves a launch and what its hubs must be made from;
:class:`Pools` is the scheduled job that keeps every pool at the size its schedule asks
for, and the admins' view of the pools. The claim itself is part of a deploy
(:mod:`.deploys`): a launch that finds no hub free deploys a new one, as without a pool.

A pool's hubs are ordinary environments in their own namespaces, deployed with the same
chart and the same security as any other; their credentials exist only in their
namespace until a launch takes the hub and the bot sends them to its new owner.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.environment import Environment
from bot.core.lifecycle.context import Context, log
from bot.core.lifecycle.deploys import Deploys
from bot.core.lifecycle.pool_specs import PoolSpecs
from bot.core.lifecycle.teardown import Teardowns
from bot.core.notices import PoolStatus, Removal, RemovalReason
from bot.core.policy import Actor
from bot.core.policy.model import Pool
from bot.core.states import State

__all__ = ["POOL_ACTOR", "PoolReport", "Pools"]

# The actor of the pools' own changes in the audit trail.
POOL_ACTOR = "pool"
# Hubs on their way to ready.
WARMING = frozenset({State.REQUESTED, State.APPROVED, State.DEPLOYING})


@dataclass
class PoolReport:
    started: int = 0
    drained: int = 0
    replaced: int = 0


class Pools:
    def __init__(self, ctx: Context, specs: PoolSpecs, deploys: Deploys, teardowns: Teardowns) -> None:
        self.ctx = ctx
        self.specs = specs
        self.deploys = deploys
        self.teardowns = teardowns

    async def maintain(self) -> PoolReport:
        """Scheduler job: keep every pool at its size now. Hubs made from anything but the
        current spec, and hubs that stopped answering, are replaced; a pool that shrank (or
        left the policy) is drained of ready hubs; new hubs are started while the cluster's
        ``pool_limit`` allows. Hubs still deploying are left to finish."""
        ctx = self.ctx
        report = PoolReport()
        hubs = await ctx.store.run(ctx.store.pool_hubs, None)
        by_pool: dict[str, list[Environment]] = defaultdict(list)
        for hub in hubs:
            by_pool[str(hub.pool)].append(hub)
        # Every hub of every pool counts against its cluster's limit until it is gone.
        in_cluster = Counter(hub.cluster for hub in hubs)
        for name, its in by_pool.items():
            if name not in ctx.policy.pools:
                report.drained += await self._remove(
                    [hub for hub in its if hub.state is State.READY], RemovalReason.POOL_REMOVED
                )
        for name, pool in ctx.policy.pools.items():
            try:
                spec = await self.specs.spec(name)
            except Exception:
                log.exception("pool %s: could not tell what its hubs are made from; left as it is", name)
                continue
            await self._keep(name, pool, spec, by_pool.get(name, []), in_cluster, report)
        if report.started or report.drained or report.replaced:
            log.info("pools: %s", report)
        return report

    async def _keep(
        self,
        name: str,
        pool: Pool,
        spec: str,
        hubs: list[Environment],
        in_cluster: Counter[str],
        report: PoolReport,
    ) -> None:
        ctx = self.ctx
        now = ctx.now()
        wanted = pool.size_at(now)
        live = [hub for hub in hubs if hub.state is not State.EXPIRING]
        ready = [hub for hub in live if hub.state is State.READY]
        outdated = [hub for hub in ready if hub.spec_hash != spec]
        unhealthy = [hub for hub in ready if hub.spec_hash == spec and hub.hub_failures]
        report.replaced += await self._remove(outdated, RemovalReason.POOL_OUTDATED)
        report.replaced += await self._remove(unhealthy, RemovalReason.POOL_UNHEALTHY)
        gone = {hub.id for hub in (*outdated, *unhealthy)}
        current = [hub for hub in live if hub.id not in gone and hub.spec_hash == spec]

        surplus = len(current) - wanted
        if surplus > 0:
            # The newest first: the longest-ready hubs are the ones launches take next.
            spare = sorted((hub for hub in current if hub.state is State.READY), key=_newest_first)
            report.drained += await self._remove(spare[:surplus], RemovalReason.POOL_SHRUNK)
            return

        missing = wanted - len(current)
        headroom = ctx.policy.clusters[pool.cluster].pool_limit - in_cluster[pool.cluster]
        count = min(missing, headroom)
        failing_until = ctx.failing_pools.get(name)
        if failing_until is not None and count > 0:
            # Its last hub failed to deploy: one hub at a time, after a pause, until one works.
            warming = any(hub.state in WARMING for hub in live)
            count = 0 if warming or now < failing_until else 1
        for _ in range(max(count, 0)):
            hub = await ctx.store.run(
                ctx.store.create_pool_hub,
                pool=name,
                profile=pool.profile,
                cluster=pool.cluster,
                namespace_prefix=ctx.policy.defaults.namespace_prefix,
                spec_hash=spec,
                actor=POOL_ACTOR,
            )
            in_cluster[pool.cluster] += 1
            self.deploys.start(hub.id, background=True)
            report.started += 1

    async def _remove(self, hubs: Sequence[Environment], reason: RemovalReason) -> int:
        removed = 0
        for hub in hubs:
            if await self.teardowns.expire(hub.id, actor=POOL_ACTOR, removal=Removal(reason)) is not None:
                removed += 1
        return removed

    async def status(self, actor: Actor) -> list[PoolStatus]:
        """Every pool as the admins see it: the size it keeps now, ready and warming hubs,
        and how many launches took one today (in the pool's time zone)."""
        ctx = self.ctx
        ctx.require(actor, "list-all")
        if not ctx.policy.pools:
            return []
        now = ctx.now()
        hubs = await ctx.store.run(ctx.store.pool_hubs, None)
        claimed: dict[datetime, dict[str, int]] = {}
        statuses = []
        for name, pool in ctx.policy.pools.items():
            midnight = _midnight(now, pool.timezone)
            if midnight not in claimed:
                claimed[midnight] = await ctx.store.run(ctx.store.claims_since, midnight)
            its = [hub for hub in hubs if hub.pool == name]
            statuses.append(
                PoolStatus(
                    name=name,
                    profile=pool.profile,
                    cluster=pool.cluster,
                    wanted=pool.size_at(now),
                    ready=sum(1 for hub in its if hub.state is State.READY and not hub.hub_failures),
                    warming=sum(1 for hub in its if hub.state in WARMING),
                    claimed_today=claimed[midnight].get(name, 0),
                )
            )
        return statuses


def _newest_first(hub: Environment) -> float:
    return -(hub.ready_at or hub.created_at).timestamp()


def _midnight(now: datetime, timezone: str) -> datetime:
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
