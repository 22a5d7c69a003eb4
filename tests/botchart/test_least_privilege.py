"""The bot's chart on a real API server: its ServiceAccount's token lets the real bot,
running outside the cluster with only that token, launch and tear down an environment,
and is refused everything outside its remit (RBAC, then the admission policy): another
install's namespaces beside it, namespaces without Pod Security "restricted", any
EndpointSlice but the API server's, any Secret but its TLS source."""

from __future__ import annotations

import asyncio
import base64
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from bot.config import DEFAULT_CHART
from bot.core.environment import Target
from bot.core.policy import ClusterSpec
from bot.core.ports import ActivityUnknown
from bot.core.states import State
from bot.helm.chart import LABEL_MANAGED_BY, MANAGED_BY
from bot.helm.deployer import ACCESS_BINDING, EnvironmentAccess, HelmDeployer
from bot.helm.kube import ClusterConnections
from tests.botchart.conftest import BOT_CHART_DIR
from tests.support.bot_harness import BotUnderTest, assert_acked, cluster_policy, running_bot
from tests.support.cluster import LocalCluster
from tests.support.kube import namespace_exists

pytestmark = pytest.mark.cluster

RELEASE = "jupyterhub-bot"
SA_CONTEXT = "jupyterhub-bot-sa"
OWNER = "U0LEASTPRIV"
DEPLOY_WAIT = 300.0
# The chart's contract with the bot: every namespace it creates carries these.
INSTALLATION_LABEL = "jupyterhub-bot.io/installation"
POD_SECURITY = "pod-security.kubernetes.io/enforce"
POD_SECURITY_VERSION = "pod-security.kubernetes.io/enforce-version"
TLS_SOURCE = "wildcard-tls"


@dataclass(frozen=True)
class InstalledBot:
    namespace: str
    service_account: str  # namespace/name, as the chart tells the bot (BOT_SERVICE_ACCOUNT)
    environment_role: str  # as the chart tells the bot (ENVIRONMENT_CLUSTER_ROLE)
    installation_id: str  # as the chart tells the bot (INSTALLATION_ID)
    kubeconfig: Path  # the ServiceAccount's token and nothing else

    @property
    def namespace_labels(self) -> dict[str, str]:
        """The labels the bot must put on each namespace it creates."""
        return {LABEL_MANAGED_BY: MANAGED_BY, INSTALLATION_LABEL: self.installation_id, POD_SECURITY: "restricted"}


def _api(kubeconfig: Path, context: str) -> k8s.ApiClient:
    api: k8s.ApiClient = k8s_config.new_client_from_config(config_file=str(kubeconfig), context=context)  # type: ignore[no-untyped-call]
    return api


def _admin_api(cluster: LocalCluster) -> k8s.ApiClient:
    return _api(cluster.kubeconfig, cluster.context)


