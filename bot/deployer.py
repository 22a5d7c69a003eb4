"""Deploy and tear down one environment: a namespace, a Helm release of our chart, its URL.

Every step is safe to repeat: an existing namespace of ours is reused, ``helm upgrade
--install`` converges, a missing release or namespace counts as already removed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import psutil
import pyhelm3
import pyhelm3.errors as helm_errors
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.durations import format_duration
from bot.errors import DeployError, InvalidChartValues
from bot.image_pulls import PullFailure, PullWatch, pull_failures
from bot.kube import ClusterConnection, ClusterConnections
from bot.values import LABEL_ENVIRONMENT, LABEL_MANAGED_BY, MANAGED_BY

__all__ = [
    "ACCESS_BINDING",
    "Deployer",
    "EnvironmentAccess",
    "HelmDeployer",
    "Progress",
    "Target",
    "access_binding",
    "redact",
]

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]
_API_TIMEOUT = 15
_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Target:
    cluster: str
    namespace: str
    release: str

    @property
    def secret_name(self) -> str:
        return f"{self.release}-hub"


ACCESS_BINDING = "jupyterhub-bot"


@dataclass(frozen=True)
class EnvironmentAccess:
    """Rights the bot grants itself in each namespace it creates, and only there.

    With least-privilege RBAC the bot holds no rights inside namespaces cluster-wide;
    right after creating an environment's namespace it binds its own ServiceAccount
    to ``cluster_role`` there, so Helm can install the chart."""

    cluster_role: str
    service_account_namespace: str
    service_account: str


def access_binding(namespace: str, access: EnvironmentAccess, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": ACCESS_BINDING, "namespace": namespace, "labels": labels},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": access.cluster_role},
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": access.service_account,
                "namespace": access.service_account_namespace,
            }
        ],
    }


class Deployer(Protocol):
    async def deploy(self, target: Target, values: dict[str, Any], labels: dict[str, str], progress: Progress) -> str:
        """Install or converge the release; return the hub's URL once it is ready."""
        ...

    async def teardown(self, target: Target) -> None:
        """Remove the release and the namespace; return once the namespace is gone."""
        ...

    async def admin_password(self, target: Target) -> str: ...

    async def hub_token(self, target: Target) -> str:
        """The bot's read-only API token for the hub (activity only)."""
        ...

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        """Namespaces carrying our label, mapped to their environment id."""
        ...

    async def check(self, cluster: str) -> None:
        """Raise if the cluster's API server cannot be reached."""
        ...


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def _secret_strings(values: dict[str, Any]) -> list[str]:
    hub = values.get("hub", {})
    proxy = values.get("proxy", {})
    return [hub.get("adminPassword", ""), hub.get("botApiToken", ""), proxy.get("secretToken", "")]


UNREACHABLE = "The cluster could not be reached; please try again later."
# How Helm (Go's net/http) says the API server went away, in its error text.
_UNREACHABLE_SIGNS = (
    "cluster unreachable",
    "connection refused",
    "connection reset",
    "no route to host",
    "network is unreachable",
    "i/o timeout",
    "tls handshake timeout",
)


def _helm_problem(exc: helm_errors.Error, timeout_seconds: int, *, reachable: bool = True) -> DeployError:
    """Helm's failure in plain words; ``reachable`` is whether the API server answers now."""
    stderr = exc.stderr.decode(errors="replace").strip()
    lines = [line.removeprefix("Error: ").strip() for line in stderr.splitlines() if line.strip()]
    detail = lines[-1] if lines else f"helm exited with {exc.returncode}"
    if "schema" in stderr.lower():
        return InvalidChartValues(f"The chart refused the environment's settings: {'; '.join(lines)}")
    lost = any(sign in stderr.lower() for sign in _UNREACHABLE_SIGNS)
    if not reachable or lost or isinstance(exc, helm_errors.ConnectionError):
        return DeployError(UNREACHABLE)
    if "context deadline exceeded" in stderr or "timed out" in stderr.lower():
        return DeployError(
            f"The hub did not become ready within {format_duration(timedelta(seconds=timeout_seconds))} "
            "(images may be slow to pull, or the cluster is short of capacity)."
        )
    return DeployError(f"Helm could not install the hub: {detail}")


