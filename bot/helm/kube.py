"""Connections to the clusters named in the policy: one Kubernetes API client and one Helm
client per cluster, created on first use."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyhelm3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from bot.core.errors import DeployError
from bot.core.policy.model import ClusterSpec
from bot.core.problems import ClusterNotConfigured

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

    def configuration_problem(self, name: str) -> str | None:
        """Why the bot could not even try to reach cluster ``name`` (``None`` if it can try):
        no kubeconfig and not inside a cluster, a context the kubeconfig lacks, no helm."""
        try:
            self._api_client(self._clusters[name])
        except (k8s_config.ConfigException, OSError, ValueError, KeyError) as exc:
            if not self._kubeconfig:
                return f"no KUBECONFIG is set and the bot is not running inside a cluster ({_first_line(exc)})"
            return _first_line(exc)
        if shutil.which(self._helm_binary) is None:
            return f"no helm executable '{self._helm_binary}' (HELM_BINARY)"
        return None

    def _api_client(self, spec: ClusterSpec) -> k8s.ApiClient:
        if self._kubeconfig:
            api: k8s.ApiClient = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=self._kubeconfig, context=spec.context
            )
            return api
        configuration = k8s.Configuration()
        k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        return k8s.ApiClient(configuration)

    def _connect(self, name: str) -> ClusterConnection:
        spec = self._clusters[name]
        problem = self.configuration_problem(name)
        if problem is not None:
            raise DeployError(ClusterNotConfigured(name, problem))
        api = self._api_client(spec)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
