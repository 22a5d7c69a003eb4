"""What the core tells people, as data. A chat front-end renders each notice in its own
words and markup (``bot/slack/render.py``); the core never builds a message.

Two kinds:
- *answers*, returned by a command or a button to the person who acted;
- *messages*, sent by the core through the :class:`~bot.core.ports.Notifier` port, to
  an environment's owner or to the admins, and sometimes revised later in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.environment import AuditEvent, Environment
from bot.core.problems import Problem

__all__ = [
    "NEW_HUB_STEPS",
    "POOL_STEPS",
    "ApprovalDecided",
    "ApprovalRequest",
    "ApprovalWithdrawn",
    "ClusterUnusable",
    "Credentials",
    "CredentialsResent",
    "CredentialsWithdrawn",
    "DeleteConfirmation",
    "Deleting",
    "DeployFailed",
    "DeployProgress",
    "DeployStep",
    "EnvironmentListing",
    "Expiring",
    "ExpiryWarning",
    "Extended",
    "Help",
    "HubSource",
    "HubUnreachable",
    "IdleWarning",
    "Kept",
    "LaunchAccepted",
    "MissingRelease",
    "Notice",
    "OrphanFound",
    "OrphanRemoved",
    "PoolFailing",
    "PoolStatus",
    "Removal",
    "RemovalReason",
    "Removed",
    "RequestDecided",
    "StatusReport",
]


class Notice:
    """Base of every notice."""


# -- answers to the person who acted ----------------------------------------------------------


@dataclass(frozen=True)
class LaunchAccepted(Notice):
    """The request is recorded; ``env.state`` says whether it waits for an admin."""

    env: Environment


@dataclass(frozen=True)
class PoolStatus:
    """One warm pool as the admins see it."""

    name: str
    profile: str
    cluster: str
    # The size its schedule asks for now.
    wanted: int
    ready: int
    # Being deployed (or waiting to be).
    warming: int
    # Handed to launches since midnight in the pool's time zone.
    claimed_today: int


@dataclass(frozen=True)
class EnvironmentListing(Notice):
    envs: Sequence[Environment]
    everyone: bool
    # The reader may expire environments (shows the admin's buttons).
    admin: bool
    now: datetime
    # Which page the reader asked for (from 1); a front-end shows as many per page as it can.
    page: int = 1
    # The warm pools, in a listing of everyone's environments.
    pools: Sequence[PoolStatus] = ()


@dataclass(frozen=True)
class StatusReport(Notice):
    env: Environment
    events: Sequence[AuditEvent]
    now: datetime


@dataclass(frozen=True)
class CredentialsResent(Notice):
    env: Environment


@dataclass(frozen=True)
class Extended(Notice):
    env: Environment
    now: datetime


@dataclass(frozen=True)
class DeleteConfirmation(Notice):
    env: Environment


@dataclass(frozen=True)
class Deleting(Notice):
    env: Environment


@dataclass(frozen=True)
class Expiring(Notice):
    """An admin expired someone's environment; its owner is told separately."""

    env: Environment


@dataclass(frozen=True)
class Kept(Notice):
    env: Environment


@dataclass(frozen=True)
class OrphanRemoved(Notice):
    namespace: str


@dataclass(frozen=True)
class Help(Notice):
    """The usage of every command (:func:`bot.core.commands.usage_lines`)."""


# -- messages the core sends --------------------------------------------------------------------


class DeployStep(StrEnum):
    """The steps of a deploy; the deployer reports each one it finishes."""

    ACCEPTED = "request accepted"
    NAMESPACE_CREATED = "namespace created"
    HUB_TAKEN = "ready hub taken from the warm pool"
    HUB_READY = "chart installed, hub ready"


class HubSource(StrEnum):
    """Where a launch's hub comes from."""

    # A new deploy: no warm pool serves the launch's profile and cluster.
    NEW = "new"
    # A ready hub of a warm pool.
    POOL = "pool"
    # A new deploy, because the warm pool that serves it had no hub free.
    POOL_EMPTY = "pool-empty"


