"""Prometheus metrics. Counters are bumped where things happen; the environments-by-state
gauge is read from the database at scrape time, so every replica reports the same truth."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.core.states import State

__all__ = ["Metrics"]


class _EnvironmentsByState(Collector):
    def __init__(self, count_by_state: Callable[[], Mapping[str, int]]) -> None:
        self._count = count_by_state

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("jupyterhub_bot_environments", "Environments by lifecycle state.", labels=["state"])
        counts = self._count()
        for state in State:
            family.add_metric([state.value], counts.get(state.value, 0))
        yield family


class _PoolHubs(Collector):
    """Warm pools' hubs by pool and state, and the size each pool keeps now."""

    def __init__(
        self,
        count_pool_hubs: Callable[[], Mapping[tuple[str, str], int]],
        wanted: Callable[[], Mapping[str, int]],
    ) -> None:
        self._count = count_pool_hubs
        self._wanted = wanted

    def collect(self) -> Iterable[GaugeMetricFamily]:
        hubs = GaugeMetricFamily(
            "jupyterhub_bot_pool_hubs", "Warm pools' hubs not yet handed out, by state.", labels=["pool", "state"]
        )
        wanted = self._wanted()
        counts = self._count()
        for pool in sorted({pool for pool, _ in counts} | set(wanted)):
            for state in (State.APPROVED, State.DEPLOYING, State.READY, State.EXPIRING):
                hubs.add_metric([pool, state.value], counts.get((pool, state.value), 0))
        yield hubs
        size = GaugeMetricFamily(
            "jupyterhub_bot_pool_wanted", "Ready hubs each warm pool keeps now (its schedule).", labels=["pool"]
        )
        for pool, count in sorted(wanted.items()):
            size.add_metric([pool], count)
        yield size


class Metrics:
    """One registry per bot, so tests and several bots in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.slack_requests = Counter(
            "jupyterhub_bot_slack_requests",
            "Requests from Slack by kind and HTTP outcome.",
            ["kind", "status"],
            registry=self.registry,
        )
        self.launches = Counter(
            "jupyterhub_bot_launches",
            "Finished launches by outcome and where the hub came from (new, pool, pool-empty).",
            ["outcome", "source"],
            registry=self.registry,
        )
        self.teardowns = Counter(
            "jupyterhub_bot_teardowns", "Finished teardowns by outcome.", ["outcome"], registry=self.registry
        )
        self.launch_duration = Histogram(
            "jupyterhub_bot_launch_duration_seconds",
            "Time from the start of a deploy until the hub is ready, by where the hub came from.",
            ["source"],
            buckets=(1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900),
            registry=self.registry,
        )
        self.pool_claims = Counter(
            "jupyterhub_bot_pool_claims",
            "Launches that took a warm pool's ready hub.",
            ["pool"],
            registry=self.registry,
        )
        self.pool_misses = Counter(
            "jupyterhub_bot_pool_misses",
            "Launches a warm pool serves that found no hub free and deployed a new one.",
            ["pool"],
            registry=self.registry,
        )
        self.pool_deploys = Counter(
            "jupyterhub_bot_pool_deploys",
            "Finished deploys of warm pools' hubs, by outcome.",
            ["pool", "outcome"],
            registry=self.registry,
        )

    def launch_finished(self, outcome: str, seconds: float | None = None, *, source: str = "new") -> None:
        self.launches.labels(outcome, source).inc()
        if seconds is not None:
            self.launch_duration.labels(source).observe(seconds)

    def pool_claimed(self, pool: str) -> None:
        self.pool_claims.labels(pool).inc()

    def pool_missed(self, pool: str) -> None:
        self.pool_misses.labels(pool).inc()

    def pool_hub_deployed(self, pool: str, outcome: str) -> None:
        self.pool_deploys.labels(pool, outcome).inc()

    def teardown_finished(self, outcome: str) -> None:
        self.teardowns.labels(outcome).inc()

    def watch_environments(self, count_by_state: Callable[[], Mapping[str, int]]) -> None:
        self.registry.register(_EnvironmentsByState(count_by_state))

    def watch_pools(
        self,
        count_pool_hubs: Callable[[], Mapping[tuple[str, str], int]],
        wanted: Callable[[], Mapping[str, int]],
    ) -> None:
        self.registry.register(_PoolHubs(count_pool_hubs, wanted))
