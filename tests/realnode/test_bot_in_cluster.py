"""The bot itself on the real node: its image built here the way the Dockerfile describes,
installed with its own chart as an operator would, running with the chart's least-privilege
ServiceAccount. The test talks to it only as Slack would: signed requests to its Service's
NodePort, and its Web API calls answered by the Slack emulator, which listens on the node's
address so the pod can reach it.

From inside the cluster the bot launches a hub on the real node, reads that hub's activity
(the owner's App Home shows it), and removes it when its owner deletes it.
"""

from __future__ import annotations

import asyncio
import json
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.sandbox.emulator import SlackEmulator
from tests.botchart import test_dockerfile as dockerfile
from tests.realnode.hubs import ADMIN, follow
from tests.realnode.workloads import Kit, wait_until
from tests.support.bot_harness import ADMIN_CHANNEL, SIGNING_SECRET, assert_acked, delivered_login, real_node_policy
from tests.support.cluster import REPO_ROOT, BotImage, HarnessError, bot_image, unavailable
from tests.support.hub import HubSession
from tests.support.reporting import say
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]
# The emulator and the relay live on the module's event loop, as long as the bot runs.
on_module_loop = pytest.mark.asyncio(loop_scope="module")

BOT_CHART = REPO_ROOT / "charts" / "jupyterhub-bot"
RELEASE = "jupyterhub-bot"
OWNER = "U0PODOWNER"
WAIT = 300.0
INSTALLATION_LABEL = "jupyterhub-bot.io/installation"


@pytest.fixture(scope="module")
def image(kit: Kit, pytestconfig: pytest.Config) -> BotImage:
    """The bot's image from this checkout, in the real node's containerd."""
    try:
        built = bot_image(progress=lambda line: say(pytestconfig, line))
    except HarnessError as exc:
        unavailable("the bot's image", str(exc))
    assert built.on_real_node, f"{built.reference} was built but not imported into the real node"
    return built


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def slack(kit: Kit) -> AsyncIterator[SlackEmulator]:
    """The Slack emulator, reachable from pods at the node's address."""
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    await emulator.start()
    upstream = emulator.base_url.removeprefix("http://").rpartition(":")
    relay = TcpProxy(upstream[0], int(upstream[2]), host=kit.node.ip)
    await relay.start()
    # Every URL it hands out (the Web API's, each response_url) now names that address.
    emulator.base_url = f"http://{relay.address}"
    try:
        yield emulator
    finally:
        await relay.stop()
        await emulator.stop()
    emulator.assert_nothing_refused()


@dataclass
class InstalledBot:
    namespace: str
    installation: str  # the label value on every namespace this install creates
    events_url: str  # http://<node ip>:<node port>/slack/events