def _run(command: list[str], *, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result


def _helm(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return _run([str(cluster.helm), *args, "--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context])


def _wait_until(what: str, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f}s"
        time.sleep(0.5)  # wait-ok: bounded poll of the API server


def _delete_namespace(core: k8s.CoreV1Api, name: str) -> None:
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
    _wait_until(f"namespace {name} removed", lambda: not namespace_exists(core, name), timeout=120)


def _service_account_kubeconfig(cluster: LocalCluster, namespace: str, name: str, path: Path) -> Path:
    """A kubeconfig holding only a token minted for the ServiceAccount (TokenRequest API)."""
    core = k8s.CoreV1Api(_admin_api(cluster))
    request = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    minted: Any = core.create_namespaced_service_account_token(name, namespace, request)
    token = minted.status.token
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c["context"] for c in admin["contexts"] if c["name"] == cluster.context)
    server = dict(next(c["cluster"] for c in admin["clusters"] if c["name"] == context["cluster"]))
    if "certificate-authority" in server:
        ca = Path(server.pop("certificate-authority"))
        server["certificate-authority-data"] = base64.b64encode(ca.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": server}],
        "users": [{"name": "bot", "user": {"token": token}}],
        "contexts": [{"name": SA_CONTEXT, "context": {"cluster": "local", "user": "bot"}}],
        "current-context": SA_CONTEXT,
    }
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def _installed(
    cluster: LocalCluster, workdir: Path, extra_values: dict[str, Any] | None = None
) -> Iterator[InstalledBot]:
    """The chart installed with `helm install --wait` into a new namespace (kwok plays the bot's
    pod; we need its ServiceAccount and RBAC), and a kubeconfig with a token for that ServiceAccount."""
    core = k8s.CoreV1Api(_admin_api(cluster))
    namespace = f"jhb-botchart-{secrets.token_hex(3)}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    try:
        slack = k8s.V1Secret(
            metadata=k8s.V1ObjectMeta(name="slack"),
            string_data={"bot-token": "xoxb-not-a-real-token", "signing-secret": secrets.token_hex(16)},
        )
        core.create_namespaced_secret(namespace, slack)
        values = workdir / "values.yaml"
        values.write_text(
            yaml.safe_dump(
                {
                    # On kwok nodes nothing pulls it; a real cluster needs the image pushed there.
                    "image": {"repository": "registry.example.org/platform/jupyterhub-bot"},
                    "slack": {"existingSecret": "slack", "adminChannelId": "C0ADMINS"},
                    "policies": {
                        "files": {"policy.yaml": cluster_policy(owners=[OWNER], context=None, max_environments=1)}
                    },
                    "persistence": {"enabled": False},
                    **(extra_values or {}),
                }
            )
        )
        _helm(
            cluster,
            "install",
            RELEASE,
            str(BOT_CHART_DIR),
            "--namespace",
            namespace,
            "--values",
            str(values),
            "--wait",
            "--timeout",
            "120s",
        )
        deployment: Any = k8s.AppsV1Api(core.api_client).read_namespaced_deployment(RELEASE, namespace)
        env: dict[str, str] = {e.name: e.value for e in deployment.spec.template.spec.containers[0].env}
        service_account: str = deployment.spec.template.spec.service_account_name
        assert env["BOT_SERVICE_ACCOUNT"] == f"{namespace}/{service_account}"
        assert env["INSTALLATION_ID"] == f"{namespace}.{RELEASE}"
        kubeconfig = _service_account_kubeconfig(cluster, namespace, service_account, workdir / "kubeconfig")
        yield InstalledBot(
            namespace=namespace,
            service_account=env["BOT_SERVICE_ACCOUNT"],
            environment_role=env["ENVIRONMENT_CLUSTER_ROLE"],
            installation_id=env["INSTALLATION_ID"],
            kubeconfig=kubeconfig,
        )
        _helm(cluster, "uninstall", RELEASE, "--namespace", namespace, "--wait")
    finally:
        _delete_namespace(core, namespace)


@pytest.fixture(scope="module")
def tls_source(local_cluster: LocalCluster) -> Iterator[str]:
    """A namespace holding a wildcard certificate for the bot to copy, and another Secret."""
    core = k8s.CoreV1Api(_admin_api(local_cluster))
    namespace = f"jhb-tls-{secrets.token_hex(3)}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
    try:
        for name in (TLS_SOURCE, "not-for-the-bot"):
            secret = k8s.V1Secret(metadata=k8s.V1ObjectMeta(name=name), string_data={"tls.key": "not a real key"})
            core.create_namespaced_secret(namespace, secret)
        yield namespace
    finally:
        _delete_namespace(core, namespace)


@pytest.fixture(scope="module")
def installed_bot(
    local_cluster: LocalCluster, tls_source: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InstalledBot]:
    extra = {"tlsSourceSecrets": [{"namespace": tls_source, "name": TLS_SOURCE}]}
    with _installed(local_cluster, tmp_path_factory.mktemp("botchart"), extra) as installed:
        yield installed


@pytest.fixture(scope="module")
def other_bot(local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledBot]:
    """A second install of the same chart, same release name, in another namespace."""
    with _installed(local_cluster, tmp_path_factory.mktemp("other-botchart")) as installed:
        yield installed


def _api_in_force(installed: InstalledBot) -> k8s.ApiClient:
    """An API client that is this ServiceAccount, once its rights and the policy are in force."""
    api = _api(installed.kubeconfig, SA_CONTEXT)
    core = k8s.CoreV1Api(api)
    probe = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=f"jhb-probe-{secrets.token_hex(3)}"))

    # A new ClusterRoleBinding and admission policy reach the API server's caches within a
    # moment; a dry run that the policy (not RBAC) refuses shows both are in force.
    def policy_in_force() -> bool:
        try:
            core.create_namespace(probe, dry_run="All")
        except ApiException as exc:
            return exc.status == 403 and "ValidatingAdmissionPolicy" in str(exc.body)
        return False

    _wait_until("the bot's RBAC and admission policy in force", policy_in_force)
    return api


@pytest.fixture(scope="module")
def bot_api(installed_bot: InstalledBot) -> k8s.ApiClient:
    return _api_in_force(installed_bot)


@pytest.fixture(scope="module")
def other_api(other_bot: InstalledBot) -> k8s.ApiClient:
    return _api_in_force(other_bot)


def _refused(call: Callable[[], Any]) -> str:
    """Run an API call that must be refused with 403; return the API server's message."""
    with pytest.raises(ApiException) as refusal:
        call()
    assert refusal.value.status == 403, refusal.value.body
    return str(refusal.value.body)


# --- the job ------------------------------------------------------------------------------


@pytest.fixture
async def sa_bot(
    local_cluster: LocalCluster, installed_bot: InstalledBot, bot_api: k8s.ApiClient, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "policy.yaml").write_text(cluster_policy(owners=[OWNER], context=SA_CONTEXT, max_environments=1))
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=policies,
        groups={},
        extra_env={
            "INSTALLATION_ID": installed_bot.installation_id,
            "KUBECONFIG": str(installed_bot.kubeconfig),
            "HELM_BINARY": str(local_cluster.helm),
            "ENVIRONMENT_CLUSTER_ROLE": installed_bot.environment_role,
            "BOT_SERVICE_ACCOUNT": installed_bot.service_account,
            "DEPLOY_TIMEOUT_SECONDS": "240",
        },
    ) as bot:
        yield bot


