"""Wire the parts together from settings, and run them in HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock, utcnow
from bot.config import Settings
from bot.deployer import Deployer, EnvironmentAccess, HelmDeployer
from bot.groups import GroupDirectory
from bot.hub_activity import HubActivityReader
from bot.kube import ClusterConnections
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from bot.notifier import SlackNotifier
from bot.policy import Policy, load_policy, referenced_groups
from bot.scheduler import Jobs, build_scheduler
from bot.services import Services
from bot.slack.app import build_app, build_client
from bot.store import Store, make_engine
from bot.watch import Watcher
from bot.web import make_web_app

__all__ = ["Runtime", "build_runtime", "run_http", "run_socket_mode"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    policy: Policy
    store: Store
    client: AsyncWebClient
    services: Services
    bolt: AsyncApp
    jobs: Jobs

    @property
    def lifecycle(self) -> Lifecycle:
        return self.services.lifecycle

    @property
    def watcher(self) -> Watcher:
        return self.services.watcher

    async def readiness(self) -> dict[str, str]:
        """The database and every cluster answer; each check is bounded in time."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.store.run(self.store.ping), 5)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable ({type(exc).__name__})"
        for cluster in self.policy.clusters:
            try:
                await asyncio.wait_for(self.lifecycle.deployer.check(cluster), 6)
                checks[f"cluster:{cluster}"] = "ok"
            except Exception as exc:
                checks[f"cluster:{cluster}"] = f"unreachable ({type(exc).__name__})"
        return checks

    def web_app(self) -> web.Application:
        return make_web_app(
            self.bolt,
            self.settings.slack_signing_secret,
            metrics=self.lifecycle.metrics,
            readiness=self.readiness,
        )

    async def start_jobs(self) -> AsyncIOScheduler:
        """Take part in the jobs lease at once (resuming interrupted work if we get it), then schedule."""
        await self.jobs.heartbeat()
        scheduler = build_scheduler(
            self.jobs,
            sweep_seconds=self.settings.sweep_interval_seconds,
            reconcile_seconds=self.settings.reconcile_interval_seconds,
        )
        scheduler.start()
        return scheduler

    async def stop_jobs(self, scheduler: AsyncIOScheduler) -> None:
        scheduler.shutdown(wait=False)
        await self.lifecycle.drain()
        await self.jobs.stop()
        await self.close()

    async def close(self) -> None:
        """Release connections: hub activity client, the Slack session, the database pool."""
        await self.watcher.activity.close()
        await self.services.http.close()
        self.store.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    deployer: Deployer | None = None,
    clock: Clock = utcnow,
    http_mode: bool = True,
) -> Runtime:
    policy = load_policy(settings.policies_dir)
    store = Store(make_engine(settings.database_url), clock=clock)
    store.create_schema()
    # Needs a running event loop (the session binds to it).
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    client = build_client(settings.slack_bot_token, settings.slack_api_url, session=http)
    if deployer is None:
        connections = ClusterConnections(
            policy.clusters,
            kubeconfig=settings.kubeconfig,
            helm_binary=settings.helm_binary,
            helm_timeout_seconds=settings.deploy_timeout_seconds,
        )
        access = None
        if settings.environment_cluster_role:
            sa_namespace, _, sa_name = settings.bot_service_account.partition("/")
            access = EnvironmentAccess(settings.environment_cluster_role, sa_namespace, sa_name)
        deployer = HelmDeployer(
            connections,
            chart_ref=settings.chart_ref,
            chart_version=settings.chart_version,
            timeout_seconds=settings.deploy_timeout_seconds,
            access=access,
            image_pull_grace_seconds=settings.image_pull_grace_seconds,
        )
    metrics = Metrics()
    metrics.watch_environments(store.count_by_state)
    lifecycle = Lifecycle(
        store=store,
        policy=policy,
        deployer=deployer,
        notifier=SlackNotifier(client, settings.admin_channel_id),
        clock=clock,
        max_concurrent=settings.max_concurrent_deploys,
        deploy_timeout_seconds=settings.deploy_timeout_seconds,
        claim_ttl=timedelta(seconds=settings.lease_seconds),
        metrics=metrics,
    )
    watcher = Watcher(lifecycle, HubActivityReader())
    services = Services(
        policy=policy,
        store=store,
        lifecycle=lifecycle,
        watcher=watcher,
        groups=GroupDirectory(client, referenced_groups(policy)),
        slack=client,
        http=http,
    )
    bolt = build_app(
        services,
        client=build_client(settings.slack_bot_token, settings.slack_api_url),
        signing_secret=settings.slack_signing_secret if http_mode else None,
    )
    jobs = Jobs(lifecycle, watcher, lease_ttl=timedelta(seconds=settings.lease_seconds))
    return Runtime(
        settings=settings, policy=policy, store=store, client=client, services=services, bolt=bolt, jobs=jobs
    )


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_http(runtime: Runtime) -> None:
    runner = web.AppRunner(runtime.web_app())
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=runtime.settings.port)  # noqa: S104
    await site.start()
    log.info("serving Slack requests on port %d at /slack/events", runtime.settings.port)
    scheduler = await runtime.start_jobs()
    try:
        await _until_stopped()
    finally:
        await runner.cleanup()
        await runtime.stop_jobs(scheduler)


async def run_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(runtime.bolt, runtime.settings.slack_app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")
    scheduler = await runtime.start_jobs()
    try:
        await _until_stopped()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.stop_jobs(scheduler)
