"""Handing a warm pool's hub to a launch, on the local cluster's real API server with our
chart and the real helm: the namespace changes hands, an Ingress host follows the new
name, and nothing that runs is restarted."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client as k8s

from bot.config import DEFAULT_CHART
from bot.core.environment import POOL_OWNER, Target
from bot.core.notices import DeployStep
from bot.core.policy import ClusterSpec, Profile
from bot.core.ports import HubRequest
from bot.helm.deployer import HelmDeployer
from bot.helm.kube import ClusterConnections
from tests.support.cluster import LocalCluster
from tests.support.kube import admin_api, core_api, helm_releases

pytestmark = pytest.mark.cluster


def _deployer(cluster: LocalCluster, spec: ClusterSpec) -> HelmDeployer:
    connections = ClusterConnections(
        {"local": spec},
        kubeconfig=str(cluster.kubeconfig),
        helm_binary=str(cluster.helm),
        helm_timeout_seconds=120,
    )
    return HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=120)


def _pool_request(spec: ClusterSpec) -> HubRequest:
    suffix = secrets.token_hex(3)
    namespace = f"jh-course-{suffix}-{suffix}"
    return HubRequest(
        environment_id=f"pool{suffix}",
        owner_id=POOL_OWNER,
        name=f"course-{suffix}",
        target=Target(cluster="local", namespace=namespace, release=namespace),
        profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="0.5", memory="512Mi"),
        cluster=spec,
        idle_timeout=timedelta(hours=1),
        pool="course",
    )


class Steps:
    def __init__(self) -> None:
        self.done: list[DeployStep] = []

    async def __call__(self, step: DeployStep) -> None:
        self.done.append(step)


def _running(apps: k8s.AppsV1Api, core: k8s.CoreV1Api, namespace: str) -> dict[str, Any]:
    """What would change if anything restarted: each Deployment's generation and pod template,
    and the pods themselves."""
    deployments = apps.list_namespaced_deployment(namespace).items
    pods = core.list_namespaced_pod(namespace).items
    return {
        "deployments": {
            d.metadata.name: (d.metadata.generation, k8s.ApiClient().sanitize_for_serialization(d.spec.template))
            for d in deployments
        },
        "pods": sorted(p.metadata.uid for p in pods),
    }


@pytest.fixture
async def cleanup(local_cluster: LocalCluster) -> AsyncIterator[list[tuple[HelmDeployer, Target]]]:
    made: list[tuple[HelmDeployer, Target]] = []
    yield made
    for deployer, target in made:
        await deployer.teardown(target)


@pytest.mark.parametrize("ingress", [True, False], ids=["ingress-host", "node-port"])
async def test_a_pool_hub_changes_hands_without_a_restart(
    local_cluster: LocalCluster, cleanup: list[tuple[HelmDeployer, Target]], ingress: bool
) -> None:
    settings: dict[str, Any] = {"context": local_cluster.context}
    if ingress:
        settings |= {
            "base_domain": "hubs.example.test",
            "ingress_class": "nginx",
            "tls": {"mode": "controller-default"},
        }
    spec = ClusterSpec.model_validate(settings)
    deployer = _deployer(local_cluster, spec)
    pooled = _pool_request(spec)
    target = pooled.target
    cleanup.append((deployer, target))
    warm = await deployer.deploy(pooled, Steps())

    core, apps = core_api(local_cluster), k8s.AppsV1Api(admin_api(local_cluster))
    labels = core.read_namespace(target.namespace).metadata.labels
    assert labels["jupyterhub-bot.io/pool"] == "course" and "jupyterhub-bot.io/owner" not in labels
    before = _running(apps, core, target.namespace)

    launch = replace(
        pooled, environment_id="launch" + secrets.token_hex(4), owner_id="U0NEWOWNER", name="lab", pool=None
    )
    steps = Steps()
    handed = await deployer.hand_over(launch, steps)

    assert steps.done == [DeployStep.HUB_READY]
    labels = core.read_namespace(target.namespace).metadata.labels
    assert labels["jupyterhub-bot.io/owner"] == "u0newowner"
    assert labels["jupyterhub-bot.io/environment-id"] == launch.environment_id
    assert "jupyterhub-bot.io/pool" not in labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The login it was deployed with, which is still the one in its namespace.
    secret = core.read_namespaced_secret(f"{target.release}-hub-credentials", target.namespace)
    assert handed.password == warm.password == base64.b64decode(secret.data["admin-password"]).decode()
    # Nothing restarted: same pod templates, same generations, same pods.
    assert _running(apps, core, target.namespace) == before
    [release] = helm_releases(local_cluster, target.namespace)
    if ingress:
        suffix = target.namespace.rsplit("-", 1)[-1]
        assert warm.url == f"https://course-{suffix}-{suffix}.hubs.example.test/"
        assert handed.url == f"https://lab-{suffix}.hubs.example.test/"
        ingress_object = k8s.NetworkingV1Api(admin_api(local_cluster)).read_namespaced_ingress(
            target.release, target.namespace
        )
        assert [rule.host for rule in ingress_object.spec.rules] == [handed.url[8:-1]]
        assert release["revision"] == "2"  # renamed by one upgrade
    else:
        assert handed.url == warm.url
        assert release["revision"] == "1"  # nothing in the release depends on the name

    # Handing it over again (a resumed claim) converges on the same.
    again = await deployer.hand_over(launch, Steps())
    assert again.url == handed.url and _running(apps, core, target.namespace) == before
