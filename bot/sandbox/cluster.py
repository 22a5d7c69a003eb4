"""The cluster behind the sandbox: the current context of ``KUBECONFIG`` when one is set,
otherwise the local cluster of ``cluster/harness.sh``, built and started here.

The first build compiles Kubernetes from Go modules and takes many minutes, so every step
is reported as it happens, with a heartbeat that names the step in progress and its log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HARNESS", "ClusterChoice", "ClusterUnavailable", "Harness", "choose_cluster", "harness_status"]

HARNESS = Path(__file__).resolve().parents[2] / "cluster" / "harness.sh"
# How often a long step says it is still going.
HEARTBEAT_SECONDS = 10.0

Report = Callable[[str], None]


class ClusterUnavailable(Exception):
    """No cluster could be found or started; the message says what to do."""


@dataclass(frozen=True)
class ClusterChoice:
    kubeconfig: str
    helm: str
    # Where it came from, in words for the page and the terminal.
    description: str
    # The harness's facts (``cluster/harness.sh status``); empty for the user's own cluster.
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """Pods run on kwok nodes only: hubs become Ready, but nothing answers at their URL."""
        return bool(self.facts) and self.facts.get("real_node") != "ready"


@dataclass(frozen=True)
class Harness:
    """``cluster/harness.sh``, and how often a long run of it says it is still going."""

    path: Path = HARNESS
    heartbeat_seconds: float = HEARTBEAT_SECONDS


async def _run_harness(args: list[str], report: Report, what: str, harness: Harness) -> str:
    """Run ``cluster/harness.sh args``, passing on each of its notes and a heartbeat; its stdout."""
    if not await asyncio.to_thread(harness.path.is_file):
        raise ClusterUnavailable(
            f"no cluster/harness.sh beside this package ({harness.path}); set KUBECONFIG to use a cluster of your own"
        )
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        str(harness.path),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    last_note = what

    async def notes() -> None:
        nonlocal last_note
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                last_note = line.removeprefix("harness: ")
                report(last_note)

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(harness.heartbeat_seconds)  # wait-ok: a progress heartbeat, not a wait for a condition
            elapsed = int(time.monotonic() - started)
            report(f"still working ({elapsed // 60}m{elapsed % 60:02d}s): {last_note}{_log_tail(last_note)}")

    reading = asyncio.ensure_future(notes())
    beating = asyncio.ensure_future(heartbeat())
    try:
        out = await proc.stdout.read()
        await proc.wait()
        await reading
    finally:
        beating.cancel()
        reading.cancel()
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    if proc.returncode not in (0, 3):
        raise ClusterUnavailable(f"cluster/harness.sh {' '.join(args)} failed: {last_note}")
    return out.decode()


def _log_tail(note: str) -> str:
    """The last line of the build log a harness note names (``…; log: /path)``), if any."""
    _, found, rest = note.partition("log: ")
    path = Path(rest.rstrip(")").strip()) if found else None
    if path is None or not path.is_file():
        return ""
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - 400))
            lines = [line for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" — last log line: {lines[-1][:160]}" if lines else ""


def _facts(text: str) -> dict[str, str]:
    facts: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key] = value
    return facts


async def harness_status(report: Report, harness: Harness) -> dict[str, str]:
    return _facts(await _run_harness(["status"], report, "reading the local cluster's status", harness))


async def _helm(report: Report, environ: Mapping[str, str], harness: Harness) -> str:
    """The helm to use: $HELM_BINARY, helm on PATH, or the harness's pinned helm (built if missing)."""
    found = environ.get("HELM_BINARY") or shutil.which("helm")
    if found:
        return found
    report("no helm on PATH: building the pinned helm with cluster/harness.sh (first run only)")
    await _run_harness(["build", "helm"], report, "building helm", harness)
    return (await harness_status(report, harness))["helm"]


async def choose_cluster(
    report: Report, environ: Mapping[str, str] | None = None, harness: Harness | None = None
) -> ClusterChoice:
    """The cluster to deploy to, reporting each step; raises :class:`ClusterUnavailable`."""
    harness = harness or Harness()
    env = os.environ if environ is None else environ
    kubeconfig = env.get("KUBECONFIG", "")
    if kubeconfig:
        first = kubeconfig.split(os.pathsep)[0]
        if not await asyncio.to_thread(os.path.isfile, first):
            raise ClusterUnavailable(f"KUBECONFIG names {first}, which does not exist")
        report(f"using the current context of KUBECONFIG ({kubeconfig})")
        helm = await _helm(report, env, harness)
        return ClusterChoice(kubeconfig, helm, f"your cluster (current context of {kubeconfig})")
    report(
        "no KUBECONFIG set: starting the local cluster with cluster/harness.sh up "
        "(the first run builds Kubernetes from Go modules: about 12 minutes on 2 cores; later runs take seconds)"
    )
    await _run_harness(["up"], report, "starting the local cluster (waits while another run holds its lock)", harness)
    facts = await harness_status(report, harness)
    if facts.get("state") != "running":
        raise ClusterUnavailable(f"the local cluster is {facts.get('state')}; see {facts.get('harness_log')}")
    nodes = "a real node and kwok nodes" if facts.get("real_node") == "ready" else "kwok nodes (simulated)"
    description = f"the local cluster {facts.get('name')} at {facts.get('server')}, {nodes}"
    return ClusterChoice(facts["kubeconfig"], env.get("HELM_BINARY") or facts["helm"], description, facts)
