"""Everything the bot knows about our chart (``charts/jupyterhub``): its value keys, the
names of the objects it creates, the keys of its Secret and the hub's admin user.

:func:`build_values` is a pure function of one hub request and freshly generated
secrets; a second chart would be a second module like this one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.core.policy.model import ClusterSpec
from bot.core.ports import HubRequest

__all__ = [
    "ADMIN_USER",
    "LABEL_ENVIRONMENT",
    "LABEL_INSTALLATION",
    "LABEL_MANAGED_BY",
    "LABEL_OWNER",
    "LABEL_POOL",
    "MANAGED_BY",
    "POD_SECURITY",
    "ApiServer",
    "HubSecrets",
    "build_values",
    "hub_secret_name",
    "ingress_host",
    "managed_labels",
    "namespace_labels",
    "public_service_name",
]

ADMIN_USER = "admin"
MANAGED_BY = "jupyterhub-bot"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_INSTALLATION = "jupyterhub-bot.io/installation"
LABEL_ENVIRONMENT = "jupyterhub-bot.io/environment-id"
LABEL_OWNER = "jupyterhub-bot.io/owner"
LABEL_POOL = "jupyterhub-bot.io/pool"
# Every environment namespace enforces Pod Security's restricted level, at the API
# server's own (latest) version of it; the bot's chart refuses a namespace without it.
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}

# Keys of the hub's Secret (names, not secrets).
ADMIN_PASSWORD_KEY = "admin-password"  # noqa: S105
BOT_API_TOKEN_KEY = "bot-api-token"  # noqa: S105
PROXY_TOKEN_KEY = "proxy-token"  # noqa: S105


def hub_secret_name(release: str) -> str:
    """The Secret the bot creates through the API for the hub's credentials (never through
    Helm, so they stay out of Helm's release history)."""
    return f"{release}-hub-credentials"


def public_service_name(release: str) -> str:
    return f"{release}-proxy-public"


def tls_secret_name(release: str) -> str:
    """The TLS Secret of a hub's Ingress, in its own namespace (copied there, or made by cert-manager)."""
    return f"{release}-tls"


# The nginx ingress controller refuses request bodies over 1 MB by default: notebooks any
# larger could not be saved (HTTP 413). A cluster's own annotations win.
NGINX_ANNOTATIONS = {"nginx.ingress.kubernetes.io/proxy-body-size": "64m"}


def ingress_annotations(cluster: ClusterSpec) -> dict[str, str]:
    annotations: dict[str, str] = {}
    if cluster.ingress_class and "nginx" in cluster.ingress_class:
        annotations.update(NGINX_ANNOTATIONS)
    if cluster.tls and cluster.tls.mode == "cert-manager" and cluster.tls.issuer:
        key = (
            "cert-manager.io/cluster-issuer" if cluster.tls.issuer_kind == "ClusterIssuer" else "cert-manager.io/issuer"
        )
        annotations[key] = cluster.tls.issuer
    annotations.update(cluster.ingress_annotations)
    return annotations


def uses_https(cluster: ClusterSpec) -> bool:
    return bool(cluster.base_domain and cluster.tls)


@dataclass(frozen=True)
class HubSecrets:
    admin_password: str
    bot_api_token: str
    proxy_token: str

    @classmethod
    def generate(cls) -> HubSecrets:
        # 32 bytes of randomness, URL-safe: 43 characters, above JupyterHub's 32-character minimum.
        return cls(
            admin_password=secrets.token_urlsafe(32),
            bot_api_token=secrets.token_hex(32),
            proxy_token=secrets.token_hex(32),
        )

    def __iter__(self) -> Iterator[str]:
        return iter((self.admin_password, self.bot_api_token, self.proxy_token))

    def secret_data(self) -> dict[str, str]:
        """The hub Secret's keys and values."""
        return {
            ADMIN_PASSWORD_KEY: self.admin_password,
            BOT_API_TOKEN_KEY: self.bot_api_token,
            PROXY_TOKEN_KEY: self.proxy_token,
        }

    @classmethod
    def from_secret_data(cls, data: dict[str, str]) -> HubSecrets:
        return cls(
            admin_password=data[ADMIN_PASSWORD_KEY],
            bot_api_token=data[BOT_API_TOKEN_KEY],
            proxy_token=data[PROXY_TOKEN_KEY],
        )

    def __repr__(self) -> str:
        return "HubSecrets(<redacted>)"


def managed_labels(installation: str) -> dict[str, str]:
    """The labels on every object of every environment (pods included). They never change
    in a hub's life, so a warm pool's hub is handed to its owner without a restart."""
    return {LABEL_MANAGED_BY: MANAGED_BY, LABEL_INSTALLATION: installation}


