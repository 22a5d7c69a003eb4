"""Value sets the chart is rendered with (secrets are merged in by the tests)."""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {}

INGRESS_TLS: dict[str, Any] = {
    "proxy": {"service": {"type": "ClusterIP"}},
    "ingress": {
        "enabled": True,
        "host": "alice-demo.hubs.example.org",
        "className": "nginx",
        "tls": {"secretName": "alice-demo-tls"},
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "64m"},
    },
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
    "no-storage": NO_STORAGE,
    "large-profile": LARGE_PROFILE,
    "no-isolation": NO_ISOLATION,
}
