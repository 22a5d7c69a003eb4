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
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psutil
import pyhelm3
import pyhelm3.errors as helm_errors
import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.core.environment import Target
from bot.core.errors import DeployError, InvalidChartValues
from bot.core.notices import DeployStep
from bot.core.ports import Deployed, HubRequest, Progress
from bot.core.problems import (
    ClusterUnreachable,
    CredentialsUnreadable,
    DeployTimedOut,
    HelmFailed,
    ImagePullFailed,
    KubernetesRefused,
    LoadBalancerPending,
    NamespaceNotOurs,
    NamespaceNotRemoved,
    NamespaceStillTerminating,
    NoNodeAddress,
    RightsNotEffective,
    TlsSecretUnavailable,
    ValuesRefused,
)
from bot.helm import activity, chart, urls
from bot.helm.chart import LABEL_ENVIRONMENT, LABEL_INSTALLATION, LABEL_MANAGED_BY, MANAGED_BY
from bot.helm.image_pulls import PullFailure, PullWatch, pull_failures
from bot.helm.kube import ClusterConnection, ClusterConnections
from bot.logs import redactor

__all__ = [
    "ACCESS_BINDING",
    "EnvironmentAccess",
    "HelmDeployer",
    "access_binding",
]

log = logging.getLogger(__name__)

