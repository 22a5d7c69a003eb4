"""The interfaces the core depends on. Adapters implement them (``bot/store``, ``bot/helm``,
``bot/hub``, ``bot/slack``); tests may implement them in memory to inject failures.

Each docstring says what an implementation must do; the core relies on exactly that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from bot.core.environment import AuditEvent, Environment, MessageRef, Target
from bot.core.notices import DeployStep, Notice
from bot.core.policy.model import ClusterSpec, Profile
from bot.core.states import State

__all__ = [
    "ActivityUnknown",
    "Deployed",
    "Deployer",
    "HubActivity",
    "HubRequest",
    "LaunchMetrics",
    "Notifier",
    "Progress",
    "ReplyChannel",
    "SecretRegistry",
    "Store",
]

T = TypeVar("T")

Progress = Callable[[DeployStep], Awaitable[None]]


@dataclass(frozen=True)
class HubRequest:
    """Everything a deployer needs to know to build one environment's hub."""

    environment_id: str
    owner_id: str
    name: str
    target: Target
    profile: Profile
    cluster: ClusterSpec
    idle_timeout: timedelta
    # The warm pool a hub is deployed for (it has no owner yet).
    pool: str | None = None


@dataclass(frozen=True)
class Deployed:
    """A ready hub: where it answers and how its owner logs in."""

    url: str
    username: str
    password: str = field(repr=False)


class Deployer(Protocol):
    """Deploys and removes hubs. Every method is safe to repeat: a second deploy converges
    on the same release, a second teardown of a removed environment does nothing.
    Failures are :class:`~bot.core.errors.DeployError` with a problem that explains them."""

    async def deploy(self, request: HubRequest, progress: Progress) -> Deployed:
        """Create the namespace and the hub, report each :class:`DeployStep` it finishes,
        and return once the hub answers, with generated credentials that exist nowhere
        but in the environment's namespace."""
        ...

    async def hand_over(self, request: HubRequest, progress: Progress) -> Deployed:
        """Give the ready warm-pool hub at ``request.target`` to ``request``'s environment
        and owner without restarting it (renamed where its URL carries the name), report
        :attr:`DeployStep.HUB_READY`, and return its URL and the credentials it was
        deployed with."""
        ...

    async def chart_version(self, cluster: str) -> str:
        """What deploys on ``cluster`` are made from; a warm pool's hubs made from anything
        else are replaced."""
        ...

    async def teardown(self, target: Target) -> None:
        """Remove the hub and its namespace; return once the namespace is gone."""
        ...

    async def url(self, target: Target) -> str:
        """Where the ready hub of ``target`` answers now (a node-address URL follows the nodes)."""
        ...

    async def credentials(self, target: Target) -> tuple[str, str]:
        """(username, password) of a ready hub, read from where the deploy stored them."""
        ...

    async def managed_namespaces(self, cluster: str) -> dict[str, str]:
        """This installation's namespaces in ``cluster`` (not being deleted), mapped to the
        environment id they carry ("" if none)."""
        ...

    async def check(self, cluster: str) -> None:
        """Raise if the cluster cannot be reached."""
        ...


class ActivityUnknown(Exception):
    """A hub's activity could not be read; the message says why (for the admins)."""


class HubActivity(Protocol):
    async def latest_activity(self, env: Environment) -> datetime | None:
        """The latest activity of any user or server of the environment's hub; ``None`` if
        nobody has used it. Raise :class:`ActivityUnknown` (or a ``DeployError``) when it
        cannot be known: the core never treats that as idle."""
        ...

    def forget(self, env: Environment) -> None:
        """Drop anything cached for ``env`` (its token), after a failure or a teardown."""
        ...


class ReplyChannel(Protocol):
    """A way back to the conversation a request came from (opaque to the core)."""


class Notifier(Protocol):
    """Delivers notices to people. Private notices never go to a shared channel."""

    async def tell(self, user_id: str, notice: Notice, *, reply: ReplyChannel | None = None) -> MessageRef | None:
        """Send ``notice`` privately to ``user_id`` (through ``reply`` when it can still
        be used, else a direct message); return where it landed if it can be revised."""
        ...

    async def tell_admins(self, notice: Notice) -> MessageRef | None:
        """Post to the admins; ``None`` if that failed (it is logged)."""
        ...

    async def revise(self, where: MessageRef, notice: Notice) -> None:
        """Replace a message sent earlier with ``notice``."""
        ...


