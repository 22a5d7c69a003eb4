"""The chart installed for real: two releases side by side, every Deployment Available,
and `helm uninstall` leaves nothing of ours behind."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from secrets import token_hex
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tests.support.cluster import LocalCluster
from tests.support.hub import CHART_DIR, HubSecrets

pytestmark = pytest.mark.cluster

# What Kubernetes itself puts in every namespace; everything else must go with the release.
DEFAULT_OBJECTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}


def _helm(cluster: LocalCluster, *args: str, values: dict[str, Any] | None = None) -> str:
    done = subprocess.run(
        [str(cluster.helm), *args, "--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context],
        input=json.dumps(values) if values is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
def two_namespaces(local_cluster: LocalCluster) -> Iterator[tuple[k8s.ApiClient, list[str]]]:
    api = k8s_config.new_client_from_config(config_file=str(local_cluster.kubeconfig), context=local_cluster.context)  # type: ignore[no-untyped-call]
    core = k8s.CoreV1Api(api)
    names = [f"chart-install-{token_hex(3)}" for _ in range(2)]
    for name in names:
        core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        yield api, names
    finally:
        for name in names:
            core.delete_namespace(name)


def test_two_releases_coexist_become_available_and_uninstall_cleanly(
    local_cluster: LocalCluster, two_namespaces: tuple[k8s.ApiClient, list[str]]
) -> None:
    api, namespaces = two_namespaces
    for namespace in namespaces:
        _helm(
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

    _helm(local_cluster, "uninstall", "hub", "-n", namespaces[0], "--wait", "--timeout", "120s")
    # Pods go with their Deployments through garbage collection, a moment after uninstall returns.
    deadline = time.monotonic() + 60
    while (leftovers := _namespaced_objects(api, namespaces[0]) - DEFAULT_OBJECTS) and time.monotonic() < deadline:
        if any(kind != "Pod" for kind, _ in leftovers):
            break
        time.sleep(0.5)  # wait-ok: bounded poll for garbage collection
    assert leftovers == set(), leftovers
    assert ("Deployment", "hub-hub") in _namespaced_objects(api, namespaces[1])
