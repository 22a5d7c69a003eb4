"""What the core knows about an environment and its history: plain, immutable records.

The store adapter keeps them in a database and hands back fresh copies; the core never
holds a database object. A record is a snapshot: after a change, use the record the
store returned, not the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.problems import Problem, from_record
from bot.core.states import State

__all__ = ["POOL_OWNER", "AuditEvent", "Environment", "MessageRef", "Target"]

# The owner of warm pools' hubs: nobody.
POOL_OWNER = "@pool"


@dataclass(frozen=True)
class MessageRef:
    """Where a message the bot sent lives, so it can be revised later (a conversation and
    the message's id in it)."""

    conversation: str
    message: str


@dataclass(frozen=True)
class Target:
    """Where an environment lives in Kubernetes: one Helm release in its own namespace."""

    cluster: str
    namespace: str
    release: str


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    owner_id: str
    profile: str
    cluster: str
    namespace: str
    release: str
    state: State
    lifetime_seconds: int
    created_at: datetime
    updated_at: datetime
    active_key: str | None = None
    quota_slot: str | None = None
    ready_at: datetime | None = None
    expires_at: datetime | None = None
    url: str | None = None
    extensions: int = 0
    # A deploy failure, as bot.core.problems.to_record wrote it (older rows: plain text).
    last_error: str | None = None
    approval_channel: str | None = None
    approval_ts: str | None = None
    warnings_sent: str = ""
    idle_warned_at: datetime | None = None
    last_activity_at: datetime | None = None
    hub_failures: int = 0
    # Which bot process is deploying or tearing this down, and until when its claim holds
    # unless renewed; a lapsed claim means the process died and the work can be resumed.
    worker: str | None = None
    worker_until: datetime | None = None
    # Warm pools: the pool a hub waits in (its owner is POOL_OWNER), the launch that took
    # it, and what it was deployed from (to roll the pool when that changes).
    pool: str | None = None
    claimed_by: str | None = None
    spec_hash: str | None = None

    @property
    def lifetime(self) -> timedelta:
        return timedelta(seconds=self.lifetime_seconds)

    @property
    def target(self) -> Target:
        return Target(cluster=self.cluster, namespace=self.namespace, release=self.release)

    @property
    def approval_message(self) -> MessageRef | None:
        if self.approval_channel and self.approval_ts:
            return MessageRef(self.approval_channel, self.approval_ts)
        return None

    @property
    def failure(self) -> Problem | str | None:
        """Why the last deploy failed: a problem, or the text an older release stored."""
        if not self.last_error:
            return None
        return from_record(self.last_error) or self.last_error


@dataclass(frozen=True)
class AuditEvent:
    environment_id: str
    at: datetime
    actor: str
    action: str
    from_state: str | None = None
    to_state: str | None = None
    detail: str = ""
    id: int | None = None
