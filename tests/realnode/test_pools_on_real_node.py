"""Warm pools on the real node: hubs whose pods really run, deployed ahead of time by the
bot's pool job, handed to `/jupyterhub launch` through Slack (the emulator) over HTTP.

A taken hub answers at once and its delivered password logs in; its login appeared in no
message before it was taken; the pool job replaces it; two launches for the last hub give
one claim and one new deploy; a schedule grows and shrinks the pool; a hub that stops
answering (read through the bot's port-forward, as in production) is replaced.

The tests run in file order against the pool the module's bot keeps.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s

from bot.core.environment import Environment
from bot.core.notices import Removal, RemovalReason
from bot.core.states import State
from tests.realnode.hubs import ADMIN, follow
from tests.realnode.workloads import Kit, wait_until
from tests.support.bot_harness import BotUnderTest, assert_acked, delivered_login, real_node_policy, running_bot
from tests.support.hub import HubSession
from tests.support.kube import admin_api
from tests.support.stand_ins import MutableClock

pytestmark = [pytest.mark.cluster, pytest.mark.realnode, pytest.mark.asyncio(loop_scope="module")]

STUDENTS = ["U0POOLA", "U0POOLB", "U0POOLC"]
DEPLOY_WAIT = 300.0
INSTALLATION = f"realnode-pools-{uuid.uuid4().hex[:6]}"
# The bot's clock starts now; the pool keeps 3 hubs in a window an hour from now, else 1.
START = datetime.now(UTC).replace(second=0, microsecond=0)
WINDOW = (START + timedelta(hours=1), START + timedelta(hours=2))


def pool_policy(kit: Kit) -> str:
    policy = yaml.safe_load(
        real_node_policy(kit.node, owners=STUDENTS, context=kit.cluster.context, namespace_prefix="rp-")
    )
    policy["clusters"]["local"].update(pool_limit=3, hub_requests={"cpu": "20m", "memory": "160Mi"})
    policy["pools"] = {
        "course": {
            "profile": "tiny",
            "cluster": "local",
            "size": 1,
            "schedule": [{"from": WINDOW[0].strftime("%H:%M"), "to": WINDOW[1].strftime("%H:%M"), "size": 3}],
        }
    }
    return yaml.safe_dump(policy, sort_keys=False)


@pytest.fixture(scope="module")
def leftovers(kit: Kit) -> Iterator[None]:
    yield
    kit.remove_installation(INSTALLATION)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(kit: Kit, leftovers: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotUnderTest]:
    folder = tmp_path_factory.mktemp("pools")
    policies = folder / "policies"
    policies.mkdir()
    (policies / "pools.yaml").write_text(pool_policy(kit))
    async with running_bot(
        database_url=f"sqlite:///{folder / 'bot.db'}",
        policies_dir=policies,
        groups={},
        clock=MutableClock(START),
        extra_env={
            "KUBECONFIG": str(kit.cluster.kubeconfig),
            "HELM_BINARY": str(kit.cluster.helm),
            "DEPLOY_TIMEOUT_SECONDS": "300",
            "INSTALLATION_ID": INSTALLATION,
        },
    ) as running:
        yield running


def pool(bot: BotUnderTest) -> list[Environment]:
    return list(bot.runtime.store.pool_hubs("course"))


def ready(hubs: list[Environment]) -> list[Environment]:
    return [hub for hub in hubs if hub.state is State.READY]


async def fill(bot: BotUnderTest) -> list[Environment]:
    """The pool job, and the deploys it started, to the end."""
    await bot.runtime.lifecycle.pools.maintain()
    await bot.settle()
    return pool(bot)


def answers_with_a_login_page(url: str) -> bool:
    status, final, body = follow(HubSession(url), "")
    return status == 200 and final.startswith("hub/login") and 'name="_xsrf"' in body


async def test_the_pool_fills_with_hubs_running_on_the_real_node(kit: Kit, bot: BotUnderTest) -> None:
    [hub] = ready(await fill(bot))
    pods = kit.core.list_namespaced_pod(hub.namespace).items
    assert {pod.spec.node_name for pod in pods} == {kit.node.name}
    assert all(pod.status.phase == "Running" for pod in pods)
    labels = kit.core.read_namespace(hub.namespace).metadata.labels
    assert labels["jupyterhub-bot.io/pool"] == "course" and "jupyterhub-bot.io/owner" not in labels
    # Filling the pool said nothing to anybody.
    assert not [c for c in bot.slack.calls if c.method.startswith(("chat.", "views.", "response_url"))]


async def test_a_launch_gets_the_warm_hub_in_seconds_and_its_password_logs_in(kit: Kit, bot: BotUnderTest) -> None:
    [hub] = ready(pool(bot))
    calls_before = len(bot.slack.calls)

    started = time.monotonic()
    assert_acked(await bot.slack.slash_command(STUDENTS[0], "launch lab"))
    login = await bot.slack.wait_for_private(STUDENTS[0], lambda c: "*lab* is ready" in c.text_blob, timeout=60)
    seconds = time.monotonic() - started
    url, password = delivered_login(login)
    print(f"\n[real node] /jupyterhub launch lab from the warm pool: login after {seconds:.2f}s")

    env = bot.environment(STUDENTS[0], "lab")
    assert env.state is State.READY and env.namespace == hub.namespace
    assert await asyncio.to_thread(answers_with_a_login_page, url)
    session = HubSession(url)
    answer = await asyncio.to_thread(session.login, ADMIN, password)
    assert answer.status == 302, answer.text[:300]
    # The password was in no message before this one, and in no other message since.
    earlier = bot.slack.calls[:calls_before]
    assert not [c for c in earlier if password in c.text_blob]
    assert [c for c in bot.slack.calls if password in c.text_blob] == [login]
    labels = kit.core.read_namespace(env.namespace).metadata.labels
    assert labels["jupyterhub-bot.io/owner"] == STUDENTS[0].lower() and "jupyterhub-bot.io/pool" not in labels
    assert env.expires_at == bot.clock.now + env.lifetime  # its lifetime started when it was taken


async def test_the_hub_taken_is_replaced(bot: BotUnderTest) -> None:
    hubs = ready(await fill(bot))
    assert len(hubs) == 1 and hubs[0].namespace != bot.environment(STUDENTS[0], "lab").namespace


async def test_two_launches_for_the_last_hub_one_takes_it_and_one_deploys(kit: Kit, bot: BotUnderTest) -> None:
    [last] = ready(pool(bot))
    names = {STUDENTS[1]: "one", STUDENTS[2]: "two"}
    replies = await asyncio.gather(*(bot.slack.slash_command(user, f"launch {name}") for user, name in names.items()))
    for reply in replies:
        assert_acked(reply)
    for user, name in names.items():
        await bot.slack.wait_for_private(user, lambda c, n=name: f"*{n}* is ready" in c.text_blob, timeout=DEPLOY_WAIT)
    await bot.settle()

    envs = [bot.environment(user, name) for user, name in names.items()]
    taken = [env for env in envs if env.namespace == last.namespace]
    assert len(taken) == 1
    claimed = bot.runtime.store.get(last.id)
    assert claimed is not None and claimed.state is State.CLAIMED and claimed.claimed_by == taken[0].id
    [deployed] = [env for env in envs if env is not taken[0]]
    [progress] = bot.slack.find("chat.postMessage", lambda c: "No warm hub was free" in c.text_blob)
    assert progress.args["channel"] == "D" + next(u for u, n in names.items() if n == deployed.name).lstrip("U")
    for env in envs:
        removal = Removal(RemovalReason.ADMIN_EXPIRED, by="U0TEST")
        await bot.runtime.lifecycle.teardowns.expire(env.id, actor="test", removal=removal)
    await bot.settle()


async def test_the_schedule_grows_and_shrinks_the_pool(kit: Kit, bot: BotUnderTest) -> None:
    await fill(bot)  # the hub taken by the last test replaced
    bot.clock.now = WINDOW[0] + timedelta(minutes=1)
    grown = ready(await fill(bot))
    assert len(grown) == 3
    bot.clock.now = WINDOW[1] + timedelta(minutes=1)
    shrunk = ready(await fill(bot))
    assert len(shrunk) == 1
    drained = {hub.namespace for hub in grown} - {hub.namespace for hub in shrunk}
    assert len(drained) == 2
    for namespace in drained:
        wait_until(f"{namespace} to be gone", lambda ns=namespace: not _exists(kit, ns), 180)


def _exists(kit: Kit, namespace: str) -> bool:
    return any(ns.metadata.name == namespace for ns in kit.core.list_namespace().items)


async def test_a_hub_that_stops_answering_is_replaced(kit: Kit, bot: BotUnderTest) -> None:
    [sick] = ready(pool(bot))
    lab = bot.environment(STUDENTS[0], "lab")
    # Both the owner's hub and the pool's are read through the bot's port-forward to their
    # proxies on the real node; then the pool's hub goes quiet.
    report = await bot.runtime.lifecycle.watch.sweep_idle()
    assert (report.checked, report.unreachable) == (2, 0), report
    apps = k8s.AppsV1Api(admin_api(kit.cluster))
    apps.patch_namespaced_deployment_scale(f"{sick.release}-hub", sick.namespace, {"spec": {"replicas": 0}})
    wait_until("the hub's pod to go", lambda: not _hub_pods(kit, sick), 120)

    report = await bot.runtime.lifecycle.watch.sweep_idle()
    assert (report.checked, report.unreachable) == (2, 1), report
    assert bot.runtime.store.get(lab.id).hub_failures == 0  # type: ignore[union-attr]
    hubs = ready(await fill(bot))
    assert len(hubs) == 1 and hubs[0].id != sick.id
    assert bot.runtime.store.get(sick.id).state is State.DELETED  # type: ignore[union-attr]
    # Nobody was told: the hub was nobody's.
    assert not bot.slack.find("chat.postMessage", lambda c: sick.name in c.text_blob)


def _hub_pods(kit: Kit, hub: Environment) -> list[str]:
    pods = kit.core.list_namespaced_pod(hub.namespace, label_selector="app.kubernetes.io/component=hub").items
    return [pod.metadata.name for pod in pods]