def namespace_labels(request: HubRequest, installation: str) -> dict[str, str | None]:
    """The labels on an environment's namespace, the one place that says whose it is (cost
    tools read namespace labels), and Pod Security. A warm pool's hub is owned by nobody
    and names its pool instead; ``None`` removes a label when the namespace changes hands."""
    ownership: dict[str, str | None] = (
        {LABEL_POOL: request.pool, LABEL_OWNER: None}
        if request.pool
        else {LABEL_OWNER: request.owner_id.lower(), LABEL_POOL: None}
    )
    return {**managed_labels(installation), LABEL_ENVIRONMENT: request.environment_id, **ownership, **POD_SECURITY}


def ingress_host(name: str, namespace: str, cluster: ClusterSpec) -> str | None:
    if not cluster.base_domain:
        return None
    suffix = namespace.rsplit("-", 1)[-1]
    return f"{name}-{suffix}.{cluster.base_domain}"


def _image(reference: str) -> dict[str, str]:
    name, _, tag = reference.rpartition(":")
    return {"name": name, "tag": tag}


def _cores(quantity: str) -> float:
    """CPU as a number of cores: ``500m`` is 0.5, ``2`` is 2.0."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _half_memory(quantity: str) -> str:
    """A guarantee of half the limit, in the limit's own unit."""
    digits = quantity.rstrip("KMGTik")
    return f"{float(digits) / 2:g}{quantity[len(digits) :]}"


@dataclass(frozen=True)
class ApiServer:
    """Where the cluster's API server really listens (its endpoints, not the Service)."""

    addresses: tuple[str, ...]
    ports: tuple[int, ...]


def build_values(request: HubRequest, *, installation: str, api_server: ApiServer | None = None) -> dict[str, Any]:
    """Our chart's values for ``request``. No credential is among them: the hub reads its
    Secret (:func:`hub_secret_name`), which the deployer creates through the API."""
    profile, cluster = request.profile, request.cluster
    host = ingress_host(request.name, request.target.namespace, cluster)
    storage_class = cluster.storage_class or ""
    tls: dict[str, Any] = {"enabled": uses_https(cluster)}
    if cluster.tls and cluster.tls.mode != "controller-default":
        tls["secretName"] = tls_secret_name(request.target.release)
    network_policy: dict[str, Any] = {}
    if api_server is not None:
        network_policy["apiServer"] = {"addresses": list(api_server.addresses), "ports": list(api_server.ports)}
    hub: dict[str, Any] = {
        "adminUser": ADMIN_USER,
        "existingSecret": hub_secret_name(request.target.release),
        "db": {"pvc": {"enabled": True, "size": "1Gi", "storageClassName": storage_class}},
    }
    proxy: dict[str, Any] = {"service": {"type": "ClusterIP" if host else cluster.service_type}}
    if cluster.hub_requests:
        requests = {"cpu": cluster.hub_requests.cpu, "memory": cluster.hub_requests.memory}
        hub["resources"] = {"requests": requests}
        proxy["resources"] = {"requests": dict(requests)}
    if cluster.images.hub:
        hub["image"] = _image(cluster.images.hub)
    if cluster.images.proxy:
        proxy["image"] = _image(cluster.images.proxy)
    values: dict[str, Any] = {
        "hub": hub,
        "proxy": proxy,
        "ingress": {
            "enabled": host is not None,
            "host": host or "",
            "className": cluster.ingress_class or "",
            "tls": tls,
            "annotations": ingress_annotations(cluster) if host else {},
        },
        "singleuser": {
            "image": _image(profile.image),
            "cpu": {
                "guarantee": _cores(profile.cpu_guarantee) if profile.cpu_guarantee else _cores(profile.cpu) / 2,
                "limit": _cores(profile.cpu),
            },
            "memory": {
                "guarantee": profile.memory_guarantee or _half_memory(profile.memory),
                "limit": profile.memory,
            },
            "storage": {
                "enabled": profile.storage is not None,
                "size": profile.storage or "1Gi",
                "storageClassName": storage_class,
            },
        },
        "quota": {"enabled": True, "maxUserServers": profile.max_users},
        "cull": {"enabled": True, "timeout": int(request.idle_timeout.total_seconds()), "every": 300},
        "networkPolicy": network_policy,
        "labels": managed_labels(installation),
    }
    scheduling = cluster.scheduling
    if scheduling.node_selector or scheduling.tolerations:
        values["scheduling"] = {
            "nodeSelector": dict(scheduling.node_selector),
            "tolerations": list(scheduling.tolerations),
        }
    return values
