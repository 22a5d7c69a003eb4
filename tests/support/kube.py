"""Small helpers for tests that look at the local cluster: an API client, does a namespace
exist, which Helm releases a namespace has."""

from __future__ import annotations

import json
import subprocess

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from tests.support.cluster import LocalCluster

__all__ = ["admin_api", "core_api", "core_discovery", "helm", "helm_releases", "namespace_exists"]


def admin_api(cluster: LocalCluster) -> k8s.ApiClient:
    """A client with the cluster's admin kubeconfig."""
    return k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig), context=cluster.context)  # type: ignore[no-untyped-call]


def core_api(cluster: LocalCluster) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(admin_api(cluster))


def namespace_exists(core: k8s.CoreV1Api, name: str) -> bool:
    try:
        core.read_namespace(name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def core_discovery(cluster: LocalCluster) -> k8s.DiscoveryV1Api:
    return k8s.DiscoveryV1Api(admin_api(cluster))


def helm(cluster: LocalCluster, *args: str) -> str:
    """The real helm, as the cluster's admin; its standard output."""
    out = subprocess.run(
        [str(cluster.helm), *args, "--kubeconfig", str(cluster.kubeconfig), "--kube-context", cluster.context],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout


def helm_releases(cluster: LocalCluster, namespace: str) -> list[dict[str, str]]:
    """`helm list` of one namespace, as the real helm reports it."""
    return list(json.loads(helm(cluster, "list", "-n", namespace, "-o", "json") or "[]"))
