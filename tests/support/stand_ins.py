"""In-memory stand-ins for the core's I/O ports, for tests of the core and of the Slack
contract. They hold state like the real thing would (a release, a Secret) and can be
told to fail; the real adapters are tested against a real cluster elsewhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.deployer import Progress, Target
from bot.errors import DeployError


@dataclass
class MutableClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class InMemoryDeployer:
    """Releases keyed by namespace; ``fail_next`` makes the next deploy fail with that message."""

    releases: dict[str, dict[str, Any]] = field(default_factory=dict)
    deploys: list[Target] = field(default_factory=list)
    teardowns: list[Target] = field(default_factory=list)
    fail_next: str | None = None
    fail_teardowns: int = 0
    gate: asyncio.Event | None = None

    async def deploy(self, target: Target, values: dict[str, Any], labels: dict[str, str], progress: Progress) -> str:
        self.deploys.append(target)
        self.releases[target.namespace] = {"values": values, "labels": labels}
        await progress("namespace created")
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next is not None:
            message, self.fail_next = self.fail_next, None
            raise DeployError(message)
        await progress("chart installed, hub ready")
        return f"http://hubs.example.test/{target.namespace}/"

    async def teardown(self, target: Target) -> None:
        self.teardowns.append(target)
        if self.fail_teardowns:
            self.fail_teardowns -= 1
            raise DeployError("Kubernetes refused to read the namespace (503 Service Unavailable).")
        self.releases.pop(target.namespace, None)

    async def admin_password(self, target: Target) -> str:
        release = self.releases.get(target.namespace)
        if release is None:
            raise DeployError("The hub's credentials could not be read from the cluster.")
        return str(release["values"]["hub"]["adminPassword"])

    async def hub_token(self, target: Target) -> str:
        release = self.releases.get(target.namespace)
        if release is None:
            raise DeployError("The hub's credentials could not be read from the cluster.")
        return str(release["values"]["hub"]["botApiToken"])

    async def check(self, cluster: str) -> None:
        return None

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        return {ns: r["labels"]["jupyterhub-bot.io/environment-id"] for ns, r in self.releases.items()}
