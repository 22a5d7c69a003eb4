"""What Slack itself sends about the app, and requests while Slack's Web API is down
(issue #16 item 7): every signed request is acknowledged, nothing crashes, and an
uninstalled app stops speaking and says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.sandbox.emulator import BOT_USER
from tests.contract.conftest import STUDENT, ContractBot, assert_acked


def _event_callback(bot: ContractBot, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": bot.slack.team_id,
        "api_app_id": bot.slack.app_id,
        "type": "event_callback",
        "event_id": "Ev0TEST",
        "event_time": 1_700_000_000,
        "event": event,
    }


async def test_app_rate_limited_is_answered_200(bot: ContractBot) -> None:
    reply = await bot.slack.send_json(
        {
            "token": "legacy-verification-token",
            "type": "app_rate_limited",
            "team_id": bot.slack.team_id,
            "minute_rate_limited": 1_700_000_000,
            "api_app_id": bot.slack.app_id,
        }
    )
    assert reply.status == 200


async def test_an_uninstalled_app_stops_speaking_and_says_so(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch lab"))
    await bot.slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
    await bot.settle()
    env = bot.environment(STUDENT, "lab")

    reply = await bot.slack.send_json(_event_callback(bot, {"type": "app_uninstalled", "event_ts": "1.0"}))
    assert reply.status == 200
    checks = await bot.runtime.readiness()
    assert checks["slack"].startswith("lost (the app was uninstalled")

    # The lifecycle goes on (the hub is still removed at its end), but nothing is posted.
    before = len(bot.slack.find("chat.postMessage"))
    assert env.expires_at is not None
    bot.clock.now = env.expires_at + timedelta(seconds=1)
    assert await bot.runtime.lifecycle.teardowns.expire_due() == 1
    await bot.settle()
    assert bot.environment(STUDENT, "lab").state == "deleted"
    assert len(bot.slack.find("chat.postMessage")) == before


async def test_revoked_bot_tokens_stop_the_bot_speaking(bot: ContractBot) -> None:
    other = _event_callback(bot, {"type": "tokens_revoked", "tokens": {"oauth": ["U0SOMEONE"]}, "event_ts": "1.0"})
    assert (await bot.slack.send_json(other)).status == 200
    assert (await bot.runtime.readiness())["slack"] == "ok"  # a user's token, not ours
    ours = _event_callback(bot, {"type": "tokens_revoked", "tokens": {"bot": [BOT_USER]}, "event_ts": "1.0"})
    assert (await bot.slack.send_json(ours)).status == 200
    assert (await bot.runtime.readiness())["slack"].startswith("lost (Slack revoked the bot's token")


async def test_a_slash_command_without_a_trigger_id_gets_an_answer_not_a_crash(bot: ContractBot) -> None:
    form = bot.slack.command_form(STUDENT, "launch")
    del form["trigger_id"]
    assert_acked(await bot.slack.send(form))
    [answer] = await bot.slack.wait_for("response_url")
    assert "cannot be opened from here" in answer.args["text"]


async def test_while_slacks_web_api_is_down_every_command_is_acknowledged(bot: ContractBot) -> None:
    bot.slack.fail("users.info", status=503, times=1000)
    bot.slack.fail("usergroups.users.list", status=503, times=1000)
    help_reply = await bot.slack.slash_command(STUDENT, "help")
    assert_acked(help_reply)
    assert "*Usage:*" in help_reply.text
    for text in ("list", "launch lab", "status lab"):
        reply = await bot.slack.slash_command(STUDENT, text)
        assert_acked(reply)
        assert "Slack is not answering" in await bot.slack.private_answer(reply, timeout=20)
    await bot.settle()
    assert bot.maybe_environment(STUDENT, "lab") is None
