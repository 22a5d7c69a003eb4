"""The core on its own: the lifecycle with in-memory stand-ins for every port but the store,
which is the real SQL store on a throwaway SQLite file. No HTTP, no Slack, no cluster."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.commands import Launch
from bot.core.environment import Environment
from bot.core.lifecycle import Lifecycle
from bot.core.policy import Actor, Policy
from bot.core.states import State
from bot.logs import SecretRedactor
from bot.store.sql import SqlStore, make_engine
from tests.support.stand_ins import (
    CountingMetrics,
    InMemoryDeployer,
    MutableClock,
    RecordingNotifier,
    ScriptedActivity,
)

OWNER = Actor("U0OWNER")
RESEARCHER = Actor("U0RESEARCH")
ADMIN = Actor("U0ADMIN")
OTHER_ADMIN = Actor("U0ADMIN2")
NOBODY = Actor("U0NOBODY")
CLAIM_TTL = timedelta(seconds=30)

POLICY: dict[str, Any] = {
    "roles": {
        "students": {
            "members": [f"user:{OWNER.user_id}"],
            "allow": ["launch", "list", "status", "creds", "extend", "delete"],
            "profiles": ["small"],
            "clusters": ["dev"],
            "max_environments": 2,
            "max_lifetime": "1d",
            "max_extensions": 2,
        },
        "researchers": {
            "members": [f"user:{RESEARCHER.user_id}"],
            "allow": ["launch", "list", "status", "creds", "extend", "delete"],
            "profiles": ["small"],
            "clusters": ["dev"],
            "approval": "required",
        },
        "admins": {
            "members": [f"user:{ADMIN.user_id}", f"user:{OTHER_ADMIN.user_id}"],
            "allow": ["approve", "deny", "expire", "list-all", "list", "status", "launch"],
            "profiles": ["small"],
            "clusters": ["dev"],
            "approval": "required",
        },
    },
    "profiles": {"small": {"image": "quay.io/jupyter/minimal-notebook:2025-06-30", "cpu": "1", "memory": "1Gi"}},
    "clusters": {"dev": {}},
    "defaults": {
        "lifetime": "8h",
        "idle_timeout": "2h",
        "warn_before": "30m",
        "extend_by": "4h",
        "expiry_warnings": ["1h", "10m"],
        "hub_failures_before_alert": 2,
    },
}


@dataclass
class Core:
    lifecycle: Lifecycle
    store: SqlStore
    deployer: InMemoryDeployer
    notifier: RecordingNotifier
    activity: ScriptedActivity
    metrics: CountingMetrics
    clock: MutableClock

    async def launch(self, actor: Actor, name: str, **options: Any) -> Environment:
        env = await self.lifecycle.launches.request(actor, Launch(name=name, **options))
        await self.lifecycle.drain()
        return self.get(env.id)

    def get(self, env_id: str) -> Environment:
        env = self.store.get(env_id)
        assert env is not None
        return env

    async def ready(self, name: str = "lab", actor: Actor = OWNER) -> Environment:
        env = await self.launch(actor, name)
        assert env.state is State.READY, env
        return env

    def later(self, delta: timedelta) -> None:
        self.clock.advance(delta)


@asynccontextmanager
async def running_core(db: Path, *, policy: dict[str, Any] = POLICY, max_concurrent: int = 4) -> AsyncIterator[Core]:
    clock = MutableClock()
    store = SqlStore(make_engine(f"sqlite:///{db}"), clock=clock)
    store.create_schema()
    deployer, notifier, activity, metrics = (
        InMemoryDeployer(),
        RecordingNotifier(),
        ScriptedActivity(),
        CountingMetrics(),
    )
    lifecycle = Lifecycle(
        store=store,
        policy=Policy.model_validate(policy),
        deployer=deployer,
        notifier=notifier,
        activity=activity,
        metrics=metrics,
        secrets=SecretRedactor(),
        clock=clock,
        max_concurrent=max_concurrent,
        claim_ttl=CLAIM_TTL,
    )
    try:
        yield Core(lifecycle, store, deployer, notifier, activity, metrics, clock)
    finally:
        if deployer.gate is not None:
            deployer.gate.set()  # a failed test must not leave a deploy waiting forever
        await lifecycle.drain()
        store.close()


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    async with running_core(tmp_path / "core.db") as running:
        yield running


@pytest.fixture
async def one_slot_core(tmp_path: Path) -> AsyncIterator[Core]:
    """One deploy or teardown at a time (MAX_CONCURRENT_DEPLOYS=1), and room for five environments."""
    policy = copy.deepcopy(POLICY)
    policy["roles"]["students"]["max_environments"] = 5
    async with running_core(tmp_path / "core.db", policy=policy, max_concurrent=1) as running:
        yield running
