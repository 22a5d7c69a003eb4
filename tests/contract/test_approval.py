"""Requests that need an admin: approve, deny, a non-admin's click, double clicks."""

from __future__ import annotations

import asyncio

from bot.core.states import State
from bot.sandbox.emulator import ApiCall
from tests.contract.conftest import ADMIN, ADMIN_CHANNEL, RESEARCHER, STUDENT, ContractBot, assert_acked


async def _request(bot: ContractBot, name: str = "big") -> ApiCall:
    assert_acked(await bot.slack.slash_command(RESEARCHER, f"launch {name} profile=large ttl=2d"))
    [answer] = await bot.slack.wait_for("response_url")
    assert "needs an admin's approval" in answer.args["text"]
    [posted] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == ADMIN_CHANNEL)
    return posted


def _in_admin_channel(call: ApiCall) -> bool:
    return call.args.get("channel") == ADMIN_CHANNEL


def _button_value(message: ApiCall, action_id: str) -> str:
    for block in message.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {message.args['blocks']}")


async def test_approval_required_then_approved_then_ready(bot: ContractBot) -> None:
    posted = await _request(bot)
    assert f"<@{RESEARCHER}>" in posted.args["text"]
    assert bot.environment(RESEARCHER, "big").state == State.PENDING_APPROVAL
    assert bot.deployer.deploys == []

    env_id = _button_value(posted, "approve_request")
    assert_acked(await bot.slack.click(ADMIN, "approve_request", env_id, message=posted))

    [updated] = await bot.slack.wait_for("chat.update", _in_admin_channel)
    assert f"approved by <@{ADMIN}>" in updated.args["text"]
    assert "actions" not in [b["type"] for b in updated.args["blocks"]]

    # Decided within the request's 30 minutes: the login comes back where it was asked for.
    creds = await bot.slack.wait_for_private(RESEARCHER, lambda c: "*Password:*" in c.text_blob)
    assert creds.method == "response_url" and creds.args["response_type"] == "ephemeral"
    await bot.settle()
    env = bot.environment(RESEARCHER, "big")
    assert env.state == State.READY and env.profile == "large"
    actions = [e.action for e in reversed(bot.runtime.store.audit(env.id, 20))]
    assert actions[:5] == ["request", "ask-approval", "approval-posted", "approve", "deploy"]


async def test_a_non_admin_click_changes_nothing_and_is_told_privately(bot: ContractBot) -> None:
    posted = await _request(bot)
    env_id = _button_value(posted, "approve_request")
    for intruder in (STUDENT, RESEARCHER):
        assert_acked(await bot.slack.click(intruder, "approve_request", env_id, message=posted))
    refusals = await bot.slack.wait_for("response_url", lambda c: "Only platform admins" in c.args["text"], count=2)
    assert all(r.args["response_type"] == "ephemeral" and r.args["replace_original"] is False for r in refusals)
    await bot.settle()
    assert bot.environment(RESEARCHER, "big").state == State.PENDING_APPROVAL
    assert bot.slack.find("chat.update", _in_admin_channel) == []
    assert bot.deployer.deploys == []


async def test_deny(bot: ContractBot) -> None:
    posted = await _request(bot)
    assert_acked(await bot.slack.click(ADMIN, "deny_request", _button_value(posted, "deny_request"), message=posted))
    [updated] = await bot.slack.wait_for("chat.update", _in_admin_channel)
    assert f"denied by <@{ADMIN}>" in updated.args["text"]
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0RESEARCH")
    assert "denied your request for *big*" in told.args["text"]
    env = bot.environment(RESEARCHER, "big")
    assert env.state == State.DENIED and env.quota_slot is None and env.active_key is None
    assert bot.deployer.deploys == []


async def test_two_approve_clicks_at_once_deploy_once(bot: ContractBot) -> None:
    posted = await _request(bot)
    env_id = _button_value(posted, "approve_request")
    replies = await asyncio.gather(
        *(bot.slack.click(ADMIN, "approve_request", env_id, message=posted) for _ in range(2))
    )
    for reply in replies:
        assert_acked(reply)
    await bot.slack.wait_for("response_url", lambda c: "already handled" in c.args["text"])
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()
    assert len(bot.deployer.deploys) == 1
    assert len(bot.slack.find("chat.update", _in_admin_channel)) == 1
