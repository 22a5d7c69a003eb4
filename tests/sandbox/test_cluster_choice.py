"""Which cluster the sandbox uses, how it says what it is doing while one starts, and the
one switch that sends hubs to the harness's real node."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.core.policy import read_policy
from bot.sandbox import demo
from bot.sandbox.cluster import ClusterUnavailable, Harness, choose_cluster
from bot.sandbox.realnode import policies_for, real_node

REAL_NODE_FACTS = {
    "state": "running",
    "real_node": "ready",
    "real_node_ip": "10.245.0.1",
    "real_node_label": "jupyterhub-bot.io/node=real",
    "real_node_taint": "jupyterhub-bot.io/real-node=true:NoSchedule",
    "image_hub": "local.jupyterhub-bot/k8s-hub:4.4.0",
    "image_proxy": "local.jupyterhub-bot/configurable-http-proxy:5.3.0",
    "image_singleuser": "local.jupyterhub-bot/singleuser:5.5.0",
}


def fake_harness(tmp_path: Path, *, up_exit: int = 0, real_node: str = "absent") -> Harness:
    """A stand-in for cluster/harness.sh: `up` takes a moment, with a note naming its log."""
    log = tmp_path / "build-kubernetes.log"
    log.write_text("# building\ncompiling k8s.io/kubernetes/cmd/kube-apiserver\n")
    (tmp_path / "kubeconfig.yaml").write_text("apiVersion: v1\nkind: Config\n")
    script = tmp_path / "harness.sh"
    script.write_text(
        f"""#!/usr/bin/env bash
case $1 in
  up) echo "harness: building kubernetes v1.34.10 (first run only; log: {log})" >&2
      sleep 1
      [[ {up_exit} == 0 ]] || {{ echo "harness: error: go is not installed" >&2; exit {up_exit}; }}
      echo {tmp_path}/kubeconfig.yaml ;;
  status) printf 'state=running\\nname=fake\\nserver=https://127.0.0.1:1\\nkubeconfig={tmp_path}/kubeconfig.yaml\\n'
      printf 'helm=/usr/bin/helm-of-the-harness\\nreal_node={real_node}\\n' ;;
esac
"""
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return Harness(path=script, heartbeat_seconds=0.2)


async def test_the_local_cluster_is_started_with_every_step_reported(tmp_path: Path) -> None:
    said: list[str] = []
    choice = await choose_cluster(said.append, {}, fake_harness(tmp_path))
    assert choice.kubeconfig == f"{tmp_path}/kubeconfig.yaml" and choice.helm == "/usr/bin/helm-of-the-harness"
    assert choice.simulated and "kwok nodes (simulated)" in choice.description
    assert "first run builds Kubernetes" in said[0]
    assert any(line.startswith("building kubernetes v1.34.10") for line in said)
    # A heartbeat names the step and the last line of its build log.
    heartbeats = [line for line in said if line.startswith("still working")]
    assert heartbeats and "compiling k8s.io/kubernetes/cmd/kube-apiserver" in heartbeats[-1]


async def test_a_failing_harness_says_why(tmp_path: Path) -> None:
    with pytest.raises(ClusterUnavailable, match="go is not installed"):
        await choose_cluster(lambda _line: None, {}, fake_harness(tmp_path, up_exit=1))


async def test_kubeconfig_wins_and_must_exist(tmp_path: Path) -> None:
    harness = fake_harness(tmp_path)
    config = tmp_path / "mine.yaml"
    config.write_text("apiVersion: v1\nkind: Config\n")
    said: list[str] = []
    choice = await choose_cluster(said.append, {"KUBECONFIG": str(config), "HELM_BINARY": "/opt/helm"}, harness)
    assert (choice.kubeconfig, choice.helm, choice.simulated) == (str(config), "/opt/helm", False)
    assert not any("harness" in line for line in said)
    with pytest.raises(ClusterUnavailable, match="does not exist"):
        await choose_cluster(said.append, {"KUBECONFIG": str(tmp_path / "missing.yaml")}, harness)


def test_without_a_real_node_nothing_changes(tmp_path: Path) -> None:
    assert real_node({"real_node": "absent"}) is None
    assert real_node({**REAL_NODE_FACTS, "image_hub": ""}) is None
    policies = policies_for(None, demo.POLICIES, tmp_path)
    assert (policies / "sandbox.yaml").read_text() == (demo.POLICIES / "sandbox.yaml").read_text()


def test_on_the_real_node_the_policy_and_chart_point_there(tmp_path: Path) -> None:
    node = real_node(REAL_NODE_FACTS)
    assert node is not None and node.label == ("jupyterhub-bot.io/node", "real")
    policy = read_policy(policies_for(node, demo.POLICIES, tmp_path)).policy
    assert policy.profiles["demo"].image == "local.jupyterhub-bot/singleuser:5.5.0"
    assert policy.clusters["local"].public_address == "10.245.0.1"

    cluster = policy.clusters["local"]
    assert (cluster.images.hub, cluster.images.proxy) == (
        "local.jupyterhub-bot/k8s-hub:4.4.0",
        "local.jupyterhub-bot/configurable-http-proxy:5.3.0",
    )
    assert cluster.scheduling.node_selector == {"jupyterhub-bot.io/node": "real"}
    assert cluster.scheduling.tolerations == [
        {"key": "jupyterhub-bot.io/real-node", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    ]
