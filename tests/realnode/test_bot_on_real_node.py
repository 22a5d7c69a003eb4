"""The bot's proof on the real node: `/jupyterhub launch` through Slack (the emulator) over
HTTP, the real bot in this process, the real helm, our chart, and hubs whose pods really run.

The policy is what an operator writes for such a cluster: the node's address in URLs, its
label and taint, the local hub, proxy and single-user images. The login arrives only once
the hub answers at its URL; the password logs in; KubeSpawner starts a real user server with
a real volume, whose files survive a restart; NetworkPolicies fence each environment in; the
bot reads the hub's activity through its own reader, warns about an idle hub and removes it
(its clock is moved, nothing sleeps), and nothing of it is left.

The tests run in file order against the environments the module launches.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from kubernetes.client.exceptions import ApiException

from bot.core.durations import format_duration
from bot.core.environment import Environment
from bot.core.states import State
from bot.hub.activity import latest_activity_of
from tests.realnode.hubs import ADMIN, HubUser, api_token, assert_fenced_in, follow
from tests.realnode.workloads import Kit, wait_until
from tests.support.bot_harness import BotUnderTest, assert_acked, delivered_login, real_node_policy, running_bot
from tests.support.hub import HubSession
from tests.support.stand_ins import MutableClock

pytestmark = [pytest.mark.cluster, pytest.mark.realnode, pytest.mark.asyncio(loop_scope="module")]

OWNER = "U0REALNODE"
LAUNCH_WAIT = 300.0
IDLE_TIMEOUT = timedelta(hours=1)
WARN_BEFORE = timedelta(minutes=20)
# Every namespace this module's bot creates carries it, so cleaning up finds them all.
INSTALLATION = f"realnode-proof-{uuid.uuid4().hex[:6]}"


@dataclass
class Launched:
    """A hub the bot launched, as its owner received it."""

    name: str
    env: Environment
    url: str
    password: str
    seconds: float  # from the slash command to the login
    first_answer: tuple[int, str, str]  # the URL followed at once when the login arrived
    admin: HubUser = field(init=False)  # its API token is made once logged in

    def __post_init__(self) -> None:
        self.admin = HubUser(self.url, self.env.namespace)


async def launch(bot: BotUnderTest, name: str) -> Launched:
    """``/jupyterhub launch NAME``; the login, and what its URL answers the moment it arrives."""
    started = time.monotonic()
    assert_acked(await bot.slack.slash_command(OWNER, f"launch {name}"))
    login = await bot.slack.wait_for_private(
        OWNER, lambda c: f"Your JupyterHub *{name}* is ready" in c.text_blob, timeout=LAUNCH_WAIT
    )
    seconds = time.monotonic() - started
    url, password = delivered_login(login)
    # One try, no retry: the user clicks the link as soon as it arrives.
    first_answer = await asyncio.to_thread(follow, HubSession(url), "")
    env = bot.environment(OWNER, name)
    print(f"\n[real node] /jupyterhub launch {name}: login after {seconds:.1f}s")
    return Launched(name, env, url, password, seconds, first_answer)


@pytest.fixture(scope="module")
def leftovers(kit: Kit) -> Iterator[None]:
    """Whatever this module's bot did not remove is removed afterwards."""
    yield
    kit.remove_installation(INSTALLATION)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(kit: Kit, leftovers: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotUnderTest]:
    folder = tmp_path_factory.mktemp("bot")
    policies = folder / "policies"
    policies.mkdir()
    (policies / "real-node.yaml").write_text(
        real_node_policy(
            kit.node,
            owners=[OWNER],
            context=kit.cluster.context,
            namespace_prefix="rn-",
            defaults={
                "idle_timeout": format_duration(IDLE_TIMEOUT),
                "warn_before": format_duration(WARN_BEFORE),
                "lifetime": "8h",
            },
        )
    )
    async with running_bot(
        database_url=f"sqlite:///{folder / 'bot.db'}",
        policies_dir=policies,
        groups={},
        clock=MutableClock(datetime.now(UTC)),
        extra_env={
            "KUBECONFIG": str(kit.cluster.kubeconfig),
            "HELM_BINARY": str(kit.cluster.helm),
            "DEPLOY_TIMEOUT_SECONDS": "300",
            "INSTALLATION_ID": INSTALLATION,
        },
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lab(bot: BotUnderTest) -> Launched:
    return await launch(bot, "lab")


async def test_the_login_arrives_once_the_hub_answers_at_its_url(kit: Kit, lab: Launched) -> None:
    status, final, body = lab.first_answer
    assert status == 200, (final, body[:300])
    assert final.startswith("hub/login"), final
    assert 'name="_xsrf"' in body and "JupyterHub" in body
    assert lab.url == f"http://{kit.node.ip}:{node_port(kit, lab.env)}/"
    # Every pod of the environment is on the real node, from the local images.
    pods = kit.core.list_namespaced_pod(lab.env.namespace).items
    assert {pod.spec.node_name for pod in pods} == {kit.node.name}
    images = {container.image for pod in pods for container in pod.spec.containers}
    assert images == {kit.node.images["hub"], kit.node.images["proxy"]}


def node_port(kit: Kit, env: Environment) -> int:
    service = kit.core.read_namespaced_service(f"{env.release}-proxy-public", env.namespace)
    return int(service.spec.ports[0].node_port)


async def test_the_delivered_password_logs_in_and_a_wrong_one_is_refused(lab: Launched) -> None:
    refused = await asyncio.to_thread(HubSession(lab.url).login, ADMIN, "wrong-" + "x" * 40)
    assert refused.status == 403

    session = HubSession(lab.url)
    answer = await asyncio.to_thread(session.login, ADMIN, lab.password)
    assert answer.status == 302, answer.text[:300]
    assert session.cookie("jupyterhub-hub-login")
    lab.admin.token = await asyncio.to_thread(api_token, session)


async def test_a_real_user_server_with_a_volume_keeps_its_files(kit: Kit, lab: Launched) -> None:
    admin = lab.admin
    await asyncio.to_thread(admin.start_server)
    pod = kit.read_pod(lab.env.namespace, admin.server_pod)
    assert pod.spec.node_name == kit.node.name and pod.status.phase == "Running"
    assert pod.spec.containers[0].image == kit.node.images["singleuser"]
    claim = kit.core.read_namespaced_persistent_volume_claim(admin.home_claim, lab.env.namespace)
    assert claim.status.phase == "Bound" and claim.spec.volume_name
    assert kit.core.read_persistent_volume(claim.spec.volume_name).spec.claim_ref.name == admin.home_claim

    # JupyterLab, through the proxy, after the OAuth dance.
    session = HubSession(lab.url)
    assert (await asyncio.to_thread(session.login, ADMIN, lab.password)).status == 302
    status, final, body = await asyncio.to_thread(follow, session, f"user/{ADMIN}/lab")
    assert status == 200 and final.startswith(f"user/{ADMIN}/lab"), (final, body[:300])
    assert "JupyterLab" in body

    text = f"written through the bot's hub {uuid.uuid4().hex}"
    file = {"type": "file", "format": "text", "content": text}
    saved = await asyncio.to_thread(admin.contents, "proof.txt", method="PUT", body=file)
    assert saved.status in (200, 201), saved.text
    await asyncio.to_thread(admin.stop_server, kit)
    await asyncio.to_thread(admin.start_server)
    read = await asyncio.to_thread(admin.contents, "proof.txt")
    assert read.status == 200 and read.json()["content"] == text, read.text


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def second(bot: BotUnderTest) -> Launched:
    return await launch(bot, "other")


async def test_network_policies_fence_each_environment_in(kit: Kit, lab: Launched, second: Launched) -> None:
    # A pod in the other environment's namespace, labelled like this one's user server.
    await asyncio.to_thread(assert_fenced_in, kit, lab.env.namespace, lab.env.release, second.env.namespace)
    # The proxy still routes to the user server.
    listed = await asyncio.to_thread(lab.admin.contents, "")
    assert listed.status == 200 and "proof.txt" in listed.text


async def test_idle_hubs_are_read_warned_and_removed_with_their_volumes(
    kit: Kit, bot: BotUnderTest, lab: Launched, second: Launched
) -> None:
    admin = lab.admin
    claims = volumes_by_claim(kit, lab.env.namespace)
    assert set(claims) == {f"{lab.env.release}-hub-db", admin.home_claim}, claims
    volumes = {*claims.values(), *volumes_by_claim(kit, second.env.namespace).values()}
    watch = bot.runtime.lifecycle.watch

    # The bot reads the hub's activity with its own reader, as in production.
    before = await asyncio.to_thread(hub_latest_activity, admin)
    report = await watch.sweep_idle()
    after = await asyncio.to_thread(hub_latest_activity, admin)
    assert report.checked == 2 and report.unreachable == 0, report
    read = bot.environment(OWNER, lab.name).last_activity_at
    assert read is not None and before <= read <= after, (before, read, after)

    # An hour later by the bot's clock, nobody has used either hub: warned, not yet removed.
    bot.clock.now = max(read, bot.clock.now) + IDLE_TIMEOUT + timedelta(minutes=1)
    report = await watch.sweep_idle()
    assert report.warned == 2 and report.removed == 0, report
    warning = await bot.slack.wait_for_private(OWNER, lambda c: f"*{lab.name}* has not been used for" in c.text_blob)
    assert "unless you keep it" in warning.text_blob
    assert kit.core.read_namespace(lab.env.namespace).status.phase == "Active"

    # Nobody answered within warn_before: both are removed, volumes and all.
    bot.clock.advance(WARN_BEFORE)
    report = await watch.sweep_idle()
    assert report.removed == 2, report
    await bot.slack.wait_for_private(OWNER, lambda c: f"*{lab.name}* was removed" in c.text_blob, timeout=LAUNCH_WAIT)
    await bot.settle()
    for launched in (lab, second):
        record = bot.runtime.store.get(launched.env.id)
        assert record is not None and record.state is State.DELETED, record
    wait_until("the namespaces, claims and volumes to be gone", lambda: nothing_left(kit, lab, second, volumes), 180)


def volumes_by_claim(kit: Kit, namespace: str) -> dict[str, str]:
    """Each PersistentVolumeClaim of ``namespace`` and the volume bound to it."""
    claims = kit.core.list_namespaced_persistent_volume_claim(namespace).items
    return {claim.metadata.name: claim.spec.volume_name for claim in claims}


def hub_latest_activity(admin: HubUser) -> datetime:
    users = admin.call("hub/api/users")
    assert users.status == 200, users.text
    latest = latest_activity_of(users.json())
    assert latest is not None
    return latest


def nothing_left(kit: Kit, lab: Launched, second: Launched, volumes: set[str]) -> bool:
    for namespace in (lab.env.namespace, second.env.namespace):
        try:
            kit.core.read_namespace(namespace)
            return False
        except ApiException as exc:
            if exc.status != 404:
                raise
    existing = {pv.metadata.name for pv in kit.core.list_persistent_volume().items}
    return not volumes & existing
