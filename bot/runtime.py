"""Wire the parts together from settings, and run them in HTTP or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.async_app import AsyncApp

from bot.config import Settings
from bot.core.clock import Clock, utcnow
from bot.core.errors import BotError
from bot.core.lifecycle import Lifecycle
from bot.core.policy import Policy, read_policy, referenced_groups
from bot.core.ports import Deployer
from bot.core.problems import ClusterNotConfigured
from bot.helm.activity import EnvironmentActivity, HubAccess
from bot.helm.deployer import EnvironmentAccess, HelmDeployer
from bot.helm.kube import ClusterConnections
from bot.hub.activity import HubActivityReader
from bot.jobs import Jobs, build_scheduler
from bot.logs import QuietAccessLog, redactor
from bot.metrics import Metrics
from bot.slack.app import build_app, build_client
from bot.slack.groups import GroupDirectory
from bot.slack.identity import TokenRefused, Workspace
from bot.slack.notifier import SlackNotifier
from bot.slack.people import People
from bot.slack.services import Services
from bot.slack.web import make_health_app, make_web_app
from bot.store.sql import SqlStore, make_engine

__all__ = ["Runtime", "build_runtime", "run_http", "run_socket_mode"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    policy: Policy
    store: SqlStore
    deployer: ClusterDeployer
    # The real clusters' connections (None when a deployer was given, as in tests).
    connections: ClusterConnections | None
    activity: EnvironmentActivity
    metrics: Metrics
    services: Services
    bolt: AsyncApp
    jobs: Jobs

    @property
    def lifecycle(self) -> Lifecycle:
        return self.services.lifecycle

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
                await asyncio.wait_for(self.deployer.check(cluster), 6)
                checks[f"cluster:{cluster}"] = "ok"
            except BotError as exc:
                if isinstance(exc.problem, ClusterNotConfigured):
                    checks[f"cluster:{cluster}"] = f"not configured ({exc.problem.reason})"
                else:
                    checks[f"cluster:{cluster}"] = f"unreachable ({type(exc.problem).__name__})"
            except Exception as exc:
                checks[f"cluster:{cluster}"] = f"unreachable ({type(exc).__name__})"
        workspace = self.services.workspace
        if workspace.lost is not None:
            checks["slack"] = f"lost ({workspace.lost})"
        else:
            checks["slack"] = "ok" if workspace.installation else "not answering (installation unknown)"
        return checks

    def start_up_problems(self) -> tuple[list[str], list[str]]:
        """What stops the bot from starting (nothing could work), and what it starts despite
        (some things could), one line each: clusters the bot cannot even try to reach."""
        if self.connections is None:
            return [], []
        unusable = {
            name: problem
            for name in self.policy.clusters
            if (problem := self.connections.configuration_problem(name)) is not None
        }
        lines = [f"cluster {name}: cannot be used: {problem}" for name, problem in sorted(unusable.items())]
        if self.policy.clusters and len(unusable) == len(self.policy.clusters):
            return [*lines, "no cluster in the policy can be used; check KUBECONFIG, the contexts and helm"], []
        return [], lines

    def web_app(self) -> web.Application:
        return make_web_app(
            self.bolt,
            self.settings.slack_signing_secret,
            metrics=self.metrics,
            readiness=self.readiness,
            first_sighting=self.first_sighting,
        )

    async def first_sighting(self, signature: str, until: datetime) -> bool:
        return await self.store.run(self.store.first_sighting, signature, until)

    async def identify(self) -> bool:
        """Learn from Slack which installation we are; requests do nothing until we know.

        A token Slack refuses raises :class:`TokenRefused` (nothing could work); a Slack that
        does not answer is logged and ``False`` returned, and :meth:`keep_identifying` retries."""
        try:
            installation = await self.services.workspace.learn(self.services.slack)
        except TokenRefused:
            raise
        except Exception as exc:
            log.warning("Slack's Web API did not answer (%s); requests wait until it does", type(exc).__name__)
            return False
        log.info(
            "installed as app %s in workspace %s%s",
            installation.app_id,
            installation.team_id,
            f" (organisation {installation.enterprise_id})" if installation.enterprise_id else "",
        )
        return True

    async def keep_identifying(self, *, first_delay: float = 2.0, longest: float = 60.0) -> None:
        """Ask Slack again, backing off, until it answers."""
        delay = first_delay
        while not await self.identify():
            await asyncio.sleep(delay)  # wait-ok: backing off from an unreachable Slack
            delay = min(delay * 2, longest)

    async def start_jobs(self) -> AsyncIOScheduler:
        """Take part in the jobs lease at once (resuming interrupted work if we get it), then schedule."""
        await self.jobs.heartbeat()
        scheduler = build_scheduler(
            self.jobs,
            sweep_seconds=self.settings.sweep_interval_seconds,
            pool_seconds=self.settings.pool_interval_seconds,
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
        await self.activity.close()
        await self.services.http.close()
        self.store.close()


class ClusterDeployer(Deployer, HubAccess, Protocol):
    """A deployer that also tells where and with what token each hub's activity is read."""


