"""Where a hub answers, read off Kubernetes objects: pure functions of the objects as the
API server returns them (the kubernetes client's models)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["ADDRESS_PREFERENCE", "load_balancer_address", "ready_node_address"]

# A browser outside the cluster can reach these best first.
ADDRESS_PREFERENCE = ("ExternalIP", "ExternalDNS", "InternalIP", "Hostname")


def _ready(node: Any) -> bool:
    if getattr(node.spec, "unschedulable", False):
        return False
    conditions = node.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def ready_node_address(nodes: Iterable[Any]) -> str | None:
    """The most reachable address of a Ready, schedulable node (``None`` if there is none).

    A node that is not Ready may be on its way out (an autoscaler removing it), and its
    address would not serve the hub for long."""
    ready = [node for node in nodes if _ready(node)]
    for kind in ADDRESS_PREFERENCE:
        for node in ready:
            for address in node.status.addresses or []:
                if address.type == kind and address.address:
                    return str(address.address)
    return None


def load_balancer_address(service: Any) -> str | None:
    """The external hostname or IP a load-balancer controller gave the Service, once it has."""
    entries = (service.status.load_balancer.ingress if service.status and service.status.load_balancer else None) or []
    for entry in entries:
        if entry.hostname or entry.ip:
            return str(entry.hostname or entry.ip)
    return None
