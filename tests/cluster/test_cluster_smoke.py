"""Smoke tests for the local cluster: it behaves like the clusters the bot deploys into."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.support.cluster import LocalCluster, ensure_cluster

pytestmark = pytest.mark.cluster

CHART = Path(__file__).parent / "testchart"
TIMEOUT_S = 60.0


def wait_until(what: str, check: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)  # wait-ok


def is_gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


@pytest.fixture(scope="module")
def api(local_cluster: LocalCluster) -> Iterator[client.ApiClient]:
    api_client = config.new_client_from_config(config_file=str(local_cluster.kubeconfig), context=local_cluster.context)
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


def test_cluster_reports_pinned_version_and_has_a_ready_node(api: client.ApiClient, core: client.CoreV1Api) -> None:
    version = client.VersionApi(api).get_code()
    assert version.git_version.startswith("v1.34."), version.git_version

    nodes = core.list_node().items
    assert nodes, "no kwok node registered"
    ready = {
        node.metadata.name
        for node in nodes
        for cond in node.status.conditions or []
        if cond.type == "Ready" and cond.status == "True"
    }
    assert ready, f"no Ready node among {[n.metadata.name for n in nodes]}"


def test_second_up_reuses_the_running_cluster(local_cluster: LocalCluster, core: client.CoreV1Api) -> None:
    uid_before = core.read_namespace("kube-system").metadata.uid

    again = ensure_cluster()

    assert again == local_cluster
    assert core.read_namespace("kube-system").metadata.uid == uid_before


def test_namespace_is_created_and_fully_deleted(core: client.CoreV1Api) -> None:
    name = f"smoke-ns-{uuid.uuid4().hex[:8]}"
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    assert created.status.phase == "Active"
    core.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="leftover"), data={"a": "b"})
    )

    core.delete_namespace(name)

    # The namespace controller in kube-controller-manager empties it, then it disappears.
    wait_until(f"namespace {name} to be deleted", lambda: is_gone(lambda: core.read_namespace(name)))


def test_deployment_becomes_available(api: client.ApiClient, core: client.CoreV1Api, namespace: str) -> None:
    apps = client.AppsV1Api(api)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(
                replicas=2,
                selector=client.V1LabelSelector(match_labels=labels),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels=labels),
                    spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]),
                ),
            ),
        ),
    )

    def available() -> bool:
        status = apps.read_namespaced_deployment_status("web", namespace).status
        conditions = {c.type: c.status for c in status.conditions or []}
        return conditions.get("Available") == "True" and status.ready_replicas == 2

    wait_until("deployment web to become Available with 2 ready replicas", available)
    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 2
    assert all(pod.spec.node_name and pod.status.phase == "Running" for pod in pods)


def test_pvcs_bind_and_their_volumes_are_released(core: client.CoreV1Api, namespace: str) -> None:
    names = [f"data-{i}" for i in range(5)]
    for name in names:
        core.create_namespaced_persistent_volume_claim(
            namespace,
            client.V1PersistentVolumeClaim(
                metadata=client.V1ObjectMeta(name=name),
                spec=client.V1PersistentVolumeClaimSpec(
                    access_modes=["ReadWriteOnce"],
                    resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}),
                ),
            ),
        )

    def all_bound() -> bool:
        claims = core.list_namespaced_persistent_volume_claim(namespace).items
        return len(claims) == len(names) and all(c.status.phase == "Bound" for c in claims)

    wait_until(f"{len(names)} PVCs to bind", all_bound)
    claims = core.list_namespaced_persistent_volume_claim(namespace).items
    assert {c.spec.storage_class_name for c in claims} == {"standard"}
    volumes = [c.spec.volume_name for c in claims]

    for name in names:
        core.delete_namespaced_persistent_volume_claim(name, namespace)

    # Reclaim policy Delete: the provisioner removes each volume once its claim is gone.
    def volumes_gone() -> bool:
        return all(is_gone(partial(core.read_persistent_volume, v)) for v in volumes)

    wait_until(f"volumes {volumes} to be deleted", volumes_gone)


def test_helm_install_wait_and_uninstall(
    local_cluster: LocalCluster,
    api: client.ApiClient,
    core: client.CoreV1Api,
    namespace: str,
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "KUBECONFIG": str(local_cluster.kubeconfig),
        "HELM_CACHE_HOME": str(tmp_path / "cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "config"),
        "HELM_DATA_HOME": str(tmp_path / "data"),
    }

    def helm(*args: str) -> str:
        proc = subprocess.run(
            [str(local_cluster.helm), "--kube-context", local_cluster.context, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, f"helm {' '.join(args)} failed:\n{proc.stderr}"
        return proc.stdout

    helm("install", "smoke", str(CHART), "--namespace", namespace, "--wait", "--timeout", "2m")

    status = client.AppsV1Api(api).read_namespaced_deployment_status("smoke", namespace).status
    assert status.ready_replicas == 1
    pvc = core.read_namespaced_persistent_volume_claim("smoke-data", namespace)
    assert pvc.status.phase == "Bound"
    service = core.read_namespaced_service("smoke", namespace)
    assert service.spec.type == "NodePort"
    assert service.spec.ports[0].node_port

    helm("uninstall", "smoke", "--namespace", namespace, "--wait", "--timeout", "2m")

    assert helm("list", "--namespace", namespace, "--short").strip() == ""
    assert not core.list_namespaced_secret(namespace, label_selector="owner=helm").items
    apps = client.AppsV1Api(api)
    assert is_gone(lambda: apps.read_namespaced_deployment("smoke", namespace))
    assert is_gone(lambda: core.read_namespaced_service("smoke", namespace))
    assert is_gone(lambda: core.read_namespaced_persistent_volume_claim("smoke-data", namespace))


def test_serviceaccount_without_rights_is_refused_by_rbac(
    local_cluster: LocalCluster, api: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
    )
    token = core.create_namespaced_service_account_token(
        "nobody",
        namespace,
        client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)),
    ).status.token

    as_sa = client.Configuration()
    config.load_kube_config(
        config_file=str(local_cluster.kubeconfig),
        context=local_cluster.context,
        client_configuration=as_sa,
    )
    as_sa.cert_file = None
    as_sa.key_file = None
    as_sa.api_key = {"authorization": f"Bearer {token}"}
    username = f"system:serviceaccount:{namespace}:nobody"

    with client.ApiClient(as_sa) as sa_api:
        review = client.AuthenticationV1Api(sa_api).create_self_subject_review(client.V1SelfSubjectReview())
        assert review.status.user_info.username == username  # authenticated, not anonymous

        sa_core = client.CoreV1Api(sa_api)
        with pytest.raises(ApiException) as refused:
            sa_core.list_namespaced_secret(namespace)
        assert refused.value.status == 403
        assert username in str(refused.value.body)

        # The refusal comes from RBAC: a Role and RoleBinding turn it into an allow.
        rbac = client.RbacAuthorizationV1Api(api)
        rbac.create_namespaced_role(
            namespace,
            client.V1Role(
                metadata=client.V1ObjectMeta(name="read-secrets"),
                rules=[client.V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get", "list"])],
            ),
        )
        rbac.create_namespaced_role_binding(
            namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="nobody-reads-secrets"),
                role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="read-secrets"),
                subjects=[client.RbacV1Subject(kind="ServiceAccount", name="nobody", namespace=namespace)],
            ),
        )

        def allowed() -> bool:
            try:
                sa_core.list_namespaced_secret(namespace)
            except ApiException as exc:
                if exc.status == 403:
                    return False
                raise
            return True

        wait_until("the RoleBinding to take effect", allowed)
