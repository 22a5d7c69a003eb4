"""The one place that sends the sandbox's hubs to the local cluster's real node.

``cluster/harness.sh`` (branch ``real-node``) may offer, beside its kwok nodes, one real
node that runs pods on this machine. Its ``status`` then says ``real_node=ready`` and
names the node's address, label, taint and the locally built images. When it does, the
sandbox deploys there so the URL in the DM opens a real JupyterHub:

- **what the policy decides** (a run copy of ``bot/sandbox/policies``): the profile's
  user image becomes the harness's single-user image, and the cluster's
  ``public_address`` the node's address (its NodePorts answer there, from this machine);
- **what the bot's policy cannot say yet** (the hub and proxy images, and where pods
  are scheduled): a run copy of the chart whose defaults carry the harness's images, the
  node's ``scheduling.nodeSelector``/``tolerations`` (the chart pulls ``IfNotPresent``), handed
  to the bot as ``CHART_REF``. Only a chart that has the ``scheduling`` values (added on
  the same branch) gets them; any other chart is used as it is.

Until then (kwok nodes only) nothing here changes anything: the hub "starts", but no
process answers at its URL.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["RealNode", "chart_for", "policies_for", "real_node"]


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
        for cluster in (policy.get("clusters") or {}).values():
            cluster["public_address"] = node.address
        path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return target


def _image(reference: str) -> dict[str, str]:
    name, _, tag = reference.rpartition(":")
    return {"name": name, "tag": tag}


def chart_values(node: RealNode) -> dict[str, Any]:
    """What the chart's defaults become on the real node."""
    key, value, effect = node.taint
    return {
        "hub": {"image": _image(node.hub_image)},
        "proxy": {"image": _image(node.proxy_image)},
        "scheduling": {
            "nodeSelector": {node.label[0]: node.label[1]},
            "tolerations": [{"key": key, "operator": "Equal", "value": value, "effect": effect}],
        },
    }


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def chart_for(node: RealNode | None, chart: Path, run_dir: Path) -> Path:
    """The chart the bot deploys: ``chart`` itself, or a copy whose defaults suit ``node``."""
    if node is None:
        return chart
    values = yaml.safe_load((chart / "values.yaml").read_text()) or {}
    if "scheduling" not in values:
        return chart
    target = run_dir / "chart"
    shutil.copytree(chart, target)
    _merge(values, chart_values(node))
    (target / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    return target
