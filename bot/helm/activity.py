"""Where the bot reads an environment's hub: inside the cluster's trust boundary, never
through the environment's public URL.

- The bot runs in the cluster (in-cluster configuration): the proxy's Service by its
  cluster DNS name, ``http://<release>-proxy-public.<namespace>.svc:80/hub/api``.
- The bot runs outside (a kubeconfig): a port-forward to the pod behind that Service,
  through the API server, as ``kubectl port-forward`` opens one
  (:mod:`bot.helm.port_forward`): TLS to the API server with the kube client's own
  credentials, and from there the API server's connection to the kubelet. The hub's
  token travels inside that stream, so it never crosses a network the cluster does not
  trust.

Not the API server's service proxy (``…/services/http:<name>:http/proxy/hub/api``): once
the API server has authenticated a request it deletes its Authorization header (by
design, kubernetes/kubernetes#38775), and JupyterHub reads API tokens from that header
only, so every read would be refused (seen: kube-apiserver 1.34, JupyterHub 5.5, 403).

The generic JupyterHub reading (pagination, limits, deadline) is :mod:`bot.hub.activity`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

import urllib3
from kubernetes.client.exceptions import ApiException

from bot.core.environment import Environment, Target
from bot.helm import chart
from bot.helm.kube import ClusterConnection
from bot.helm.port_forward import PortForward, Tunnel, TunnelRelay
from bot.hub.activity import HubActivityReader, HubApi, HubUnreachable

__all__ = ["EnvironmentActivity", "HubAccess", "hub_api_url", "service_api_url"]

_API_TIMEOUT = 10


class HubAccess(Protocol):
    """What reading a hub needs from the deployer: its token and where its API answers."""

    async def hub_token(self, target: Target) -> str:
        """The bot's read-only API token for the hub in ``target``."""
        ...

    def hub_api_url(self, target: Target) -> AbstractAsyncContextManager[str]:
        """The hub's REST API base URL (``…/hub/api``), reachable while the context is open."""
        ...


class EnvironmentActivity:
    """The core's :class:`~bot.core.ports.HubActivity`: our chart's token (read from the
    environment's namespace once, then cached) and the address the deployer gives."""

    def __init__(self, access: HubAccess, reader: HubActivityReader) -> None:
        self._access = access
        self._reader = reader
        self._tokens: dict[str, str] = {}

    async def _token(self, env: Environment) -> str:
        if env.id not in self._tokens:
            self._tokens[env.id] = await self._access.hub_token(env.target)
        return self._tokens[env.id]

    async def latest_activity(self, env: Environment) -> datetime | None:
        @asynccontextmanager
        async def opened() -> AsyncIterator[HubApi]:
            token = await self._token(env)
            async with self._access.hub_api_url(env.target) as url:
                yield HubApi(url, token)

        return await self._reader.latest_activity(opened)

    def forget(self, env: Environment) -> None:
        self._tokens.pop(env.id, None)

    async def close(self) -> None:
        await self._reader.close()


def service_api_url(target: Target) -> str:
    """The hub's API through the proxy's Service, by its name inside the cluster."""
    return f"http://{chart.public_service_name(target.release)}.{target.namespace}.svc:80/hub/api"


@asynccontextmanager
async def hub_api_url(conn: ClusterConnection, target: Target) -> AsyncIterator[str]:
    """Where the bot reads the hub in ``target``, open for as long as the context is."""
    if conn.in_cluster:
        yield service_api_url(target)
        return
    pod, port = await _pod_behind_service(conn, target)
    configuration = conn.core.api_client.configuration

    async def open_tunnel() -> Tunnel:
        return await PortForward.open(configuration, target.namespace, pod, port)

    async with TunnelRelay(open_tunnel, name=f"port-forward to {target.namespace}/{pod}:{port}") as base_url:
        yield f"{base_url}/hub/api"


async def _pod_behind_service(conn: ClusterConnection, target: Target) -> tuple[str, int]:
    """A ready pod behind the proxy's public Service, and the port its ``http`` port targets."""
    name = chart.public_service_name(target.release)
    try:
        service: Any = await asyncio.to_thread(
            conn.core.read_namespaced_service, name, target.namespace, _request_timeout=_API_TIMEOUT
        )
        selector = service.spec.selector or {}
        if not selector:
            raise HubUnreachable(f"service {target.namespace}/{name} selects no pods")
        pods: Any = await asyncio.to_thread(
            conn.core.list_namespaced_pod,
            target.namespace,
            label_selector=",".join(f"{key}={value}" for key, value in sorted(selector.items())),
            _request_timeout=_API_TIMEOUT,
        )
    except ApiException as exc:
        raise HubUnreachable(f"could not find the pod behind {target.namespace}/{name} ({exc.status})") from None
    except urllib3.exceptions.HTTPError as exc:
        raise HubUnreachable(f"the API server did not answer ({type(exc).__name__})") from None
    target_port = next((p.target_port for p in service.spec.ports or [] if p.name == "http"), None)
    for pod in pods.items:
        if _ready(pod) and (port := _container_port(pod, target_port)) is not None:
            return str(pod.metadata.name), port
    raise HubUnreachable(f"no ready pod behind {target.namespace}/{name}")


def _ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None or (pod.status and pod.status.phase) != "Running":
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _container_port(pod: Any, target_port: int | str | None) -> int | None:
    """The number a Service's ``targetPort`` (a number or a port name) means in ``pod``."""
    if isinstance(target_port, int):
        return target_port
    if isinstance(target_port, str) and target_port.isdigit():
        return int(target_port)
    for container in pod.spec.containers or []:
        for port in container.ports or []:
            if port.name == target_port:
                return int(port.container_port)
    return None