NEW_HUB_STEPS = (DeployStep.ACCEPTED, DeployStep.NAMESPACE_CREATED, DeployStep.HUB_READY)
POOL_STEPS = (DeployStep.ACCEPTED, DeployStep.HUB_TAKEN, DeployStep.HUB_READY)


@dataclass(frozen=True)
class DeployProgress(Notice):
    """The owner's private progress message, revised in place as the deploy goes."""

    env: Environment
    done: tuple[DeployStep, ...]
    url: str | None = None
    failure: Problem | None = None
    source: HubSource = HubSource.NEW

    @property
    def steps(self) -> tuple[DeployStep, ...]:
        """The steps this launch goes through, in order."""
        return POOL_STEPS if self.source is HubSource.POOL else NEW_HUB_STEPS


@dataclass(frozen=True)
class Credentials(Notice):
    """The login of a ready hub. Only ever sent to its owner, privately."""

    env: Environment
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class CredentialsWithdrawn(Notice):
    """Replaces a credentials message once the environment is gone."""

    env: Environment


@dataclass(frozen=True)
class DeployFailed(Notice):
    env: Environment
    problem: Problem
    # Everything the deploy created was removed (else the admins were asked to).
    cleaned_up: bool


@dataclass(frozen=True)
class ApprovalRequest(Notice):
    env: Environment


@dataclass(frozen=True)
class ApprovalDecided(Notice):
    """Replaces the approval request in the admin channel."""

    env: Environment
    approved: bool
    by: str


@dataclass(frozen=True)
class ApprovalWithdrawn(Notice):
    """Replaces the approval request once its owner withdrew it."""

    env: Environment


@dataclass(frozen=True)
class RequestDecided(Notice):
    """Tells the requester what an admin decided."""

    env: Environment
    approved: bool
    by: str


class RemovalReason(StrEnum):
    LIFETIME_ENDED = "lifetime-ended"
    IDLE = "idle"
    OWNER_DELETED = "owner-deleted"
    ADMIN_DELETED = "admin-deleted"
    ADMIN_EXPIRED = "admin-expired"
    RESUMED = "resumed"
    # A warm pool's hub that nobody has taken.
    POOL_SHRUNK = "pool-shrunk"
    POOL_OUTDATED = "pool-outdated"
    POOL_UNHEALTHY = "pool-unhealthy"
    POOL_REMOVED = "pool-removed"


@dataclass(frozen=True)
class Removal:
    """Why an environment is being removed, and by whom."""

    reason: RemovalReason
    # The admin who acted, for the admin reasons; how long it was idle, for IDLE.
    by: str = ""
    idle_for: timedelta | None = None

    @property
    def audit_detail(self) -> str:
        """The reason as the audit trail records it (plain facts, not a message)."""
        if self.reason is RemovalReason.IDLE and self.idle_for is not None:
            return f"idle for {int(self.idle_for.total_seconds())}s"
        return f"{self.reason.value} by {self.by}" if self.by else self.reason.value


@dataclass(frozen=True)
class Removed(Notice):
    env: Environment
    removal: Removal


@dataclass(frozen=True)
class IdleWarning(Notice):
    env: Environment
    idle_for: timedelta
    grace: timedelta


@dataclass(frozen=True)
class ExpiryWarning(Notice):
    env: Environment
    left: timedelta


@dataclass(frozen=True)
class HubUnreachable(Notice):
    """For the admins: a hub's activity could not be read several times in a row."""

    env: Environment
    failures: int
    reason: str


@dataclass(frozen=True)
class OrphanFound(Notice):
    """For the admins: a namespace of ours that no active environment owns."""

    cluster: str
    namespace: str
    env_id: str


@dataclass(frozen=True)
class ClusterUnusable(Notice):
    """For the admins: a launch failed because the bot cannot even try to reach a cluster."""

    cluster: str
    reason: str


@dataclass(frozen=True)
class PoolFailing(Notice):
    """For the admins: a warm pool's hubs fail to deploy; the pool tries one at a time
    until one succeeds, and launches deploy new hubs meanwhile."""

    pool: str
    problem: Problem


@dataclass(frozen=True)
class MissingRelease(Notice):
    """For the admins: an environment recorded as ready whose namespace is gone."""

    env: Environment
