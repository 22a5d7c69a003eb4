"""Launching: by arguments, through the modal, and every way a launch is refused."""

from __future__ import annotations

from bot.core.states import State
from bot.sandbox.emulator import ApiCall
from tests.contract.conftest import NOBODY, RESEARCHER, STUDENT, ContractBot, assert_acked


def _has_password(call: ApiCall) -> bool:
    return "*Password:*" in call.text_blob


async def test_launch_with_arguments_delivers_credentials_only_to_the_requester(bot: ContractBot) -> None:
    reply = await bot.slack.slash_command(STUDENT, "launch thesis ttl=4h")
    assert_acked(reply)

    [accepted] = await bot.slack.wait_for("response_url")
    assert "Launching *thesis*" in accepted.args["text"]
    assert accepted.args["response_type"] == "ephemeral"

    dm = await bot.slack.wait_for_private(STUDENT, _has_password)
    assert dm.method == "response_url" and dm.args["response_type"] == "ephemeral"
    await bot.settle()

    env = bot.environment(STUDENT, "thesis")
    assert env.state == State.READY
    assert env.lifetime_seconds == 4 * 3600
    assert env.expires_at == bot.clock.now + env.lifetime
    password = bot.deployer.releases[env.namespace]["secrets"].admin_password
    assert len(password) >= 32
    assert f"`{password}`" in dm.text_blob and env.url in dm.text_blob
    elsewhere = [c for c in bot.slack.calls if c is not dm and password in c.text_blob]
    assert elsewhere == []


