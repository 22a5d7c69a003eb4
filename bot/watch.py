"""Watching ready environments: idle detection from real hub activity, expiry warnings,
and reconciliation of the database with what is in the clusters.

State transitions (teardowns) still go through :class:`Lifecycle`; this module only
keeps the warning and activity bookkeeping, each write a compare-and-set so two
replicas or an overlapping run never warn twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import blocks
from bot.deployer import Target
from bot.durations import format_duration
from bot.errors import BotError, Conflict, NotAllowed
from bot.hub_activity import HubActivityReader, HubUnreachable
from bot.lifecycle import Lifecycle
from bot.policy import Actor, can, is_admin
from bot.states import State
from bot.store import Environment

__all__ = ["SweepReport", "Watcher"]

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
_SWEEP_BATCH = 200


@dataclass
class SweepReport:
    checked: int = 0
    warned: int = 0
    removed: int = 0
    unreachable: int = 0


def _target(env: Environment) -> Target:
    return Target(cluster=env.cluster, namespace=env.namespace, release=env.release)


def _api_url(env: Environment) -> str:
    assert env.url is not None
    return env.url.rstrip("/") + "/hub/api"


class Watcher:
    def __init__(self, lifecycle: Lifecycle, activity: HubActivityReader) -> None:
        self.lifecycle = lifecycle
        self.activity = activity
        self._tokens: dict[str, str] = {}
        self._reported: set[str] = set()

    @property
    def _defaults(self) -> Any:
        return self.lifecycle.policy.defaults

    async def _db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.lifecycle.store.run(fn, *args, **kwargs)

    # -- idle sweep ---------------------------------------------------------------------------

    async def sweep_idle(self) -> SweepReport:
        """Warn the owners of idle hubs, then remove those still idle after the grace period."""
        report = SweepReport()
        ready = await self._db(self.lifecycle.store.in_states, [State.READY])
        now = self.lifecycle.clock()
        # In batches, so memory stays flat however many hubs there are; the reader's own
        # semaphore bounds the requests in flight.
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

    async def _token(self, env: Environment) -> str:
        if env.id not in self._tokens:
            self._tokens[env.id] = await self.lifecycle.deployer.hub_token(_target(env))
        return self._tokens[env.id]

    async def _check_idle(self, env: Environment, now: datetime) -> str | None:
        store = self.lifecycle.store
        try:
            hub_latest = await self.activity.latest_activity(_api_url(env), await self._token(env))
        except (HubUnreachable, BotError) as exc:
            reason = str(exc) if isinstance(exc, HubUnreachable) else exc.user_message
            await self._hub_failed(env, reason)
            return "unreachable"

        known = [t for t in (hub_latest, env.last_activity_at, env.ready_at) if t is not None]
        latest = max(known)
        changes: dict[str, Any] = {}
        if env.hub_failures:
            changes["hub_failures"] = 0
        if hub_latest is not None and (env.last_activity_at is None or hub_latest > env.last_activity_at):
            changes["last_activity_at"] = hub_latest
        idle_for = now - latest
        outcome = None

        if env.idle_warned_at is not None and latest > env.idle_warned_at:
            changes["idle_warned_at"] = None  # used again since the warning
        elif env.idle_warned_at is not None and now - env.idle_warned_at >= self._defaults.warn_before:
            reason = f"it was not used for {format_duration(idle_for)}"
            if await self.lifecycle.expire(env.id, actor=SCHEDULER, reason=reason) is not None:
                outcome = "removed"
        elif env.idle_warned_at is None and idle_for >= self._defaults.idle_timeout:
            warned = await self._db(
                store.update_if,
                env.id,
                {"state": State.READY, "idle_warned_at": None},
                {**changes, "idle_warned_at": now},
                actor=SCHEDULER,
                action="idle-warning",
                detail=f"idle for {format_duration(idle_for)}",
            )
            if warned is not None:
                await self._dm(
                    env.owner_id, blocks.idle_warning(env, idle_for=idle_for, grace=self._defaults.warn_before)
                )
                return "warned"
            return None

        if changes and outcome is None:
            await self._db(
                store.update_if,
                env.id,
                {"state": State.READY, "idle_warned_at": env.idle_warned_at},
                changes,
                actor=SCHEDULER,
                action="activity",
                audit="idle_warned_at" in changes,
            )
        return outcome

    async def _hub_failed(self, env: Environment, reason: str) -> None:
        updated = await self._db(
            self.lifecycle.store.update_if,
            env.id,
            {"state": State.READY, "hub_failures": env.hub_failures},
            {"hub_failures": env.hub_failures + 1},
            actor=SCHEDULER,
            action="hub-unreachable",
            detail=reason,
        )
        self._tokens.pop(env.id, None)
        log.warning("hub of %s did not answer (%s); not treating it as idle", env.id, reason)
        if updated is not None and updated.hub_failures == self._defaults.hub_failures_before_alert:
            await self.lifecycle.notifier.to_admins(
                blocks.hub_unreachable(updated, failures=updated.hub_failures, reason=reason)
            )

    async def _dm(self, user_id: str, message: dict[str, Any]) -> None:
        try:
            await self.lifecycle.notifier.dm(user_id, message)
        except Exception:
            log.exception("could not message %s", user_id)

    # -- lifetime warnings ----------------------------------------------------------------------

    async def warn_expiring(self) -> int:
        """Warn each owner once per configured lead time before expiry."""
        leads: Sequence[timedelta] = sorted(self._defaults.expiry_warnings, reverse=True)
        if not leads:
            return 0
        now = self.lifecycle.clock()
        warned = 0
        for env in await self._db(self.lifecycle.store.in_states, [State.READY]):
            if env.expires_at is None or env.expires_at <= now:
                continue
            left = env.expires_at - now
            sent = set(filter(None, env.warnings_sent.split(",")))
            due = [lead for lead in leads if left <= lead and str(int(lead.total_seconds())) not in sent]
            if not due:
                continue
            # Every lead already passed is marked at once, so a late sweep sends one message, not several.
            marked = sent | {str(int(lead.total_seconds())) for lead in leads if left <= lead}
            won = await self._db(
                self.lifecycle.store.update_if,
                env.id,
                {"state": State.READY, "warnings_sent": env.warnings_sent},
                {"warnings_sent": ",".join(sorted(marked, key=int))},
                actor=SCHEDULER,
                action="expiry-warning",
                detail=f"{format_duration(left)} left",
            )
            if won is not None:
                await self._dm(env.owner_id, blocks.expiry_warning(env, left=left))
                warned += 1
        return warned

    # -- owner answers to warnings ----------------------------------------------------------------

    async def keep(self, actor: Actor, env_id: str) -> Environment:
        """[Keep it]: the idle clock starts again now."""
        env: Environment | None = await self._db(self.lifecycle.store.get, env_id)
        if env is None:
            raise Conflict("That environment no longer exists.")
        if env.owner_id != actor.user_id and not is_admin(self.lifecycle.policy, actor):
            raise NotAllowed("Only the owner can keep this environment; nothing was changed.")
        kept: Environment | None = await self._db(
            self.lifecycle.store.update_if,
            env.id,
            {"state": State.READY},
            {"idle_warned_at": None, "last_activity_at": self.lifecycle.clock()},
            actor=actor.user_id,
            action="keep",
        )
        if kept is None:
            raise Conflict(f"*{env.name}* is {env.state.replace('_', ' ')}; there is nothing to keep.")
        return kept

    # -- reconciliation ------------------------------------------------------------------------------

    async def reconcile(self) -> list[str]:
        """Compare the database with the clusters; report differences to the admins, delete nothing.

        Stuck deploys and teardowns are resumed by :meth:`Lifecycle.resume` at start-up."""
        store = self.lifecycle.store
        active: Sequence[Environment] = await self._db(store.list_active)
        findings: list[str] = []
        for cluster in self.lifecycle.policy.clusters:
            try:
                namespaces = await self.lifecycle.deployer.managed_namespaces(cluster)
            except Exception:
                log.exception("could not list the namespaces of cluster %s", cluster)
                continue
            mine = {env.namespace: env for env in active if env.cluster == cluster}
            for namespace, env_id in sorted(namespaces.items()):
                if namespace in mine:
                    continue
                key = f"orphan:{cluster}/{namespace}"
                findings.append(key)
                if key not in self._reported:
                    self._reported.add(key)
                    log.warning("namespace %s on %s has our label but no active environment", namespace, cluster)
                    await self.lifecycle.notifier.to_admins(blocks.orphan_namespace(cluster, namespace, env_id))
            for namespace, env in mine.items():
                if env.state_enum is State.READY and namespace not in namespaces:
                    key = f"missing:{env.id}"
                    findings.append(key)
                    if key not in self._reported:
                        self._reported.add(key)
                        log.warning("environment %s is ready but its namespace %s is gone", env.id, namespace)
                        await self.lifecycle.notifier.to_admins(blocks.missing_release(env))
        return findings

    async def remove_orphan(self, actor: Actor, cluster_and_namespace: str) -> str:
        """[Remove it] on an orphan report: only a namespace that carries our label and no active environment."""
        if not can(self.lifecycle.policy, actor, "expire"):
            raise NotAllowed("Only platform admins may remove orphaned namespaces; nothing was changed.")
        cluster, _, namespace = cluster_and_namespace.partition("/")
        if cluster not in self.lifecycle.policy.clusters:
            raise Conflict(f"There is no cluster called `{cluster}`.")
        namespaces = await self.lifecycle.deployer.managed_namespaces(cluster)
        active = {env.namespace for env in await self._db(self.lifecycle.store.list_active) if env.cluster == cluster}
        if namespace not in namespaces or namespace in active:
            raise Conflict(f"`{namespace}` is not an orphan of this bot (anymore); nothing was changed.")
        await self.lifecycle.deployer.teardown(Target(cluster=cluster, namespace=namespace, release=namespace))
        env_id = namespaces[namespace]
        if env_id:
            await self._db(
                self.lifecycle.store.record, env_id, actor=actor.user_id, action="orphan-removed", detail=namespace
            )
        self._reported.discard(f"orphan:{cluster}/{namespace}")
        return namespace
