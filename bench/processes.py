"""Start the pieces of a benchmark as separate processes, as they would run for real."""

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

REPO = Path(__file__).resolve().parents[1]

__all__ = ["REPO", "bot_process", "emulator_process", "free_port", "wait_http"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)  # wait-ok: polling a starting server
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def emulator_process(groups: Mapping[str, list[str]]) -> Iterator[str]:
    """A Slack emulator in its own process; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.slack_emulator", "--groups", json.dumps(dict(groups))],
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
    env: Mapping[str, str], *, module: str = "bot", args: tuple[str, ...] = ("serve",)
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m bot serve`` (or another module) with ``env`` on top of ours; waits for /healthz."""
    port = env["PORT"]
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