async def test_the_service_account_launches_and_tears_down_an_environment(
    local_cluster: LocalCluster, installed_bot: InstalledBot, sa_bot: BotUnderTest
) -> None:
    bot = sa_bot
    assert await bot.runtime.readiness() == {"database": "ok", "cluster:local": "ok", "slack": "ok"}

    assert_acked(await bot.slack.slash_command(OWNER, "launch lp"))
    await bot.slack.wait_for_private(OWNER, lambda c: "*Password:*" in c.text_blob, timeout=DEPLOY_WAIT)
    await bot.settle()
    env = bot.environment(OWNER, "lp")
    assert env.state == State.READY, env.last_error

    # Seen by the cluster admin: the release, and the bot's binding confined to this namespace.
    admin = _admin_api(local_cluster)
    [release] = yaml.safe_load(_helm(local_cluster, "list", "-n", env.namespace, "-o", "yaml").stdout)
    assert release["name"] == env.release and release["status"] == "deployed"
    binding: Any = k8s.RbacAuthorizationV1Api(admin).read_namespaced_role_binding(ACCESS_BINDING, env.namespace)
    assert binding.role_ref.kind == "ClusterRole" and binding.role_ref.name == installed_bot.environment_role
    sa_namespace, _, sa_name = installed_bot.service_account.partition("/")
    assert [(s.kind, s.namespace, s.name) for s in binding.subjects] == [("ServiceAccount", sa_namespace, sa_name)]
    assert await bot.runtime.deployer.managed_namespaces("local") == {env.namespace: env.id}
    labels = k8s.CoreV1Api(admin).read_namespace(env.namespace).metadata.labels
    assert labels.items() >= installed_bot.namespace_labels.items()

    # Its hub's activity is read inside the cluster's trust boundary: through the API server,
    # as this ServiceAccount, a port-forward to the proxy's pod. kwok plays the node here, so
    # the forward goes no further than the API server's call to the node: kwok answers it
    # has no forward configured (a kwok-only cluster), or, where the API server calls
    # kubelets at their node addresses (a cluster with the real node), the fake node's
    # address does not answer (500). Either way the API server let the ServiceAccount
    # through: RBAC would have said 403. The whole path to a live hub is proven on the real
    # node. (The service proxy could not carry the hub's token: see bot/helm/activity.py.)
    [proxy] = (
        k8s.CoreV1Api(admin)
        .list_namespaced_pod(env.namespace, label_selector="app.kubernetes.io/component=proxy")
        .items
    )
    with pytest.raises(ActivityUnknown) as unknown:
        await bot.runtime.activity.latest_activity(env)
    reached = (
        f'no forward found for port 8000 in pod "{env.namespace}/{proxy.metadata.name}"',
        f"port-forward to {env.namespace}/{proxy.metadata.name}:8000 refused (500)",
    )
    assert any(answer in str(unknown.value) for answer in reached), unknown.value

    bot.clock.advance(env.lifetime + timedelta(minutes=1))
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 1
    await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, timeout=DEPLOY_WAIT)
    await bot.settle()
    assert bot.runtime.store.get(env.id).state == State.DELETED  # type: ignore[union-attr]
    core = k8s.CoreV1Api(admin)
    assert not await asyncio.to_thread(namespace_exists, core, env.namespace)


