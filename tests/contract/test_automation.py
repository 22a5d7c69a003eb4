"""Expiry warnings, reconciliation, resuming interrupted work, the App Home."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.states import State
from bot.sandbox.emulator import ApiCall
from tests.contract.conftest import ADMIN, ADMIN_CHANNEL, GROUPS, STUDENT, ContractBot, assert_acked
from tests.support.bot_harness import running_bot
from tests.support.stand_ins import InMemoryDeployer


async def _ready(bot: ContractBot, name: str = "lab") -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, f"launch {name}"))
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()


def _warnings(bot: ContractBot) -> list[ApiCall]:
    return bot.slack.find("chat.postMessage", lambda c: "expires in" in c.text_blob)


async def test_expiry_warnings_once_per_lead_time_and_extend_resets_them(bot: ContractBot) -> None:
    await _ready(bot)
    env = bot.environment(STUDENT, "lab")
    watcher = bot.runtime.lifecycle.watch
    assert await watcher.warn_expiring() == 0

    bot.clock.now = env.expires_at - timedelta(minutes=59)
    assert await watcher.warn_expiring() == 1
    assert await watcher.warn_expiring() == 0
    [first] = _warnings(bot)
    assert first.args["channel"] == "D0STUDENT" and "expires in 59m" in first.args["text"]
    assert "extend_environment" in first.text_blob and "delete_now" in first.text_blob

    bot.clock.now = env.expires_at - timedelta(minutes=9)
    assert await watcher.warn_expiring() == 1
    assert "expires in 9m" in _warnings(bot)[-1].args["text"]

    assert_acked(await bot.slack.click(STUDENT, "extend_environment", env.id, message=first))
    await bot.slack.wait_for("response_url", lambda c: "now expires in 4h 9m" in c.args["text"])
    extended = bot.environment(STUDENT, "lab")
    assert extended.expires_at == env.expires_at + timedelta(hours=4) and extended.warnings_sent == ""

    bot.clock.now = extended.expires_at - timedelta(minutes=30)
    assert await watcher.warn_expiring() == 1  # a late sweep sends one message for both passed leads
    assert len(_warnings(bot)) == 3


async def test_someone_else_cannot_use_the_extend_button(bot: ContractBot) -> None:
    await _ready(bot)
    env = bot.environment(STUDENT, "lab")
    assert_acked(await bot.slack.click("U0OTHER", "extend_environment", env.id))
    await bot.slack.wait_for("response_url", lambda c: "only extend your own" in c.args["text"])
    assert bot.environment(STUDENT, "lab").expires_at == env.expires_at


async def test_reconcile_reports_orphans_and_missing_releases_and_deletes_nothing(bot: ContractBot) -> None:
    await _ready(bot, "lab")
    env = bot.environment(STUDENT, "lab")
    bot.deployer.releases["jh-stray-abc123"] = {"values": {}, "labels": {"jupyterhub-bot.io/environment-id": "gone"}}
    found = await bot.runtime.lifecycle.watch.reconcile()
    assert found == ["orphan:dev/jh-stray-abc123"]
    assert await bot.runtime.lifecycle.watch.reconcile() == found
    [report] = bot.slack.find("chat.postMessage", lambda c: c.args["channel"] == ADMIN_CHANNEL)
    assert "jh-stray-abc123" in report.args["text"] and "Nothing was deleted" in report.args["text"]
    assert "jh-stray-abc123" in bot.deployer.releases

    assert_acked(await bot.slack.click(STUDENT, "remove_orphan", "dev/jh-stray-abc123", message=report))
    await bot.slack.wait_for("response_url", lambda c: "Only platform admins" in c.args["text"])
    assert_acked(await bot.slack.click(ADMIN, "remove_orphan", f"dev/{env.namespace}", message=report))
    await bot.slack.wait_for("response_url", lambda c: "is not an orphan" in c.args["text"])
    assert_acked(await bot.slack.click(ADMIN, "remove_orphan", "dev/jh-stray-abc123", message=report))
    await bot.slack.wait_for("response_url", lambda c: "Removed the orphaned namespace" in c.args["text"])
    assert "jh-stray-abc123" not in bot.deployer.releases and env.namespace in bot.deployer.releases

    del bot.deployer.releases[env.namespace]
    assert await bot.runtime.lifecycle.watch.reconcile() == [f"missing:{env.id}"]
    missing = bot.slack.find("chat.postMessage", lambda c: "is gone from" in c.text_blob)
    assert len(missing) == 1 and "expire_environment" in missing[0].text_blob
    assert bot.environment(STUDENT, "lab").state == State.READY


async def test_interrupted_deploy_and_teardown_are_resumed_once_their_claim_lapses(bot: ContractBot) -> None:
    lifecycle = bot.runtime.lifecycle
    store = bot.runtime.store
    await _ready(bot, "lab")
    ready = bot.environment(STUDENT, "lab")
    # A teardown another process started and never finished (it died):
    dead = {"worker": "dead-process", "worker_until": bot.clock.now + timedelta(seconds=30)}
    store.transition(ready.id, State.READY, State.EXPIRING, actor="scheduler", action="expire", **dead)
    assert await lifecycle.resume() == 0  # its claim still holds

    bot.clock.advance(timedelta(minutes=1))
    assert await lifecycle.resume() == 1
    await bot.slack.wait_for("chat.postMessage", lambda c: "removal was interrupted" in c.text_blob)
    await bot.settle()
    assert store.get(ready.id).state == State.DELETED  # type: ignore[union-attr]
    assert await lifecycle.resume() == 0


async def test_app_home_shows_own_environments_and_admin_buttons(bot: ContractBot) -> None:
    await _ready(bot)
    for user in (STUDENT, ADMIN):
        body = {
            "token": "t",
            "team_id": "T0TEST",
            "api_app_id": "A0TEST",
            "type": "event_callback",
            "event_id": f"Ev{user}",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"},
        }
        reply = await bot.slack.send_json(body)
        assert_acked(reply)
    views = await bot.slack.wait_for("views.publish", count=2)
    by_user = {v.args["user_id"]: v.text_blob for v in views}
    assert "Your environments" in by_user[STUDENT] and "delete_now" in by_user[STUDENT]
    assert "expire_environment" not in by_user[STUDENT]
    assert "All environments" in by_user[ADMIN] and "expire_environment" in by_user[ADMIN]


# -- one deploy slot, a long queue ---------------------------------------------------------------

ONE_SLOT_POLICY = """
roles:
  students:
    members: [group:S0STUDENTS]
    allow: [launch, list, status, creds, extend, delete]
    profiles: [small]
    clusters: [dev]
    max_environments: 4
