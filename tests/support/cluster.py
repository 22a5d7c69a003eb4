"""The local Kubernetes cluster for tests, as a pytest plugin.

A thin, typed layer over ``cluster/harness.sh``, which does the building and starting,
so ``make cluster-up`` and the tests share one implementation. Load it with
``pytest_plugins = ["tests.support.cluster"]`` and request the ``local_cluster`` fixture,
or ``real_node`` for the node whose pods really run on this machine.

When the harness cannot build or start the cluster, or the machine cannot run the real
node, tests using the fixture are an ERROR if the ``CI`` environment variable is set,
and are skipped (loudly, with a reason repeated in the terminal summary) otherwise.

With ``JHB_CLUSTER_ATTACH=1`` the tests use the cluster named by ``JHB_CLUSTER_NAME`` as it
runs, and never start, rebuild or recreate it: for a cluster started from another
checkout, such as the one that holds this machine's only real node (``up`` from here
would see another configuration, the checkout's path, and recreate it).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.reporting import say

REPO_ROOT = Path(__file__).resolve().parents[2]
HARNESS = REPO_ROOT / "cluster" / "harness.sh"

# A cold build of the Kubernetes binaries takes tens of minutes on two cores.
_BUILD_TIMEOUT_S = 90 * 60
_STATUS_TIMEOUT_S = 60

_skip_reasons: list[str] = []
_active: LocalCluster | None = None


class HarnessError(RuntimeError):
    """cluster/harness.sh could not build or start the cluster."""


@dataclass(frozen=True)
class LocalCluster:
    kubeconfig: Path  # admin kubeconfig of the cluster
    context: str  # context name inside it
    helm: Path  # helm binary
    bin_dir: Path  # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
    logs_dir: Path  # one log file per component (kube-apiserver.log, kwok.log, ...)
    server: str  # https://127.0.0.1:PORT

    @property
    def kubectl(self) -> Path:
        return self.bin_dir / "kubectl"


@dataclass(frozen=True)
class RealNode:
    """The cluster's real node: pods that select its label and tolerate its taint run here."""

    name: str
    ip: str  # node InternalIP, where NodePorts and the API server (6443) listen
    label: tuple[str, str]  # key, value
    taint: tuple[str, str, str]  # key, value, effect
    images: dict[str, str]  # hub, proxy, singleuser, pause, coredns -> local image reference
    logs_dir: Path  # containerd.log, kubelet.log, kube-proxy.log, kube-router.log
    guard_chain: str  # iptables mangle chain that drops pod traffic leaving the machine
    pod_cidr: str
    service_cidr: str

    @property
    def node_selector(self) -> dict[str, str]:
        return {self.label[0]: self.label[1]}

    @property
    def tolerations(self) -> list[dict[str, str]]:
        key, value, effect = self.taint
        return [{"key": key, "operator": "Equal", "value": value, "effect": effect}]