def _deployer(cluster: LocalCluster, installed: InstalledBot, *, timeout_seconds: int = 120) -> HelmDeployer:
    """The bot's deployer, as the ServiceAccount, as the runtime builds it."""
    connections = ClusterConnections(
        {"local": ClusterSpec(context=SA_CONTEXT)},
        kubeconfig=str(installed.kubeconfig),
        helm_binary=str(cluster.helm),
        helm_timeout_seconds=timeout_seconds,
    )
    sa_namespace, _, sa_name = installed.service_account.partition("/")
    access = EnvironmentAccess(installed.environment_role, sa_namespace, sa_name)
    return HelmDeployer(
        connections,
        chart_ref=str(DEFAULT_CHART),
        timeout_seconds=timeout_seconds,
        access=access,
        installation=installed.installation_id,
    )


# Under least privilege the bot holds no rights in a namespace until it has bound itself
# there: teardown must cope with a namespace that is gone, or created but never bound.


async def test_teardown_when_the_namespace_is_already_gone(
    local_cluster: LocalCluster, installed_bot: InstalledBot, bot_api: k8s.ApiClient
) -> None:
    gone = f"jh-gone-{secrets.token_hex(3)}"
    await _deployer(local_cluster, installed_bot).teardown(Target(cluster="local", namespace=gone, release=gone))
    assert not namespace_exists(k8s.CoreV1Api(_admin_api(local_cluster)), gone)