def chart_values(kit: Kit, image: BotImage, slack: SlackEmulator) -> dict[str, Any]:
    """What an operator sets for this cluster: the image they built, the Slack Secret, the
    policy for hubs on the real node, and the bot itself on that node."""
    repository, _, tag = image.reference.rpartition(":")
    policy = real_node_policy(kit.node, owners=[OWNER], context=None, namespace_prefix="pod-")
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "slack": {"existingSecret": "slack", "adminChannelId": ADMIN_CHANNEL, "apiUrl": slack.api_url},
        "policies": {"files": {"real-node.yaml": policy}},
        "service": {"type": "NodePort", "port": 80},
        # Short, so the owner sees the hub's activity within seconds.
        "config": {"sweepIntervalSeconds": 5, "deployTimeoutSeconds": 300, "logFormat": "json"},
        "nodeSelector": kit.node.node_selector,
        "tolerations": kit.node.tolerations,
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def installed(
    kit: Kit, image: BotImage, slack: SlackEmulator, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[InstalledBot]:
    """The bot installed by its chart. Whatever blocks runs in a thread: the emulator answers
    the bot from this event loop meanwhile."""
    namespace = f"bot-{uuid.uuid4().hex[:6]}"
    installation = f"{namespace}.{RELEASE}"
    kit.core.create_namespace({"metadata": {"name": namespace}})
    try:
        kit.core.create_namespaced_secret(
            namespace,
            {
                "metadata": {"name": "slack"},
                "stringData": {"bot-token": "xoxb-in-cluster", "signing-secret": SIGNING_SECRET},
            },
        )
        values = tmp_path_factory.mktemp("bot-values") / "values.yaml"
        values.write_text(yaml.safe_dump(chart_values(kit, image, slack)))
        started = time.monotonic()
        proc = await asyncio.to_thread(
            kit.helm, "install", RELEASE, str(BOT_CHART), "--namespace", namespace, "--values", str(values),
            "--wait", "--timeout", "5m",
        )  # fmt: skip
        assert proc.returncode == 0, f"helm install of the bot failed:\n{proc.stderr}\n{pod_report(kit, namespace)}"
        print(f"\n[real node] the bot's chart installed and Ready in {time.monotonic() - started:.1f}s")
        service = kit.core.read_namespaced_service(RELEASE, namespace)
        events_url = f"http://{kit.node.ip}:{service.spec.ports[0].node_port}/slack/events"
        yield InstalledBot(namespace, installation, events_url)
    finally:
        await asyncio.to_thread(kit.helm, "uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "2m")
        label = f"{INSTALLATION_LABEL}={installation}"
        for leftover in kit.core.list_namespace(label_selector=label).items:
            kit.delete_namespace(leftover.metadata.name)
        kit.delete_namespace(namespace)


def dockerfile_helm_version() -> str:
    arguments = [rest for keyword, rest in dockerfile.instructions() if keyword == "ARG" and "=" in rest]
    return dict(argument.partition("=")[::2] for argument in arguments)["HELM_VERSION"]


def pod_report(kit: Kit, namespace: str) -> str:
    """The bot pod's state and its last log lines, for a failure message."""
    lines = []
    for pod in kit.core.list_namespaced_pod(namespace).items:
        lines.append(f"{pod.metadata.name}: {pod.status.phase} {pod.status.container_statuses}")
        try:
            lines.append(kit.core.read_namespaced_pod_log(pod.metadata.name, namespace, tail_lines=30))
        except ApiException as exc:
            lines.append(f"(no log: {exc.reason})")
    return "\n".join(lines)


def test_the_image_is_built_as_the_dockerfile_says(image: BotImage) -> None:
    with tarfile.open(image.archive) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        [entry] = manifest
        config = json.load(archive.extractfile(entry["Config"]))["config"]  # type: ignore[arg-type]
    assert entry["RepoTags"] == [image.reference]
    env = dict(item.partition("=")[::2] for item in config["Env"])
    for name, value in dockerfile.env_values().items():
        wanted = value.replace("$PATH", "")
        assert env[name].startswith(wanted) if name == "PATH" else env[name] == value, (name, env.get(name))
    final = dockerfile.final_stage()
    [user] = [rest for keyword, rest in final if keyword == "USER"]
    [workdir] = [rest for keyword, rest in final if keyword == "WORKDIR"]
    [cmd] = [rest for keyword, rest in final if keyword == "CMD"]
    assert config["User"] == user and config["WorkingDir"] == workdir
    assert config["Cmd"] == json.loads(cmd) and config["Entrypoint"] is None


@on_module_loop
async def test_the_bot_runs_on_the_real_node_from_its_own_image(
    kit: Kit, image: BotImage, installed: InstalledBot, slack: SlackEmulator
) -> None:
    [pod] = kit.core.list_namespaced_pod(installed.namespace).items
    assert pod.spec.node_name == kit.node.name
    [container] = pod.spec.containers
    assert container.image == image.reference
    assert [c.ready for c in pod.status.container_statuses] == [True]
    # In-cluster configuration with the chart's ServiceAccount: no kubeconfig, no other identity.
    assert pod.spec.service_account_name == RELEASE
    assert "KUBECONFIG" not in {e.name for e in container.env or []}
    # It learnt who it is from "Slack", through the address the pod reaches.
    assert slack.find("auth.test")
    # Python 3.11 and the pinned helm, as the Dockerfile promises.
    python = kit.kubectl("exec", "-n", installed.namespace, pod.metadata.name, "--", "python", "--version")
    assert python.stdout.startswith("Python 3.11."), python.stdout + python.stderr
    helm_version = kit.kubectl("exec", "-n", installed.namespace, pod.metadata.name, "--", "helm", "version", "--short")
    assert helm_version.stdout.strip() == dockerfile_helm_version(), helm_version.stdout + helm_version.stderr


@on_module_loop
async def test_it_launches_reads_activity_and_removes_a_hub(
    kit: Kit, installed: InstalledBot, slack: SlackEmulator
) -> None:
    slack.bot_url = installed.events_url
    started = time.monotonic()
    assert_acked(await slack.slash_command(OWNER, "launch podlab"))
    login = await slack.wait_for_private(
        OWNER, lambda c: "Your JupyterHub *podlab* is ready" in c.text_blob, timeout=WAIT
    )
    print(f"\n[real node] the bot in its pod: /jupyterhub launch to login in {time.monotonic() - started:.1f}s")
    url, password = delivered_login(login)

    [namespace] = kit.core.list_namespace(
        label_selector=f"jupyterhub-bot.io/installation={installed.installation}"
    ).items
    env_namespace = namespace.metadata.name
    env_id = namespace.metadata.labels["jupyterhub-bot.io/environment-id"]
    # The hub runs on the real node; the bot gave itself its rights there, and only there.
    pods = kit.core.list_namespaced_pod(env_namespace).items
    assert {p.spec.node_name for p in pods} == {kit.node.name}
    binding = k8s.RbacAuthorizationV1Api(kit.core.api_client).read_namespaced_role_binding(
        "jupyterhub-bot", env_namespace
    )
    assert [(s.name, s.namespace) for s in binding.subjects] == [(RELEASE, installed.namespace)]

    # The owner logs in and looks around; the bot, reading the hub from its pod, sees it.
    status, final, _ = await asyncio.to_thread(follow, HubSession(url), "")
    assert status == 200 and final.startswith("hub/login")
    session = HubSession(url)
    assert (await asyncio.to_thread(session.login, ADMIN, password)).status == 302
    status, final, _ = await asyncio.to_thread(follow, session, "hub/home")
    assert status == 200 and final == "hub/home"
    await wait_for_home_showing_activity(slack, lambda: pod_report(kit, installed.namespace))

    # Deleted by its owner: the bot removes the release and the namespace.
    answer = await slack.private_answer(await slack.slash_command(OWNER, "delete podlab"))
    assert "delete_confirmed" in answer, answer
    assert_acked(await slack.click(OWNER, "delete_confirmed", env_id))
    await slack.wait_for_private(OWNER, lambda c: "*podlab* was removed" in c.text_blob, timeout=WAIT)
    await asyncio.to_thread(
        wait_until, f"namespace {env_namespace} to be gone", lambda: namespace_gone(kit, env_namespace), 180
    )


async def wait_for_home_showing_activity(slack: SlackEmulator, report: Callable[[], str]) -> None:
    """Open the owner's App Home until it says how long the hub has been idle: the bot
    shows that only once it has read the hub's last activity."""
    deadline = time.monotonic() + 120
    attempt = 0
    while True:
        attempt += 1
        event = {
            "token": "t",
            "team_id": slack.team_id,
            "api_app_id": slack.app_id,
            "type": "event_callback",
            "event_id": f"EvHome{attempt}",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home"},
        }
        assert_acked(await slack.send_json(event))
        view = (await slack.wait_for("views.publish", count=attempt, timeout=30))[-1]
        if "idle for" in view.text_blob:
            return
        assert time.monotonic() < deadline, f"the App Home never showed the hub's activity:\n{report()}"
        await asyncio.sleep(2)  # wait-ok: the bot's sweep runs every 5 s


def namespace_gone(kit: Kit, name: str) -> bool:
    try:
        kit.core.read_namespace(name)
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False
