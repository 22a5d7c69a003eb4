"""Real clusters' ways to reach a hub (issue #12 items 1-3, 5), on the local cluster's real API
server with our chart and the real helm: HTTPS through an Ingress in each TLS mode, a
LoadBalancer address set as a controller would set it, and NodePort URLs on Ready nodes only."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.config import DEFAULT_CHART
from bot.core.environment import Target
from bot.core.errors import DeployError
from bot.core.policy import ClusterSpec, Profile
from bot.core.ports import HubRequest
from bot.core.problems import LoadBalancerPending
from bot.helm.deployer import HelmDeployer
from bot.helm.kube import ClusterConnections
from tests.support.cluster import LocalCluster
from tests.support.kube import admin_api, core_api, namespace_exists

pytestmark = pytest.mark.cluster


@dataclass
class Deploying:
    cluster: LocalCluster

    def deployer(self, spec: ClusterSpec, **settings: Any) -> HelmDeployer:
        connections = ClusterConnections(
            {"local": spec},
            kubeconfig=str(self.cluster.kubeconfig),
            helm_binary=str(self.cluster.helm),
            helm_timeout_seconds=120,
        )
        return HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=120, **settings)

    @staticmethod
    def request(spec: ClusterSpec) -> HubRequest:
        suffix = secrets.token_hex(3)
        namespace = f"jh-url-{suffix}"
        return HubRequest(
            environment_id=f"url{suffix}",
            owner_id="U0URLS",
            name="url",
            target=Target(cluster="local", namespace=namespace, release=namespace),
            profile=Profile(image="quay.io/jupyter/minimal-notebook:2025-06-30", cpu="0.5", memory="512Mi"),
            cluster=spec,
            idle_timeout=timedelta(hours=1),
        )


@pytest.fixture
async def deploying(local_cluster: LocalCluster) -> AsyncIterator[Deploying]:
    yield Deploying(local_cluster)


async def _ignore(_step: object) -> None:
    return None


async def _deploy(deploying: Deploying, spec: ClusterSpec, **settings: Any) -> tuple[HubRequest, str]:
    deployer = deploying.deployer(spec, **settings)
    request = deploying.request(spec)
    try:
        deployed = await deployer.deploy(request, _ignore)
    except BaseException:
        await deployer.teardown(request.target)
        raise
    return request, deployed.url


@pytest.mark.parametrize(
    ("tls", "secret_name", "annotation"),
    [
        ({"mode": "cert-manager", "issuer": "letsencrypt"}, True, ("cert-manager.io/cluster-issuer", "letsencrypt")),
        ({"mode": "controller-default"}, False, None),
        ({"mode": "copy-secret", "secret": "{namespace}/wildcard"}, True, None),
    ],
    ids=["cert-manager", "controller-default", "copy-secret"],
)
async def test_https_through_an_ingress_in_each_tls_mode(
    deploying: Deploying,
    local_cluster: LocalCluster,
    tls: dict[str, str],
    secret_name: bool,
    annotation: tuple[str, str] | None,
) -> None:
    core = core_api(local_cluster)
    source = f"jh-tls-source-{secrets.token_hex(3)}"
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=source)))
    certificate = {"tls.crt": base64.b64encode(b"CERT").decode(), "tls.key": base64.b64encode(b"KEY").decode()}
    core.create_namespaced_secret(
        source, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="wildcard"), type="kubernetes.io/tls", data=certificate)
    )
    tls = {key: value.format(namespace=source) for key, value in tls.items()}
    spec = ClusterSpec.model_validate(
        {"context": local_cluster.context, "base_domain": "hubs.example.test", "ingress_class": "nginx", "tls": tls}
    )
    try:
        request, url = await _deploy(deploying, spec)
        target = request.target
        try:
            assert url == f"https://url-{request.environment_id[3:]}.hubs.example.test/"
            ingress = k8s.NetworkingV1Api(admin_api(local_cluster)).read_namespaced_ingress(
                target.release, target.namespace
            )
            [entry] = ingress.spec.tls
            assert entry.hosts == [url.removeprefix("https://").rstrip("/")]
            assert (entry.secret_name is not None) is secret_name
            annotations = ingress.metadata.annotations or {}
            # Notebooks over nginx's default 1 MB body limit must still save.
            assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "64m"
            if annotation:
                assert annotations[annotation[0]] == annotation[1]
            if tls["mode"] == "copy-secret":
                copied = core.read_namespaced_secret(entry.secret_name, target.namespace)
                assert copied.data == certificate and copied.type == "kubernetes.io/tls"
        finally:
            await deploying.deployer(spec).teardown(target)
    finally:
        core.delete_namespace(source)


async def _set_load_balancer_address(core: k8s.CoreV1Api, namespace: str, name: str, ip: str) -> None:
    """What a cloud's load-balancer controller does, a little after the Service exists."""
    while True:
        try:
            core.read_namespaced_service(name, namespace)
            break
        except ApiException as exc:
            if exc.status != 404:
                raise
        await asyncio.sleep(0.2)  # wait-ok: polling for the Service helm creates
    await asyncio.sleep(1)  # wait-ok: the address comes after helm's wait is satisfied
    core.patch_namespaced_service_status(name, namespace, {"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}})


async def test_a_load_balancer_hub_gets_the_load_balancers_address_never_a_node_port(
    deploying: Deploying, local_cluster: LocalCluster
) -> None:
    spec = ClusterSpec(context=local_cluster.context, service_type="LoadBalancer")
    request = deploying.request(spec)
    deployer = deploying.deployer(spec, load_balancer_wait_seconds=60)
    controller = asyncio.create_task(
        _set_load_balancer_address(
            core_api(local_cluster), request.target.namespace, f"{request.target.release}-proxy-public", "198.51.100.7"
        )
    )
    try:
        deployed = await deployer.deploy(request, _ignore)
        assert deployed.url == "http://198.51.100.7/"
    finally:
        controller.cancel()
        await deployer.teardown(request.target)


async def test_a_load_balancer_that_never_gets_an_address_fails_plainly(
    deploying: Deploying, local_cluster: LocalCluster
) -> None:
    spec = ClusterSpec(context=local_cluster.context, service_type="LoadBalancer")
    deployer = deploying.deployer(spec, load_balancer_wait_seconds=3)
    request = deploying.request(spec)
    try:
        with pytest.raises(DeployError) as failed:
            await deployer.deploy(request, _ignore)
        assert failed.value.problem == LoadBalancerPending(3)
    finally:
        await deployer.teardown(request.target)
    assert not namespace_exists(core_api(local_cluster), request.target.namespace)


@pytest.fixture
def cordoned_node(local_cluster: LocalCluster) -> Iterator[str]:
    """A node with the most tempting address (an ExternalIP) that is cordoned: on its way out."""
    core = core_api(local_cluster)
    name = f"jh-leaving-{secrets.token_hex(3)}"
    node = k8s.V1Node(metadata=k8s.V1ObjectMeta(name=name), spec=k8s.V1NodeSpec(unschedulable=True))
    core.create_node(node)
    core.patch_node_status(name, {"status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.99"}]}})
    try:
        yield name
    finally:
        core.delete_node(name)


async def test_node_port_urls_use_a_ready_node_or_the_public_address(
    deploying: Deploying, local_cluster: LocalCluster, cordoned_node: str
) -> None:
    spec = ClusterSpec(context=local_cluster.context)
    request, url = await _deploy(deploying, spec)
    try:
        assert "203.0.113.99" not in url
        deployer = deploying.deployer(ClusterSpec(context=local_cluster.context, public_address="hubs.example.test"))
        node_port = url.rsplit(":", 1)[1].rstrip("/")
        assert await deployer.url(request.target) == f"http://hubs.example.test:{node_port}/"
    finally:
        await deploying.deployer(spec).teardown(request.target)