async def test_teardown_of_a_namespace_created_but_not_yet_bound(
    local_cluster: LocalCluster, installed_bot: InstalledBot, bot_api: k8s.ApiClient
) -> None:
    name = f"jh-unbound-{secrets.token_hex(3)}"
    labels = installed_bot.namespace_labels
    k8s.CoreV1Api(bot_api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    admin = k8s.CoreV1Api(_admin_api(local_cluster))
    try:
        await _deployer(local_cluster, installed_bot).teardown(Target(cluster="local", namespace=name, release=name))
        assert not namespace_exists(admin, name)
    finally:
        await asyncio.to_thread(_delete_namespace, admin, name)


# --- and nothing more ---------------------------------------------------------------------


def test_no_secrets_outside_its_namespaces(installed_bot: InstalledBot, bot_api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(bot_api)
    for namespace in ("default", "kube-system", installed_bot.namespace):
        _refused(partial(core.list_namespaced_secret, namespace))
    _refused(lambda: core.read_namespaced_secret("slack", installed_bot.namespace))
    _refused(lambda: core.list_secret_for_all_namespaces())


def test_no_port_forward_outside_its_namespaces(installed_bot: InstalledBot, bot_api: k8s.ApiClient) -> None:
    authorization = k8s.AuthorizationV1Api(bot_api)
    for namespace in ("default", "kube-system", installed_bot.namespace):
        for verb in ("get", "create"):
            review: Any = {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {
                    "resourceAttributes": {
                        "namespace": namespace,
                        "verb": verb,
                        "resource": "pods",
                        "subresource": "portforward",
                    }
                },
            }
            answer: Any = authorization.create_self_subject_access_review(review)
            assert not answer.status.allowed, f"may {verb} pods/portforward in {namespace}"


def test_no_cluster_wide_reads_of_workloads(bot_api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(bot_api)
    _refused(lambda: core.list_pod_for_all_namespaces())
    _refused(lambda: core.list_namespaced_pod("kube-system"))
    _refused(lambda: core.list_config_map_for_all_namespaces())


def _access_binding(namespace: str, installed: InstalledBot, subject: tuple[str, str] | None = None) -> Any:
    sa_namespace, _, sa_name = installed.service_account.partition("/")
    subject_namespace, subject_name = subject or (sa_namespace, sa_name)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "jupyterhub-bot", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": installed.environment_role},
        "subjects": [{"kind": "ServiceAccount", "namespace": subject_namespace, "name": subject_name}],
    }


def test_cannot_bind_itself_outside_its_namespaces(installed_bot: InstalledBot, bot_api: k8s.ApiClient) -> None:
    """RBAC allows the binding (bind on the environment role, create rolebindings); the
    admission policy refuses it, because `default` is not one of the bot's namespaces."""
    rbac = k8s.RbacAuthorizationV1Api(bot_api)
    for namespace in ("default", "kube-system", installed_bot.namespace):
        message = _refused(
            partial(rbac.create_namespaced_role_binding, namespace, _access_binding(namespace, installed_bot))
        )
        assert "ValidatingAdmissionPolicy" in message and "only in namespaces labelled" in message


def test_in_its_own_namespaces_it_binds_only_itself_and_only_its_role(
    local_cluster: LocalCluster, installed_bot: InstalledBot, bot_api: k8s.ApiClient
) -> None:
    core = k8s.CoreV1Api(bot_api)
    rbac = k8s.RbacAuthorizationV1Api(bot_api)
    own = f"jhb-own-{secrets.token_hex(3)}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=own, labels=installed_bot.namespace_labels)))
    try:
        # The environment role for someone else: refused by the admission policy.
        other = _access_binding(own, installed_bot, subject=("default", "default"))
        assert "its own ServiceAccount only" in _refused(lambda: rbac.create_namespaced_role_binding(own, other))
        # cluster-admin for itself: refused by RBAC (it may grant only what it holds).
        escalation = _access_binding(own, installed_bot)
        escalation["roleRef"]["name"] = "cluster-admin"
        assert "permissions not currently held" in _refused(
            lambda: rbac.create_namespaced_role_binding(own, escalation)
        )
        # Its own binding: allowed (this is what every deploy does first).
        rbac.create_namespaced_role_binding(own, _access_binding(own, installed_bot))
        # It may relabel the owner of its own namespace (a warm pool's hub changing hands)...
        handed_over = {"metadata": {"labels": {"jupyterhub-bot.io/owner": "u0new", "jupyterhub-bot.io/pool": None}}}
        labels = core.patch_namespace(own, handed_over).metadata.labels
        assert labels["jupyterhub-bot.io/owner"] == "u0new" and "jupyterhub-bot.io/pool" not in labels
        # ...but it cannot adopt a namespace, give one of its own away, nor lower the Pod
        # Security level of its own.
        adopt = {
            "metadata": {
                "labels": {
                    INSTALLATION_LABEL: installed_bot.installation_id,
                    POD_SECURITY: "restricted",
                    POD_SECURITY_VERSION: "latest",
                }
            }
        }
        assert "already are its own" in _refused(lambda: core.patch_namespace("default", adopt))
        give_away = {"metadata": {"labels": {INSTALLATION_LABEL: "someone-else"}}}
        assert "only namespaces labelled" in _refused(lambda: core.patch_namespace(own, give_away))
        lowered = {"metadata": {"labels": {POD_SECURITY: "privileged"}}}
        assert "restricted" in _refused(lambda: core.patch_namespace(own, lowered))
        unversioned = {"metadata": {"labels": {POD_SECURITY_VERSION: "v1.24"}}}
        assert "restricted" in _refused(lambda: core.patch_namespace(own, unversioned))
    finally:
        _delete_namespace(k8s.CoreV1Api(_admin_api(local_cluster)), own)


def test_namespaces_only_its_own(local_cluster: LocalCluster, bot_api: k8s.ApiClient) -> None:
    admin = k8s.CoreV1Api(_admin_api(local_cluster))
    core = k8s.CoreV1Api(bot_api)
    foreign = f"jhb-foreign-{secrets.token_hex(3)}"
    admin.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=foreign)))
    try:
        message = _refused(lambda: core.delete_namespace(foreign))
        assert "ValidatingAdmissionPolicy" in message
        assert namespace_exists(admin, foreign)
        unlabelled = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=f"jhb-unlabelled-{secrets.token_hex(3)}"))
        assert "ValidatingAdmissionPolicy" in _refused(lambda: core.create_namespace(unlabelled))
        # The label every install shares is not ownership any more.
        shared = {LABEL_MANAGED_BY: MANAGED_BY, POD_SECURITY: "restricted"}
        managed_only = k8s.V1Namespace(
            metadata=k8s.V1ObjectMeta(name=f"jhb-shared-{secrets.token_hex(3)}", labels=shared)
        )
        assert "only namespaces labelled jupyterhub-bot.io/installation=" in _refused(
            lambda: core.create_namespace(managed_only)
        )
    finally:
        _delete_namespace(admin, foreign)


