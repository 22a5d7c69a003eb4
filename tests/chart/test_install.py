"""The chart installed for real: two releases side by side, every Deployment Available,
`helm uninstall` leaves nothing of ours behind, and credentials in an existing Secret
never reach Helm's release history."""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s

from tests.chart.installing import helm, temporary_namespace
from tests.support.cluster import LocalCluster
from tests.support.hub import CHART_DIR, HubSecrets
from tests.support.kube import admin_api

pytestmark = pytest.mark.cluster

# What Kubernetes itself puts in every namespace; everything else must go with the release.
DEFAULT_OBJECTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}


def _namespaced_objects(api: k8s.ApiClient, namespace: str) -> set[tuple[str, str]]:
    core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    rbac, net = k8s.RbacAuthorizationV1Api(api), k8s.NetworkingV1Api(api)
    listings = {
        "ConfigMap": core.list_namespaced_config_map,
        "Secret": core.list_namespaced_secret,
        "Service": core.list_namespaced_service,
        "ServiceAccount": core.list_namespaced_service_account,
        "PersistentVolumeClaim": core.list_namespaced_persistent_volume_claim,
        "ResourceQuota": core.list_namespaced_resource_quota,
        "LimitRange": core.list_namespaced_limit_range,
        "Pod": core.list_namespaced_pod,
        "Deployment": apps.list_namespaced_deployment,
        "Role": rbac.list_namespaced_role,
        "RoleBinding": rbac.list_namespaced_role_binding,
        "NetworkPolicy": net.list_namespaced_network_policy,
        "Ingress": net.list_namespaced_ingress,
    }
    return {(kind, item.metadata.name) for kind, listing in listings.items() for item in listing(namespace).items}


@pytest.fixture
def api(local_cluster: LocalCluster) -> k8s.ApiClient:
    return admin_api(local_cluster)


@pytest.fixture
def two_namespaces(api: k8s.ApiClient) -> Iterator[list[str]]:
    with temporary_namespace(api, "chart-install") as first, temporary_namespace(api, "chart-install") as second:
        yield [first, second]


@pytest.fixture
def namespace(api: k8s.ApiClient) -> Iterator[str]:
    with temporary_namespace(api, "chart-secret") as name:
        yield name


def test_two_releases_coexist_become_available_and_uninstall_cleanly(
    local_cluster: LocalCluster, api: k8s.ApiClient, two_namespaces: list[str]
) -> None:
    namespaces = two_namespaces
    for namespace in namespaces:
        helm(
            local_cluster,
            "install",
            "hub",
            str(CHART_DIR),
            "-n",
            namespace,
            "-f",
            "-",
            "--wait",
            "--timeout",
            "240s",
            values=HubSecrets.generate().values(),
        )

    apps = k8s.AppsV1Api(api)
    for namespace in namespaces:
        deployments = apps.list_namespaced_deployment(namespace).items
        assert sorted(d.metadata.name for d in deployments) == ["hub-hub", "hub-proxy"]
        for deployment in deployments:
            available = {c.type: c.status for c in deployment.status.conditions or []}
            assert available.get("Available") == "True", deployment.metadata.name
    # Same release name in both namespaces, and no cluster-scoped object to collide on.
    first, second = ({o for o in _namespaced_objects(api, ns) if o[0] != "Pod"} for ns in namespaces)
    assert first == second and ("Secret", "hub-hub") in first

    helm(local_cluster, "uninstall", "hub", "-n", namespaces[0], "--wait", "--timeout", "120s")
    # Pods go with their Deployments through garbage collection, a moment after uninstall returns.
    deadline = time.monotonic() + 60
    while (leftovers := _namespaced_objects(api, namespaces[0]) - DEFAULT_OBJECTS) and time.monotonic() < deadline:
        if any(kind != "Pod" for kind, _ in leftovers):
            break
        time.sleep(0.5)  # wait-ok: bounded poll for garbage collection
    assert leftovers == set(), leftovers
    assert ("Deployment", "hub-hub") in _namespaced_objects(api, namespaces[1])


def _release_records(api: k8s.ApiClient, namespace: str, release: str) -> dict[str, str]:
    """Helm's release records (Secrets sh.helm.release.v1.<release>.vN), decoded to their JSON text."""
    core = k8s.CoreV1Api(api)
    records = core.list_namespaced_secret(namespace, label_selector=f"owner=helm,name={release}").items
    decoded = {}
    for record in records:
        # Secret data is base64; Helm's payload inside is base64 of gzip of JSON.
        payload = base64.b64decode(base64.b64decode(record.data["release"]))
        decoded[record.metadata.name] = gzip.decompress(payload).decode()
    return decoded


def test_credentials_from_an_existing_secret_never_enter_helms_history(
    local_cluster: LocalCluster, api: k8s.ApiClient, namespace: str
) -> None:
    credentials = HubSecrets.generate()
    plain = list(credentials.environment().values())
    core = k8s.CoreV1Api(api)
    core.create_namespaced_secret(
        namespace,
        k8s.V1Secret(
            metadata=k8s.V1ObjectMeta(name="hub-credentials"),
            string_data={
                "admin-password": credentials.admin_password,
                "bot-api-token": credentials.bot_api_token,
                "proxy-token": credentials.proxy_token,
            },
        ),
    )
    values = {"hub": {"existingSecret": "hub-credentials"}}
    common = ["-n", namespace, "-f", "-", "--wait", "--timeout", "240s"]
    helm(local_cluster, "install", "hub", str(CHART_DIR), *common, values=values)
    # A second revision, so there is history to search.
    helm(local_cluster, "upgrade", "hub", str(CHART_DIR), *common, values={**values, "cull": {"timeout": 7200}})

    everything = helm(local_cluster, "get", "values", "hub", "-n", namespace, "--all", "-o", "json")
    assert json.loads(everything)["hub"]["existingSecret"] == "hub-credentials"
    records = _release_records(api, namespace, "hub")
    assert sorted(records) == ["sh.helm.release.v1.hub.v1", "sh.helm.release.v1.hub.v2"]
    for text in [everything, *records.values()]:
        assert "hub-credentials" in text  # the right text, decoded
        for value in plain:
            for form in (value, base64.b64encode(value.encode()).decode()):
                assert form not in text

    # The chart made no Secret of its own; both Deployments read the one we made, and run.
    assert [s.metadata.name for s in core.list_namespaced_secret(namespace).items if s.type == "Opaque"] == [
        "hub-credentials"
    ]
    apps = k8s.AppsV1Api(api)
    for name, expected in (
        ("hub-hub", {"JUPYTERHUB_ADMIN_PASSWORD", "JUPYTERHUB_BOT_API_TOKEN", "CONFIGPROXY_AUTH_TOKEN"}),
        ("hub-proxy", {"CONFIGPROXY_AUTH_TOKEN"}),
    ):
        deployment = apps.read_namespaced_deployment(name, namespace)
        available = {c.type: c.status for c in deployment.status.conditions or []}
        assert available.get("Available") == "True", name
        env = {
            e.name: e.value_from.secret_key_ref for e in deployment.spec.template.spec.containers[0].env if e.value_from
        }
        assert set(env) == expected
        stored = core.read_namespaced_secret("hub-credentials", namespace).data
        for variable, ref in env.items():
            assert ref.name == "hub-credentials"
            assert base64.b64decode(stored[ref.key]).decode() == credentials.environment()[variable]