def _run_harness(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    command = f"cluster/harness.sh {' '.join(args)}"
    try:
        return subprocess.run(
            [str(HARNESS), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise HarnessError(f"`{command}` did not finish within {timeout:.0f}s") from exc
    except OSError as exc:
        raise HarnessError(f"cannot run `{command}`: {exc}") from exc


def _failure_line(proc: subprocess.CompletedProcess[str]) -> str:
    for stream in (proc.stderr, proc.stdout):
        lines = [line.strip() for line in stream.splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return f"exit status {proc.returncode} without a message"


def _status() -> dict[str, str]:
    proc = _run_harness("status", timeout=_STATUS_TIMEOUT_S)
    if proc.returncode not in (0, 3):  # 3 means "not running", still a valid report
        raise HarnessError(_failure_line(proc))
    facts: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            facts[key] = value
    return facts


def helm_binary() -> Path:
    """Path of the pinned helm binary, built first if missing. Needs no cluster."""
    proc = _run_harness("build", "helm", timeout=_BUILD_TIMEOUT_S)
    if proc.returncode != 0:
        raise HarnessError(_failure_line(proc))
    return Path(_status()["helm"])


def _split_taint(taint: str) -> tuple[str, str, str]:
    key_value, _, effect = taint.partition(":")
    key, _, value = key_value.partition("=")
    return key, value, effect


def real_node_facts(facts: dict[str, str]) -> RealNode:
    """The real node as `cluster/harness.sh status` reports it; HarnessError unless Ready."""
    if facts.get("real_node") != "ready":
        raise HarnessError(f"the real node is {facts.get('real_node', 'absent')}: {facts.get('real_node_reason', '')}")
    label_key, _, label_value = facts["real_node_label"].partition("=")
    present = set(filter(None, facts.get("real_node_images", "").split(",")))
    images = {name: facts[f"image_{name}"] for name in ("hub", "proxy", "singleuser", "pause", "coredns")}
    missing = sorted(ref for ref in images.values() if ref not in present)
    if missing:
        raise HarnessError(f"the real node lacks the images {missing}; see {facts['real_node_logs_dir']}")
    return RealNode(
        name=facts["real_node_name"],
        ip=facts["real_node_ip"],
        label=(label_key, label_value),
        taint=_split_taint(facts["real_node_taint"]),
        images=images,
        logs_dir=Path(facts["real_node_logs_dir"]),
        guard_chain=facts["real_node_guard_chain"],
        pod_cidr=facts["pod_cidr"],
        service_cidr=facts["service_cidr"],
    )


def describe_real_node() -> RealNode:
    """The running cluster's real node (HarnessError unless Ready with its images)."""
    return real_node_facts(_status())


def _run_streaming(command: str, progress: Callable[[str], None]) -> subprocess.CompletedProcess[str]:
    """`cluster/harness.sh COMMAND`, handing each line it prints about its steps to progress.
    Its standard output comes back alone; its error output is in ``stderr``."""
    lines: list[str] = []
    try:
        process = subprocess.Popen(
            [str(HARNESS), command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    except OSError as exc:
        raise HarnessError(f"cannot run `cluster/harness.sh {command}`: {exc}") from exc
    timer = threading.Timer(_BUILD_TIMEOUT_S, process.kill)
    timer.start()
    output: list[str] = []
    stdout_pipe, stderr_pipe = process.stdout, process.stderr
    assert stdout_pipe is not None and stderr_pipe is not None
    # Drained meanwhile, so a full pipe never stops the harness.
    reader = threading.Thread(target=lambda: output.append(stdout_pipe.read()), daemon=True)
    reader.start()
    try:
        for line in stderr_pipe:
            lines.append(line)
            if line.startswith("harness: "):
                progress(line.rstrip())
        returncode = process.wait()
        reader.join()
    finally:
        timer.cancel()
    if returncode < 0:
        raise HarnessError(f"`cluster/harness.sh {command}` did not finish within {_BUILD_TIMEOUT_S:.0f}s")
    stdout, stderr = "".join(output), "".join(lines)
    return subprocess.CompletedProcess([str(HARNESS), command], returncode, stdout=stdout, stderr=stderr)


def attached() -> bool:
    """Whether the tests use a running cluster as it is (``JHB_CLUSTER_ATTACH=1``)."""
    return os.environ.get("JHB_CLUSTER_ATTACH") == "1"


def ensure_cluster(progress: Callable[[str], None] | None = None) -> LocalCluster:
    """Build what is missing, start the cluster unless it runs, and describe it.

    progress, if given, receives the harness's lines about long steps (builds, imports)
    as they happen. Attached (``JHB_CLUSTER_ATTACH=1``), only describes the running cluster.
    """
    if not attached():
        proc = _run_harness("up", timeout=_BUILD_TIMEOUT_S) if progress is None else _run_streaming("up", progress)
        if proc.returncode != 0:
            raise HarnessError(_failure_line(proc))
    facts = _status()
    if facts.get("state") != "running":
        if attached():
            raise HarnessError(
                f"JHB_CLUSTER_ATTACH=1 uses cluster {facts.get('name')} as it runs, and it is {facts.get('state')}"
            )
        raise HarnessError(
            f"`cluster/harness.sh up` succeeded but the cluster is {facts.get('state')}; see {facts.get('harness_log')}"
        )
    return LocalCluster(
        kubeconfig=Path(facts["kubeconfig"]),
        context=facts["context"],
        helm=Path(facts["helm"]),
        bin_dir=Path(facts["bin_dir"]),
        logs_dir=Path(facts["logs_dir"]),
        server=facts["server"],
    )


@dataclass(frozen=True)
class BotImage:
    """The bot's image, built from this checkout by the harness (as the Dockerfile describes)."""

    reference: str  # local.jupyterhub-bot/jupyterhub-bot:<version>
    archive: Path  # the docker-save archive containerd imported
    on_real_node: bool  # imported into this cluster's real node


def bot_image(progress: Callable[[str], None] | None = None) -> BotImage:
    """Build the bot's image if its inputs changed (minutes cold, cached after), and import
    it into the cluster's real node if that runs here. ``progress`` gets the harness's steps."""
    proc = _run_streaming("bot-image", progress or (lambda _line: None))
    if proc.returncode != 0:
        raise HarnessError(_failure_line(proc))
    facts = dict(line.partition("=")[::2] for line in proc.stdout.splitlines() if "=" in line)
    return BotImage(
        reference=facts["bot_image"],
        archive=Path(facts["bot_image_archive"]),
        on_real_node=facts["bot_image_on_real_node"] == "yes",
    )


def unavailable(what: str, problem: str) -> NoReturn:
    """Fail (under CI) or skip loudly, with the reason repeated in the terminal summary."""
    if "CI" in os.environ:
        pytest.fail(f"{what} unavailable (CI is set, no skip): {problem}", pytrace=False)
    reason = (
        f"{what.upper()} UNAVAILABLE, its tests skipped: {problem} "
        "-- fix that and run `make cluster-up` (in CI this is an error, not a skip)"
    )
    _skip_reasons.append(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_cluster(pytestconfig: pytest.Config) -> LocalCluster:
    """The running local cluster (started if needed and left running for reuse)."""
    global _active
    try:
        if not attached() and _status().get("built") != "yes":
            say(
                pytestconfig,
                "local cluster: building kube-apiserver, etcd, kwok and helm from Go modules, and "
                "the real node's binaries and images (first run only, about 30 minutes on 2 cores); "
                "run `make cluster-up` beforehand to do this outside pytest",
            )
        _active = ensure_cluster(progress=lambda line: say(pytestconfig, line))
    except HarnessError as exc:
        unavailable("local cluster", str(exc))
    return _active


@pytest.fixture(scope="session")
def real_node(local_cluster: LocalCluster) -> RealNode:
    """The cluster's real node, Ready, with the local images imported."""
    try:
        return describe_real_node()
    except HarnessError as exc:
        unavailable("real node", str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    uses_cluster = "local_cluster" in getattr(item, "fixturenames", ())
    if report.failed and uses_cluster and _active is not None:
        report.sections.append(
            (
                "local cluster",
                f"component logs: {_active.logs_dir}\nkubeconfig: {_active.kubeconfig} (context {_active.context})",
            )
        )
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _skip_reasons:
        return
    terminalreporter.section("local cluster", sep="!", red=True, bold=True)
    for reason in dict.fromkeys(_skip_reasons):
        terminalreporter.write_line(reason, red=True, bold=True)
