"""Start the bot and the Slack emulator as separate processes, as they would run for real.

Shared by the benchmarks (``bench/``) and the tests that need real processes
(``tests/replicas``): ``bot_process`` runs ``python -m bot serve`` with an environment on
top of ours and waits for its ``/healthz``; give it ``log_file`` to keep what it prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]

__all__ = ["REPO", "bot_process", "emulator_process", "free_port", "offline_cluster", "wait_http"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60, *, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers; give up early if ``process`` (the server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server process exited with status {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)  # wait-ok: polling a starting server
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def offline_cluster(folder: Path) -> dict[str, str]:
    """Settings for a bot that has a cluster configured but never needs to reach it (the bot
    refuses to start without a usable cluster): a kubeconfig whose API server nobody runs,
    and a real helm."""
    from tests.support.cluster import helm_binary
    from tests.support.hub import find_helm

    kubeconfig = folder / "offline-kubeconfig.yaml"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "offline", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "nobody", "user": {"token": "unused"}}],
                "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "nobody"}}],
                "current-context": "offline",
            }
        )
    )
    helm = find_helm()
    return {"KUBECONFIG": str(kubeconfig), "HELM_BINARY": str(helm if helm and helm.exists() else helm_binary())}


@contextlib.contextmanager
def emulator_process(groups: Mapping[str, list[str]]) -> Iterator[str]:
    """A Slack emulator in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.emulator", "--groups", json.dumps(dict(groups))],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def bot_process(
    env: Mapping[str, str],
    *,
    module: str = "bot",
    args: tuple[str, ...] = ("serve",),
    log_file: Path | None = None,
    start_timeout: float = 60,
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m bot serve`` (or another module) with ``env`` on top of ours; waits for /healthz.

    Its stdout and stderr (the bot's JSON log) go to ``log_file`` (appended to) when
    given, else nowhere. On leaving, the process gets SIGTERM, then SIGKILL after 20 s;
    a process the caller already killed is left as it is.
    """
    port = env["PORT"]
    with contextlib.ExitStack() as stack:
        output: IO[bytes] | int = subprocess.DEVNULL
        if log_file is not None:
            output = stack.enter_context(open(log_file, "ab"))
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=output,
            stderr=output,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", start_timeout, process=process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
