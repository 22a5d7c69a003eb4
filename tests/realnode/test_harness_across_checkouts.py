"""The real node is one per machine, so engineers reach it from checkouts other than the one
that started it: the harness must describe it the same from any of them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import HARNESS, RealNode

pytestmark = [pytest.mark.cluster, pytest.mark.realnode]


def status(harness: Path) -> dict[str, str]:
    proc = subprocess.run([str(harness), "status"], capture_output=True, text=True, timeout=60, env=os.environ)
    assert proc.returncode == 0, proc.stderr
    return dict(line.partition("=")[::2] for line in proc.stdout.splitlines() if "=" in line)


def test_status_from_another_checkout_sees_the_node_as_it_is(real_node: RealNode, tmp_path: Path) -> None:
    elsewhere = tmp_path / "another-checkout" / "cluster"
    shutil.copytree(HARNESS.parent, elsewhere)
    here, there = status(HARNESS), status(elsewhere / "harness.sh")
    assert here["real_node"] == "ready", here["real_node_reason"]
    # Seen: "notready" from any checkout but the node's own (its volume watcher is a script
    # of that checkout, and was looked for at this one's path).
    assert there["real_node"] == "ready", there["real_node_reason"]
    assert there["real_node_images"] == here["real_node_images"]
