"""kill -9 in the middle of a claim: no hub is claimed twice, none is lost, every launch
ends with its hub and its login.

A real ``python -m bot serve`` keeps a warm pool of two hubs on the real node. Two
students launch at once while Slack (the emulator) holds every ``chat.postMessage``: each
launch takes its hub in the database, then waits to post its progress, and the bot is
killed with SIGKILL right there. A second bot started on the same database finishes both
hand-overs after the dead one's claims lapse, and its pool job refills the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from sqlmodel import Session, col, select

from bot.core.environment import Environment
from bot.core.states import ACTIVE_STATES, State
from bot.sandbox.emulator import SlackEmulator
from bot.store.sql import AuditEventRow, EnvironmentRow, SqlStore, make_engine
from tests.realnode.hubs import ADMIN
from tests.realnode.workloads import Kit, wait_until
from tests.support.bot_harness import SIGNING_SECRET, delivered_login, real_node_policy
from tests.support.hub import HubSession
from tests.support.replicas import Replica, bot_process_env, poll, start_replica

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]

STUDENTS = ["U0KILLA", "U0KILLB"]
LEASE_SECONDS = 3


def pool_policy(kit: Kit) -> str:
    policy = yaml.safe_load(
        real_node_policy(kit.node, owners=STUDENTS, context=kit.cluster.context, namespace_prefix="rk-")
    )
    policy["clusters"]["local"].update(pool_limit=2, hub_requests={"cpu": "20m", "memory": "160Mi"})
    policy["pools"] = {"course": {"profile": "tiny", "cluster": "local", "size": 2}}
    return yaml.safe_dump(policy, sort_keys=False)


def rows(store: SqlStore) -> list[EnvironmentRow]:
    with Session(store.engine) as session:
        return list(session.exec(select(EnvironmentRow)).all())


def actions(store: SqlStore, action: str) -> list[str]:
    """Ids of the environments with an audit event ``action``, once per event."""
    with Session(store.engine) as session:
        query = select(AuditEventRow.environment_id).where(col(AuditEventRow.action) == action)
        return [str(env_id) for env_id in session.exec(query).all()]


def ready_pool_hubs(store: SqlStore) -> list[Environment]:
    return [hub for hub in store.pool_hubs("course") if hub.state is State.READY]


def full_pool(store: SqlStore) -> list[Environment] | None:
    hubs = ready_pool_hubs(store)
    return hubs if len(hubs) == 2 else None


@contextlib.asynccontextmanager
async def stopping(replicas: list[Replica]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        # In threads: stopping waits, and the emulator must keep answering meanwhile.
        await asyncio.gather(*(asyncio.to_thread(replica.stack.close) for replica in replicas))


@pytest.mark.asyncio
async def test_kill_9_during_claims_loses_no_hub_and_claims_none_twice(kit: Kit, tmp_path: Path) -> None:
    installation = f"realnode-kill-{tmp_path.name[-6:].lower()}"
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    store = SqlStore(make_engine(database))
    store.create_schema()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "pool.yaml").write_text(pool_policy(kit))
    slack = SlackEmulator(signing_secret=SIGNING_SECRET)
    await slack.start()
    env = bot_process_env(
        slack=slack,
        database_url=database,
        policies=policies,
        cluster=kit.cluster,
        INSTALLATION_ID=installation,
        POOL_INTERVAL_SECONDS="1",
        SWEEP_INTERVAL_SECONDS="1",
        LEASE_SECONDS=str(LEASE_SECONDS),
        RECONCILE_INTERVAL_SECONDS="3600",
        DEPLOY_TIMEOUT_SECONDS="300",
    )
    replicas: list[Replica] = []
    try:
        async with stopping(replicas):
            first = await asyncio.to_thread(start_replica, env, tmp_path, "first")
            replicas.append(first)
            slack.bot_url = first.events_url
            before = await poll(lambda: full_pool(store), timeout=300, what="the pool to hold two ready hubs")

            # Both launches take a hub, then wait on Slack for their progress message.
            gate = slack.hold("chat.postMessage")
            replies = await asyncio.gather(*(slack.slash_command(user, "launch lab") for user in STUDENTS))
            assert all(reply.status == 200 for reply in replies), [reply.body for reply in replies]
            await poll(
                lambda: len(actions(store, "warm-hub-taken")) == 2,
                timeout=60,
                what="both launches to take a warm hub",
            )
            first.kill()
            gate.set()
            assert not slack.find("chat.postMessage", lambda c: "is ready" in c.text_blob)

            second = await asyncio.to_thread(start_replica, env, tmp_path, "second")
            replicas.append(second)
            slack.bot_url = second.events_url
            logins = {
                user: await slack.wait_for_private(user, lambda c: "*lab* is ready" in c.text_blob, timeout=120)
                for user in STUDENTS
            }
            await poll(lambda: full_pool(store), timeout=300, what="the pool to refill")

        launches = {user: store.find_by_name(user, "lab") for user in STUDENTS}
        taken = {hub.namespace: hub for hub in before}
        for user, launch in launches.items():
            assert launch is not None and launch.state is State.READY, launch
            # It lives in one of the two hubs that were warm when the class started.
            assert launch.namespace in taken
            hub = store.get(taken[launch.namespace].id)
            assert hub is not None and hub.state is State.CLAIMED and hub.claimed_by == launch.id
            # Exactly one login, and it opens the hub.
            assert len(slack.private_to(user, lambda c: "*lab* is ready" in c.text_blob)) == 1
            url, password = delivered_login(logins[user])
            answer = await asyncio.to_thread(HubSession(url).login, ADMIN, password)
            assert answer.status == 302, answer.text[:300]
        assert {launch.namespace for launch in launches.values() if launch} == set(taken)
        # The second bot resumed both interrupted hand-overs; nothing was claimed twice.
        resumed = Counter(actions(store, "resume"))
        assert all(resumed[launch.id] == 1 for launch in launches.values() if launch), resumed
        claims = Counter(row.claimed_by for row in rows(store) if row.claimed_by)
        assert sorted(claims.values()) == [1, 1]
        assert Counter(actions(store, "warm-hub-taken")) == Counter(launch.id for launch in launches.values() if launch)

        # Nothing lost: every namespace of this installation belongs to a live environment,
        # and every live environment has its namespace.
        live = {row.namespace for row in rows(store) if row.state in ACTIVE_STATES or row.state is State.CLAIMED}
        assert kit.installation_namespaces(installation) == live
        slack.assert_nothing_refused()
    finally:
        await slack.stop()
        store.engine.dispose()
        kit.remove_installation(installation)
        wait_until("the test's namespaces to go", lambda: not kit.installation_namespaces(installation), 300)
