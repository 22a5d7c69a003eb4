"""Pod Security "restricted" on the local cluster's real API server: the chart installs into
a namespace enforcing it, every pod is admitted and Ready; the user pod KubeSpawner would
create is admitted; a privileged hostPath pod, or the user pod without its security
context, is refused by the PodSecurity admission plugin."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from kubernetes import client as k8s

from tests.chart.installing import helm, kubectl, temporary_namespace
from tests.chart.user_pod import user_pod_manifest
from tests.support.cluster import LocalCluster
from tests.support.hub import CHART_DIR, HubSecrets, helm_template, hub_config_files
from tests.support.kube import admin_api

pytestmark = pytest.mark.cluster

RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
RELEASE = "hub"


@pytest.fixture(scope="module")
def api(local_cluster: LocalCluster) -> k8s.ApiClient:
    return admin_api(local_cluster)


@pytest.fixture(scope="module")
def restricted_namespace(api: k8s.ApiClient) -> Iterator[str]:
    with temporary_namespace(api, "chart-restricted", RESTRICTED) as name:
        yield name


@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return HubSecrets.generate().values()


@pytest.fixture(scope="module")
def installed(local_cluster: LocalCluster, restricted_namespace: str, values: dict[str, Any]) -> str:
    helm(
        local_cluster,
        "install",
        RELEASE,
        str(CHART_DIR),
        "-n",
        restricted_namespace,
        "-f",
        "-",
        "--wait",
        "--timeout",
        "240s",
        values=values,
    )
    return restricted_namespace


def _create(cluster: LocalCluster, namespace: str, pod: dict[str, Any], *, dry_run: bool) -> CompletedProcess[str]:
    """kubectl create, so the pod goes to the API server exactly as built (KubeSpawner sends
    quantities as numbers, which the Python client's models would not pass through)."""
    args = ["create", "--namespace", namespace, "-o", "json", "-f", "-"]
    if dry_run:
        args.insert(1, "--dry-run=server")
    return kubectl(cluster, *args, stdin=json.dumps(pod))


def test_hub_and_proxy_are_admitted_and_ready(api: k8s.ApiClient, installed: str) -> None:
    pods = k8s.CoreV1Api(api).list_namespaced_pod(installed).items
    components = sorted(p.metadata.labels["app.kubernetes.io/component"] for p in pods)
    assert components == ["hub", "proxy"]
    for pod in pods:
        ready = {c.type: c.status for c in pod.status.conditions or []}
        assert ready.get("Ready") == "True", pod.metadata.name
    assert k8s.CoreV1Api(api).read_namespace(installed).metadata.labels.items() >= RESTRICTED.items()


def _user_pod(helm_binary: Path, namespace: str, values: dict[str, Any], workdir: Path) -> dict[str, Any]:
    secrets = HubSecrets.generate()
    objects = helm_template(helm_binary, values, release=RELEASE, namespace=namespace)
    pod = user_pod_manifest(hub_config_files(objects), workdir, secrets)
    pod["metadata"]["namespace"] = namespace
    return pod


def test_the_user_pod_kubespawner_builds_is_admitted(
    local_cluster: LocalCluster, installed: str, values: dict[str, Any], tmp_path: Path
) -> None:
    pod = _user_pod(local_cluster.helm, installed, values, tmp_path)
    created = _create(local_cluster, installed, pod, dry_run=True)
    assert created.returncode == 0, created.stderr
    admitted = json.loads(created.stdout)
    assert admitted["metadata"]["name"] == pod["metadata"]["name"]
    assert admitted["spec"]["securityContext"]["runAsNonRoot"] is True

    # Without the context the chart gives it, the same pod is refused: the namespace
    # really enforces "restricted", and our settings are what make the difference.
    bare = copy.deepcopy(pod)
    bare["spec"].pop("securityContext")
    bare["spec"]["containers"][0].pop("securityContext")
    refused = _create(local_cluster, installed, bare, dry_run=True)
    assert refused.returncode != 0
    assert "Forbidden" in refused.stderr and 'violates PodSecurity "restricted:latest"' in refused.stderr


def test_a_privileged_host_path_pod_is_refused(local_cluster: LocalCluster, api: k8s.ApiClient, installed: str) -> None:
    """Even for the cluster admin, and for real (no dry run): Pod Security admission does not
    care who asks."""
    privileged = {
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
    refused = _create(local_cluster, installed, privileged, dry_run=False)
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr
    assert "privileged" in refused.stderr and "hostPath" in refused.stderr
    assert "escape" not in {p.metadata.name for p in k8s.CoreV1Api(api).list_namespaced_pod(installed).items}
