"""Watching ready environments: idle detection from real hub activity, expiry warnings,
and reconciliation of the records with what is in the clusters.

Teardowns go through :class:`Teardowns`; this section keeps only the warning and
activity bookkeeping, each write a compare-and-set so two replicas or an overlapping
run never warn twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.environment import Environment
from bot.core.errors import BotError
from bot.core.lifecycle.context import Context, log
from bot.core.lifecycle.teardown import SCHEDULER, Teardowns
from bot.core.notices import (
    ExpiryWarning,
    HubUnreachable,
    IdleWarning,
    MissingRelease,
    OrphanFound,
    Removal,
    RemovalReason,
)
from bot.core.ports import ActivityUnknown
from bot.core.states import State

__all__ = ["SweepReport", "Watch"]

_SWEEP_BATCH = 200


@dataclass
class SweepReport:
    checked: int = 0
    warned: int = 0
    removed: int = 0
    unreachable: int = 0


class Watch:
    def __init__(self, ctx: Context, teardowns: Teardowns) -> None:
        self.ctx = ctx
        self.teardowns = teardowns

    # -- idle sweep ---------------------------------------------------------------------------

    async def sweep_idle(self) -> SweepReport:
        """Warn the owners of idle hubs, then remove those still idle after the grace period."""
        ctx = self.ctx
        report = SweepReport()
        ready = await ctx.store.run(ctx.store.in_states, [State.READY])
        now = ctx.now()
        # In batches, so memory stays flat however many hubs there are; the activity
        # reader bounds the requests in flight.
        for start in range(0, len(ready), _SWEEP_BATCH):
            batch = ready[start : start + _SWEEP_BATCH]
            outcomes = await asyncio.gather(*(self._check_idle(env, now) for env in batch), return_exceptions=True)
            for env, outcome in zip(batch, outcomes, strict=True):
                report.checked += 1
                if isinstance(outcome, BaseException):
                    log.error("idle check of %s failed", env.id, exc_info=outcome)
                elif outcome:
                    setattr(report, outcome, getattr(report, outcome) + 1)
        if report.warned or report.removed or report.unreachable:
            log.info("idle sweep: %s", report)
        return report

    async def _check_idle(self, env: Environment, now: datetime) -> str | None:
        ctx = self.ctx
        defaults = ctx.policy.defaults
        try:
            hub_latest = await ctx.activity.latest_activity(env)
        except ActivityUnknown as exc:
            await self._hub_failed(env, str(exc))
            return "unreachable"
        except BotError as exc:
            await self._hub_failed(env, type(exc.problem).__name__)
            return "unreachable"

        changes: dict[str, Any] = {}
        if env.hub_failures:
            changes["hub_failures"] = 0
        if env.pool is not None:
            # A warm pool's hub is idle by design: the read only shows it still answers.
            if changes:
                await ctx.update_if(
                    env.id, {"state": State.READY}, changes, actor=SCHEDULER, action="activity", audit=False
                )
            return None
        latest = max(t for t in (hub_latest, env.last_activity_at, env.ready_at, env.created_at) if t is not None)
        if hub_latest is not None and (env.last_activity_at is None or hub_latest > env.last_activity_at):
            changes["last_activity_at"] = hub_latest
        idle_for = now - latest

        if env.idle_warned_at is not None and latest > env.idle_warned_at:
            changes["idle_warned_at"] = None  # used again since the warning
        elif env.idle_warned_at is not None and now - env.idle_warned_at >= defaults.warn_before:
            removal = Removal(RemovalReason.IDLE, idle_for=idle_for)
            if await self.teardowns.expire(env.id, actor=SCHEDULER, removal=removal) is not None:
                return "removed"
            return None
        elif env.idle_warned_at is None and idle_for >= defaults.idle_timeout:
            warned = await ctx.update_if(
                env.id,
                {"state": State.READY, "idle_warned_at": None},
                {**changes, "idle_warned_at": now},
                actor=SCHEDULER,
                action="idle-warning",
                detail=f"idle for {int(idle_for.total_seconds())}s",
            )
            if warned is None:
                return None
            await ctx.tell(env.owner_id, IdleWarning(warned, idle_for=idle_for, grace=defaults.warn_before))
            return "warned"

        if changes:
            await ctx.update_if(
                env.id,
                {"state": State.READY, "idle_warned_at": env.idle_warned_at},
                changes,
                actor=SCHEDULER,
                action="activity",
                audit="idle_warned_at" in changes,
            )
        return None

    async def _hub_failed(self, env: Environment, reason: str) -> None:
        ctx = self.ctx
        updated = await ctx.update_if(
            env.id,
            {"state": State.READY, "hub_failures": env.hub_failures},
            {"hub_failures": env.hub_failures + 1},
            actor=SCHEDULER,
            action="hub-unreachable",
            detail=reason,
        )
        ctx.activity.forget(env)
        if env.pool is not None:
            log.warning("hub %s of pool %s did not answer (%s); it will be replaced", env.id, env.pool, reason)
            return
        log.warning("hub of %s did not answer (%s); not treating it as idle", env.id, reason)
        if updated is not None and updated.hub_failures == ctx.policy.defaults.hub_failures_before_alert:
            await ctx.tell_admins(HubUnreachable(updated, failures=updated.hub_failures, reason=reason))

    # -- lifetime warnings ----------------------------------------------------------------------

    async def warn_expiring(self) -> int:
        """Warn each owner once per configured lead time before expiry."""
        ctx = self.ctx
        leads: Sequence[timedelta] = sorted(ctx.policy.defaults.expiry_warnings, reverse=True)
        if not leads:
            return 0
        now = ctx.now()
        warned = 0
        for env in await ctx.store.run(ctx.store.in_states, [State.READY]):
            if env.expires_at is None or env.expires_at <= now:
                continue
            left = env.expires_at - now
            sent = set(filter(None, env.warnings_sent.split(",")))
            due = [lead for lead in leads if left <= lead and str(int(lead.total_seconds())) not in sent]
            if not due:
                continue
            # Every lead already passed is marked at once, so a late sweep sends one message, not several.
            marked = sent | {str(int(lead.total_seconds())) for lead in leads if left <= lead}
            won = await ctx.update_if(
                env.id,
                {"state": State.READY, "warnings_sent": env.warnings_sent},
                {"warnings_sent": ",".join(sorted(marked, key=int))},
                actor=SCHEDULER,
                action="expiry-warning",
                detail=f"{int(left.total_seconds())}s left",
            )
            if won is not None:
                await ctx.tell(env.owner_id, ExpiryWarning(won, left=left))
                warned += 1
        return warned

    # -- reconciliation ------------------------------------------------------------------------------

    async def reconcile(self) -> list[str]:
        """Compare the records with the clusters; report differences to the admins, delete nothing.

        Stuck deploys and teardowns are resumed by :meth:`Lifecycle.resume`."""
        ctx = self.ctx
        active: Sequence[Environment] = await ctx.store.run(ctx.store.list_active)
        findings: list[str] = []
        for cluster in ctx.policy.clusters:
            try:
                namespaces = await ctx.deployer.managed_namespaces(cluster)
            except Exception:
                log.exception("could not list the namespaces of cluster %s", cluster)
                continue
            mine = {env.namespace: env for env in active if env.cluster == cluster}
            for namespace, env_id in sorted(namespaces.items()):
                if namespace in mine:
                    continue
                key = f"orphan:{cluster}/{namespace}"
                findings.append(key)
                if key not in ctx.reported:
                    ctx.reported.add(key)
                    log.warning("namespace %s on %s has our label but no active environment", namespace, cluster)
                    await ctx.tell_admins(OrphanFound(cluster, namespace, env_id))
            for namespace, env in mine.items():
                if env.state is State.READY and namespace not in namespaces and env.pool is not None:
                    # Nobody's hub, gone: the pool replaces it (never hands it out).
                    await self._hub_failed(env, "its namespace is gone")
                elif env.state is State.READY and namespace not in namespaces:
                    key = f"missing:{env.id}"
                    findings.append(key)
                    if key not in ctx.reported:
                        ctx.reported.add(key)
                        log.warning("environment %s is ready but its namespace %s is gone", env.id, namespace)
                        await ctx.tell_admins(MissingRelease(env))
        return findings
