"""Warm pools seen from Slack: a launch gets a pool's hub with the usual messages, its login
appears nowhere before the claim, and the admins see the pools in `list all`, in the App
Home and in /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.core.states import State
from tests.contract.conftest import ADMIN, ADMIN_CHANNEL, GROUPS, STUDENT, ContractBot, assert_acked
from tests.support.bot_harness import base_url, running_bot
from tests.support.stand_ins import InMemoryDeployer

POLICY = {
    "roles": {
        "students": {
            "members": ["group:S0STUDENTS"],
            "allow": ["launch", "list", "status", "creds", "delete"],
            "profiles": ["course"],
            "clusters": ["dev"],
            "max_lifetime": "1d",
        },
        "admins": {"members": ["group:S0ADMINS"], "allow": ["list-all", "list", "expire"]},
    },
    "profiles": {"course": {"image": "quay.io/jupyter/minimal-notebook:2025-06-30", "cpu": "1", "memory": "1Gi"}},
    "clusters": {"dev": {"pool_limit": 2}},
    "pools": {"course": {"profile": "course", "cluster": "dev", "size": 2}},
    "defaults": {"profile": "course", "cluster": "dev"},
}


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[ContractBot]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "pools.yaml").write_text(yaml.safe_dump(POLICY))
    deployer = InMemoryDeployer()
    async with running_bot(database_url=database_url, policies_dir=policies, groups=GROUPS, deployer=deployer) as b:
        yield ContractBot(runtime=b.runtime, slack=b.slack, clock=b.clock, deployer=deployer)


async def _fill(bot: ContractBot) -> None:
    await bot.runtime.lifecycle.pools.maintain()
    await bot.settle()


async def test_a_launch_takes_a_warm_hub_whose_login_nobody_saw_before(bot: ContractBot) -> None:
    await _fill(bot)
    passwords = {ns: r["secrets"].admin_password for ns, r in bot.deployer.releases.items()}
    assert len(passwords) == 2
    # Filling the pool sent nothing to anyone.
    assert [c.method for c in bot.slack.calls if c.method.startswith(("chat.", "views.", "response_url"))] == []

    assert_acked(await bot.slack.slash_command(STUDENT, "launch lab"))
    [login] = await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()

    env = bot.environment(STUDENT, "lab")
    assert env.state is State.READY and env.namespace in passwords
    assert passwords[env.namespace] in login.text_blob
    progress = await bot.slack.wait_for("chat.update", lambda c: "ready hub taken from the warm pool" in c.text_blob)
    assert progress
    # The only place the password ever went is the owner's own reply.
    for password in passwords.values():
        shown = [c for c in bot.slack.calls if password in c.text_blob]
        assert shown in ([], [login]), shown
    assert not [c for c in bot.slack.calls if c.args.get("channel") == ADMIN_CHANNEL]


async def test_admins_see_the_pools_in_list_all_the_home_and_metrics(bot: ContractBot) -> None:
    await _fill(bot)
    assert_acked(await bot.slack.slash_command(STUDENT, "launch lab"))
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()

    reply = await bot.slack.slash_command(ADMIN, "list all")
    assert_acked(reply)
    listing = await bot.slack.private_answer(reply)
    assert "Warm pools" in listing and "1 of 2 ready" in listing and "1 claimed today" in listing
    assert "*lab*" in listing and "1 active environment" in listing  # the pool's hubs are not listed
    assert bot.slack.refused == []

    assert_acked(await bot.slack.open_home(ADMIN))
    [home] = await bot.slack.wait_for("views.publish", lambda c: "Warm pools" in c.text_blob)
    assert "1 of 2 ready" in home.text_blob
    assert_acked(await bot.slack.open_home(STUDENT))
    [own_home] = await bot.slack.wait_for("views.publish", lambda c: c.args.get("user_id") == STUDENT)
    assert "Warm pools" not in own_home.text_blob

    async with aiohttp.ClientSession() as session, session.get(base_url(bot) + "/metrics") as response:
        lines = set((await response.text()).splitlines())
    assert 'jupyterhub_bot_pool_claims_total{pool="course"} 1.0' in lines
    assert 'jupyterhub_bot_pool_hubs{pool="course",state="ready"} 1.0' in lines
    assert 'jupyterhub_bot_pool_wanted{pool="course"} 2.0' in lines
    assert 'jupyterhub_bot_launches_total{outcome="ready",source="pool"} 1.0' in lines
    assert 'jupyterhub_bot_environments{state="ready"} 1.0' in lines  # people's, not the pool's


async def test_a_launch_the_pool_cannot_serve_says_it_is_setting_up_a_new_hub(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch lab"))
    await bot.slack.wait_for("chat.postMessage", lambda c: "No warm hub was free" in c.text_blob)
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    async with aiohttp.ClientSession() as session, session.get(base_url(bot) + "/metrics") as response:
        assert 'jupyterhub_bot_pool_misses_total{pool="course"} 1.0' in (await response.text()).splitlines()
