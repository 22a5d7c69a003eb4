"""Where the bot reads a hub from inside the cluster: the proxy's Service by its DNS name."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from bot.core.environment import Target
from bot.core.policy import ClusterSpec
from bot.helm.activity import hub_api_url, service_api_url
from bot.helm.kube import ClusterConnection

TARGET = Target(cluster="dev", namespace="jh-lab-1a2b3c", release="jh-lab-1a2b3c")


def _connection(*, in_cluster: bool) -> ClusterConnection:
    api = k8s.ApiClient(k8s.Configuration())  # never called: in the cluster, reads need no API call
    helm: Any = None
    return ClusterConnection(
        name="dev",
        spec=ClusterSpec(),
        core=k8s.CoreV1Api(api),
        networking=k8s.NetworkingV1Api(api),
        rbac=k8s.RbacAuthorizationV1Api(api),
        authorization=k8s.AuthorizationV1Api(api),
        discovery=k8s.DiscoveryV1Api(api),
        helm=helm,
        in_cluster=in_cluster,
    )


def test_the_service_address_is_the_proxys_cluster_dns_name_on_port_80() -> None:
    assert service_api_url(TARGET) == "http://jh-lab-1a2b3c-proxy-public.jh-lab-1a2b3c.svc:80/hub/api"


async def test_inside_the_cluster_the_hub_is_read_through_its_service_never_its_public_url() -> None:
    async with hub_api_url(_connection(in_cluster=True), TARGET) as url:
        assert url == service_api_url(TARGET)
