"""The one place that sends the sandbox's hubs to the local cluster's real node.

``cluster/harness.sh`` may offer, beside its kwok nodes, one real node that runs pods on
this machine. Its ``status`` then says ``real_node=ready`` and names the node's address,
label, taint and the locally built images. When it does, the sandbox's policy (a run copy
of ``bot/sandbox/policies``) sends every hub there, as an operator's policy would for such
a cluster: the profile's image becomes the harness's single-user image, and the cluster
gets the node's address as ``public_address`` (its NodePorts answer there, from this
machine), the hub and proxy ``images``, and ``scheduling`` (the node's label and a
toleration of its taint). The URL in the DM then opens a real JupyterHub.

Without a real node (kwok nodes only) nothing changes: the hub "starts", but no process
answers at its URL.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["RealNode", "policies_for", "real_node"]


@dataclass(frozen=True)
class RealNode:
    address: str
    label: tuple[str, str]  # key, value
    taint: tuple[str, str, str]  # key, value, effect
    hub_image: str
    proxy_image: str
    singleuser_image: str


def real_node(facts: Mapping[str, str]) -> RealNode | None:
    """The real node the harness offers, or ``None`` (kwok nodes only, or a cluster of your own)."""
    if facts.get("real_node") != "ready":
        return None
    images = (facts.get("image_hub", ""), facts.get("image_proxy", ""), facts.get("image_singleuser", ""))
    label_key, _, label_value = facts.get("real_node_label", "").partition("=")
    taint, _, effect = facts.get("real_node_taint", "").partition(":")
    taint_key, _, taint_value = taint.partition("=")
    if not all(images) or not facts.get("real_node_ip") or not label_key or not taint_key:
        return None
    return RealNode(
        address=facts["real_node_ip"],
        label=(label_key, label_value),
        taint=(taint_key, taint_value, effect or "NoSchedule"),
        hub_image=images[0],
        proxy_image=images[1],
        singleuser_image=images[2],
    )


def policies_for(node: RealNode | None, shipped: Path, run_dir: Path) -> Path:
    """The policy folder the bot reads: a copy of ``shipped``, pointed at ``node`` if any."""
    target = run_dir / "policies"
    shutil.copytree(shipped, target)
    if node is None:
        return target
    for path in sorted(target.glob("*.yaml")):
        policy = yaml.safe_load(path.read_text()) or {}
        for profile in (policy.get("profiles") or {}).values():
            profile["image"] = node.singleuser_image
        key, value, effect = node.taint
        for cluster in (policy.get("clusters") or {}).values():
            cluster["public_address"] = node.address
            cluster["images"] = {"hub": node.hub_image, "proxy": node.proxy_image}
            cluster["scheduling"] = {
                "node_selector": {node.label[0]: node.label[1]},
                "tolerations": [{"key": key, "operator": "Equal", "value": value, "effect": effect}],
            }
        path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return target
