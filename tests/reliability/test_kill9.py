"""``kill -9`` the bot in the middle of a deploy and of a teardown, then start a new one on the
same database: every environment ends ``ready`` (or cleanly ``failed``) / ``deleted``, the owner
is told, and no namespace of ours is left without an active environment.

The bot is a real ``python -m bot serve`` process deploying our chart with the real helm to the
local cluster; the kill takes its whole process group (helm included), as a dying container does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.core.states import State
from bot.sandbox.emulator import ApiCall, SlackEmulator
from bot.slack import blocks
from tests.reliability.support import (
    BotProcess,
    Database,
    bot_env,
    bot_process,
    orphans,
    poll,
    remove_leftovers,
    unique_prefix,
    write_policy,
)
from tests.support.bot_harness import assert_acked
from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, helm_releases, namespace_exists

pytestmark = pytest.mark.cluster

OWNER = "U0KILLNINE"
DM = "D0KILLNINE"
WAIT = 180.0


class Scenario:
    def __init__(self, cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path) -> None:
        self.cluster = cluster
        self.slack = slack
        self.prefix = unique_prefix()
        self.database = Database(tmp_path / "bot.db")
        policies = write_policy(tmp_path / "policies", cluster, [OWNER], self.prefix)
        self.env = {
            **bot_env(cluster, database=self.database.path, policies=policies, slack=slack),
            "LEASE_SECONDS": "3",
            "SWEEP_INTERVAL_SECONDS": "1",
            "DEPLOY_TIMEOUT_SECONDS": "120",
        }
        self.log = tmp_path / "bot.log"
        self.core = core_api(cluster)

    def bot(self) -> AbstractAsyncContextManager[BotProcess]:
        return bot_process(self.env, self.log)

    def serve(self, bot: BotProcess) -> None:
        self.slack.bot_url = bot.url

    def state(self, name: str) -> State | None:
        env = self.database.environment(OWNER, name)
        return env.state if env else None


@pytest.fixture
async def scenario(local_cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path) -> AsyncIterator[Scenario]:
    scene = Scenario(local_cluster, slack, tmp_path)
    try:
        yield scene
    finally:
        remove_leftovers(scene.core, scene.prefix)
        scene.database.close()


def _is_credentials(call: ApiCall) -> bool:
    return call.args.get("channel") == DM and "*Password:*" in call.text_blob


def _is_failure(call: ApiCall) -> bool:
    return call.args.get("channel") == DM and "could not be deployed" in call.text_blob


def _pending_install(scenario: Scenario, namespace: str) -> bool:
    """Helm has recorded the release as ``pending-install``: it is in the middle of installing."""
    found = scenario.core.list_namespaced_secret(namespace, label_selector="owner=helm,status=pending-install")
    return bool(found.items)


@pytest.mark.parametrize(
    "moment",
    [
        "namespace-created",
        "helm-installing",
    ],
)
async def test_kill_9_during_a_deploy_then_restart_finishes_it(scenario: Scenario, moment: str) -> None:
    slack = scenario.slack
    async with scenario.bot() as first:
        scenario.serve(first)
        assert_acked(await slack.slash_command(OWNER, "launch killed"))
        await slack.wait_for(
            "chat.update", lambda c: c.args.get("text") == "Launching killed: namespace created", timeout=60
        )
        if moment == "helm-installing":
            deploying = scenario.database.environment(OWNER, "killed")
            assert deploying is not None
            await poll(
                "helm to start installing",
                lambda: _pending_install(scenario, deploying.namespace),
                timeout=30,
                interval=0.02,
            )
        first.kill9()
    env = scenario.database.environment(OWNER, "killed")
    assert env is not None and env.state is State.DEPLOYING, env
    assert namespace_exists(scenario.core, env.namespace)
    assert not slack.find("chat.postMessage", _is_credentials)

    async with scenario.bot() as second:
        scenario.serve(second)
        await poll(
            "the deploy to be resumed and finished",
            lambda: scenario.state("killed") in (State.READY, State.FAILED),
            timeout=WAIT,
        )
        final = scenario.database.environment(OWNER, "killed")
        assert final is not None
        assert final.state is State.READY, final.last_error
        [creds] = await slack.wait_for("chat.postMessage", _is_credentials, timeout=30)
        assert final.url and final.url in creds.text_blob
        [release] = helm_releases(scenario.cluster, final.namespace)
        assert release["status"] == "deployed", release
        assert orphans(scenario.core, scenario.prefix, scenario.database) == {}
        # The restarted bot serves the owner as usual.
        listed = await slack.slash_command(OWNER, "list")
        assert_acked(listed)
        assert "killed" in await slack.private_answer(listed)


async def test_kill_9_during_a_teardown_then_restart_finishes_it(scenario: Scenario) -> None:
    slack = scenario.slack
    async with scenario.bot() as first:
        scenario.serve(first)
        assert_acked(await slack.slash_command(OWNER, "launch doomed"))
        await slack.wait_for_private(OWNER, lambda c: "*Password:*" in c.text_blob, timeout=WAIT)
        env = scenario.database.environment(OWNER, "doomed")
        assert env is not None and env.state is State.READY
        assert_acked(await slack.click(OWNER, blocks.ACTION_DELETE_CONFIRM, env.id))
        await poll(
            "the teardown to start", lambda: scenario.state("doomed") is State.EXPIRING, timeout=30, interval=0.02
        )
        first.kill9()
    assert scenario.state("doomed") is State.EXPIRING, "the teardown finished before the kill; nothing was tested"

    async with scenario.bot() as second:
        scenario.serve(second)
        await poll("the teardown to be resumed", lambda: scenario.state("doomed") is State.DELETED, timeout=WAIT)
        await slack.wait_for(
            "chat.postMessage", lambda c: c.args.get("channel") == DM and "was removed" in c.text_blob, timeout=30
        )
    assert not namespace_exists(scenario.core, env.namespace)
    assert helm_releases(scenario.cluster, env.namespace) == []
    assert orphans(scenario.core, scenario.prefix, scenario.database) == {}
