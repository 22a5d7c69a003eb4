"""Value sets the chart is rendered with (secrets are merged in by the tests, unless a set
names an existing Secret)."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {}

INGRESS_TLS: dict[str, Any] = {
    "proxy": {"service": {"type": "ClusterIP"}},
    "ingress": {
        "enabled": True,
        "host": "alice-demo.hubs.example.org",
        "className": "nginx",
        "tls": {"enabled": True, "secretName": "alice-demo-tls"},
        "annotations": {
            "cert-manager.io/cluster-issuer": "letsencrypt",
            "nginx.ingress.kubernetes.io/proxy-body-size": "64m",
        },
    },
}

# HTTPS with the ingress controller's default certificate (no Secret of our own).
INGRESS_DEFAULT_CERTIFICATE: dict[str, Any] = {
    "proxy": {"service": {"type": "ClusterIP"}},
    "ingress": {"enabled": True, "host": "bob-lab.hubs.example.org", "tls": {"enabled": True}},
}

# An Ingress serving plain HTTP.
INGRESS_PLAIN: dict[str, Any] = {
    "ingress": {"enabled": True, "host": "carol-lab.hubs.example.org", "tls": {"enabled": False}},
}

# Credentials in a Secret the caller made through the API: none in the values.
EXISTING_SECRET: dict[str, Any] = {
    "hub": {"existingSecret": "env-credentials"},
}

# The hub may reach only the API server's real endpoints.
API_SERVER_ADDRESSES: dict[str, Any] = {
    "networkPolicy": {"apiServer": {"addresses": ["10.0.0.5", "fd00::5"], "ports": [6443]}},
}

NO_STORAGE: dict[str, Any] = {
    "hub": {"db": {"pvc": {"enabled": False}}},
    "singleuser": {"storage": {"enabled": False}},
}

LARGE_PROFILE: dict[str, Any] = {
    "fullnameOverride": "big-lab",
    "hub": {
        "db": {"pvc": {"size": "5Gi", "storageClassName": "fast-ssd"}},
        "resources": {
            "requests": {"cpu": "500m", "memory": "1Gi"},
            "limits": {"cpu": 2, "memory": "2Gi"},
        },
    },
    "proxy": {"service": {"type": "LoadBalancer", "nodePort": 31080}},
    "singleuser": {
        "cpu": {"guarantee": 4, "limit": 8},
        "memory": {"guarantee": "16G", "limit": "32G"},
        "storage": {"size": "200Gi", "storageClassName": "fast-ssd"},
    },
    "cull": {"timeout": 7200, "every": 600},
    "quota": {"maxUserServers": 3},
    "labels": {"jupyterhub-bot/environment": "env-0042", "jupyterhub-bot/owner": "U0456EFGH"},
}

NO_ISOLATION: dict[str, Any] = {
    "networkPolicy": {"enabled": False},
    "quota": {"enabled": False},
    "cull": {"enabled": False},
}

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": DEFAULTS,
    "ingress-tls": INGRESS_TLS,
    "ingress-default-certificate": INGRESS_DEFAULT_CERTIFICATE,
    "ingress-plain": INGRESS_PLAIN,
    "existing-secret": EXISTING_SECRET,
    "api-server-addresses": API_SERVER_ADDRESSES,
    "no-storage": NO_STORAGE,
    "large-profile": LARGE_PROFILE,
    "no-isolation": NO_ISOLATION,
}