def stop_helm(release: str, namespace: str) -> None:
    """Ask the helm processes working on ``release`` to stop (SIGTERM: Helm cancels and exits).

    Cancelling a pyhelm3 call is not enough: pyhelm3 starts helm through ``/bin/sh -c``
    and terminates only that shell, and dash, Debian's /bin/sh, forks helm rather than
    exec'ing it, so helm would go on waiting (up to the whole deploy timeout) while the
    release is being removed under it."""
    for process in psutil.Process().children(recursive=True):
        try:
            argv = process.cmdline()
        except psutil.Error:
            continue  # already gone, or not ours to read
        if release in argv and _flag(argv, "--namespace") == namespace:
            with contextlib.suppress(psutil.Error):
                process.terminate()


def _flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


class HelmDeployer:
    def __init__(
        self,
        connections: ClusterConnections,
        *,
        chart_ref: str,
        chart_version: str = "",
        timeout_seconds: int = 600,
        access: EnvironmentAccess | None = None,
        image_pull_grace_seconds: float = 60,
    ) -> None:
        self._connections = connections
        self._chart_ref = chart_ref
        self._chart_version = chart_version or None
        self._timeout = timeout_seconds
        self._access = access
        self._image_pull_grace = image_pull_grace_seconds
        self._charts: dict[str, pyhelm3.Chart] = {}

    async def _chart(self, conn: ClusterConnection) -> pyhelm3.Chart:
        if conn.name not in self._charts:
            self._charts[conn.name] = await conn.helm.get_chart(self._chart_ref, version=self._chart_version)
        return self._charts[conn.name]

    async def deploy(self, target: Target, values: dict[str, Any], labels: dict[str, str], progress: Progress) -> str:
        conn = await self._connections.get(target.cluster)
        secrets = _secret_strings(values)
        try:
            await self._ensure_namespace(conn, target.namespace, labels)
            if self._access is not None:
                await self._grant_access(conn, target.namespace, self._access, labels)
            await progress("namespace created")
            chart = await self._chart(conn)
            # A bot killed mid-install leaves the release pending; Helm refuses to touch it
            # until it is rolled back or removed, which this does (nothing if all is well).
            await conn.helm.get_proceedable_revision(
                target.release, namespace=target.namespace, timeout=f"{self._timeout}s"
            )
            await self._install_watching_pulls(
                conn,
                target,
                conn.helm.install_or_upgrade_release(
                    target.release,
                    chart,
                    values,
                    namespace=target.namespace,
                    create_namespace=False,
                    wait=True,
                    timeout=f"{self._timeout}s",
                ),
            )
            await progress("chart installed, hub ready")
            return await self._url(conn, target)
        except helm_errors.Error as exc:
            problem = _helm_problem(exc, self._timeout, reachable=await self._reachable(target.cluster))
            raise type(problem)(redact(problem.user_message, secrets)) from None
        except ApiException as exc:
            raise DeployError(f"Kubernetes refused a request ({exc.status} {exc.reason}) while deploying.") from None
        except urllib3.exceptions.HTTPError:
            raise DeployError(UNREACHABLE) from None

    async def _install_watching_pulls(
        self, conn: ClusterConnection, target: Target, install: Coroutine[Any, Any, object]
    ) -> None:
        """Run Helm's install-and-wait; stop it early if an image cannot be pulled."""
        installing = asyncio.ensure_future(install)
        watching = asyncio.ensure_future(self._first_pull_failure(conn, target.namespace))
        try:
            await asyncio.wait((installing, watching), return_when=asyncio.FIRST_COMPLETED)
            if installing.done():
                installing.result()
                return
            failure = watching.result()
            log.warning("image pull failed in %s (pod %s): %s", target.namespace, failure.pod, failure.user_message)
            raise DeployError(failure.user_message)
        finally:
            watching.cancel()
            if not installing.done():
                stop_helm(target.release, target.namespace)
                installing.cancel()
            await asyncio.gather(installing, watching, return_exceptions=True)

    async def _first_pull_failure(self, conn: ClusterConnection, namespace: str) -> PullFailure:
        watch = PullWatch(self._image_pull_grace)
        while True:
            await asyncio.sleep(_POLL_SECONDS)
            try:
                response: Any = await asyncio.to_thread(
                    conn.core.list_namespaced_pod, namespace, _request_timeout=_API_TIMEOUT, _preload_content=False
                )
                pods = json.loads(response.data)["items"]
            except (ApiException, urllib3.exceptions.HTTPError, ValueError, KeyError):
                continue  # an unreachable API server is Helm's to report
            failure = watch.observe(pull_failures(pods))
            if failure is not None:
                return failure

    async def _reachable(self, cluster: str) -> bool:
        try:
            await asyncio.wait_for(self.check(cluster), 10)
        except Exception:
            return False
        return True

    async def teardown(self, target: Target) -> None:
        conn = await self._connections.get(target.cluster)
        try:
            namespace: Any = await asyncio.to_thread(
                conn.core.read_namespace, target.namespace, _request_timeout=_API_TIMEOUT
            )
        except ApiException as exc:
            if exc.status == 404:
                return  # already gone, and the release with it
            raise DeployError(f"Kubernetes refused to read the namespace ({exc.status} {exc.reason}).") from None
        if not (namespace.status and namespace.status.phase == "Terminating"):
            if self._access is not None:
                # A deploy may have died between creating the namespace and binding us in it.
                await self._grant_access(conn, target.namespace, self._access, {LABEL_MANAGED_BY: MANAGED_BY})
            try:
                await conn.helm.uninstall_release(
                    target.release, namespace=target.namespace, wait=True, timeout=f"{self._timeout}s"
                )
            except helm_errors.Error as exc:
                stderr = exc.stderr.decode(errors="replace").strip()
                if "not found" not in stderr.lower():
                    raise DeployError(f"Helm could not remove the hub: {stderr}") from None
        await self._delete_namespace(conn, target.namespace)

    async def admin_password(self, target: Target) -> str:
        return await self._secret_value(target, "admin-password")

    async def hub_token(self, target: Target) -> str:
        return await self._secret_value(target, "bot-api-token")

    async def _secret_value(self, target: Target, key: str) -> str:
        conn = await self._connections.get(target.cluster)
        try:
            secret: Any = await asyncio.to_thread(
                conn.core.read_namespaced_secret,
                target.secret_name,
                target.namespace,
                _request_timeout=_API_TIMEOUT,
            )
        except ApiException as exc:
            raise DeployError("The hub's credentials could not be read from the cluster.") from exc
        return base64.b64decode(secret.data[key]).decode()

    async def check(self, cluster: str) -> None:
        conn = await self._connections.get(cluster)
        await asyncio.to_thread(k8s.VersionApi(conn.core.api_client).get_code, _request_timeout=5)

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        conn = await self._connections.get(cluster)
        found: Any = await asyncio.to_thread(
            conn.core.list_namespace,
            label_selector=f"{LABEL_MANAGED_BY}={MANAGED_BY}",
            _request_timeout=_API_TIMEOUT,
        )
        # A namespace being deleted is on its way out, not an orphan.
        return {
            ns.metadata.name: (ns.metadata.labels or {}).get(LABEL_ENVIRONMENT, "")
            for ns in found.items
            if not (ns.status and ns.status.phase == "Terminating")
        }

    # -- steps ------------------------------------------------------------------------------

    async def _ensure_namespace(self, conn: ClusterConnection, name: str, labels: dict[str, str]) -> None:
        body = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels))
        try:
            await asyncio.to_thread(conn.core.create_namespace, body, _request_timeout=_API_TIMEOUT)
            return
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing: Any = await asyncio.to_thread(conn.core.read_namespace, name, _request_timeout=_API_TIMEOUT)
        if (existing.metadata.labels or {}).get(LABEL_MANAGED_BY) != MANAGED_BY:
            raise DeployError(f"The namespace `{name}` already exists and is not managed by this bot.")
        if existing.status and existing.status.phase == "Terminating":
            raise DeployError(f"The namespace `{name}` is still being removed; try again in a minute.")

    async def _grant_access(
        self, conn: ClusterConnection, namespace: str, access: EnvironmentAccess, labels: dict[str, str]
    ) -> None:
        # The client takes a plain dict as well as its model classes.
        body: Any = access_binding(namespace, access, labels)
        try:
            await asyncio.to_thread(
                conn.rbac.create_namespaced_role_binding, namespace, body, _request_timeout=_API_TIMEOUT
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
        await self._until_allowed(conn, namespace)

    async def _until_allowed(self, conn: ClusterConnection, namespace: str) -> None:
        """A new RoleBinding takes a moment to reach the API server's authorizer; ask until it has."""
        review: Any = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": namespace, "verb": "list", "resource": "secrets"}},
        }
        deadline = time.monotonic() + 30
        while True:
            answer: Any = await asyncio.to_thread(
                conn.authorization.create_self_subject_access_review, review, _request_timeout=_API_TIMEOUT
            )
            if answer.status.allowed:
                return
            if time.monotonic() > deadline:
                raise DeployError("The bot's rights in the new namespace did not take effect; ask an admin.")
            await asyncio.sleep(_POLL_SECONDS / 4)

    async def _delete_namespace(self, conn: ClusterConnection, name: str) -> None:
        try:
            await asyncio.to_thread(conn.core.delete_namespace, name, _request_timeout=_API_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return
            if exc.status != 409:  # 409: it is already being deleted; wait for it below
                raise DeployError(f"Kubernetes refused to delete the namespace ({exc.status} {exc.reason}).") from None
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            try:
                await asyncio.to_thread(conn.core.read_namespace, name, _request_timeout=_API_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise
            await asyncio.sleep(_POLL_SECONDS)
        limit = format_duration(timedelta(seconds=self._timeout))
        raise DeployError(f"The namespace `{name}` was not removed within {limit}.")

    async def _url(self, conn: ClusterConnection, target: Target) -> str:
        spec = conn.spec
        if spec.base_domain:
            ingress: Any = await asyncio.to_thread(
                conn.networking.read_namespaced_ingress,
                target.release,
                target.namespace,
                _request_timeout=_API_TIMEOUT,
            )
            host = ingress.spec.rules[0].host
            return f"{'https' if spec.tls_secret else 'http'}://{host}/"
        service: Any = await asyncio.to_thread(
            conn.core.read_namespaced_service,
            f"{target.release}-proxy-public",
            target.namespace,
            _request_timeout=_API_TIMEOUT,
        )
        if service.spec.type == "LoadBalancer" and service.status.load_balancer.ingress:
            entry = service.status.load_balancer.ingress[0]
            return f"http://{entry.hostname or entry.ip}/"
        if service.spec.type == "ClusterIP":
            return f"http://{service.metadata.name}.{target.namespace}.svc/"
        node_port = next(p.node_port for p in service.spec.ports if p.node_port)
        return f"http://{await self._node_address(conn)}:{node_port}/"

    async def _node_address(self, conn: ClusterConnection) -> str:
        if conn.spec.public_address:
            return conn.spec.public_address
        nodes: Any = await asyncio.to_thread(conn.core.list_node, _request_timeout=_API_TIMEOUT)
        for kind in ("ExternalIP", "ExternalDNS", "InternalIP", "Hostname"):
            for node in nodes.items:
                for address in node.status.addresses or []:
                    if address.type == kind:
                        return str(address.address)
        raise DeployError("The cluster has no node address to reach the hub at.")