_API_TIMEOUT = 15
_POLL_SECONDS = 1.0


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
    """What Helm's failure means; ``reachable`` is whether the API server answers now.
    Helm's own words are scrubbed of every registered secret before they are kept."""
    stderr = redactor.scrub(exc.stderr.decode(errors="replace").strip())
    lines = [line.removeprefix("Error: ").strip() for line in stderr.splitlines() if line.strip()]
    detail = lines[-1] if lines else f"helm exited with {exc.returncode}"
    if "schema" in stderr.lower():
        return InvalidChartValues(ValuesRefused("; ".join(lines)))
    lost = any(sign in stderr.lower() for sign in _UNREACHABLE_SIGNS)
    if not reachable or lost or isinstance(exc, helm_errors.ConnectionError):
        return DeployError(ClusterUnreachable())
    if "context deadline exceeded" in stderr or "timed out" in stderr.lower():
        return DeployError(DeployTimedOut(timeout_seconds))
    return DeployError(HelmFailed(detail))


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
        installation: str = MANAGED_BY,
        load_balancer_wait_seconds: float = 300,
    ) -> None:
        self._load_balancer_wait = load_balancer_wait_seconds
        self._connections = connections
        self._installation = installation
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

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        target = request.target
        labels = chart.managed_labels(self._installation)
        conn = await self._connections.get(target.cluster)
        async with self._explained(target.cluster, "deploying"):
            await self._ensure_namespace(conn, target.namespace, chart.namespace_labels(request, self._installation))
            if self._access is not None:
                await self._grant_access(conn, target.namespace, self._access, labels)
            hub_secrets = await self._ensure_hub_secret(conn, target, labels)
            if request.cluster.tls and request.cluster.tls.mode == "copy-secret":
                await self._copy_tls_secret(conn, target, str(request.cluster.tls.secret), labels)
            await progress(DeployStep.NAMESPACE_CREATED)
            await self._install(conn, request, watch_pulls=True)
            await progress(DeployStep.HUB_READY)
            url = await self._url(conn, target)
        return Deployed(url=url, username=chart.ADMIN_USER, password=hub_secrets.admin_password)

    async def hand_over(self, request: HubRequest, progress: Progress) -> Deployed:
        """Make the ready warm-pool hub in ``request.target`` the environment of ``request``:
        its namespace now names the new owner, and where the hub's address carries its name
        (an Ingress host) the release is upgraded to the new name. Nothing that runs changes
        (the pods' labels never do), so the hub answers throughout; its login is the one it
        was deployed with, which nobody has seen."""
        target = request.target
        conn = await self._connections.get(target.cluster)
        async with self._explained(target.cluster, "handing over a warm hub"):
            await self._ensure_namespace(conn, target.namespace, chart.namespace_labels(request, self._installation))
            try:
                hub_secrets = chart.HubSecrets.from_secret_data(await self._secret_data(conn, target))
            except (ApiException, KeyError) as exc:
                raise DeployError(CredentialsUnreadable()) from exc
            redactor.register(target.namespace, *hub_secrets)
            if chart.ingress_host(request.name, target.namespace, request.cluster) is not None:
                await self._install(conn, request, watch_pulls=False)
            await progress(DeployStep.HUB_READY)
            url = await self._url(conn, target)
        return Deployed(url=url, username=chart.ADMIN_USER, password=hub_secrets.admin_password)

    async def chart_version(self, cluster: str) -> str:
        """The chart deploys on ``cluster`` use (name and version): pool hubs deployed from
        another are out of date."""
        conn = await self._connections.get(cluster)
        metadata = (await self._chart(conn)).metadata
        return f"{metadata.name}-{metadata.version}"

    @asynccontextmanager
    async def _explained(self, cluster: str, doing: str) -> AsyncIterator[None]:
        """Helm's and Kubernetes' failures as the problems they mean."""
        try:
            yield
        except helm_errors.Error as exc:
            raise _helm_problem(exc, self._timeout, reachable=await self._reachable(cluster)) from None
        except ApiException as exc:
            raise DeployError(KubernetesRefused(exc.status or 0, str(exc.reason), doing)) from None
        except urllib3.exceptions.HTTPError:
            raise DeployError(ClusterUnreachable()) from None

    async def _install(self, conn: ClusterConnection, request: HubRequest, *, watch_pulls: bool) -> None:
        """``helm upgrade --install --wait`` of our chart for ``request``."""
        target = request.target
        values = chart.build_values(request, installation=self._installation, api_server=await self._api_server(conn))
        helm_chart = await self._chart(conn)
        # A bot killed mid-install leaves the release pending; Helm refuses to touch it
        # until it is rolled back or removed, which this does (nothing if all is well).
        await conn.helm.get_proceedable_revision(
            target.release, namespace=target.namespace, timeout=f"{self._timeout}s"
        )
        install = conn.helm.install_or_upgrade_release(
            target.release,
            helm_chart,
            values,
            namespace=target.namespace,
            create_namespace=False,
            wait=True,
            timeout=f"{self._timeout}s",
        )
        if watch_pulls:
            await self._install_watching_pulls(conn, target, install)
        else:
            await install

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
            log.warning(
                "image %s of pod %s in %s cannot be pulled (%s)",
                failure.image,
                failure.pod,
                target.namespace,
                failure.reason,
            )
            raise DeployError(ImagePullFailed(failure.image, failure.reason, failure.container))
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
            raise DeployError(KubernetesRefused(exc.status or 0, str(exc.reason), "reading the namespace")) from None
        if not self._ours(namespace):
            raise DeployError(NamespaceNotOurs(target.namespace))
        if not (namespace.status and namespace.status.phase == "Terminating"):
            if self._access is not None:
                # A deploy may have died between creating the namespace and binding us in it.
                labels = {LABEL_MANAGED_BY: MANAGED_BY, LABEL_INSTALLATION: self._installation}
                await self._grant_access(conn, target.namespace, self._access, labels)
            try:
                await conn.helm.uninstall_release(
                    target.release, namespace=target.namespace, wait=True, timeout=f"{self._timeout}s"
                )
            except helm_errors.Error as exc:
                stderr = exc.stderr.decode(errors="replace").strip()
                if "not found" not in stderr.lower():
                    raise DeployError(HelmFailed(redactor.scrub(stderr), removing=True)) from None
        await self._delete_namespace(conn, target.namespace)
        redactor.forget(target.namespace)

    async def credentials(self, target: Target) -> tuple[str, str]:
        password = await self._secret_value(target, chart.ADMIN_PASSWORD_KEY)
        redactor.register(target.namespace, password)
        return chart.ADMIN_USER, password

    async def hub_token(self, target: Target) -> str:
        """The bot's read-only API token for the hub (activity only)."""
        token = await self._secret_value(target, chart.BOT_API_TOKEN_KEY)
        redactor.register(target.namespace, token)
        return token

    @asynccontextmanager
    async def hub_api_url(self, target: Target) -> AsyncIterator[str]:
        """Where the bot reads the hub's API, inside the cluster (see :mod:`bot.helm.activity`)."""
        conn = await self._connections.get(target.cluster)
        async with activity.hub_api_url(conn, target) as url:
            yield url

    async def _secret_value(self, target: Target, key: str) -> str:
        conn = await self._connections.get(target.cluster)
        try:
            data = await self._secret_data(conn, target)
        except (ApiException, KeyError) as exc:
            raise DeployError(CredentialsUnreadable()) from exc
        return data[key]

    async def _secret_data(self, conn: ClusterConnection, target: Target) -> dict[str, str]:
        secret: Any = await asyncio.to_thread(
            conn.core.read_namespaced_secret,
            chart.hub_secret_name(target.release),
            target.namespace,
            _request_timeout=_API_TIMEOUT,
        )
        return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}

    async def check(self, cluster: str) -> None:
        conn = await self._connections.get(cluster)
        await asyncio.to_thread(k8s.VersionApi(conn.core.api_client).get_code, _request_timeout=5)

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        conn = await self._connections.get(cluster)
        found: Any = await asyncio.to_thread(
            conn.core.list_namespace,
            label_selector=f"{LABEL_INSTALLATION}={self._installation}",
            _request_timeout=_API_TIMEOUT,
        )
        # A namespace being deleted is on its way out, not an orphan.
        return {
            ns.metadata.name: (ns.metadata.labels or {}).get(LABEL_ENVIRONMENT, "")
            for ns in found.items
            if not (ns.status and ns.status.phase == "Terminating")
        }

    # -- steps ------------------------------------------------------------------------------

    async def _ensure_namespace(self, conn: ClusterConnection, name: str, labels: dict[str, str | None]) -> None:
        """Our namespace ``name`` with ``labels`` (``None``: the label is absent)."""
        present = {key: value for key, value in labels.items() if value is not None}
        body = k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=present))
        try:
            await asyncio.to_thread(conn.core.create_namespace, body, _request_timeout=_API_TIMEOUT)
            return
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing: Any = await asyncio.to_thread(conn.core.read_namespace, name, _request_timeout=_API_TIMEOUT)
        if not self._ours(existing):
            raise DeployError(NamespaceNotOurs(name))
        if existing.status and existing.status.phase == "Terminating":
            raise DeployError(NamespaceStillTerminating(name))
        current = existing.metadata.labels or {}
        if any(current.get(key) != value for key, value in labels.items()):
            # A warm pool's hub changing hands: a merge patch, in which None removes a label.
            await asyncio.to_thread(
                conn.core.patch_namespace, name, {"metadata": {"labels": labels}}, _request_timeout=_API_TIMEOUT
            )

    def _ours(self, namespace: Any) -> bool:
        """Whether ``namespace`` (a V1Namespace) belongs to this installation."""
        return bool((namespace.metadata.labels or {}).get(LABEL_INSTALLATION) == self._installation)

    async def _ensure_hub_secret(
        self, conn: ClusterConnection, target: Target, labels: dict[str, str]
    ) -> chart.HubSecrets:
        """The hub's credentials, in a Secret the bot creates through the API: Helm never sees
        them, so its release history holds none. A repeated deploy (after a crash) finds the
        Secret there and keeps its values, so a hub already running keeps its login."""
        fresh = chart.HubSecrets.generate()
        # Registered before anything can fail, so not even Helm's or Kubernetes' errors leak them.
        redactor.register(target.namespace, *fresh)
        body: Any = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": chart.hub_secret_name(target.release),
                "namespace": target.namespace,
                "labels": labels,
            },
            "stringData": fresh.secret_data(),
        }
        try:
            await asyncio.to_thread(
                conn.core.create_namespaced_secret, target.namespace, body, _request_timeout=_API_TIMEOUT
            )
            return fresh
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing = chart.HubSecrets.from_secret_data(await self._secret_data(conn, target))
        redactor.register(target.namespace, *existing)
        return existing

    async def _copy_tls_secret(
        self, conn: ClusterConnection, target: Target, source: str, labels: dict[str, str]
    ) -> None:
        """A copy of the cluster's wildcard certificate in the hub's namespace, where its Ingress
        looks for it (fresh on every deploy, so a renewed certificate reaches new hubs)."""
        namespace, _, name = source.partition("/")
        try:
            original: Any = await asyncio.to_thread(
                conn.core.read_namespaced_secret, name, namespace, _request_timeout=_API_TIMEOUT
            )
        except ApiException as exc:
            raise DeployError(TlsSecretUnavailable(source, exc.status or 0)) from None
        body: Any = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": original.type or "kubernetes.io/tls",
            "metadata": {
                "name": chart.tls_secret_name(target.release),
                "namespace": target.namespace,
                "labels": labels,
            },
            "data": {key: original.data[key] for key in ("tls.crt", "tls.key") if key in (original.data or {})},
        }
        try:
            await asyncio.to_thread(
                conn.core.create_namespaced_secret, target.namespace, body, _request_timeout=_API_TIMEOUT
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
            await asyncio.to_thread(
                conn.core.replace_namespaced_secret,
                body["metadata"]["name"],
                target.namespace,
                body,
                _request_timeout=_API_TIMEOUT,
            )

    async def _api_server(self, conn: ClusterConnection) -> chart.ApiServer | None:
        """Where the API server really listens, from the ``kubernetes`` EndpointSlice, so the
        hub's egress can be limited to exactly that; ``None`` (the chart's fallback: any
        address on the usual ports) if it cannot be read."""
        try:
            found: Any = await asyncio.to_thread(
                conn.discovery.read_namespaced_endpoint_slice, "kubernetes", "default", _request_timeout=_API_TIMEOUT
            )
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            log.warning("could not read the API server's addresses (%s); the hub may reach any on 443/6443", exc)
            return None
        addresses = sorted({a for endpoint in found.endpoints or [] for a in endpoint.addresses or []})
        ports = sorted({p.port for p in found.ports or [] if p.port})
        return chart.ApiServer(tuple(addresses), tuple(ports)) if addresses and ports else None

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
                raise DeployError(RightsNotEffective())
            await asyncio.sleep(_POLL_SECONDS / 4)

    async def _delete_namespace(self, conn: ClusterConnection, name: str) -> None:
        try:
            await asyncio.to_thread(conn.core.delete_namespace, name, _request_timeout=_API_TIMEOUT)
        except ApiException as exc:
            if exc.status == 404:
                return
            if exc.status != 409:  # 409: it is already being deleted; wait for it below
                raise DeployError(
                    KubernetesRefused(exc.status or 0, str(exc.reason), "deleting the namespace")
                ) from None
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            try:
                await asyncio.to_thread(conn.core.read_namespace, name, _request_timeout=_API_TIMEOUT)
            except ApiException as exc:
                if exc.status == 404:
                    return
                raise
            await asyncio.sleep(_POLL_SECONDS)
        raise DeployError(NamespaceNotRemoved(name, self._timeout))

    async def url(self, target: Target) -> str:
        """Where the hub of ``target`` answers now (a NodePort URL follows the cluster's nodes)."""
        conn = await self._connections.get(target.cluster)
        try:
            return await self._url(conn, target)
        except ApiException as exc:
            raise DeployError(
                KubernetesRefused(exc.status or 0, str(exc.reason), "reading the hub's address")
            ) from None
        except urllib3.exceptions.HTTPError:
            raise DeployError(ClusterUnreachable()) from None

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
            return f"{'https' if chart.uses_https(spec) else 'http'}://{host}/"
        service: Any = await self._public_service(conn, target)
        if service.spec.type == "LoadBalancer":
            return f"http://{await self._load_balancer_address(conn, target, service)}/"
        if service.spec.type == "ClusterIP":
            return f"http://{service.metadata.name}.{target.namespace}.svc/"
        node_port = next(p.node_port for p in service.spec.ports if p.node_port)
        return f"http://{await self._node_address(conn)}:{node_port}/"

    async def _public_service(self, conn: ClusterConnection, target: Target) -> Any:
        return await asyncio.to_thread(
            conn.core.read_namespaced_service,
            chart.public_service_name(target.release),
            target.namespace,
            _request_timeout=_API_TIMEOUT,
        )

    async def _load_balancer_address(self, conn: ClusterConnection, target: Target, service: Any) -> str:
        """Helm's wait counts a LoadBalancer Service ready once it has a cluster IP; the external
        address can come minutes later. Wait for it (bounded), and never fall back to a node."""
        deadline = time.monotonic() + self._load_balancer_wait
        while (address := urls.load_balancer_address(service)) is None:
            if time.monotonic() > deadline:
                raise DeployError(LoadBalancerPending(int(self._load_balancer_wait)))
            await asyncio.sleep(_POLL_SECONDS * 2)
            service = await self._public_service(conn, target)
        return address

    async def _node_address(self, conn: ClusterConnection) -> str:
        if conn.spec.public_address:
            return conn.spec.public_address
        nodes: Any = await asyncio.to_thread(conn.core.list_node, _request_timeout=_API_TIMEOUT)
        address = urls.ready_node_address(nodes.items)
        if address is None:
            raise DeployError(NoNodeAddress())
        return address
