"""The lifecycle service: the only code that changes an environment's state.

Each public method checks the actor's rights by Slack user ID (never trusting that a
button was shown only to the right people), then moves the environment with a
compare-and-set in the store. Long work (Helm, Kubernetes) runs in background tasks
bounded by one semaphore; the caller gets an answer as soon as the state is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot import blocks
from bot.clock import Clock, utcnow
from bot.commands import Launch
from bot.deployer import Deployer, Target
from bot.durations import format_duration
from bot.errors import BotError, Conflict, LifetimeTooLong, NotAllowed, NotFound
from bot.logs import redactor
from bot.metrics import Metrics
from bot.notifier import Notifier
from bot.policy import Actor, Policy, can, extension_limits, grant_launch, is_admin
from bot.states import State
from bot.store import AuditEvent, Environment, Store
from bot.values import ADMIN_USER, HubSecrets, build_values, managed_labels

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)

T = TypeVar("T")
SYSTEM = "bot"
_UNCLAIMED: dict[str, Any] = {"worker": None, "worker_until": None}


def default_worker_id() -> str:
    """Names this process in work claims: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _target(env: Environment) -> Target:
    return Target(cluster=env.cluster, namespace=env.namespace, release=env.release)


class Lifecycle:
    def __init__(
        self,
        *,
        store: Store,
        policy: Policy,
        deployer: Deployer,
        notifier: Notifier,
        clock: Clock = utcnow,
        max_concurrent: int = 4,
        deploy_timeout_seconds: int = 600,
        secrets_factory: Callable[[], HubSecrets] = HubSecrets.generate,
        worker_id: str | None = None,
        claim_ttl: timedelta = timedelta(seconds=60),
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.deployer = deployer
        self.notifier = notifier
        self.clock = clock
        self._limit = asyncio.Semaphore(max_concurrent)
        self._deploy_timeout = deploy_timeout_seconds
        self._secrets_factory = secrets_factory
        self._tasks: set[asyncio.Task[None]] = set()
        self.worker_id = worker_id or default_worker_id()
        self._claim_ttl = claim_ttl
        self._in_flight: set[str] = set()
        self.metrics = metrics or Metrics()

    # -- plumbing ---------------------------------------------------------------------------

    async def _db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await self.store.run(fn, *args, **kwargs)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background; its failure is logged, never lost."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for all background work (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _claim(self) -> dict[str, Any]:
        """Columns that mark an environment as being worked on by this process."""
        return {"worker": self.worker_id, "worker_until": self.clock() + self._claim_ttl}

    @contextlib.contextmanager
    def _working_on(self, env_id: str) -> Iterator[None]:
        self._in_flight.add(env_id)
        try:
            yield
        finally:
            self._in_flight.discard(env_id)

    async def heartbeat(self) -> int:
        """Renew this process's claims on the work it is doing (every replica runs this)."""
        until = self.clock() + self._claim_ttl
        return await self._db(self.store.renew_claims, sorted(self._in_flight), self.worker_id, until)

    async def _tell(self, user_id: str, text: str) -> None:
        try:
            await self.notifier.dm(user_id, blocks.text_message(text))
        except Exception:
            log.exception("could not send a direct message to %s", user_id)

    async def _environment(self, env_id: str) -> Environment:
        env = await self._db(self.store.get, env_id)
        if env is None:
            raise NotFound("That environment no longer exists.")
        return env

    async def _own(self, actor: Actor, name: str) -> Environment:
        env = await self._db(self.store.find_by_name, actor.user_id, name)
        if env is None:
            raise NotFound(f"You have no environment called `{name}`. `/jupyterhub list` shows yours.")
        return env

    def _require(self, actor: Actor, verb: Any, message: str) -> None:
        if not can(self.policy, actor, verb):
            raise NotAllowed(message)

    # -- launch and approval ------------------------------------------------------------------

    async def request_launch(self, actor: Actor, request: Launch) -> Environment:
        """Record a launch request; deploy at once or ask the admins, as the policy says."""
        if request.name is None:
            raise ValueError("a launch request needs a name")
        grant = grant_launch(
            self.policy, actor, profile=request.profile, cluster=request.cluster, lifetime=request.lifetime
        )
        env = await self._db(
            self.store.create_environment,
            name=request.name,
            owner_id=actor.user_id,
            profile=grant.profile,
            cluster=grant.cluster,
            lifetime=grant.lifetime,
            max_environments=grant.max_environments,
            namespace_prefix=self.policy.defaults.namespace_prefix,
            actor=actor.user_id,
        )
        if not grant.approval_required:
            approved = await self._db(
                self.store.transition,
                env.id,
                State.REQUESTED,
                State.APPROVED,
                actor=SYSTEM,
                action="auto-approve",
                detail="policy needs no approval",
            )
            if approved is not None:
                self.spawn(self.deploy(env.id))
                return approved
            return await self._environment(env.id)
        pending = await self._db(
            self.store.transition,
            env.id,
            State.REQUESTED,
            State.PENDING_APPROVAL,
            actor=SYSTEM,
            action="ask-approval",
        )
        if pending is None:
            return await self._environment(env.id)
        posted = await self.notifier.to_admins(blocks.approval_request(pending))
        if posted is not None:
            channel, ts = posted
            await self._db(
                self.store.update_if,
                env.id,
                {"state": State.PENDING_APPROVAL},
                {"approval_channel": channel, "approval_ts": ts},
                actor=SYSTEM,
                action="approval-posted",
                detail=channel,
            )
        return pending

    async def decide(self, actor: Actor, env_id: str, *, approve: bool) -> Environment:
        verb = "approve" if approve else "deny"
        self._require(actor, verb, f"Only platform admins may {verb} requests; nothing was changed.")
        target = State.APPROVED if approve else State.DENIED
        decided = await self._db(
            self.store.transition,
            env_id,
            State.PENDING_APPROVAL,
            target,
            actor=actor.user_id,
            action=verb,
        )
        if decided is None:
            current = await self._environment(env_id)
            raise Conflict(
                f"The request for *{current.name}* was already handled; it is now {current.state.replace('_', ' ')}."
            )
        if decided.approval_channel and decided.approval_ts:
            try:
                await self.notifier.update(
                    decided.approval_channel,
                    decided.approval_ts,
                    blocks.approval_decided(decided, approved=approve, by=actor.user_id),
                )
            except Exception:
                log.exception("could not update the approval message for %s", env_id)
        if approve:
            await self._tell(decided.owner_id, f"<@{actor.user_id}> approved *{decided.name}*; deploying it now.")
            self.spawn(self.deploy(env_id))
        else:
            await self._tell(decided.owner_id, f"<@{actor.user_id}> denied your request for *{decided.name}*.")
        return decided

    # -- deploy --------------------------------------------------------------------------------

    async def deploy(self, env_id: str) -> None:
        async with self._limit:
            env = await self._db(
                self.store.transition,
                env_id,
                State.APPROVED,
                State.DEPLOYING,
                actor=SYSTEM,
                action="deploy",
                **self._claim(),
            )
            if env is None:
                log.info("environment %s is no longer approved; not deploying", env_id)
                return
            with self._working_on(env.id):
                await self._deploy(env)

    async def _deploy(self, env: Environment) -> None:
        profile = self.policy.profiles[env.profile]
        cluster = self.policy.clusters[env.cluster]
        hub_secrets = self._secrets_factory()
        values = build_values(
            environment_id=env.id,
            owner_id=env.owner_id,
            name=env.name,
            namespace=env.namespace,
            profile=profile,
            cluster=cluster,
            secrets_=hub_secrets,
            idle_timeout_seconds=int(self.policy.defaults.idle_timeout.total_seconds()),
        )

        progress = _ProgressMessage(self, env)
        await progress.start()
        redactor.register(env.id, hub_secrets.admin_password, hub_secrets.bot_api_token, hub_secrets.proxy_token)
        started = time.monotonic()
        log.info("deploying %s (%s) into %s/%s", env.id, env.name, env.cluster, env.namespace)
        try:
            url = await asyncio.wait_for(
                self.deployer.deploy(_target(env), values, managed_labels(env.id, env.owner_id), progress.step),
                timeout=self._deploy_timeout + 60,
            )
        except BotError as exc:
            log.warning("deploy of %s failed: %s", env.id, exc.user_message)
            await self._roll_back(env, exc.user_message, progress)
            return
        except TimeoutError:
            limit = format_duration(timedelta(seconds=self._deploy_timeout))
            await self._roll_back(env, f"the deploy took longer than {limit}", progress)
            return
        except Exception:
            log.exception("deploy of %s failed unexpectedly", env.id)
            reason = "an unexpected error on our side (the admins can see the details in the logs)"
            await self._roll_back(env, reason, progress)
            return

        now = self.clock()
        ready = await self._db(
            self.store.transition,
            env.id,
            State.DEPLOYING,
            State.READY,
            actor=SYSTEM,
            action="ready",
            detail=url,
            ready_at=now,
            expires_at=now + env.lifetime,
            url=url,
            **_UNCLAIMED,
        )
        if ready is None:
            log.warning("environment %s left 'deploying' while we deployed it", env.id)
            return
        self.metrics.launches.labels("ready").inc()
        self.metrics.launch_duration.observe(time.monotonic() - started)
        log.info("environment %s is ready at %s", env.id, url)
        await progress.finish(url)
        await self._send_credentials(ready, hub_secrets.admin_password)

    async def _send_credentials(self, env: Environment, password: str) -> None:
        try:
            await self.notifier.dm(env.owner_id, blocks.credentials(env, username=ADMIN_USER, password=password))
        except Exception:
            log.exception("could not send the credentials of %s to its owner", env.id)
            await self._db(self.store.record, env.id, actor=SYSTEM, action="delivery-failed")
            return
        await self._db(self.store.record, env.id, actor=SYSTEM, action="credentials-sent")

    async def _roll_back(self, env: Environment, reason: str, progress: _ProgressMessage) -> None:
        self.metrics.launches.labels("failed").inc()
        cleaned = True
        try:
            await self.deployer.teardown(_target(env))
        except Exception:
            cleaned = False
            log.exception("could not clean up after the failed deploy of %s", env.id)
        await self._db(
            self.store.transition,
            env.id,
            State.DEPLOYING,
            State.FAILED,
            actor=SYSTEM,
            action="deploy-failed",
            detail=reason,
            last_error=reason,
            **_UNCLAIMED,
        )
        after = (
            "Everything it created has been removed"
            if cleaned
            else "The admins have been asked to remove what was left"
        )
        if not cleaned:
            try:
                await self.notifier.to_admins(blocks.orphan_namespace(env.cluster, env.namespace, env.id))
            except Exception:
                log.exception("could not tell the admins about what the failed deploy of %s left", env.id)
        await progress.fail(reason)
        redactor.forget(env.id)
        await self._tell(
            env.owner_id,
            f":x: Sorry, *{env.name}* could not be deployed: {reason}\n"
            f"{after}, and it no longer counts toward your quota.",
        )

    # -- teardown ------------------------------------------------------------------------------

    async def expire(self, env_id: str, *, actor: str, reason: str) -> Environment | None:
        """Start removing a ready environment; ``None`` if it is not ready (already going)."""
        env = await self._db(
            self.store.transition,
            env_id,
            State.READY,
            State.EXPIRING,
            actor=actor,
            action="expire",
            detail=reason,
            **self._claim(),
        )
        if env is not None:
            self.spawn(self._tear_down(env, reason))
        return env

    async def _tear_down(self, env: Environment, reason: str) -> None:
        async with self._limit:
            with self._working_on(env.id):
                await self._remove(env, reason)

    async def _remove(self, env: Environment, reason: str) -> None:
        try:
            await self.deployer.teardown(_target(env))
        except Exception:
            # The claim lapses once we stop working on it, so a later resume retries.
            log.exception("teardown of %s failed; it stays 'expiring' and is retried", env.id)
            self.metrics.teardowns.labels("failed").inc()
            await self._db(self.store.record, env.id, actor=SYSTEM, action="teardown-failed")
            return
        done = await self._db(
            self.store.transition,
            env.id,
            State.EXPIRING,
            State.DELETED,
            actor=SYSTEM,
            action="deleted",
            detail=reason,
            **_UNCLAIMED,
        )
        if done is not None:
            redactor.forget(env.id)
            self.metrics.teardowns.labels("deleted").inc()
            await self._tell(env.owner_id, f":wastebasket: Your JupyterHub *{env.name}* was removed: {reason}.")

    async def admin_expire(self, actor: Actor, env_id: str) -> Environment:
        self._require(actor, "expire", "Only platform admins may expire environments; nothing was changed.")
        env = await self.expire(env_id, actor=actor.user_id, reason=f"expired by <@{actor.user_id}>")
        if env is None:
            current = await self._environment(env_id)
            raise Conflict(f"*{current.name}* is {current.state.replace('_', ' ')}; there is nothing to expire.")
        return env

    async def delete_request(self, actor: Actor, name: str) -> Environment:
        """First step of ``delete``: find the environment; the caller asks for confirmation."""
        self._require(actor, "delete", "You are not allowed to delete environments.")
        env = await self._own(actor, name)
        if env.state_enum not in (State.READY, State.PENDING_APPROVAL, State.APPROVED):
            raise Conflict(f"*{env.name}* is {env.state.replace('_', ' ')}; it cannot be deleted now.")
        return env

    async def delete(self, actor: Actor, env_id: str) -> Environment:
        env = await self._environment(env_id)
        mine = env.owner_id == actor.user_id and can(self.policy, actor, "delete")
        if not (mine or is_admin(self.policy, actor)):
            raise NotAllowed("You may only delete your own environments; nothing was changed.")
        reason = "deleted by its owner" if env.owner_id == actor.user_id else f"deleted by <@{actor.user_id}>"
        if env.state_enum in (State.PENDING_APPROVAL, State.APPROVED):
            withdrawn = await self._db(
                self.store.transition,
                env.id,
                env.state_enum,
                State.DELETED,
                actor=actor.user_id,
                action="withdraw",
                detail=reason,
            )
            if withdrawn is not None:
                return withdrawn
        elif (expiring := await self.expire(env.id, actor=actor.user_id, reason=reason)) is not None:
            return expiring
        current = await self._environment(env_id)
        raise Conflict(f"*{current.name}* is {current.state.replace('_', ' ')}; it cannot be deleted now.")

    async def expire_due(self) -> int:
        """Scheduler job: start removing every environment past its lifetime."""
        started = 0
        for env in await self._db(self.store.due_for_expiry, self.clock()):
            if await self.expire(env.id, actor="scheduler", reason="its lifetime ended") is not None:
                started += 1
        return started

    async def resume(self) -> int:
        """Pick up work whose process died: approved but never deployed, or a deploy or
        teardown whose claim has lapsed. Every step is safe to repeat."""
        resumed = 0
        for env in await self._db(self.store.in_states, [State.APPROVED]):
            self.spawn(self.deploy(env.id))
            resumed += 1
        for env in await self._db(self.store.abandoned, [State.DEPLOYING, State.EXPIRING], self.clock()):
            claimed = await self._db(
                self.store.update_if,
                env.id,
                {"state": env.state, "worker": env.worker, "worker_until": env.worker_until},
                self._claim(),
                actor=SYSTEM,
                action="resume",
                detail=f"{env.state} was interrupted",
            )
            if claimed is None:
                continue
            log.info("resuming %s of %s after an interruption", claimed.state, claimed.id)
            if claimed.state_enum is State.DEPLOYING:
                self.spawn(self._resume_deploy(claimed))
            else:
                self.spawn(self._tear_down(claimed, "its removal was interrupted and has now finished"))
            resumed += 1
        return resumed

    async def _resume_deploy(self, env: Environment) -> None:
        async with self._limit:
            with self._working_on(env.id):
                await self._deploy(env)

    # -- owner actions --------------------------------------------------------------------------

    async def extend(self, actor: Actor, name: str, by: timedelta | None) -> Environment:
        self._require(actor, "extend", "You are not allowed to extend environments.")
        return await self._extend(actor, await self._own(actor, name), by)

    async def extend_environment(self, actor: Actor, env_id: str, by: timedelta | None = None) -> Environment:
        """The [Extend] button: the owner (within policy) or an admin."""
        env = await self._environment(env_id)
        if env.owner_id != actor.user_id and not is_admin(self.policy, actor):
            raise NotAllowed("You may only extend your own environments; nothing was changed.")
        if env.owner_id == actor.user_id:
            self._require(actor, "extend", "You are not allowed to extend environments.")
        return await self._extend(actor, env, by)

    async def _extend(self, actor: Actor, env: Environment, by: timedelta | None) -> Environment:
        if env.state_enum is not State.READY or env.expires_at is None or env.ready_at is None:
            raise Conflict(f"*{env.name}* is {env.state.replace('_', ' ')}; only a ready environment can be extended.")
        by = by or self.policy.defaults.extend_by
        new_expiry = max(env.expires_at, self.clock()) + by
        if not is_admin(self.policy, actor):
            limits = extension_limits(self.policy, actor, env.profile, env.cluster)
            if env.extensions >= limits.max_extensions:
                raise LifetimeTooLong(
                    f"*{env.name}* has been extended {env.extensions} time(s), the most your role allows "
                    f"({limits.max_extensions})."
                )
            if limits.max_lifetime is not None and new_expiry - env.ready_at > limits.max_lifetime:
                latest = env.ready_at + limits.max_lifetime
                raise LifetimeTooLong(
                    f"That would take *{env.name}* past its maximum lifetime of "
                    f"{format_duration(limits.max_lifetime)}; it can run until "
                    f"{latest:%Y-%m-%d %H:%M} UTC at most."
                )
        extended = await self._db(
            self.store.update_if,
            env.id,
            {"state": State.READY, "extensions": env.extensions},
            {"expires_at": new_expiry, "extensions": env.extensions + 1, "warnings_sent": ""},
            actor=actor.user_id,
            action="extend",
            detail=f"+{format_duration(by)}",
        )
        if extended is None:
            raise Conflict(f"*{env.name}* changed while extending it; please try again.")
        return extended

    async def send_credentials(self, actor: Actor, name: str) -> Environment:
        self._require(actor, "creds", "You are not allowed to see credentials.")
        env = await self._own(actor, name)
        if env.state_enum is not State.READY:
            raise Conflict(f"*{env.name}* is {env.state.replace('_', ' ')}; credentials exist only once it is ready.")
        password = await self.deployer.admin_password(_target(env))
        redactor.register(env.id, password)
        await self.notifier.dm(actor.user_id, blocks.credentials(env, username=ADMIN_USER, password=password))
        await self._db(self.store.record, env.id, actor=actor.user_id, action="credentials-sent")
        return env

    async def status(self, actor: Actor, name: str) -> tuple[Environment, Sequence[AuditEvent]]:
        self._require(actor, "status", "You are not allowed to see environment status.")
        env = await self._own(actor, name)
        return env, await self._db(self.store.audit, env.id, 8)

    async def list_environments(self, actor: Actor, *, everyone: bool) -> Sequence[Environment]:
        if everyone:
            self._require(actor, "list-all", "Only platform admins may list everyone's environments.")
            return await self._db(self.store.list_active)
        self._require(actor, "list", "You are not allowed to list environments.")
        return await self._db(self.store.list_for_owner, actor.user_id)

    async def name_in_use(self, owner_id: str, name: str) -> bool:
        return await self._db(self.store.find_active, owner_id, name) is not None

    def now(self) -> datetime:
        return self.clock()


class _ProgressMessage:
    """The requester's private message that follows a deploy step by step."""

    def __init__(self, lifecycle: Lifecycle, env: Environment) -> None:
        self._lifecycle = lifecycle
        self._env = env
        self._done: list[str] = ["request accepted"]
        self._where: tuple[str, str] | None = None

    async def _show(self, **extra: str) -> None:
        message = blocks.deploy_progress(self._env, self._done, **extra)
        try:
            if self._where is None:
                self._where = await self._lifecycle.notifier.dm(self._env.owner_id, message)
            else:
                await self._lifecycle.notifier.update(*self._where, message)
        except Exception:
            log.warning("could not show deploy progress of %s", self._env.id, exc_info=True)

    async def start(self) -> None:
        await self._show()

    async def step(self, name: str) -> None:
        self._done.append(name)
        await self._lifecycle._db(
            self._lifecycle.store.record, self._env.id, actor=SYSTEM, action="progress", detail=name
        )
        await self._show()

    async def finish(self, url: str) -> None:
        await self._show(url=url)

    async def fail(self, reason: str) -> None:
        await self._show(failed=reason)
