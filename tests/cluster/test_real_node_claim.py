"""The machine's one real node is claimed by one cluster at a time, and a claim binds only
while that cluster's node runs: a claim left by a node that died with its machine (its
/run survived the restart) once made CI's cluster start without a real node.

The harness runs with its own cache and claim folders, so the machine's cluster and its
real node are not touched; `status` says what would keep `up` from starting the node.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import HARNESS


def obstacle(tmp_path: Path) -> str:
    env = {
        **os.environ,
        "JHB_CACHE_DIR": str(tmp_path / "cache"),
        "JHB_CLAIM_DIR": str(tmp_path / "claims"),
        "JHB_CLUSTER_NAME": "claim-probe",
        "JHB_REAL_NODE": "auto",
    }
    proc = subprocess.run([str(HARNESS), "status"], capture_output=True, text=True, timeout=60, env=env)
    facts = dict(line.partition("=")[::2] for line in proc.stdout.splitlines() if "=" in line)
    assert "real_node_obstacle" in facts, proc.stdout + proc.stderr
    return facts["real_node_obstacle"]


def claim(tmp_path: Path, holder: str, node_dir: Path) -> None:
    (tmp_path / "claims").mkdir(exist_ok=True)
    (tmp_path / "claims" / "real-node.claim").write_text(f"{holder} {node_dir}\n")


@pytest.fixture
def machine_can_run_a_real_node(tmp_path: Path) -> None:
    reason = obstacle(tmp_path)
    if reason:
        pytest.skip(f"this machine cannot run a real node at all: {reason}")


@pytest.fixture
def live_kubelet() -> Iterator[subprocess.Popen[bytes]]:
    """A process that looks like a node's kubelet to the harness (its name in argv[0])."""
    process = subprocess.Popen(["bash", "-c", "exec -a kubelet sleep 300"])
    yield process
    process.kill()
    process.wait(timeout=10)


@pytest.mark.usefixtures("machine_can_run_a_real_node")
def test_a_claim_whose_node_runs_keeps_the_node(tmp_path: Path, live_kubelet: subprocess.Popen[bytes]) -> None:
    node_dir = tmp_path / "realnode" / "other"
    (node_dir / "pids").mkdir(parents=True)
    (node_dir / "pids" / "kubelet.pid").write_text(f"{live_kubelet.pid}\n")
    claim(tmp_path, "other", node_dir)
    assert "cluster 'other' already runs this machine's real node" in obstacle(tmp_path)


@pytest.mark.usefixtures("machine_can_run_a_real_node")
def test_a_claim_whose_node_died_is_no_obstacle(tmp_path: Path) -> None:
    node_dir = tmp_path / "realnode" / "other"
    (node_dir / "pids").mkdir(parents=True)
    dead = subprocess.Popen(["bash", "-c", "exec -a kubelet true"])
    dead.wait(timeout=10)
    (node_dir / "pids" / "kubelet.pid").write_text(f"{dead.pid}\n")
    (node_dir / "pids" / "containerd.pid").write_text("999999999\n")
    claim(tmp_path, "other", node_dir)
    assert obstacle(tmp_path) == ""


@pytest.mark.usefixtures("machine_can_run_a_real_node")
def test_a_live_process_that_is_no_node_component_does_not_hold_a_claim(tmp_path: Path) -> None:
    """After a restart the pid in a stale pid file may belong to anything."""
    node_dir = tmp_path / "realnode" / "other"
    (node_dir / "pids").mkdir(parents=True)
    (node_dir / "pids" / "kubelet.pid").write_text(f"{os.getpid()}\n")  # this pytest process
    claim(tmp_path, "other", node_dir)
    assert obstacle(tmp_path) == ""
