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
    "LABEL_MANAGED_BY",
    "LABEL_OWNER",
    "MANAGED_BY",
    "HubSecrets",
    "build_values",
    "hub_secret_name",
    "ingress_host",
    "managed_labels",
    "public_service_name",
]

ADMIN_USER = "admin"
MANAGED_BY = "jupyterhub-bot"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_ENVIRONMENT = "jupyterhub-bot.io/environment-id"
LABEL_OWNER = "jupyterhub-bot.io/owner"

# Keys of the hub's Secret (names, not secrets).
ADMIN_PASSWORD_KEY = "admin-password"  # noqa: S105
BOT_API_TOKEN_KEY = "bot-api-token"  # noqa: S105
PROXY_TOKEN_KEY = "proxy-token"  # noqa: S105


def hub_secret_name(release: str) -> str:
    return f"{release}-hub"


def public_service_name(release: str) -> str:
    return f"{release}-proxy-public"


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

    def __repr__(self) -> str:
        return "HubSecrets(<redacted>)"


def managed_labels(environment_id: str, owner_id: str) -> dict[str, str]:
    return {
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_ENVIRONMENT: environment_id,
        LABEL_OWNER: owner_id.lower(),
    }


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


def build_values(request: HubRequest, secrets_: HubSecrets) -> dict[str, Any]:
    profile, cluster = request.profile, request.cluster
    host = ingress_host(request.name, request.target.namespace, cluster)
    storage_class = cluster.storage_class or ""
    return {
        "hub": {
            "adminUser": ADMIN_USER,
            "adminPassword": secrets_.admin_password,
            "botApiToken": secrets_.bot_api_token,
            "db": {"pvc": {"enabled": True, "size": "1Gi", "storageClassName": storage_class}},
        },
        "proxy": {
            "secretToken": secrets_.proxy_token,
            "service": {"type": "ClusterIP" if host else cluster.service_type},
        },
        "ingress": {
            "enabled": host is not None,
            "host": host or "",
            "className": cluster.ingress_class or "",
            "tls": {"secretName": cluster.tls_secret or ""},
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
        "labels": managed_labels(request.environment_id, request.owner_id),
    }