def test_no_cluster_role_bindings_or_roles(installed_bot: InstalledBot, bot_api: k8s.ApiClient) -> None:
    rbac = k8s.RbacAuthorizationV1Api(bot_api)
    sa_namespace, _, sa_name = installed_bot.service_account.partition("/")
    binding: Any = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "jhb-escalation"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": installed_bot.environment_role,
        },
        "subjects": [{"kind": "ServiceAccount", "namespace": sa_namespace, "name": sa_name}],
    }
    _refused(lambda: rbac.create_cluster_role_binding(binding))
    role: Any = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "jhb-x"}}
    _refused(lambda: rbac.create_cluster_role(role))
    _refused(lambda: rbac.patch_cluster_role(installed_bot.environment_role, {"rules": []}))
    admission = k8s.AdmissionregistrationV1Api(bot_api)
    _refused(lambda: admission.list_validating_admission_policy())


# --- two installs side by side --------------------------------------------------------------


def _create_namespace(api: k8s.ApiClient, labels: dict[str, str], prefix: str = "jhb-env") -> str:
    name = f"{prefix}-{secrets.token_hex(3)}"
    k8s.CoreV1Api(api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    return name


def test_two_installs_never_touch_each_others_namespaces(
    local_cluster: LocalCluster,
    installed_bot: InstalledBot,
    bot_api: k8s.ApiClient,
    other_bot: InstalledBot,
    other_api: k8s.ApiClient,
) -> None:
    assert installed_bot.installation_id != other_bot.installation_id
    admin = k8s.CoreV1Api(_admin_api(local_cluster))
    created: list[str] = []
    try:
        for me, my_api, them, their_api in (
            (installed_bot, bot_api, other_bot, other_api),
            (other_bot, other_api, installed_bot, bot_api),
        ):
            mine = _create_namespace(my_api, me.namespace_labels)
            theirs = _create_namespace(their_api, them.namespace_labels)
            created += [mine, theirs]
            core, rbac = k8s.CoreV1Api(my_api), k8s.RbacAuthorizationV1Api(my_api)
            # Its own: it binds itself there, as every deploy does first.
            rbac.create_namespaced_role_binding(mine, _access_binding(mine, me))
            # Theirs: not created, not bound in, not deleted.
            posing = k8s.V1Namespace(
                metadata=k8s.V1ObjectMeta(name=f"jhb-posing-{secrets.token_hex(3)}", labels=them.namespace_labels)
            )
            expected = f"only namespaces labelled {INSTALLATION_LABEL}={me.installation_id}"
            assert expected in _refused(lambda posing=posing, core=core: core.create_namespace(posing))
            message = _refused(
                lambda rbac=rbac, theirs=theirs, me=me: rbac.create_namespaced_role_binding(
                    theirs, _access_binding(theirs, me)
                )
            )
            assert f"only in namespaces labelled {INSTALLATION_LABEL}={me.installation_id}" in message
            assert "ValidatingAdmissionPolicy" in _refused(
                lambda core=core, theirs=theirs: core.delete_namespace(theirs)
            )
            assert namespace_exists(admin, theirs)
            # ...while its owner may delete it.
            k8s.CoreV1Api(their_api).delete_namespace(theirs)
    finally:
        for name in created:
            _delete_namespace(admin, name)


# --- Pod Security ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pod_security",
    [
        pytest.param({}, id="no-pod-security-label"),
        pytest.param({POD_SECURITY: "baseline"}, id="baseline"),
        pytest.param({POD_SECURITY: "privileged"}, id="privileged"),
        pytest.param({POD_SECURITY: "restricted", POD_SECURITY_VERSION: "v1.21"}, id="old-version-of-restricted"),
    ],
)
def test_a_namespace_without_pod_security_restricted_is_refused(
    installed_bot: InstalledBot, bot_api: k8s.ApiClient, pod_security: dict[str, str]
) -> None:
    labels = {k: v for k, v in installed_bot.namespace_labels.items() if k != POD_SECURITY} | pod_security
    namespace = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=f"jhb-psa-{secrets.token_hex(3)}", labels=labels))
    message = _refused(lambda: k8s.CoreV1Api(bot_api).create_namespace(namespace))
    assert f"only namespaces labelled {POD_SECURITY}=restricted" in message


