"""A stranger in a real workspace: other workspaces and apps, guests, outsiders, deactivated
accounts, replays and self-approval get nowhere (issue #11), over signed HTTP."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.states import State
from bot.slack import blocks
from bot.slack.groups import GroupDirectory
from tests.contract.conftest import (
    ADMIN,
    ADMIN_CHANNEL,
    GROUPS,
    POLICIES,
    RESEARCHER,
    STUDENT,
    ContractBot,
    assert_acked,
)
from tests.support.bot_harness import running_bot
from tests.support.hub import free_port
from tests.support.stand_ins import InMemoryDeployer


def _work_done(bot: ContractBot, before: int) -> list[str]:
    """Web API calls the bot made after the first ``before`` (none means it did nothing)."""
    return [c.method for c in bot.slack.calls[before:]]


@pytest.mark.parametrize(
    "fields",
    [
        {"team_id": "T0OTHERORG"},
        {"api_app_id": "A0NOTOURS"},
        {"enterprise_id": "E0OTHER"},
        {"team_id": "T0OTHERORG", "enterprise_id": "E0OTHER", "api_app_id": "A0NOTOURS"},
    ],
    ids=["other-team", "other-app", "other-enterprise", "all-three"],
)
async def test_a_signed_command_from_another_installation_does_nothing(
    bot: ContractBot, fields: dict[str, str]
) -> None:
    before = len(bot.slack.calls)
    reply = await bot.slack.slash_command(STUDENT, "launch stranger", fields=fields)
    assert_acked(reply)
    assert "serves another Slack workspace" in reply.text
    await bot.settle()
    assert bot.maybe_environment(STUDENT, "stranger") is None
    assert _work_done(bot, before) == []


async def test_a_button_from_another_installation_is_403_and_changes_nothing(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(RESEARCHER, "launch wanted"))
    [request] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    env = bot.environment(RESEARCHER, "wanted")
    bot.slack.app_id = "A0NOTOURS"
    refused = await bot.slack.click(ADMIN, blocks.ACTION_APPROVE, env.id, message=request)
    assert refused.status == 403
    bot.slack.app_id = "A0TEST"
    await bot.settle()
    assert bot.environment(RESEARCHER, "wanted").state is State.PENDING_APPROVAL


@pytest.mark.parametrize(
    ("profile", "said"),
    [
        ({"is_restricted": True}, "Guest accounts"),
        ({"is_ultra_restricted": True}, "Guest accounts"),
        ({"team_id": "T0PARTNER"}, "accounts from other organisations"),
        ({"deleted": True}, "deactivated"),
        ({"is_bot": True}, "Bots and apps"),
    ],
    ids=["guest", "single-channel-guest", "slack-connect", "deactivated", "bot"],
)
async def test_accounts_that_may_not_use_the_bot_are_refused_before_anything_happens(
    bot: ContractBot, profile: dict[str, object], said: str
) -> None:
    bot.slack.users[STUDENT] = profile
    before = len(bot.slack.calls)
    assert_acked(await bot.slack.slash_command(STUDENT, "launch sneaky"))
    [answer] = await bot.slack.wait_for("response_url")
    assert said in answer.args["text"]
    await bot.settle()
    assert bot.maybe_environment(STUDENT, "sneaky") is None
    # Only the look-ups and the answer: no message, DM, form or admin post.
    assert set(_work_done(bot, before)) <= {"users.info", "usergroups.users.list", "auth.test", "response_url"}


async def test_account_look_ups_are_cached_briefly(bot: ContractBot) -> None:
    for _ in range(3):
        assert_acked(await bot.slack.slash_command(STUDENT, "list"))
    assert len(bot.slack.find("users.info", lambda c: c.args.get("user") == STUDENT)) == 1


async def test_a_replayed_signed_request_is_refused_and_does_nothing(bot: ContractBot) -> None:
    """Launch, withdraw, replay the same signed request: no second environment, no second post."""
    form = bot.slack.command_form(RESEARCHER, "launch replayed")
    stamp = int(time.time())
    assert_acked(await bot.slack.send(form, timestamp=stamp))
    await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    await bot.settle()
    env = bot.environment(RESEARCHER, "replayed")
    await bot.runtime.lifecycle.owner.delete(await bot.runtime.services.actor(RESEARCHER), env.id)

    replay = await bot.slack.send(form, timestamp=stamp)
    assert replay.status == 401 and "already served" in replay.body
    await bot.settle()
    assert bot.environment(RESEARCHER, "replayed").state is State.DELETED
    assert len(bot.slack.find("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)) == 1


async def test_group_rights_that_slack_cannot_confirm_expire(bot: ContractBot) -> None:
    """A removed admin must not keep rights just because the group look-up keeps failing."""
    now = [0.0]
    directory = GroupDirectory(
        bot.runtime.services.slack, ["S0ADMINS"], ttl_seconds=60, hard_ttl_seconds=300, clock=lambda: now[0]
    )
    assert await directory.groups_of(ADMIN) == {"S0ADMINS"}
    bot.slack.fail("usergroups.users.list", error="internal_error", times=100)
    now[0] = 61
    assert await directory.groups_of(ADMIN) == {"S0ADMINS"}  # briefly kept while Slack is down
    now[0] = 301
    assert await directory.groups_of(ADMIN) == frozenset()  # no longer confirmable: dropped


async def test_an_admin_cannot_approve_their_own_request(bot: ContractBot) -> None:
    bot.slack.groups["S0RESEARCH"].append(ADMIN)  # an admin who is also a researcher
    assert_acked(await bot.slack.slash_command(ADMIN, "launch self-serve"))
    [request] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    env = bot.environment(ADMIN, "self-serve")
    assert_acked(await bot.slack.click(ADMIN, blocks.ACTION_APPROVE, env.id, message=request))
    [refused] = await bot.slack.wait_for("response_url", lambda c: "another admin" in c.args["text"])
    assert refused.args["response_type"] == "ephemeral"
    await bot.settle()
    assert bot.environment(ADMIN, "self-serve").state is State.PENDING_APPROVAL
    assert bot.deployer.deploys == []


async def test_a_withdrawn_request_no_longer_asks_the_admins(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(RESEARCHER, "launch withdrawn"))
    await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    await bot.settle()
    env = bot.environment(RESEARCHER, "withdrawn")
    assert_acked(await bot.slack.click(RESEARCHER, blocks.ACTION_DELETE_CONFIRM, env.id))
    [updated] = await bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    assert updated.args["ts"] == env.approval_ts
    assert "withdrew" in updated.args["text"] and "approve_request" not in updated.text_blob


async def test_a_login_delivered_late_goes_by_dm_and_is_taken_down_with_the_hub(bot: ContractBot) -> None:
    """After a long approval the request's response_url has expired: the login goes by DM, and
    that DM no longer shows the password once the environment is gone."""
    assert_acked(await bot.slack.slash_command(RESEARCHER, "launch patient"))
    [request] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
    env = bot.environment(RESEARCHER, "patient")
    bot.clock.advance(timedelta(minutes=31))
    assert_acked(await bot.slack.click(ADMIN, blocks.ACTION_APPROVE, env.id, message=request))
    login = await bot.slack.wait_for_private(RESEARCHER, lambda c: "*Password:*" in c.text_blob)
    assert login.method == "chat.postMessage" and login.args["channel"] == "D0RESEARCH"
    await bot.settle()
    password = bot.deployer.releases[env.namespace]["secrets"].admin_password

    assert_acked(await bot.slack.click(RESEARCHER, blocks.ACTION_DELETE_CONFIRM, env.id))
    [taken_down] = await bot.slack.wait_for(
        "chat.update", lambda c: c.args.get("channel") == "D0RESEARCH" and "taken down" in c.text_blob
    )
    assert password not in taken_down.text_blob
    await bot.settle()
    assert bot.environment(RESEARCHER, "patient").state is State.DELETED


async def test_operators_can_ask_for_logins_by_direct_message(tmp_path: Path) -> None:
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=POLICIES,
        groups=GROUPS,
        deployer=InMemoryDeployer(),
        extra_env={"CREDENTIALS_DELIVERY": "dm"},
    ) as running:
        assert_acked(await running.slack.slash_command(STUDENT, "launch by-dm"))
        login = await running.slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
        assert login.method == "chat.postMessage" and login.args["channel"] == "D0STUDENT"


async def test_a_login_is_never_posted_to_a_response_url_outside_this_workspace(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch lab"))
    await bot.slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
    await bot.settle()
    elsewhere = f"http://127.0.0.1:{free_port()}/steal"
    assert_acked(await bot.slack.slash_command(STUDENT, "creds lab", fields={"response_url": elsewhere}))
    login = await bot.slack.wait_for_private(
        STUDENT, lambda c: c.method == "chat.postMessage" and "*Password:*" in c.text_blob
    )
    assert login.args["channel"] == "D0STUDENT"  # to the person, never to the URL the request named


async def test_a_role_may_admit_guests_explicitly_and_only_that_role(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    policy = (
        (POLICIES / "test.yaml")
        .read_text()
        .replace(
            "  researchers:\n",
            "  visitors:\n    members: [group:S0STUDENTS]\n    allow: [list]\n    guests: true\n  researchers:\n",
        )
    )
    (policies / "test.yaml").write_text(policy)
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=policies,
        groups=GROUPS,
        deployer=InMemoryDeployer(),
    ) as running:
        running.slack.users[STUDENT] = {"is_restricted": True}
        listed = await running.slack.slash_command(STUDENT, "list")
        assert "no active environments" in await running.slack.private_answer(listed)  # the guest role applies
        assert_acked(await running.slack.slash_command(STUDENT, "launch as-guest"))
        [refused] = await running.slack.wait_for("response_url")
        assert "not allowed to launch" in refused.args["text"]  # the students role does not admit guests
        assert running.maybe_environment(STUDENT, "as-guest") is None


async def test_with_the_shipped_policy_a_stranger_is_refused_politely_and_the_admins_hear_nothing(
    tmp_path: Path,
) -> None:
    shipped = Path(__file__).resolve().parents[2] / "policies"
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}", policies_dir=shipped, groups={}, deployer=InMemoryDeployer()
    ) as running:
        assert_acked(await running.slack.slash_command("U0STRANGER", "launch mine"))
        [refused] = await running.slack.wait_for("response_url")
        assert "not allowed to launch" in refused.args["text"]
        assert running.runtime.policy.defaults.access_help in refused.args["text"]
        await running.settle()
        assert running.maybe_environment("U0STRANGER", "mine") is None
        assert not running.slack.find("chat.postMessage", lambda c: c.args.get("channel") == ADMIN_CHANNEL)
