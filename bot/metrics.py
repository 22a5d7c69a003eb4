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
            "jupyterhub_bot_launches", "Finished deploys by outcome.", ["outcome"], registry=self.registry
        )
        self.teardowns = Counter(
            "jupyterhub_bot_teardowns", "Finished teardowns by outcome.", ["outcome"], registry=self.registry
        )
        self.launch_duration = Histogram(
            "jupyterhub_bot_launch_duration_seconds",
            "Time from the start of a deploy until the hub is ready.",
            buckets=(5, 15, 30, 60, 120, 180, 300, 600, 900),
            registry=self.registry,
        )

    def launch_finished(self, outcome: str, seconds: float | None = None) -> None:
        self.launches.labels(outcome).inc()
        if seconds is not None:
            self.launch_duration.observe(seconds)

    def teardown_finished(self, outcome: str) -> None:
        self.teardowns.labels(outcome).inc()

    def watch_environments(self, count_by_state: Callable[[], Mapping[str, int]]) -> None:
        self.registry.register(_EnvironmentsByState(count_by_state))
