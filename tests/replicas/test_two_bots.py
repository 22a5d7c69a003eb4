"""Two bot processes sharing one database: one scheduler, every expiry and warning once,
a dead leader replaced within the lease time, and an interrupted teardown finished.

Each test starts the Slack emulator in this process and two real ``python -m bot serve``
processes against the same database (an SQLite file, and a real PostgreSQL server), the
emulator and the local cluster, sweeping every second with a 3-second lease. Environments
are seeded straight into the database; their namespaces need not exist (removing a
missing namespace is a success), except where a test creates one to hold a teardown open.
Every wait is bounded polling of the database, the emulator's record or the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from sqlmodel import Session, col, select

from bot.core.environment import AuditEvent, Environment
from bot.core.states import State
from bot.helm.chart import LABEL_ENVIRONMENT, LABEL_OWNER, MANAGED_BY, managed_labels
from bot.jobs import JOBS_LEASE
from bot.sandbox.emulator import ApiCall, SlackEmulator
from bot.store.sql import AuditEventRow, SchedulerLease, SqlStore, make_engine
from tests.support.bot_harness import ADMIN_CHANNEL, SIGNING_SECRET, cluster_policy
from tests.support.cluster import LocalCluster
from tests.support.replicas import Replica, bot_process_env, pid_of, poll, start_replica

pytestmark = pytest.mark.cluster


SWEEP_SECONDS = 1
LEASE_SECONDS = 3
HOLD_FINALIZER = "jupyterhub-bot.test/hold"


# -- the pieces ---------------------------------------------------------------------------------


@dataclass
class Deployment:
    """The emulator, the shared database and the bot processes of one test."""

    slack: SlackEmulator
    store: SqlStore
    tmp: Path
    bot_env: dict[str, str]
    replicas: list[Replica] = field(default_factory=list)

    def replica_of(self, worker_id: str) -> Replica:
        pid = pid_of(worker_id)
        [replica] = [r for r in self.replicas if r.pid == pid]
        return replica

    def logs(self) -> str:
        parts = []
        for replica in self.replicas:
            tail = "\n".join(replica.log_text().splitlines()[-40:])
            parts.append(f"--- {replica.name} (pid {replica.pid}, log {replica.log}) ---\n{tail}")
        return "\n".join(parts)

    # -- database reads (blocking; called through asyncio.to_thread) --------------------------

    def lease_holder(self) -> str | None:
        with Session(self.store.engine) as session:
            lease = session.get(SchedulerLease, JOBS_LEASE)
            return None if lease is None else lease.holder

    def env(self, env_id: str) -> Environment:
        found = self.store.get(env_id)
        assert found is not None
        return found

    def events(self, env_id: str, action: str) -> list[AuditEvent]:
        with Session(self.store.engine) as session:
            return list(
                row.record()
                for row in session.exec(
                    select(AuditEventRow).where(
                        col(AuditEventRow.environment_id) == env_id, col(AuditEventRow.action) == action
                    )
                ).all()
            )

    # -- what the emulator saw ---------------------------------------------------------------

    def dms(self, owner: str, text: str) -> list[ApiCall]:
        channel = "D" + owner.lstrip("U")
        return self.slack.find("chat.postMessage", lambda c: c.args.get("channel") == channel and text in c.text_blob)


@contextlib.asynccontextmanager
async def deployment(database_url: str, cluster: LocalCluster, tmp: Path) -> AsyncIterator[Deployment]:
    store = SqlStore(make_engine(database_url))
    store.create_schema()
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "replicas.yaml").write_text(
        cluster_policy(
            owners=["U0NOBODY"], allow=["launch", "list", "status"], context=cluster.context, max_environments=1
        )
    )
    slack = SlackEmulator(signing_secret=SIGNING_SECRET)
    await slack.start()
    env = bot_process_env(
        slack=slack,
        database_url=database_url,
        policies=policies,
        cluster=cluster,
        SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS),
        LEASE_SECONDS=str(LEASE_SECONDS),
        RECONCILE_INTERVAL_SECONDS="3600",
        DEPLOY_TIMEOUT_SECONDS="120",
        LOG_LEVEL="INFO",
    )
    deployment = Deployment(slack=slack, store=store, tmp=tmp, bot_env=env)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(slack.stop)
        stack.callback(store.engine.dispose)
        try:
            yield deployment
        finally:
            # Stop the bots (in threads: stopping waits, and the emulator must keep answering).
            await asyncio.gather(*(asyncio.to_thread(r.stack.close) for r in deployment.replicas))
    slack.assert_nothing_refused()


async def start_replicas(deployment: Deployment, *names: str) -> list[Replica]:
    """Start the bot processes at once; each waits for its /healthz in a thread."""
    started = await asyncio.gather(
        *(asyncio.to_thread(start_replica, deployment.bot_env, deployment.tmp, name) for name in names)
    )
    deployment.replicas.extend(started)
    return list(started)


def seed(store: SqlStore, owner: str, name: str, *, expires_in: timedelta) -> str:
    """A ready environment of ``owner`` expiring ``expires_in`` from now (negative: overdue).

    Written straight from ``requested`` to ``ready`` so a running bot never sees it
    ``approved`` (which it would deploy) or ``deploying`` without a claim (which it resumes).
    """
    env = store.create_environment(
        name=name,
        owner_id=owner,
        profile="tiny",
        cluster="local",
        lifetime=timedelta(hours=1),
        max_environments=1,
        namespace_prefix="jh-",
        actor="test",
    )
    now = datetime.now(UTC)
    expires = now + expires_in
    ready = store.update_if(
        env.id,
        {"state": State.REQUESTED},
        {
            "state": State.READY,
            "ready_at": expires - timedelta(hours=1),
            "expires_at": expires,
            "url": f"http://127.0.0.1:9/{env.namespace}/",
        },
        actor="test",
        action="seed",
        from_state=State.REQUESTED,
        to_state=State.READY,
    )
    assert ready is not None
    return env.id


async def watch_lease(deployment: Deployment, seen: list[str], stop: asyncio.Event) -> None:
    """Record every holder of the jobs lease, until ``stop``."""
    while not stop.is_set():
        holder = await asyncio.to_thread(deployment.lease_holder)
        if holder is not None and (not seen or seen[-1] != holder):
            seen.append(holder)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def sweeps_later(deployment: Deployment, ready_ids: list[str], sweeps: int) -> None:
    """Wait until the leader has run ``sweeps`` more sweeps.

    Every sweep reads each ready hub's activity; these hubs do not exist, so every sweep
    adds one to each one's ``hub_failures``: a sweep counter kept by the bot itself.
    """

    def lowest() -> int:
        return min(deployment.env(i).hub_failures for i in ready_ids)

    target = await asyncio.to_thread(lowest) + sweeps
    await poll(lambda: lowest() >= target, timeout=sweeps * SWEEP_SECONDS + 15, what=f"{sweeps} more sweeps")


# -- the tests ----------------------------------------------------------------------------------


@pytest.fixture
async def two_bots(database_url: str, local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[Deployment]:
    async with deployment(database_url, local_cluster, tmp_path) as running:
        yield running


async def test_every_expiry_and_warning_happens_once_under_one_leader(two_bots: Deployment) -> None:
    d = two_bots
    overdue = {
        f"U0OVER{i}": seed(d.store, f"U0OVER{i}", f"over{i}", expires_in=-timedelta(minutes=1)) for i in range(6)
    }
    soon = {f"U0SOON{i}": seed(d.store, f"U0SOON{i}", f"soon{i}", expires_in=timedelta(minutes=30)) for i in range(6)}

    holders: list[str] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_lease(d, holders, stop))
    try:
        first, second = await start_replicas(d, "bot-a", "bot-b")

        await poll(
            lambda: all(d.env(i).state == State.DELETED for i in overdue.values()),
            timeout=45,
            what="every overdue environment deleted",
        )
        await d.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, count=6, timeout=15)
        await d.slack.wait_for("chat.postMessage", lambda c: "expires in" in c.text_blob, count=6, timeout=15)
        # Give a second scheduler every chance to repeat something.
        await sweeps_later(d, list(soon.values()), 3)
    finally:
        stop.set()
        await watcher

    for owner, env_id in overdue.items():
        assert len(d.events(env_id, "expire")) == 1, owner
        assert len(d.events(env_id, "deleted")) == 1, owner
        assert len(d.dms(owner, "was removed")) == 1, owner
        assert not d.dms(owner, "expires in"), owner
    for owner, env_id in soon.items():
        assert d.env(env_id).state == State.READY
        assert len(d.events(env_id, "expiry-warning")) == 1, owner
        assert len(d.dms(owner, "expires in")) == 1, owner
    # After three failed activity reads in a row the admins hear it, once per hub.
    for owner in soon:
        mention = f"<@{owner}>"
        alerts = [c for c in d.slack.find("chat.postMessage") if c.args.get("channel") == ADMIN_CHANNEL]
        alerts = [c for c in alerts if mention in c.text_blob]
        assert len(alerts) == 1, (owner, [a.text_blob[:200] for a in alerts])

    assert len(holders) == 1, f"the lease changed hands: {holders}"
    leader = d.replica_of(holders[0])
    assert leader in (first, second)
    took_over = [r.name for r in (first, second) if "now runs the scheduled jobs" in r.log_text()]
    assert took_over == [leader.name]


async def test_killing_the_leader_hands_the_jobs_over_within_the_lease(two_bots: Deployment) -> None:
    d = two_bots
    soon_id = seed(d.store, "U0SOON", "soon", expires_in=timedelta(minutes=30))
    first, second = await start_replicas(d, "bot-a", "bot-b")
    # Both are up and one of them leads: the warning shows the sweeps are running.
    await d.slack.wait_for("chat.postMessage", lambda c: "expires in" in c.text_blob, timeout=20)
    old_holder = await poll(d.lease_holder, timeout=10, what="a lease holder")
    leader = d.replica_of(old_holder)
    survivor = second if leader is first else first

    leader.kill()
    killed_at = time.monotonic()
    late_id = await asyncio.to_thread(seed, d.store, "U0LATE", "late", expires_in=-timedelta(seconds=1))

    new_holder = await poll(
        lambda: (h := d.lease_holder()) != old_holder and h,
        timeout=LEASE_SECONDS + 10,
        what="another replica holding the lease",
    )
    lease_after = time.monotonic() - killed_at
    await poll(
        lambda: d.env(late_id).state == State.DELETED,
        timeout=LEASE_SECONDS + 15,
        what="the overdue environment removed by the new leader",
    )
    removed_after = time.monotonic() - killed_at
    print(
        f"\nhand-over after kill -9 ({d.store.engine.dialect.name}): lease taken in {lease_after:.2f}s, "
        f"overdue environment removed in {removed_after:.2f}s "
        f"(LEASE_SECONDS={LEASE_SECONDS}, SWEEP_INTERVAL_SECONDS={SWEEP_SECONDS})"
    )

    assert d.replica_of(str(new_holder)) is survivor
    assert "now runs the scheduled jobs" in survivor.log_text()
    # The lease outlives its holder by at most LEASE_SECONDS; the survivor's heartbeat
    # (every LEASE_SECONDS // 3) and its next sweep follow.
    assert lease_after <= LEASE_SECONDS + 2, lease_after
    assert removed_after <= LEASE_SECONDS + 4 * SWEEP_SECONDS, removed_after
    await d.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, timeout=10)
    await sweeps_later(d, [soon_id], 2)
    assert len(d.events(late_id, "deleted")) == 1
    assert len(d.dms("U0LATE", "was removed")) == 1
    assert len(d.events(soon_id, "expiry-warning")) == 1
    assert len(d.dms("U0SOON", "expires in")) == 1


# -- an interrupted teardown ------------------------------------------------------------------


def _core(cluster: LocalCluster) -> k8s.CoreV1Api:
    api = k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig), context=cluster.context)  # type: ignore[no-untyped-call]
    return k8s.CoreV1Api(api)


def _namespace(core: k8s.CoreV1Api, name: str) -> Any | None:
    try:
        return core.read_namespace(name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _release(core: k8s.CoreV1Api, name: str) -> None:
    """Drop our finalizer so the namespace can go."""
    with contextlib.suppress(ApiException):
        core.patch_namespace(name, [{"op": "replace", "path": "/metadata/finalizers", "value": []}])


@contextlib.contextmanager
def held_namespace(core: k8s.CoreV1Api, name: str) -> Iterator[None]:
    """A namespace that, once deleted, stays ``Terminating`` until ``_release``: it holds a
    teardown open for as long as the test wants."""
    core.create_namespace(
        k8s.V1Namespace(
            metadata=k8s.V1ObjectMeta(
                name=name,
                labels={
                    **managed_labels(MANAGED_BY),
                    LABEL_ENVIRONMENT: name.rsplit("-", 1)[-1],
                    LABEL_OWNER: "u0crash",
                },
                finalizers=[HOLD_FINALIZER],
            )
        )
    )
    try:
        yield
    finally:
        _release(core, name)
        with contextlib.suppress(ApiException):
            core.delete_namespace(name)


async def test_a_teardown_interrupted_by_a_crash_is_finished_by_the_other_replica(
    two_bots: Deployment, local_cluster: LocalCluster
) -> None:
    d = two_bots
    core = _core(local_cluster)
    env_id = seed(d.store, "U0CRASH", "crash", expires_in=timedelta(minutes=30))
    tick_id = seed(d.store, "U0TICK", "tick", expires_in=timedelta(hours=3))  # counts sweeps
    namespace = d.env(env_id).namespace
    with held_namespace(core, namespace):
        first, second = await start_replicas(d, "bot-a", "bot-b")
        # Make it overdue now that both run: the leader starts removing it, and the
        # namespace's finalizer keeps that teardown waiting.
        await asyncio.to_thread(
            d.store.update_if,
            env_id,
            {"state": State.READY},
            {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
            actor="test",
            action="seed",
        )
        working = await poll(
            lambda: (e := d.env(env_id)).state == State.EXPIRING and e.worker,
            timeout=20,
            what="a replica tearing the environment down",
        )
        await poll(
            lambda: (ns := _namespace(core, namespace)) is not None and ns.metadata.deletion_timestamp,
            timeout=20,
            what="the namespace being deleted",
        )
        worker = d.replica_of(str(working))
        survivor = second if worker is first else first
        worker.kill()
        killed_at = time.monotonic()

        resumed = await poll(
            lambda: d.events(env_id, "resume"), timeout=LEASE_SECONDS * 2 + 10, what="the teardown resumed"
        )
        resumed_after = time.monotonic() - killed_at
        assert d.replica_of(str(d.env(env_id).worker)) is survivor
        assert d.env(env_id).state == State.EXPIRING  # still held open by the finalizer
        await asyncio.to_thread(_release, core, namespace)

        await poll(lambda: d.env(env_id).state == State.DELETED, timeout=30, what="the teardown finished")
        print(f"\nteardown resumed {resumed_after:.2f}s after kill -9 ({d.store.engine.dialect.name})")
        assert _namespace(core, namespace) is None
        [told] = await d.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, timeout=10)
        assert told.args["channel"] == "D0CRASH"
        assert "interrupted" in told.text_blob
        assert len(resumed) == 1
        assert len(d.events(env_id, "deleted")) == 1
        await sweeps_later(d, [tick_id], 2)
        assert len(d.dms("U0CRASH", "was removed")) == 1
