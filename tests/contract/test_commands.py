"""list, status, creds, extend, delete, expiry and the admin's Expire button."""

from __future__ import annotations

from datetime import timedelta

from bot.core.states import State
from tests.contract.conftest import ADMIN, NOBODY, STUDENT, ContractBot, assert_acked


async def _ready(bot: ContractBot, name: str = "lab") -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, f"launch {name}"))
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()


async def _answer(bot: ContractBot, user: str, text: str) -> str:
    reply = await bot.slack.slash_command(user, text)
    assert_acked(reply)
    return await bot.slack.private_answer(reply)


async def test_list_shows_own_and_all_for_admins(bot: ContractBot) -> None:
    assert "no active environments" in await _answer(bot, STUDENT, "list")
    await _ready(bot)
    own = await _answer(bot, STUDENT, "list")
    assert "*lab*" in own and "ready" in own and "hubs.example.test" in own
    assert "Only platform admins" in await _answer(bot, STUDENT, "list all")
    everyone = await _answer(bot, ADMIN, "list all")
    assert f"<@{STUDENT}>" in everyone and "expire_environment" in everyone


async def test_questions_are_answered_in_the_ack_itself(bot: ContractBot) -> None:
    reply = await bot.slack.slash_command(STUDENT, "list")
    assert_acked(reply)
    assert "You have no active environments." in reply.text
    assert reply.json()["response_type"] == "ephemeral"
    assert bot.slack.find("response_url") == []


async def test_an_answer_not_ready_in_time_follows_the_ack(bot: ContractBot) -> None:
    # A cold group cache and a slow Slack: the ack cannot wait for the answer.
    slack_answers = bot.slack.hold("usergroups.users.list")
    reply = await bot.slack.slash_command(STUDENT, "list")
    assert_acked(reply)
    assert reply.body == ""
    slack_answers.set()
    assert "no active environments" in await bot.slack.private_answer(reply)


async def test_a_failed_group_lookup_counts_as_not_a_member(bot: ContractBot) -> None:
    bot.slack.fail("usergroups.users.list", error="missing_scope", times=3)
    refused = await _answer(bot, STUDENT, "list")
    assert "not allowed" in refused
    # Not asked again on the next request: the failure is remembered for a short while.
    calls = len(bot.slack.find("usergroups.users.list!failed"))
    await _answer(bot, STUDENT, "status lab")
    assert len(bot.slack.find("usergroups.users.list!failed")) == calls == 3


async def test_status_shows_details_and_recent_events(bot: ContractBot) -> None:
    await _ready(bot)
    status = await _answer(bot, STUDENT, "status lab")
    assert "namespace `jh-lab-" in status and "time left: 8h" in status
    assert "ready" in status and "auto-approve" in status
    assert "no environment called `nope`" in await _answer(bot, STUDENT, "status nope")


async def test_creds_are_shown_again_only_to_the_owner_and_ephemerally(bot: ContractBot) -> None:
    await _ready(bot)
    answer = await _answer(bot, STUDENT, "creds lab")
    assert "*Password:*" in answer and "shows this login again" in answer
    shown = bot.slack.private_to(STUDENT, lambda c: "*Password:*" in c.text_blob)
    assert len(shown) == 2 and all(c.method == "response_url" for c in shown)
    assert all(c.args["response_type"] == "ephemeral" for c in shown)
    assert not bot.slack.find("chat.postMessage", lambda c: "*Password:*" in c.text_blob)


async def test_extend_within_policy_and_refused_past_the_cap(bot: ContractBot) -> None:
    await _ready(bot)
    env = bot.environment(STUDENT, "lab")
    assert "now expires" in await _answer(bot, STUDENT, "extend lab 4h")
    assert bot.environment(STUDENT, "lab").expires_at == env.expires_at + timedelta(hours=4)
    refused = await _answer(bot, STUDENT, "extend lab 1d")
    assert "maximum lifetime of 1d" in refused
    assert "now expires" in await _answer(bot, STUDENT, "extend lab 1h")
    assert "the most your role allows (2)" in await _answer(bot, STUDENT, "extend lab 1h")
    assert bot.environment(STUDENT, "lab").extensions == 2


async def test_delete_asks_for_confirmation_then_tears_down(bot: ContractBot) -> None:
    await _ready(bot)
    confirm = await _answer(bot, STUDENT, "delete lab")
    assert "delete_confirmed" in confirm
    env = bot.environment(STUDENT, "lab")
    assert env.state == State.READY

    assert_acked(await bot.slack.click(NOBODY, "delete_confirmed", env.id))
    [refused] = await bot.slack.wait_for("response_url", lambda c: "only delete your own" in c.args["text"])
    assert refused.args["replace_original"] is False
    assert bot.environment(STUDENT, "lab").state == State.READY

    assert_acked(await bot.slack.click(STUDENT, "delete_confirmed", env.id))
    [gone] = await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert gone.args["channel"] == "D0STUDENT" and "deleted by its owner" in gone.args["text"]
    await bot.settle()
    assert bot.runtime.store.get(env.id).state == State.DELETED
    assert env.namespace not in bot.deployer.releases


async def test_lifetime_expiry_tears_down_once_and_tells_the_owner(bot: ContractBot) -> None:
    await _ready(bot)
    env = bot.environment(STUDENT, "lab")
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 0
    bot.clock.advance(env.lifetime + timedelta(seconds=1))
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 1
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 0
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert "its lifetime ended" in told.args["text"]
    await bot.settle()
    assert bot.runtime.store.get(env.id).state == State.DELETED
    assert len(bot.deployer.teardowns) == 1


async def test_admin_expire_button(bot: ContractBot) -> None:
    await _ready(bot)
    env = bot.environment(STUDENT, "lab")
    assert_acked(await bot.slack.click(STUDENT, "expire_environment", env.id))
    await bot.slack.wait_for("response_url", lambda c: "Only platform admins may expire" in c.args["text"])
    assert_acked(await bot.slack.click(ADMIN, "expire_environment", env.id))
    await bot.slack.wait_for("response_url", lambda c: "Removing *lab*" in c.args["text"])
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert f"expired by <@{ADMIN}>" in told.args["text"]
    await bot.settle()
    assert bot.runtime.store.get(env.id).state == State.DELETED
