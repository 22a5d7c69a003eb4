"""Bot processes for tests that need real replicas: started, killed with SIGKILL, stopped.

Shared by the replica tests and the real-node tests that kill a bot in the middle of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.sandbox.emulator import SlackEmulator
from tests.support.bot_harness import ADMIN_CHANNEL, SIGNING_SECRET
from tests.support.cluster import LocalCluster
from tests.support.processes import bot_process, free_port

__all__ = ["Replica", "bot_process_env", "pid_of", "poll", "start_replica"]

T = TypeVar("T")


@dataclass
class Replica:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    stack: contextlib.ExitStack  # stops the process (terminate, then kill) when closed

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, the lease and claims are left to lapse."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def bot_process_env(
    *, slack: SlackEmulator, database_url: str, policies: Path, cluster: LocalCluster, **settings: str
) -> dict[str, str]:
    """The environment of a bot process against ``slack``, the database and the cluster;
    ``settings`` (``SWEEP_INTERVAL_SECONDS="1"``, ...) are added to it."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "ADMIN_CHANNEL_ID": ADMIN_CHANNEL,
        "DATABASE_URL": database_url,
        "POLICIES_DIR": str(policies),
        "KUBECONFIG": str(cluster.kubeconfig),
        "HELM_BINARY": str(cluster.helm),
        "LOG_FORMAT": "json",
        **settings,
    }


def start_replica(env: Mapping[str, str], folder: Path, name: str) -> Replica:
    """``python -m bot serve`` with ``env``, on a free port, logging to ``folder/name.log``;
    returns once its /healthz answers (blocking: call it in a thread from async code)."""
    log = folder / f"{name}.log"
    port = free_port()
    stack = contextlib.ExitStack()
    process = stack.enter_context(bot_process({**env, "PORT": str(port)}, log_file=log))
    return Replica(name=name, process=process, port=port, log=log, stack=stack)


def pid_of(worker_id: str) -> int:
    """``worker_id`` is ``<hostname>-<pid>-<random>`` (the hostname may contain dashes)."""
    return int(worker_id.rsplit("-", 2)[1])


async def poll(check: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Call ``check`` (blocking, in a thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.1)  # wait-ok: polling the database
