"""``python -m bot sandbox``: a local Slack workspace in the browser, with the real bot
behind it, on 127.0.0.1 only. Not for production.

One process, two listening sockets, both on 127.0.0.1:
- the sandbox (``--port``, 3000 unless given): the page, and the emulator's Web API and
  ``response_url``s, which the bot calls as it would call Slack;
- the bot's own HTTP front (``/slack/events``, a free port), built by
  :func:`bot.runtime.build_runtime` exactly as ``python -m bot serve`` builds it; the
  emulator posts every command, click and submission there, signed with this run's
  signing secret.

Every run makes its own bot token, signing secret, SQLite database and installation ID
in a temporary folder; on exit it removes that folder and the namespaces of its hubs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from aiohttp import web

from bot.config import load_settings
from bot.logs import configure_logging
from bot.sandbox import demo
from bot.sandbox.cluster import ClusterChoice, ClusterUnavailable, choose_cluster
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.realnode import policies_for, real_node
from bot.sandbox.server import SandboxPage

__all__ = ["DEFAULT_PORT", "SLACK_SETTINGS", "run_sandbox", "slack_settings_in"]

log = logging.getLogger(__name__)

DEFAULT_PORT = 3000
# Any of these means a real workspace is configured: the sandbox then refuses to start.
SLACK_SETTINGS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "ADMIN_CHANNEL_ID", "SLACK_API_URL")
CONNECT_HELP = (
    "To connect a real Slack workspace instead, create the app from slack-app-manifest.yaml, put "
    "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and ADMIN_CHANNEL_ID in .env (README, Set up) and run `make run` again."
)


def slack_settings_in(environ: Mapping[str, str]) -> list[str]:
    return [name for name in SLACK_SETTINGS if environ.get(name)]


def say(text: str) -> None:
    print(f"sandbox: {text}", flush=True)


class Sandbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.run_dir = Path(tempfile.mkdtemp(prefix="jupyterhub-bot-sandbox-"))
        self.signing_secret = secrets.token_hex(32)
        self.bot_token = f"xoxb-sandbox-{secrets.token_hex(24)}"
        self.installation = f"sandbox-{secrets.token_hex(3)}"
        self.emulator = SlackEmulator(
            signing_secret=self.signing_secret,
            users={person.id: person.users_info() for person in demo.PEOPLE},
            bot_token=self.bot_token,
        )
        self.page = SandboxPage(self.emulator)
        self.started = time.monotonic()

    def report(self, text: str, *, phase: str = "cluster") -> None:
        say(text)
        self.emulator.workspace.status({"phase": phase, "text": text})

    async def run(self, stop: asyncio.Event) -> int:
        try:
            await self.emulator.start(
                port=self.port, routes=self.page.routes(), middlewares=[SandboxPage.guard(lambda: self.emulator.port)]
            )
        except OSError as exc:
            print(
                f"sandbox: cannot listen on 127.0.0.1:{self.port} ({exc.strerror}); "
                "choose another port with `python -m bot sandbox --port N`",
                file=sys.stderr,
            )
            shutil.rmtree(self.run_dir, ignore_errors=True)
            return 2
        say(f"open {self.emulator.base_url}/ in your browser (listening on 127.0.0.1 only; not for production)")
        say(CONNECT_HELP)
        try:
            choice = await self._cluster(stop)
            if choice is None:
                return 1 if not stop.is_set() else 0
            return await self._serve(choice, stop)
        finally:
            await self.emulator.stop()
            shutil.rmtree(self.run_dir, ignore_errors=True)

    async def _cluster(self, stop: asyncio.Event) -> ClusterChoice | None:
        self.page.not_ready = "the cluster is starting (progress at the top of the page)"
        choosing = asyncio.ensure_future(choose_cluster(self.report))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait((choosing, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not choosing.done():
            choosing.cancel()
            return None
        try:
            return choosing.result()
        except ClusterUnavailable as exc:
            self.page.not_ready = f"no cluster: {exc}"
            self.report(f"no cluster: {exc}", phase="error")
            await stop.wait()
            return None

    async def _serve(self, choice: ClusterChoice, stop: asyncio.Event) -> int:
        from bot.runtime import build_runtime

        node = real_node(choice.facts)
        policies = policies_for(node, demo.POLICIES, self.run_dir)
        settings = load_settings(
            "serve",
            {
                "SLACK_BOT_TOKEN": self.bot_token,
                "SLACK_SIGNING_SECRET": self.signing_secret,
                "SLACK_API_URL": self.emulator.api_url,
                "ADMIN_CHANNEL_ID": demo.ADMIN_CHANNEL,
                "DATABASE_URL": f"sqlite:///{self.run_dir / 'bot.db'}",
                "POLICIES_DIR": str(policies),
                "KUBECONFIG": choice.kubeconfig,
                "HELM_BINARY": choice.helm,
                "INSTALLATION_ID": self.installation,
                "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
                "LOG_FORMAT": "text",
            },
        )
        runtime = build_runtime(settings)
        await runtime.identify()
        runner = web.AppRunner(runtime.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        bot_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.emulator.bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
        scheduler = await runtime.start_jobs()
        self.page.not_ready = ""
        where = " (hubs go to the real node)" if node else ""
        self.report(
            f"ready in {time.monotonic() - self.started:.0f}s: the bot listens on 127.0.0.1:{bot_port} "
            f"and deploys to {choice.description}{where}",
            phase="ready",
        )
        if choice.simulated:
            self.report(
                "kwok nodes only: a hub deploys and reports ready, but no process answers at its URL",
                phase="ready",
            )
        try:
            await stop.wait()
        finally:
            say("stopping: removing this run's hubs and database")
            await runner.cleanup()
            await runtime.stop_jobs(scheduler)
            await asyncio.to_thread(remove_namespaces, choice.kubeconfig, self.installation)
        return 0


def remove_namespaces(kubeconfig: str, installation: str) -> None:
    """Delete the namespaces of this run's hubs (their Helm releases live inside them)."""
    from kubernetes import client, config

    from bot.helm.chart import LABEL_INSTALLATION

    try:
        api_client = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig.split(os.pathsep)[0]
        )
        api = client.CoreV1Api(api_client)
        found = api.list_namespace(label_selector=f"{LABEL_INSTALLATION}={installation}", _request_timeout=10)
        for namespace in found.items:
            name = str(namespace.metadata.name if namespace.metadata else "")
            api.delete_namespace(name, _request_timeout=10)
            say(f"deleted namespace {name}")
    except Exception as exc:
        say(f"could not remove this run's namespaces ({type(exc).__name__}); label {LABEL_INSTALLATION}={installation}")


def run_sandbox(port: int = DEFAULT_PORT) -> int:
    present = slack_settings_in(os.environ)
    if present:
        print(
            f"sandbox: refusing to start: Slack settings are set ({', '.join(present)}). The sandbox never runs "
            "beside a real workspace's settings; unset them to try the sandbox, or run `python -m bot serve` "
            "(`make run`) to serve that workspace.",
            file=sys.stderr,
        )
        return 2
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), json_lines=False)
    # The scheduler's job bookkeeping and the migrations' steps would bury the sandbox's own lines.
    for chatty in ("apscheduler", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        return await Sandbox(port).run(stop)

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(main())
    return 130
