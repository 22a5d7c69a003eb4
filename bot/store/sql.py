"""Persistent state: environments and their audit trail (SQLModel; SQLite or PostgreSQL).

Every change is a compare-and-set: an ``UPDATE … WHERE id = … AND <expected>``
that affects one row or none. The loser of a race (a Slack retry, a double click,
a second replica) changes nothing and is told so by a ``None`` result. Each
successful change writes its audit event in the same transaction.

Two nullable unique columns make launches safe across processes without locks:
``active_key`` (owner + name) while the environment is active, and
``quota_slot`` (owner + slot number), one per allowed environment.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, bindparam, delete, event, func, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from bot.core.clock import Clock, utcnow
from bot.core.environment import POOL_OWNER, AuditEvent, Environment, MessageRef
from bot.core.errors import Conflict, QuotaExceeded
from bot.core.names import namespace_for, release_for
from bot.core.problems import NameTaken
from bot.core.problems import QuotaExceeded as QuotaFull
from bot.core.states import ACTIVE_STATES, TERMINAL_STATES, State, can_transition

__all__ = [
    "AuditEventRow",
    "EnvironmentRow",
    "SchedulerLease",
    "SecretMessage",
    "SeenRequest",
    "SqlStore",
    "make_engine",
]

T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, whatever the database does with zones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class EnvironmentRow(SQLModel, table=True):
    __tablename__ = "environment"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(index=True, max_length=64)
    owner_id: str = Field(index=True, max_length=32)
    profile: str = Field(max_length=64)
    cluster: str = Field(max_length=64)
    namespace: str = Field(max_length=63)
    release: str = Field(max_length=53)
    state: str = Field(index=True, max_length=24)
    lifetime_seconds: int
    active_key: str | None = Field(default=None, unique=True, max_length=128)
    quota_slot: str | None = Field(default=None, unique=True, max_length=64)
    created_at: datetime = _when()
    updated_at: datetime = _when()
    ready_at: datetime | None = _when(default=None)
    expires_at: datetime | None = _when(default=None, index=True)
    url: str | None = None
    extensions: int = 0
    last_error: str | None = None
    approval_channel: str | None = None
    approval_ts: str | None = None
    # Lifecycle bookkeeping for warnings and the idle sweep.
    warnings_sent: str = ""
    idle_warned_at: datetime | None = _when(default=None)
    last_activity_at: datetime | None = _when(default=None)
    hub_failures: int = 0
    # Which bot process is deploying or tearing this down, and until when its claim holds
    # unless renewed; a lapsed claim means the process died and the work can be resumed.
    worker: str | None = Field(default=None, max_length=128)
    worker_until: datetime | None = _when(default=None)
    pool: str | None = Field(default=None, index=True, max_length=32)
    claimed_by: str | None = Field(default=None, index=True, max_length=32)
    spec_hash: str | None = Field(default=None, max_length=64)

    def record(self) -> Environment:
        data = self.model_dump()
        return Environment(**dict(data, state=State(data["state"])))


class AuditEventRow(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    environment_id: str = Field(index=True, max_length=32)
    at: datetime = _when()
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    from_state: str | None = None
    to_state: str | None = None
    detail: str = ""

    def record(self) -> AuditEvent:
        return AuditEvent(**self.model_dump())


class SchedulerLease(SQLModel, table=True):
    """Who runs the scheduled jobs: one holder at a time, taken over once it expires."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = _when()


class SeenRequest(SQLModel, table=True):
    """A signed request already served, remembered for as long as its signature is valid, so
    a replay of it is refused by every replica."""

    __tablename__ = "seen_request"

    signature: str = Field(primary_key=True, max_length=128)
    expires_at: datetime = _when(index=True)


class SecretMessage(SQLModel, table=True):
    """Where a message showing an environment's credentials was posted (not the credentials),
    so it can be rewritten once the environment is gone."""

    __tablename__ = "secret_message"

    id: int | None = Field(default=None, primary_key=True)
    environment_id: str = Field(index=True, max_length=32)
    channel: str = Field(max_length=64)
    ts: str = Field(max_length=64)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