class SecretRegistry(Protocol):
    """Secrets the logs must never show, registered while the bot holds them."""

    def register(self, key: str, *secrets: str) -> None: ...

    def forget(self, key: str) -> None: ...


class LaunchMetrics(Protocol):
    def launch_finished(self, outcome: str, seconds: float | None = None, *, source: str = "new") -> None:
        """A launch ended ``outcome``, ``seconds`` after its deploy started, with a hub from
        ``source`` (a :class:`~bot.core.notices.HubSource` value)."""
        ...

    def teardown_finished(self, outcome: str) -> None: ...

    def pool_claimed(self, pool: str) -> None:
        """A launch took a ready hub of ``pool``."""
        ...

    def pool_missed(self, pool: str) -> None:
        """A launch that ``pool`` serves found no hub free, and deploys a new one."""
        ...

    def pool_hub_deployed(self, pool: str, outcome: str) -> None: ...


class Store(Protocol):
    """Environments and their audit trail. Methods block; async callers go through
    :meth:`run`. Every change is a compare-and-set that returns the changed record, or
    ``None`` when the expectation did not hold (someone else changed it first), and
    writes its audit event in the same transaction."""

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

    def create_environment(
        self,
        *,
        name: str,
        owner_id: str,
        profile: str,
        cluster: str,
        lifetime: timedelta,
        max_environments: int,
        namespace_prefix: str,
        actor: str,
    ) -> Environment:
        """Insert a ``requested`` environment in a free quota slot; raise ``Conflict``
        (name taken) or ``QuotaExceeded``."""
        ...

    def transition(
        self,
        env_id: str,
        expected: State,
        target: State,
        *,
        actor: str,
        action: str,
        detail: str = "",
        **changes: Any,
    ) -> Environment | None: ...

    def update_if(
        self,
        env_id: str,
        expected: dict[str, Any],
        values: dict[str, Any],
        *,
        actor: str,
        action: str,
        detail: str = "",
        audit: bool = True,
    ) -> Environment | None: ...

    def record(self, env_id: str, *, actor: str, action: str, detail: str = "") -> None: ...

    def get(self, env_id: str) -> Environment | None: ...

    def find_active(self, owner_id: str, name: str) -> Environment | None: ...

    def find_by_name(self, owner_id: str, name: str) -> Environment | None: ...

    def list_for_owner(self, owner_id: str) -> Sequence[Environment]: ...

    def list_active(self) -> Sequence[Environment]: ...

    def in_states(self, states: Iterable[State]) -> Sequence[Environment]: ...

    def abandoned(self, states: Iterable[State], now: datetime) -> Sequence[Environment]: ...

    def due_for_expiry(self, now: datetime) -> Sequence[Environment]: ...

    def audit(self, env_id: str, limit: int = 10) -> Sequence[AuditEvent]: ...

    def renew_claims(self, env_ids: list[str], worker: str, until: datetime) -> int: ...

    def hold_lease(self, name: str, holder: str, ttl: timedelta) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def create_pool_hub(
        self, *, pool: str, profile: str, cluster: str, namespace_prefix: str, spec_hash: str, actor: str
    ) -> Environment:
        """An ``approved`` hub of warm pool ``pool``, owned by nobody."""
        ...

    def claim_pool_hub(self, launch: Environment, *, worker: str, spec_hash: str) -> Environment | None:
        """In one transaction: a ready, healthy pool hub of the launch's profile and cluster,
        made from ``spec_hash``, ends ``claimed`` by ``launch`` (``deploying``, claimed by
        ``worker``), which takes over its namespace and release. The launch as it is now,
        or ``None`` when no hub was free."""
        ...

    def claimed_by_launch(self, claimant_id: str) -> Environment | None: ...

    def pool_hubs(self, pool: str | None) -> Sequence[Environment]:
        """Active hubs of warm pool ``pool`` (``None``: of every pool), oldest first."""
        ...

    def claims_since(self, since: datetime) -> dict[str, int]: ...

    def remember_secret_message(self, env_id: str, where: MessageRef) -> None:
        """A message that shows the environment's credentials and stays in someone's history."""
        ...

    def secret_messages(self, env_id: str) -> Sequence[MessageRef]: ...

    def forget_secret_messages(self, env_id: str) -> None: ...