def test_in_a_restricted_namespace_even_the_cluster_admin_cannot_run_a_privileged_pod(
    local_cluster: LocalCluster, installed_bot: InstalledBot, bot_api: k8s.ApiClient
) -> None:
    admin = k8s.CoreV1Api(_admin_api(local_cluster))
    latest = installed_bot.namespace_labels | {POD_SECURITY_VERSION: "latest"}
    names = [_create_namespace(bot_api, installed_bot.namespace_labels), _create_namespace(bot_api, latest)]
    try:
        for name in names:
            assert admin.read_namespace(name).metadata.labels[POD_SECURITY] == "restricted"
        privileged: Any = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "escape"},
            "spec": {
                "containers": [
                    {
                        "name": "shell",
                        "image": "busybox:1.36",
                        "securityContext": {"privileged": True},
                        "volumeMounts": [{"name": "host", "mountPath": "/host"}],
                    }
                ],
                "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
            },
        }
        # The PodSecurity admission plugin (on by default in kube-apiserver) refuses it.
        message = _refused(lambda: admin.create_namespaced_pod(names[0], privileged))
        assert "violates PodSecurity" in message and "restricted:latest" in message
        assert "hostPath" in message and "privileged" in message
    finally:
        for name in names:
            _delete_namespace(admin, name)


# --- the API server's addresses, the TLS source ----------------------------------------------


def test_it_reads_the_api_servers_endpoint_slice_and_no_other(
    local_cluster: LocalCluster, bot_api: k8s.ApiClient
) -> None:
    discovery = k8s.DiscoveryV1Api(bot_api)
    kubernetes: Any = discovery.read_namespaced_endpoint_slice("kubernetes", "default")
    addresses = [address for endpoint in kubernetes.endpoints for address in endpoint.addresses]
    ports = [port.port for port in kubernetes.ports]
    assert addresses and ports, "what networkPolicy.apiServer needs"
    # After DNAT a NetworkPolicy sees this port (the Service's target), not the Service's 443.
    service: Any = k8s.CoreV1Api(_admin_api(local_cluster)).read_namespaced_service("kubernetes", "default")
    assert ports == [int(service.spec.ports[0].target_port)] and 443 not in ports

    _refused(lambda: discovery.list_namespaced_endpoint_slice("default"))
    _refused(lambda: discovery.list_endpoint_slice_for_all_namespaces())
    _refused(lambda: k8s.CoreV1Api(bot_api).read_namespaced_endpoints("kubernetes", "default"))
    admin = k8s.DiscoveryV1Api(_admin_api(local_cluster))
    other: Any = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"jhb-other-{secrets.token_hex(3)}"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["192.0.2.10"]}],
        "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
    }
    name = admin.create_namespaced_endpoint_slice("default", other).metadata.name
    try:
        _refused(lambda: discovery.read_namespaced_endpoint_slice(name, "default"))
    finally:
        admin.delete_namespaced_endpoint_slice(name, "default")


def test_it_reads_exactly_the_tls_source_secret(bot_api: k8s.ApiClient, tls_source: str) -> None:
    core = k8s.CoreV1Api(bot_api)
    secret: Any = core.read_namespaced_secret(TLS_SOURCE, tls_source)
    assert base64.b64decode(secret.data["tls.key"]) == b"not a real key"
    _refused(lambda: core.read_namespaced_secret("not-for-the-bot", tls_source))
    _refused(lambda: core.list_namespaced_secret(tls_source))