async def test_launch_form_reports_field_errors_then_launches(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch"))
    [opened] = await bot.slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "launch_form"
    assert [b["block_id"] for b in view["blocks"]] == ["name", "profile", "cluster", "lifetime"]

    def values(name: str, lifetime: str = "8h") -> dict[str, object]:
        return {
            "name": {"value": {"type": "plain_text_input", "value": name}},
            "profile": {"value": {"type": "static_select", "selected_option": {"value": "small"}}},
            "cluster": {"value": {"type": "static_select", "selected_option": {"value": "dev"}}},
            "lifetime": {"value": {"type": "static_select", "selected_option": {"value": lifetime}}},
        }

    refused = await bot.slack.submit_view(STUDENT, view, values("My Hub!"))
    assert_acked(refused)
    assert refused.json()["response_action"] == "errors"
    assert "not a valid name" in refused.json()["errors"]["name"]

    too_long = await bot.slack.submit_view(STUDENT, view, values("ok-name", "3d"))
    assert too_long.json()["errors"]["lifetime"].startswith("A lifetime of 3d is more than")

    accepted = await bot.slack.submit_view(STUDENT, view, values("from-form"))
    assert_acked(accepted)
    assert accepted.body == ""
    await bot.slack.wait_for_private(STUDENT, _has_password)
    await bot.settle()
    assert bot.environment(STUDENT, "from-form").state == State.READY


async def test_someone_without_a_role_is_refused_and_nothing_is_created(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(NOBODY, "launch mine"))
    [answer] = await bot.slack.wait_for("response_url")
    assert "not allowed to launch" in answer.args["text"]
    assert bot.maybe_environment(NOBODY, "mine") is None
    assert bot.deployer.deploys == []


async def test_profile_outside_the_role_is_refused_by_name(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch big profile=large"))
    [answer] = await bot.slack.wait_for("response_url")
    assert "may not use the profile `large`" in answer.args["text"]
    assert_acked(await bot.slack.slash_command(STUDENT, "launch big profile=huge"))
    [_, unknown] = await bot.slack.wait_for("response_url", count=2)
    assert "no profile called `huge`" in unknown.args["text"]
    assert bot.deployer.deploys == []


async def test_quota_exceeded(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch first"))
    await bot.slack.wait_for("response_url")
    second = await bot.slack.slash_command(STUDENT, "launch second")
    assert_acked(second)
    assert "the most your role allows (1)" in await bot.slack.private_answer(second)
    await bot.settle()
    assert bot.maybe_environment(STUDENT, "second") is None
    assert len(bot.deployer.deploys) == 1


async def test_the_same_request_three_times_makes_one_environment(bot: ContractBot) -> None:
    for _ in range(3):
        assert_acked(await bot.slack.slash_command(RESEARCHER, "launch once", headers={"X-Slack-Retry-Num": "1"}))
    answers = await bot.slack.wait_for("response_url", count=3)
    assert sum("already have an environment called `once`" in a.args["text"] for a in answers) == 2
    await bot.settle()
    assert len(bot.slack.find("chat.postMessage", lambda c: c.args["channel"] == "C0ADMINS")) == 1


async def test_failed_deploy_is_rolled_back_and_frees_the_quota(bot: ContractBot) -> None:
    bot.deployer.fail_next = "The hub did not become ready within 10 minutes."
    assert_acked(await bot.slack.slash_command(STUDENT, "launch doomed"))
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: "could not be deployed" in c.text_blob)
    assert told.args["channel"] == "D0STUDENT"
    assert "did not become ready within 10 minutes" in told.args["text"]
    await bot.settle()
    doomed = bot.environment(STUDENT, "doomed")
    assert doomed.state == State.FAILED and doomed.quota_slot is None
    assert [t.namespace for t in bot.deployer.teardowns] == [doomed.namespace]

    assert_acked(await bot.slack.slash_command(STUDENT, "launch second-try"))
    await bot.slack.wait_for_private(STUDENT, _has_password)


async def test_progress_message_goes_through_its_steps_in_order(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch steps"))
    await bot.slack.wait_for_private(STUDENT, _has_password)
    await bot.settle()
    [first] = bot.slack.find("chat.postMessage", lambda c: "Launching steps" in c.args["text"])
    assert first.args["channel"] == "D0STUDENT"
    updates = bot.slack.find("chat.update", lambda c: c.args["channel"] == "D0STUDENT")
    states = [first.args["text"]] + [u.args["text"] for u in updates]
    assert states == [
        "Launching steps: request accepted",
        "Launching steps: namespace created",
        "Launching steps: chart installed, hub ready",
        "Launching steps: ready",
    ]
    env = bot.environment(STUDENT, "steps")
    assert env.url in updates[-1].text_blob and "*Password:*" not in updates[-1].text_blob
    assert first.at < updates[0].at < updates[-1].at


async def test_progress_message_shows_a_failure(bot: ContractBot) -> None:
    bot.deployer.fail_next = "The chart refused the environment's settings: hub.adminPassword is too short."
    assert_acked(await bot.slack.slash_command(STUDENT, "launch broken"))
    await bot.slack.wait_for("chat.update", lambda c: c.args["text"] == "Launching broken: failed")
    [failed] = bot.slack.find("chat.update", lambda c: c.args["text"] == "Launching broken: failed")
    assert "hub.adminPassword is too short" in failed.text_blob


async def test_slack_rate_limits_and_server_errors_are_retried(bot: ContractBot) -> None:
    bot.slack.fail("chat.postMessage", status=429, times=1)
    bot.slack.fail("conversations.open", status=500, times=1)
    assert_acked(await bot.slack.slash_command(STUDENT, "launch patient"))
    await bot.slack.wait_for_private(STUDENT, _has_password)
    assert bot.slack.find("chat.postMessage!failed") and bot.slack.find("conversations.open!failed")
    await bot.settle()
    assert bot.environment(STUDENT, "patient").state == State.READY


async def test_a_rollback_that_cannot_clean_up_asks_the_admins(bot: ContractBot) -> None:
    bot.deployer.fail_next = "The cluster could not be reached; please try again later."
    bot.deployer.fail_teardowns = 1
    assert_acked(await bot.slack.slash_command(STUDENT, "launch stranded"))
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: "could not be deployed" in c.text_blob)
    assert "admins have been asked to remove what was left" in told.args["text"]
    [report] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "C0ADMINS")
    env = bot.environment(STUDENT, "stranded")
    assert env.namespace in report.args["text"] and "remove_orphan" in report.text_blob
    assert env.state == State.FAILED and env.quota_slot is None
