"""The whole path on a real cluster: Slack command → policy → Helm release of our chart in a
real kube-apiserver → URL and login by DM → expiry → release and namespace gone."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from bot.config import DEFAULT_CHART
from bot.core.environment import Target
from bot.core.errors import DeployError, InvalidChartValues
from bot.core.policy import ClusterSpec, Profile
from bot.core.ports import HubRequest
from bot.core.problems import NamespaceNotOurs
from bot.core.states import State
from bot.helm.deployer import HelmDeployer
from bot.helm.kube import ClusterConnections
from bot.slack.wording import describe
from tests.support.bot_harness import BotUnderTest, assert_acked, cluster_policy, running_bot
from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, core_discovery, helm, helm_releases, namespace_exists

pytestmark = pytest.mark.cluster

OWNER = "U0E2EOWNER"
DEPLOY_WAIT = 300.0


@pytest.fixture
async def cluster_bot(local_cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[BotUnderTest]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "e2e.yaml").write_text(cluster_policy(owners=[OWNER], context=local_cluster.context))
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=policies,
        groups={},
        extra_env={
            "KUBECONFIG": str(local_cluster.kubeconfig),
            "HELM_BINARY": str(local_cluster.helm),
            "DEPLOY_TIMEOUT_SECONDS": "240",
        },
    ) as bot:
        yield bot


async def test_launch_deliver_warn_and_expire_on_a_real_cluster(
    local_cluster: LocalCluster, cluster_bot: BotUnderTest
) -> None:
    bot = cluster_bot
    assert_acked(await bot.slack.slash_command(OWNER, "launch e2e"))
    creds = await bot.slack.wait_for_private(OWNER, lambda c: "*Password:*" in c.text_blob, timeout=DEPLOY_WAIT)
    await bot.settle()
    env = bot.environment(OWNER, "e2e")
    assert env.state == State.READY, env.last_error

    [release] = helm_releases(local_cluster, env.namespace)
    assert release["name"] == env.release and release["status"] == "deployed"

    core = core_api(local_cluster)
    namespace = core.read_namespace(env.namespace)
    assert namespace.metadata.labels["app.kubernetes.io/managed-by"] == "jupyterhub-bot"
    assert namespace.metadata.labels["jupyterhub-bot.io/environment-id"] == env.id
    assert namespace.metadata.labels["jupyterhub-bot.io/installation"] == "jupyterhub-bot"
    assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"

    secret = core.read_namespaced_secret(f"{env.release}-hub-credentials", env.namespace)
    password = base64.b64decode(secret.data["admin-password"]).decode()
    token = base64.b64decode(secret.data["bot-api-token"]).decode()
    assert len(password) >= 32 and f"`{password}`" in creds.text_blob
    # Helm's release history holds no credential: the values, and every release record.
    history = helm(local_cluster, "get", "values", env.release, "-n", env.namespace, "--all", "-o", "json")
    assert password not in history and token not in history and "hub-credentials" in history
    for record in core.list_namespaced_secret(env.namespace, label_selector="owner=helm").items:
        payload = gzip.decompress(base64.b64decode(base64.b64decode(record.data["release"]))).decode()
        assert password not in payload and token not in payload
    # The hub may reach the API server only where it really listens.
    values = json.loads(history)
    [endpoint] = core_discovery(local_cluster).read_namespaced_endpoint_slice("kubernetes", "default").endpoints
    assert values["networkPolicy"]["apiServer"]["addresses"] == endpoint.addresses
    assert [c for c in bot.slack.calls if c is not creds and password in c.text_blob] == []
    assert password not in Path(bot.runtime.settings.database_url.removeprefix("sqlite:///")).read_bytes().decode(
        errors="ignore"
    )

    service = core.read_namespaced_service(f"{env.release}-proxy-public", env.namespace)
    node_port = service.spec.ports[0].node_port
    assert env.url is not None and env.url.endswith(f":{node_port}/") and env.url in creds.text_blob

    # `creds` shows the same login again, read back from the Secret.
    assert_acked(await bot.slack.slash_command(OWNER, "creds e2e"))
    await bot.slack.wait_for("response_url", lambda c: f"`{password}`" in c.text_blob, count=2)

    # Pod Security restricted is enforced in the environment's namespace, whoever asks.
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "escape"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1", "securityContext": {"privileged": True}}],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        },
    }
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod(env.namespace, privileged)
    assert refused.value.status == 403 and "PodSecurity" in str(refused.value.body)

    # Warned before the end of its lifetime, then removed at the end.
    assert env.expires_at is not None
    bot.clock.now = env.expires_at - timedelta(minutes=30)
    assert await bot.runtime.lifecycle.watch.warn_expiring() == 1
    [warning] = await bot.slack.wait_for("chat.postMessage", lambda c: "expires in 30m" in c.text_blob)
    assert warning.args["channel"] == "D0E2EOWNER"
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 0
    bot.clock.now = env.expires_at + timedelta(seconds=1)
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 1
    [gone] = await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, timeout=DEPLOY_WAIT)
    assert "its lifetime ended" in gone.args["text"]
    await bot.settle()
    assert bot.runtime.store.get(env.id).state == State.DELETED  # type: ignore[union-attr]
    assert not namespace_exists(core, env.namespace)
    assert helm_releases(local_cluster, env.namespace) == []


async def test_schema_refusal_reaches_the_requester_in_plain_words(local_cluster: LocalCluster, tmp_path: Path) -> None:
    """Values the chart's schema refuses fail at install with the schema's message, name no
    secret, and leave nothing. A copy of our chart whose schema wants longer passwords than
    the bot generates stands in for any schema refusal."""
    chart = tmp_path / "strict-chart"
    shutil.copytree(DEFAULT_CHART, chart)
    schema = json.loads((chart / "values.schema.json").read_text())
    schema["properties"]["hub"]["properties"]["adminPassword"]["minLength"] = 100
    (chart / "values.schema.json").write_text(json.dumps(schema))
    connections = ClusterConnections(
        {"local": ClusterSpec(context=local_cluster.context)},
        kubeconfig=str(local_cluster.kubeconfig),
        helm_binary=str(local_cluster.helm),
        helm_timeout_seconds=120,
    )
    deployer = HelmDeployer(connections, chart_ref=str(chart), timeout_seconds=120)
    target = Target(cluster="local", namespace="jh-schema-check", release="jh-schema-check")
    request = HubRequest(
        environment_id="schemacheck",
        owner_id=OWNER,
        name="schema-check",
        target=target,
        profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="1", memory="1Gi"),
        cluster=ClusterSpec(context=local_cluster.context),
        idle_timeout=timedelta(hours=1),
    )

    async def ignore(_step: object) -> None:
        return None

    with pytest.raises(InvalidChartValues) as refused:
        await deployer.deploy(request, ignore)
    message = describe(refused.value.problem)
    assert message.startswith("The chart refused the environment's settings:")
    assert "adminPassword" in message
    # Whatever the schema says, no generated secret (43 or 64 URL-safe characters) is quoted.
    assert not re.search(r"[A-Za-z0-9_-]{40,}", message), message
    await deployer.teardown(target)
    assert not namespace_exists(core_api(local_cluster), target.namespace)


async def test_two_installations_in_one_cluster_never_touch_each_others_environments(
    local_cluster: LocalCluster,
) -> None:
    connections = ClusterConnections(
        {"local": ClusterSpec(context=local_cluster.context)},
        kubeconfig=str(local_cluster.kubeconfig),
        helm_binary=str(local_cluster.helm),
        helm_timeout_seconds=120,
    )
    ours = HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=120, installation="team-a")
    theirs = HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=120, installation="team-b")
    target = Target(cluster="local", namespace="jh-ours-a1b2c3", release="jh-ours-a1b2c3")
    request = HubRequest(
        environment_id="a1b2c3",
        owner_id=OWNER,
        name="ours",
        target=target,
        profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="0.5", memory="512Mi", storage="1Gi"),
        cluster=ClusterSpec(context=local_cluster.context),
        idle_timeout=timedelta(hours=1),
    )

    async def ignore(_step: object) -> None:
        return None

    await ours.deploy(request, ignore)
    try:
        assert target.namespace in await ours.managed_namespaces("local")
        assert target.namespace not in await theirs.managed_namespaces("local")
        with pytest.raises(DeployError) as refused:
            await theirs.teardown(target)
        assert refused.value.problem == NamespaceNotOurs(target.namespace)
        assert namespace_exists(core_api(local_cluster), target.namespace)
        with pytest.raises(DeployError):
            await theirs.deploy(request, ignore)  # nor adopt it by deploying into it
    finally:
        await ours.teardown(target)
    assert not namespace_exists(core_api(local_cluster), target.namespace)