def build_runtime(
    settings: Settings,
    *,
    deployer: ClusterDeployer | None = None,
    clock: Clock = utcnow,
    http_mode: bool = True,
) -> Runtime:
    loaded = read_policy(settings.policies_dir, kubeconfig=settings.kubeconfig)
    for warning in loaded.warnings:
        log.warning("policy: %s", warning)
    for note in loaded.notes:
        log.info("policy: %s", note)
    policy = loaded.policy
    store = SqlStore(make_engine(settings.database_url), clock=clock)
    store.create_schema()
    log.info("database: %s", store.engine.url.render_as_string(hide_password=True))
    # Needs a running event loop (the session binds to it).
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    client = build_client(settings.slack_bot_token, settings.slack_api_url, session=http)
    connections: ClusterConnections | None = None
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
            installation=settings.installation_id,
        )
    activity = EnvironmentActivity(deployer, HubActivityReader())
    metrics = Metrics()
    metrics.watch_environments(store.count_by_state)
    metrics.watch_pools(
        store.count_pool_hubs, lambda: {name: pool.size_at(utcnow()) for name, pool in policy.pools.items()}
    )
    workspace = Workspace()
    notifier = SlackNotifier(
        client,
        settings.admin_channel_id,
        workspace,
        ephemeral_credentials=settings.credentials_delivery == "ephemeral",
    )
    lifecycle = Lifecycle(
        store=store,
        policy=policy,
        deployer=deployer,
        notifier=notifier,
        activity=activity,
        metrics=metrics,
        secrets=redactor,
        clock=clock,
        max_concurrent=settings.max_concurrent_deploys,
        deploy_timeout_seconds=settings.deploy_timeout_seconds,
        claim_ttl=timedelta(seconds=settings.lease_seconds),
    )
    services = Services(
        lifecycle=lifecycle,
        workspace=workspace,
        people=People(client, workspace),
        groups=GroupDirectory(client, referenced_groups(policy)),
        notifier=notifier,
        slack=client,
        http=http,
        api_url=settings.slack_api_url,
    )
    bolt = build_app(
        services,
        bot_token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        signing_secret=settings.slack_signing_secret if http_mode else None,
    )
    jobs = Jobs(lifecycle, store, lease_ttl=timedelta(seconds=settings.lease_seconds))
    return Runtime(
        settings=settings,
        policy=policy,
        store=store,
        deployer=deployer,
        connections=connections,
        activity=activity,
        metrics=metrics,
        services=services,
        bolt=bolt,
        jobs=jobs,
    )


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_http(runtime: Runtime) -> None:
    identifying = None if await runtime.identify() else asyncio.ensure_future(runtime.keep_identifying())
    runner = web.AppRunner(runtime.web_app(), access_log_class=QuietAccessLog)
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=runtime.settings.port)  # noqa: S104
    await site.start()
    log.info("serving Slack requests on port %d at /slack/events", runtime.settings.port)
    scheduler = await runtime.start_jobs()
    try:
        await _until_stopped()
    finally:
        if identifying is not None:
            identifying.cancel()
        await runner.cleanup()
        await runtime.stop_jobs(scheduler)


async def run_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    # Probes and metrics answer in Socket Mode too, on $PORT (no Slack requests come there).
    health = web.AppRunner(
        make_health_app(metrics=runtime.metrics, readiness=runtime.readiness), access_log_class=QuietAccessLog
    )
    await health.setup()
    await web.TCPSite(health, host="0.0.0.0", port=runtime.settings.port).start()  # noqa: S104
    log.info("serving /healthz, /readyz and /metrics on port %d", runtime.settings.port)
    if not await runtime.identify():
        await runtime.keep_identifying()
    handler = AsyncSocketModeHandler(runtime.bolt, runtime.settings.slack_app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("connected to Slack in Socket Mode")
    scheduler = await runtime.start_jobs()
    try:
        await _until_stopped()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await health.cleanup()
        await runtime.stop_jobs(scheduler)
