"""Helpers for the reliability tests on the local cluster: the policy, the real bot as a
process, and what the cluster holds.

The bot runs as ``python -m bot serve`` in its own process (so it can be killed with SIGKILL
and its stderr captured), while the Slack emulator runs in the test's event loop so the test
can wait on what the bot said. ``bench/processes.py::bot_process`` waits for /healthz with a
blocking loop and discards stderr, which fits neither need, hence the small async twin here.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.core.environment import Environment
from bot.core.states import ACTIVE_STATES
from bot.sandbox.emulator import SlackEmulator
from bot.store.sql import SqlStore, make_engine
from tests.support.bot_harness import assert_acked, cluster_policy
from tests.support.cluster import LocalCluster
from tests.support.processes import free_port
from tests.support.replicas import bot_process_env

REPO = Path(__file__).resolve().parents[2]
CHARTS = Path(__file__).resolve().parent / "charts"
MANAGED = "app.kubernetes.io/managed-by=jupyterhub-bot"


def unique_prefix() -> str:
    """A namespace prefix of this test's own, so other tests' namespaces on the shared cluster
    never look like our orphans (and ours never look like theirs)."""
    return f"rel{secrets.token_hex(2)}-"


def write_policy(directory: Path, cluster: LocalCluster, users: list[str], prefix: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    policy = cluster_policy(owners=users, context=cluster.context, max_environments=1, namespace_prefix=prefix)
    (directory / "reliability.yaml").write_text(policy)
    return directory


def bot_env(cluster: LocalCluster, *, database: Path, policies: Path, slack: SlackEmulator) -> dict[str, str]:
    return bot_process_env(
        slack=slack, database_url=f"sqlite:///{database}", policies=policies, cluster=cluster, LOG_LEVEL="DEBUG"
    )


async def poll(what: str, check: Callable[[], Any], *, timeout: float, interval: float = 0.2) -> Any:
    """Call ``check`` until it returns something truthy (returned), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {result!r})")
        await asyncio.sleep(interval)  # wait-ok: bounded polling


@dataclass
class BotProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def kill9(self) -> None:
        """SIGKILL to the bot and its children (helm), as when its container dies: no shutdown
        handler, no lease release, no drain, and no helm left running to finish the job."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []


@asynccontextmanager
async def bot_process(env: dict[str, str], log: Path, *, startup: float = 60) -> AsyncIterator[BotProcess]:
    """``python -m bot serve`` with ``env``; stderr (its JSON logs) appended to ``log``."""
    port = free_port()
    with log.open("ab") as stderr:
        process = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant; we poll it without blocking
            [sys.executable, "-m", "bot", "serve"],
            cwd=REPO,
            env={**os.environ, **env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, so kill9 takes helm with it
        )
    bot = BotProcess(process, port, log)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:

            async def healthy() -> bool:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            deadline = time.monotonic() + startup
            while not await healthy():
                if process.poll() is not None:
                    raise AssertionError(
                        f"the bot exited with {process.returncode}:\n" + "\n".join(bot.log_lines()[-20:])
                    )
                if time.monotonic() > deadline:
                    raise AssertionError(f"the bot did not answer /healthz within {startup}s")
                await asyncio.sleep(0.1)  # wait-ok: polling a starting server
        yield bot
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# -- reading the database the bot writes -----------------------------------------------------


class Database:
    """The bot's SQLite file, read from the test process (WAL mode allows it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SqlStore(make_engine(f"sqlite:///{path}"))

    def environment(self, owner: str, name: str) -> Environment | None:
        return self.store.find_by_name(owner, name)

    def get(self, env_id: str) -> Environment | None:
        return self.store.get(env_id)

    def active_ids(self) -> set[str]:
        return {env.id for env in self.store.in_states(ACTIVE_STATES)}

    def raw_bytes(self) -> bytes:
        """The database file and its write-ahead log: everything the bot wrote to disk."""
        parts = [self.path, self.path.with_name(self.path.name + "-wal"), self.path.with_name(self.path.name + "-shm")]
        return b"".join(p.read_bytes() for p in parts if p.exists())

    def close(self) -> None:
        self.store.close()


# -- the cluster -------------------------------------------------------------------------------


def managed_namespaces(core: k8s.CoreV1Api, prefix: str) -> dict[str, str]:
    """Namespaces with the bot's label (and this test's prefix): name -> environment id."""
    found = core.list_namespace(label_selector=MANAGED)
    names: dict[str, str] = {}
    for ns in found.items:
        meta = ns.metadata
        if meta is not None and meta.name and meta.name.startswith(prefix):
            names[meta.name] = (meta.labels or {}).get("jupyterhub-bot.io/environment-id", "")
    return names


def orphans(core: k8s.CoreV1Api, prefix: str, database: Database) -> dict[str, str]:
    """Namespaces of ours whose environment is not active in the database."""
    active = database.active_ids()
    return {name: env_id for name, env_id in managed_namespaces(core, prefix).items() if env_id not in active}


def remove_leftovers(core: k8s.CoreV1Api, prefix: str) -> None:
    """After a failed test: delete this test's namespaces so the shared cluster stays clean."""
    for name in managed_namespaces(core, prefix):
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


async def assert_served_as_usual(slack: SlackEmulator, user: str) -> None:
    """``user``, who has no environments, gets help and an empty list as usual."""
    help_reply = await slack.slash_command(user, "help")
    assert_acked(help_reply)
    assert "Usage" in help_reply.text
    listed = await slack.slash_command(user, "list")
    assert_acked(listed)
    assert "no active environments" in await slack.private_answer(listed)