# The reads behind every list, status and App Home view, built once: constructing a
# statement costs as much as running it on SQLite.
Row = EnvironmentRow
_ACTIVE = select(Row).where(col(Row.state).in_(sorted(ACTIVE_STATES))).order_by(col(Row.created_at))
_ACTIVE_OF_OWNER = _ACTIVE.where(Row.owner_id == bindparam("owner_id"))
_ACTIVE_BY_KEY = select(Row).where(Row.active_key == bindparam("key"))
_RECENT_EVENTS = (
    select(AuditEventRow)
    .where(AuditEventRow.environment_id == bindparam("env_id"))
    .order_by(col(AuditEventRow.id).desc())
    .limit(bindparam("limit"))
)


def _records(rows: Iterable[EnvironmentRow]) -> list[Environment]:
    return [row.record() for row in rows]


class SqlStore:
    """Blocking database access; callers on the event loop go through :meth:`run`."""

    def __init__(self, engine: Engine, *, clock: Clock = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        # The database gets threads of its own, so its work never queues behind slow
        # Kubernetes calls on the default executor. One for SQLite, which does one thing
        # at a time anyway: each extra thread only fights the event loop for the GIL,
        # and that shows as ack latency (p99 120 ms with six threads, 65 ms with one,
        # in bench.ack_latency). A server database gets a few, for its round trips.
        self._sightings = 0
        self._threads = ThreadPoolExecutor(
            max_workers=1 if engine.dialect.name == "sqlite" else 4, thread_name_prefix="database"
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call one of this store's blocking methods from the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, functools.partial(fn, *args, **kwargs))

    def create_schema(self) -> None:
        """Bring the database to the newest schema revision (see :mod:`bot.store.migrate`)."""
        from bot.store.migrate import upgrade

        upgrade(self.engine.url.render_as_string(hide_password=False))

    def close(self) -> None:
        self._threads.shutdown(wait=False)
        self.engine.dispose()

    # -- writes ---------------------------------------------------------------------------

    def create_environment(
        self,
        *,
        name: str,
        owner_id: str,
        profile: str,
        cluster: str,
        lifetime: timedelta,
        max_environments: int,
        namespace_prefix: str,
        actor: str,
    ) -> Environment:
        """Insert a ``requested`` environment, taking a free quota slot.

        Raises :class:`Conflict` if the owner already has an active environment of
        that name and :class:`QuotaExceeded` if every slot is taken.
        """
        active_key = f"{owner_id}/{name}"
        for slot in range(max_environments):
            if self._active_count(owner_id) >= max_environments:
                break
            env_id = uuid.uuid4().hex
            namespace = namespace_for(namespace_prefix, name, env_id)
            now = self.clock()
            row = EnvironmentRow(
                id=env_id,
                name=name,
                owner_id=owner_id,
                profile=profile,
                cluster=cluster,
                namespace=namespace,
                release=release_for(namespace),
                state=State.REQUESTED,
                lifetime_seconds=int(lifetime.total_seconds()),
                active_key=active_key,
                quota_slot=f"{owner_id}#{slot}",
                created_at=now,
                updated_at=now,
            )
            detail = f"profile={profile} cluster={cluster} lifetime={int(lifetime.total_seconds())}s"
            created = self._insert(row, actor=actor, action="request", detail=detail)
            if created is not None:
                return created
            existing = self.find_active(owner_id, name)
            if existing is not None:
                raise Conflict(NameTaken(name, existing.state))
        if self.find_active(owner_id, name) is not None:
            raise Conflict(NameTaken(name))
        raise QuotaExceeded(QuotaFull(self._active_count(owner_id), max_environments))

    def create_pool_hub(
        self, *, pool: str, profile: str, cluster: str, namespace_prefix: str, spec_hash: str, actor: str
    ) -> Environment:
        """Insert a hub for warm pool ``pool``, owned by nobody (:data:`POOL_OWNER`) and
        ``approved`` from the start: a pool's hubs need nobody's approval."""
        env_id = uuid.uuid4().hex
        name = f"{pool}-{env_id[:6]}"
        namespace = namespace_for(namespace_prefix, name, env_id)
        now = self.clock()
        row = EnvironmentRow(
            id=env_id,
            name=name,
            owner_id=POOL_OWNER,
            profile=profile,
            cluster=cluster,
            namespace=namespace,
            release=release_for(namespace),
            state=State.APPROVED,
            lifetime_seconds=0,
            active_key=f"{POOL_OWNER}/{name}",
            created_at=now,
            updated_at=now,
            pool=pool,
            spec_hash=spec_hash,
        )
        created = self._insert(row, actor=actor, action="pool-request", detail=f"pool={pool} profile={profile}")
        if created is None:
            raise RuntimeError(f"a new pool hub's unique keys clashed ({name})")  # a uuid4 repeated
        return created

    def _insert(self, row: EnvironmentRow, *, actor: str, action: str, detail: str) -> Environment | None:
        """``row`` and the audit event of its creation, in one transaction; ``None`` when a
        unique key (name in use, quota slot taken) refused it."""
        with Session(self.engine) as session:
            session.add(row)
            session.add(
                AuditEventRow(
                    environment_id=row.id,
                    at=row.created_at,
                    actor=actor,
                    action=action,
                    to_state=row.state,
                    detail=detail,
                )
            )
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
            session.refresh(row)
            return row.record()

    def claim_pool_hub(self, launch: Environment, *, worker: str, spec_hash: str) -> Environment | None:
        """Hand the longest-ready healthy pool hub of the launch's profile and cluster to the
        ``deploying`` launch ``launch``, whose claim ``worker`` holds: in one transaction the
        hub ends ``claimed`` by it and the launch takes over the hub's namespace and release,
        so a crash leaves either both changes or neither, and two launches never get the
        same hub. Only hubs made from ``spec_hash`` count (older ones are being replaced).
        The launch as it is now; ``None`` when no hub was ready (or the launch is no longer
        this worker's to deploy)."""
        with Session(self.engine) as session:
            candidates = session.exec(
                select(Row.id, Row.name, Row.namespace, Row.release)
                .where(
                    col(Row.pool).is_not(None),
                    Row.state == State.READY,
                    Row.hub_failures == 0,
                    Row.spec_hash == spec_hash,
                    Row.profile == launch.profile,
                    Row.cluster == launch.cluster,
                )
                .order_by(col(Row.ready_at))
            ).all()
        now = self.clock()
        for hub_id, hub_name, namespace, release in candidates:
            with Session(self.engine) as session:
                taken = session.exec(
                    update(Row)
                    .where(col(Row.id) == hub_id, col(Row.state) == State.READY, col(Row.hub_failures) == 0)
                    .values(state=State.CLAIMED, claimed_by=launch.id, active_key=None, updated_at=now)
                )
                if taken.rowcount != 1:
                    session.rollback()
                    continue  # another launch took it first
                moved = session.exec(
                    update(Row)
                    .where(col(Row.id) == launch.id, col(Row.state) == State.DEPLOYING, col(Row.worker) == worker)
                    .values(namespace=namespace, release=release, updated_at=now)
                )
                if moved.rowcount != 1:
                    session.rollback()
                    return None
                session.add(
                    AuditEventRow(
                        environment_id=hub_id,
                        at=now,
                        actor=launch.owner_id,
                        action="claimed",
                        from_state=State.READY,
                        to_state=State.CLAIMED,
                        detail=f"by launch {launch.id}",
                    )
                )
                session.add(
                    AuditEventRow(
                        environment_id=launch.id,
                        at=now,
                        actor=launch.owner_id,
                        action="warm-hub-taken",
                        detail=f"{hub_name} ({namespace})",
                    )
                )
                session.commit()
                row = session.get(Row, launch.id)
                return row.record() if row is not None else None
        return None

    def claimed_by_launch(self, claimant_id: str) -> Environment | None:
        """The pool hub the launch ``claimant_id`` took, if it took one."""
        with Session(self.engine) as session:
            row = session.exec(select(Row).where(Row.claimed_by == claimant_id)).first()
            return row.record() if row is not None else None

    def pool_hubs(self, pool: str | None) -> Sequence[Environment]:
        """The hubs of warm pool ``pool`` (``None``: of every pool) that are not handed out or
        gone, oldest first."""
        query = select(Row).where(col(Row.pool).is_not(None), col(Row.state).in_(sorted(ACTIVE_STATES)))
        if pool is not None:
            query = query.where(Row.pool == pool)
        with Session(self.engine) as session:
            return _records(session.exec(query.order_by(col(Row.created_at))).all())

    def claims_since(self, since: datetime) -> dict[str, int]:
        """Pool hubs handed to launches since ``since``, by pool."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Row.pool, func.count())
                .where(Row.state == State.CLAIMED, col(Row.updated_at) >= since)
                .group_by(col(Row.pool))
            ).all()
            return {str(pool): int(count) for pool, count in rows}

    def transition(
        self,
        env_id: str,
        expected: State,
        target: State,
        *,
        actor: str,
        action: str,
        detail: str = "",
        **changes: Any,
    ) -> Environment | None:
        """Move ``env_id`` from ``expected`` to ``target``; ``None`` if it was not in ``expected``."""
        if not can_transition(expected, target):
            raise ValueError(f"no transition from {expected} to {target}")
        values = dict(changes, state=target)
        if target in TERMINAL_STATES:
            values.update(active_key=None, quota_slot=None)
        return self.update_if(
            env_id,
            {"state": expected},
            values,
            actor=actor,
            action=action,
            detail=detail,
            from_state=expected,
            to_state=target,
        )

    def update_if(
        self,
        env_id: str,
        expected: dict[str, Any],
        values: dict[str, Any],
        *,
        actor: str,
        action: str,
        detail: str = "",
        from_state: str | None = None,
        to_state: str | None = None,
        audit: bool = True,
    ) -> Environment | None:
        """Compare-and-set on any columns; writes an audit event when it wins (unless ``audit``
        is false, for bookkeeping that changes no state, like the latest hub activity)."""
        now = self.clock()
        conditions = [col(Row.id) == env_id]
        conditions += [getattr(Row, key) == value for key, value in expected.items()]
        with Session(self.engine) as session:
            result = session.exec(update(Row).where(*conditions).values(**values, updated_at=now))
            if result.rowcount != 1:
                session.rollback()
                return None
            if audit:
                session.add(
                    AuditEventRow(
                        environment_id=env_id,
                        at=now,
                        actor=actor,
                        action=action,
                        from_state=from_state,
                        to_state=to_state,
                        detail=detail,
                    )
                )
            session.commit()
            row = session.get(Row, env_id)
            return row.record() if row is not None else None

    def record(self, env_id: str, *, actor: str, action: str, detail: str = "") -> None:
        """An audit event that changes no state (for example: credentials re-sent)."""
        with Session(self.engine) as session:
            session.add(
                AuditEventRow(environment_id=env_id, at=self.clock(), actor=actor, action=action, detail=detail)
            )
            session.commit()

    def hold_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or renew the lease ``name`` for ``holder``; ``False`` while someone else holds it."""
        now = self.clock()
        with Session(self.engine) as session:
            result = session.exec(
                update(SchedulerLease)
                .where(
                    col(SchedulerLease.name) == name,
                    (col(SchedulerLease.holder) == holder) | (col(SchedulerLease.expires_at) < now),
                )
                .values(holder=holder, expires_at=now + ttl)
            )
            if result.rowcount == 1:
                session.commit()
                return True
            session.rollback()
        with Session(self.engine) as session:
            if session.get(SchedulerLease, name) is not None:
                return False
            session.add(SchedulerLease(name=name, holder=holder, expires_at=now + ttl))
            try:
                session.commit()
            except IntegrityError:
                return False
            return True

    def first_sighting(self, signature: str, until: datetime) -> bool:
        """Remember a request's signature until ``until``; ``False`` if it was seen before.

        Every so often the signatures that can no longer be replayed are forgotten."""
        now = datetime.now(UTC)
        with Session(self.engine) as session:
            session.add(SeenRequest(signature=signature, expires_at=until))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            self._sightings += 1
            if self._sightings % 200 == 0:
                session.exec(delete(SeenRequest).where(col(SeenRequest.expires_at) < now))
                session.commit()
        return True

    def remember_secret_message(self, env_id: str, where: MessageRef) -> None:
        with Session(self.engine) as session:
            session.add(SecretMessage(environment_id=env_id, channel=where.conversation, ts=where.message))
            session.commit()

    def secret_messages(self, env_id: str) -> Sequence[MessageRef]:
        with Session(self.engine) as session:
            rows = session.exec(select(SecretMessage).where(SecretMessage.environment_id == env_id)).all()
            return [MessageRef(row.channel, row.ts) for row in rows]

    def forget_secret_messages(self, env_id: str) -> None:
        with Session(self.engine) as session:
            session.exec(delete(SecretMessage).where(col(SecretMessage.environment_id) == env_id))
            session.commit()

    def renew_claims(self, env_ids: list[str], worker: str, until: datetime) -> int:
        if not env_ids:
            return 0
        with Session(self.engine) as session:
            result = session.exec(
                update(Row).where(col(Row.id).in_(env_ids), col(Row.worker) == worker).values(worker_until=until)
            )
            session.commit()
            return int(result.rowcount)

    def release_lease(self, name: str, holder: str) -> None:
        with Session(self.engine) as session:
            session.exec(
                update(SchedulerLease)
                .where(col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder)
                .values(expires_at=self.clock() - timedelta(seconds=1))
            )
            session.commit()

    # -- reads ----------------------------------------------------------------------------

    def get(self, env_id: str) -> Environment | None:
        with Session(self.engine) as session:
            row = session.get(Row, env_id)
            return row.record() if row is not None else None

    def find_active(self, owner_id: str, name: str) -> Environment | None:
        with Session(self.engine) as session:
            row = session.exec(_ACTIVE_BY_KEY, params={"key": f"{owner_id}/{name}"}).first()
            return row.record() if row is not None else None

    def find_by_name(self, owner_id: str, name: str) -> Environment | None:
        """The active environment of that name, else the most recent one that ended."""
        active = self.find_active(owner_id, name)
        if active is not None:
            return active
        with Session(self.engine) as session:
            row = session.exec(
                select(Row).where(Row.owner_id == owner_id, Row.name == name).order_by(col(Row.created_at).desc())
            ).first()
            return row.record() if row is not None else None

    def list_for_owner(self, owner_id: str) -> Sequence[Environment]:
        with Session(self.engine) as session:
            return _records(session.exec(_ACTIVE_OF_OWNER, params={"owner_id": owner_id}).all())

    def in_states(self, states: Iterable[State]) -> Sequence[Environment]:
        with Session(self.engine) as session:
            return _records(
                session.exec(select(Row).where(col(Row.state).in_(list(states))).order_by(col(Row.created_at))).all()
            )

    def list_active(self) -> Sequence[Environment]:
        with Session(self.engine) as session:
            return _records(session.exec(_ACTIVE).all())

    def abandoned(self, states: Iterable[State], now: datetime) -> Sequence[Environment]:
        """Environments in ``states`` whose worker's claim has lapsed (or that have none)."""
        with Session(self.engine) as session:
            return _records(
                session.exec(
                    select(Row).where(
                        col(Row.state).in_(list(states)),
                        (col(Row.worker_until) == None) | (col(Row.worker_until) < now),  # noqa: E711
                    )
                ).all()
            )

    def due_for_expiry(self, now: datetime) -> Sequence[Environment]:
        with Session(self.engine) as session:
            return _records(session.exec(select(Row).where(Row.state == State.READY, col(Row.expires_at) <= now)).all())

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def count_by_state(self) -> dict[str, int]:
        """People's environments by state (warm pools' hubs are counted apart)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Row.state, func.count()).where(col(Row.pool).is_(None)).group_by(col(Row.state))
            ).all()
            return {state: int(count) for state, count in rows}

    def count_pool_hubs(self) -> dict[tuple[str, str], int]:
        """Warm pools' hubs not yet handed out or gone, by (pool, state)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Row.pool, Row.state, func.count())
                .where(col(Row.pool).is_not(None), col(Row.state).in_(sorted(ACTIVE_STATES)))
                .group_by(col(Row.pool), col(Row.state))
            ).all()
            return {(str(pool), str(state)): int(count) for pool, state, count in rows}

    def audit(self, env_id: str, limit: int = 10) -> Sequence[AuditEvent]:
        with Session(self.engine) as session:
            return [
                row.record() for row in session.exec(_RECENT_EVENTS, params={"env_id": env_id, "limit": limit}).all()
            ]

    def _active_count(self, owner_id: str) -> int:
        with Session(self.engine) as session:
            return session.exec(
                select(func.count()).select_from(Row).where(Row.owner_id == owner_id, col(Row.state).in_(ACTIVE_STATES))
            ).one()
