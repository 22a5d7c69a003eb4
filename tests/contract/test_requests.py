"""What arrives at /slack/events that is not a well-formed, signed request."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from tests.contract.conftest import GROUPS, POLICIES, STUDENT, ContractBot, assert_acked
from tests.support.bot_harness import running_bot
from tests.support.stand_ins import InMemoryDeployer


async def test_the_word_payload_in_a_command_is_just_text(bot: ContractBot) -> None:
    # Bolt's own body parser mistakes any form body containing "payload" for an
    # interaction; the bot parses Slack's requests itself.
    named = await bot.slack.slash_command(STUDENT, "status payload-test")
    assert_acked(named)
    assert "no environment called `payload-test`" in await bot.slack.private_answer(named)
    assert_acked(await bot.slack.slash_command(STUDENT, "launch payload-test"))
    await bot.slack.wait_for("response_url", lambda c: "Launching *payload-test*" in c.args["text"])


async def test_forged_signature_is_401_and_does_nothing(bot: ContractBot) -> None:
    before = len(bot.slack.calls)
    reply = await bot.slack.slash_command(STUDENT, "launch forged", secret="not-the-signing-secret")
    assert reply.status == 401
    assert bot.slack.calls[before:] == []
    assert bot.maybe_environment(STUDENT, "forged") is None


async def test_stale_timestamp_is_401(bot: ContractBot) -> None:
    reply = await bot.slack.slash_command(STUDENT, "launch replayed", timestamp=int(time.time()) - 10 * 60)
    assert reply.status == 401
    assert bot.maybe_environment(STUDENT, "replayed") is None


async def test_missing_signature_headers_are_401(bot: ContractBot) -> None:
    reply = await bot.slack.send(
        {"command": "/jupyterhub", "text": "list"}, headers={"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""}
    )
    assert reply.status == 401


async def test_malformed_payload_json_is_400(bot: ContractBot) -> None:
    reply = await bot.slack.send({"payload": "{not json"})
    assert reply.status == 400
    assert "malformed" in reply.json()["error"]


async def test_oversized_body_is_rejected(bot: ContractBot) -> None:
    reply = await bot.slack.send({"text": "x" * (2 * 1024 * 1024)})
    assert reply.status == 413


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fly away", "I don't know the command `fly`"),
        ("launch Bad_Name", "not a valid name"),
        ("launch a b", "takes one name"),
        ("launch x colour=red", "does not know the option `colour`"),
        ("launch x ttl=forever", "is not a duration"),
        ("status", "takes exactly one environment name"),
        ('launch "unclosed', "a quote is not closed"),
        ("", "*Usage:*"),
    ],
)
async def test_bad_command_text_gets_a_specific_usage_message_in_the_ack(
    bot: ContractBot, text: str, expected: str
) -> None:
    reply = await bot.slack.slash_command(STUDENT, text)
    assert_acked(reply)
    assert expected in reply.text
    assert bot.slack.find("response_url") == []


async def test_unknown_button_is_acknowledged_without_error(bot: ContractBot) -> None:
    reply = await bot.slack.send(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "team": {"id": bot.slack.team_id},
                    "api_app_id": bot.slack.app_id,
                    "user": {"id": STUDENT},
                    "actions": [{"action_id": "mystery", "value": "x"}],
                }
            )
        }
    )
    assert reply.status in (200, 404)


async def test_the_emulator_refuses_a_message_over_slacks_limits_as_slack_does(bot: ContractBot) -> None:
    client = bot.runtime.services.slack
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="many", blocks=[{"type": "divider"}] * 51)
    assert refused.value.response["error"] == "invalid_blocks"
    assert [r.method for r in bot.slack.refused] == ["chat.postMessage"]
    bot.slack.refused.clear()  # seen, and expected here


async def test_a_bot_started_while_slack_is_down_acknowledges_politely_then_serves(tmp_path: Path) -> None:
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=POLICIES,
        groups=GROUPS,
        deployer=InMemoryDeployer(),
        slack_down_at_start=True,
    ) as running:
        assert running.runtime.services.workspace.installation is None
        waiting = await running.slack.slash_command(STUDENT, "launch early")
        assert_acked(waiting)
        assert "Slack is not answering" in waiting.text
        assert running.maybe_environment(STUDENT, "early") is None

        running.slack.fail("auth.test", times=0)
        assert await running.runtime.identify()
        assert_acked(await running.slack.slash_command(STUDENT, "launch later"))
        await running.slack.wait_for("response_url", lambda c: "Launching *later*" in c.args["text"])
