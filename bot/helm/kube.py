"""Connections to the clusters named in the policy: one Kubernetes API client and one Helm
client per cluster, created on first use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pyhelm3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.core.policy.model import ClusterSpec

__all__ = ["ClusterConnection", "ClusterConnections"]


@dataclass(frozen=True)
class ClusterConnection:
    name: str
    spec: ClusterSpec
    core: k8s.CoreV1Api
    networking: k8s.NetworkingV1Api
    rbac: k8s.RbacAuthorizationV1Api
    authorization: k8s.AuthorizationV1Api
    discovery: k8s.DiscoveryV1Api
    helm: pyhelm3.Client
    # The bot runs inside this cluster (in-cluster configuration, no kubeconfig).
    in_cluster: bool = False


class ClusterConnections:
    def __init__(
        self,
        clusters: dict[str, ClusterSpec],
        *,
        kubeconfig: str,
        helm_binary: str,
        helm_timeout_seconds: int,
    ) -> None:
        self._clusters = clusters
        self._kubeconfig = kubeconfig
        self._helm_binary = helm_binary
        self._helm_timeout = helm_timeout_seconds
        self._connections: dict[str, ClusterConnection] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str) -> ClusterConnection:
        if name in self._connections:
            return self._connections[name]
        async with self._lock:
            if name not in self._connections:
                # Both constructors block (kubeconfig parsing, `helm version`): keep them off the loop.
                self._connections[name] = await asyncio.to_thread(self._connect, name)
        return self._connections[name]

    def _connect(self, name: str) -> ClusterConnection:
        spec = self._clusters[name]
        if self._kubeconfig:
            api = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=self._kubeconfig, context=spec.context
            )
        else:
            configuration = k8s.Configuration()
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            api = k8s.ApiClient(configuration)
        helm = pyhelm3.Client(
            executable=self._helm_binary,
            kubeconfig=Path(self._kubeconfig) if self._kubeconfig else None,
            kubecontext=spec.context,
            default_timeout=f"{self._helm_timeout}s",
        )
        return ClusterConnection(
            name=name,
            spec=spec,
            core=k8s.CoreV1Api(api),
            networking=k8s.NetworkingV1Api(api),
            rbac=k8s.RbacAuthorizationV1Api(api),
            authorization=k8s.AuthorizationV1Api(api),
            discovery=k8s.DiscoveryV1Api(api),
            helm=helm,
            in_cluster=not self._kubeconfig,
        )