profiles:
  small: {image: "quay.io/jupyter/minimal-notebook:2025-06-30", cpu: "1", memory: 1Gi, storage: 1Gi}
clusters:
  dev: {service_type: NodePort}
defaults: {lifetime: 8h, profile: small, cluster: dev}
"""


@pytest.fixture
async def one_slot_bot(database_url: str, tmp_path: Path) -> AsyncIterator[ContractBot]:
    """The real bot with MAX_CONCURRENT_DEPLOYS=1 and room for four environments."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "one-slot.yaml").write_text(ONE_SLOT_POLICY)
    deployer = InMemoryDeployer()
    async with running_bot(
        database_url=database_url,
        policies_dir=tmp_path / "policies",
        groups=GROUPS,
        deployer=deployer,
        extra_env={"MAX_CONCURRENT_DEPLOYS": "1"},
    ) as running:
        try:
            yield ContractBot(runtime=running.runtime, slack=running.slack, clock=running.clock, deployer=deployer)
        finally:
            if deployer.gate is not None:
                deployer.gate.set()  # a failed test must not leave a deploy waiting forever


async def test_expiries_queued_behind_a_held_slot_are_each_torn_down_once(one_slot_bot: ContractBot) -> None:
    bot = one_slot_bot
    lifecycle = bot.runtime.lifecycle
    names = ("one", "two", "three")
    for name in names:
        await _ready(bot, name)
    expiring = [bot.environment(STUDENT, name) for name in names]

    # A fourth launch takes the only slot and keeps it.
    bot.deployer.gate = asyncio.Event()
    assert_acked(await bot.slack.slash_command(STUDENT, "launch holder"))
    deadline = time.monotonic() + 10
    while len(bot.deployer.deploys) < 4:
        assert time.monotonic() < deadline, "the fourth deploy never started"
        await asyncio.sleep(0.01)  # wait-ok: polling under a deadline

    # All three expire while the slot is held; the jobs go on running for five minutes.
    bot.clock.now = max(env.expires_at for env in expiring if env.expires_at is not None)
    await bot.runtime.jobs.heartbeat()
    assert await lifecycle.teardowns.expire_due() == 3
    for _ in range(30):
        bot.clock.advance(timedelta(seconds=10))
        await bot.runtime.jobs.heartbeat()
        await lifecycle.resume()
        await asyncio.sleep(0)  # wait-ok: one turn of the loop, to let what resume started reach the slot's queue
    assert bot.deployer.teardowns == []

    bot.deployer.gate.set()
    await bot.settle()
    assert Counter(t.namespace for t in bot.deployer.teardowns) == {env.namespace: 1 for env in expiring}
    assert all(bot.environment(STUDENT, name).state == State.DELETED for name in names)
    removed = bot.slack.find("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert len(removed) == 3
