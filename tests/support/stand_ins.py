"""In-memory stand-ins for the core's I/O ports, for tests of the core and of the Slack
contract. They hold state like the real thing would (a release, a Secret) and can be
told to fail; the real adapters are tested against a real cluster elsewhere."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.core.environment import Environment, MessageRef, Target
from bot.core.errors import DeployError
from bot.core.notices import DeployStep, Notice
from bot.core.ports import Deployed, HubRequest, Progress, ReplyChannel
from bot.core.problems import CredentialsUnreadable, HelmFailed, Problem
from bot.helm.chart import ADMIN_USER, LABEL_ENVIRONMENT, MANAGED_BY, HubSecrets, build_values, namespace_labels

N = TypeVar("N", bound=Notice)
# The recipient RecordingNotifier files admin notices under.
ADMINS = "admins"


@dataclass
class MutableClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class InMemoryDeployer:
    """Releases keyed by namespace, holding the values our chart would get.

    ``fail_next`` makes the next deploy fail with that problem (a string is Helm's words),
    ``fail_always`` every deploy until it is cleared; ``fail_teardowns`` makes that many
    teardowns fail; ``gate`` holds deploys until set."""

    releases: dict[str, dict[str, Any]] = field(default_factory=dict)
    deploys: list[Target] = field(default_factory=list)
    teardowns: list[Target] = field(default_factory=list)
    fail_next: str | Problem | None = None
    fail_always: str | Problem | None = None
    fail_teardowns: int = 0
    gate: asyncio.Event | None = None
    # Where a hub answers now, when it moved after its deploy (a node replaced, say).
    urls: dict[str, str] = field(default_factory=dict)
    hand_overs: list[Target] = field(default_factory=list)
    version: str = "jupyterhub-1.0.0"

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        target = request.target
        self.deploys.append(target)
        secrets = HubSecrets.generate()
        self.releases[target.namespace] = {
            "values": build_values(request, installation=MANAGED_BY),
            "labels": namespace_labels(request, MANAGED_BY),
            "secrets": secrets,
        }
        await progress(DeployStep.NAMESPACE_CREATED)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next is not None or self.fail_always is not None:
            failure = self.fail_next or self.fail_always
            self.fail_next = None
            raise DeployError(HelmFailed(failure) if isinstance(failure, str) else failure)
        await progress(DeployStep.HUB_READY)
        url = f"http://hubs.example.test/{target.namespace}/"
        return Deployed(url=url, username=ADMIN_USER, password=secrets.admin_password)

    async def hand_over(self, request: HubRequest, progress: Progress) -> Deployed:
        target = request.target
        self.hand_overs.append(target)
        secrets = self._secrets(target)
        release = self.releases[target.namespace]
        release["labels"] = namespace_labels(request, MANAGED_BY)
        release["values"] = build_values(request, installation=MANAGED_BY)
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise DeployError(HelmFailed(failure) if isinstance(failure, str) else failure)
        await progress(DeployStep.HUB_READY)
        return Deployed(url=await self.url(target), username=ADMIN_USER, password=secrets.admin_password)

    async def chart_version(self, cluster: str) -> str:
        return self.version

    async def teardown(self, target: Target) -> None:
        self.teardowns.append(target)
        if self.fail_teardowns:
            self.fail_teardowns -= 1
            raise DeployError(HelmFailed("Kubernetes refused to read the namespace (503 Service Unavailable)."))
        self.releases.pop(target.namespace, None)

    def _secrets(self, target: Target) -> HubSecrets:
        release = self.releases.get(target.namespace)
        if release is None:
            raise DeployError(CredentialsUnreadable())
        secrets: HubSecrets = release["secrets"]
        return secrets

    async def url(self, target: Target) -> str:
        self._secrets(target)
        return self.urls.get(target.namespace, f"http://hubs.example.test/{target.namespace}/")

    async def credentials(self, target: Target) -> tuple[str, str]:
        return ADMIN_USER, self._secrets(target).admin_password

    async def hub_token(self, target: Target) -> str:
        return self._secrets(target).bot_api_token

    @asynccontextmanager
    async def hub_api_url(self, target: Target) -> AsyncIterator[str]:
        yield f"http://hubs.example.test/{target.namespace}/hub/api"

    async def check(self, cluster: str) -> None:
        return None

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        return {ns: r["labels"][LABEL_ENVIRONMENT] for ns, r in self.releases.items()}


@dataclass
class RecordingNotifier:
    """Keeps every notice the core sends, with whom it went to; can be told to fail."""

    sent: list[tuple[str, Notice]] = field(default_factory=list)
    revised: list[tuple[MessageRef, Notice]] = field(default_factory=list)
    fail_admins: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def tell(self, user_id: str, notice: Notice, *, reply: ReplyChannel | None = None) -> MessageRef | None:
        self.sent.append((user_id, notice))
        return MessageRef(f"D{user_id}", str(next(self._ids)))

    async def tell_admins(self, notice: Notice) -> MessageRef | None:
        if self.fail_admins:
            return None
        self.sent.append((ADMINS, notice))
        return MessageRef("CADMINS", str(next(self._ids)))

    async def revise(self, where: MessageRef, notice: Notice) -> None:
        self.revised.append((where, notice))

    def to(self, recipient: str, kind: type[N]) -> list[N]:
        """The notices of type ``kind`` sent to ``recipient`` (a user id, or :data:`ADMINS`)."""
        return [notice for who, notice in self.sent if who == recipient and isinstance(notice, kind)]


@dataclass
class CountingMetrics:
    launches: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    teardowns: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    pool_deploys: list[tuple[str, str]] = field(default_factory=list)

    def launch_finished(self, outcome: str, seconds: float | None = None, *, source: str = "new") -> None:
        self.launches.append(outcome)
        self.sources.append(source)

    def teardown_finished(self, outcome: str) -> None:
        self.teardowns.append(outcome)

    def pool_claimed(self, pool: str) -> None:
        self.claims.append(pool)

    def pool_missed(self, pool: str) -> None:
        self.misses.append(pool)

    def pool_hub_deployed(self, pool: str, outcome: str) -> None:
        self.pool_deploys.append((pool, outcome))


@dataclass
class ScriptedActivity:
    """Hub activity as a test says it is: a time, ``None`` (never used), or an exception to raise."""

    latest: dict[str, datetime | Exception | None] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)

    async def latest_activity(self, env: Environment) -> datetime | None:
        answer = self.latest.get(env.id)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def forget(self, env: Environment) -> None:
        self.forgotten.append(env.id)
