"""At Slack's limits, through the real bot over HTTP: the emulator refuses what Slack refuses
(the harness fails a test if anything was refused), so each answer here reached the person."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.states import State
from bot.sandbox.emulator import ApiCall
from bot.slack import blocks
from bot.slack.limits import violations
from tests.contract.conftest import ADMIN, GROUPS, STUDENT, ContractBot, assert_acked
from tests.support.bot_harness import running_bot
from tests.support.stand_ins import InMemoryDeployer

HELM_HEAD = "Error: INSTALLATION FAILED: first words of Helm "
HELM_TAIL = " and the real cause is at the end"
HELM_ERROR = HELM_HEAD + "<&>" * 3_300 + HELM_TAIL


def _seed(bot: ContractBot, count: int) -> None:
    """``count`` environments of 40 owners straight into the store: mostly ready, some waiting
    for approval, some deploying."""
    store = bot.runtime.store
    for i in range(count):
        env = store.create_environment(
            name=f"env-{i:03d}",
            owner_id=f"U0OWNER{i % 40:02d}",
            profile="small",
            cluster="dev",
            lifetime=timedelta(hours=8),
            max_environments=count,
            namespace_prefix="jh-",
            actor="seed",
        )
        state = State.PENDING_APPROVAL if i % 25 == 0 else State.DEPLOYING if i % 25 == 1 else State.READY
        values: dict[str, Any] = {"state": state}
        if state is State.READY:
            now = bot.clock.now
            values.update(
                ready_at=now, expires_at=now + timedelta(hours=8, minutes=i), url=f"http://h/{env.namespace}/"
            )
        assert store.update_if(env.id, {"state": State.REQUESTED}, values, actor="seed", action="seed") is not None


async def _answer(bot: ContractBot, user: str, text: str) -> str:
    reply = await bot.slack.slash_command(user, text)
    assert_acked(reply)
    return await bot.slack.private_answer(reply)


def _nothing_refused(bot: ContractBot) -> None:
    assert [(r.method, r.problems[:3]) for r in bot.slack.refused] == []


async def test_list_all_of_200_environments_reaches_the_admin(bot: ContractBot) -> None:
    _seed(bot, 200)
    answer = await _answer(bot, ADMIN, "list all")
    _nothing_refused(bot)
    assert "200 active environment" in answer and "env-" in answer


async def test_the_app_home_of_an_admin_with_200_environments_is_published(bot: ContractBot) -> None:
    _seed(bot, 200)
    body = {
        "token": "t",
        "team_id": "T0TEST",
        "api_app_id": "A0TEST",
        "type": "event_callback",
        "event_id": "EvHome",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": ADMIN, "channel": "D1", "tab": "home"},
    }
    assert_acked(await bot.slack.send_json(body))
    [published] = await bot.slack.wait_for("views.publish")
    _nothing_refused(bot)
    assert "200" in published.text_blob and "list all" in published.text_blob

    # [List them all] sends the first page by direct message; its [Next] turns the page in place.
    [open_list] = [
        e
        for b in published.args["view"]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == blocks.ACTION_LIST_OPEN
    ]
    assert_acked(await _click_in_home(bot, ADMIN, open_list))
    first = await bot.slack.wait_for_private(ADMIN, lambda c: "page 1 of 10" in c.text_blob)
    assert first.method == "chat.postMessage"
    assert_acked(await bot.slack.click(ADMIN, blocks.ACTION_LIST_NEXT, "all:2", message=first))
    [second] = await bot.slack.wait_for("response_url", lambda c: "page 2 of 10" in c.text_blob)
    assert second.args["replace_original"] is True
    _nothing_refused(bot)


async def _click_in_home(bot: ContractBot, user: str, element: dict[str, Any]) -> Any:
    """A click on a button in the App Home: Slack sends no response_url with it."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEST", "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEST"},
        "api_app_id": "A0TEST",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": "1.trigger",
        "view": {"id": "V0HOME", "type": "home"},
        "actions": [dict(element, block_id="b1", action_ts="1.0")],
    }
    return await bot.slack.send({"payload": json.dumps(payload)})


async def test_a_deploy_failing_with_a_10000_character_helm_error_is_told_to_the_owner(bot: ContractBot) -> None:
    bot.deployer.fail_next = HELM_ERROR
    assert_acked(await bot.slack.slash_command(STUDENT, "launch doomed"))
    [told] = await bot.slack.wait_for("chat.postMessage", lambda c: "could not be deployed" in c.text_blob)
    await bot.settle()
    _nothing_refused(bot)
    assert told.args["channel"] == "D0STUDENT"
    assert HELM_HEAD.strip() in told.text_blob and HELM_TAIL.strip() in told.text_blob
    progress = bot.slack.find("chat.update", lambda c: ":x:" in c.text_blob)
    assert progress and HELM_TAIL.strip() in progress[-1].text_blob

    status = await _answer(bot, STUDENT, "status doomed")
    _nothing_refused(bot)
    assert "last problem" in status and HELM_TAIL.strip() in status


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("launch x profile=" + "p" * 3_000, "no profile called"),
        ("launch x cluster=" + "<c>" * 1_000, "no cluster called"),
        ("launch x ttl=" + "9" * 3_000, "not a duration"),
        ("launch " + "n" * 3_000, "too long"),
        ("launch x " + "o" * 3_000 + "=1", "does not know the option"),
        ("launch x " + "y" * 3_000, "takes one name"),
        ("z" * 3_000, "don't know the command"),
        ("status " + "s" * 3_000, "too long"),
    ],
    ids=["profile", "cluster", "ttl", "name", "option", "second-name", "verb", "status"],
)
async def test_a_3000_character_argument_gets_an_answer(bot: ContractBot, text: str, expected: str) -> None:
    answer = await _answer(bot, STUDENT, text)
    _nothing_refused(bot)
    assert expected in answer


def _answers(bot: ContractBot, reply_token: str) -> list[ApiCall]:
    return bot.slack.find("response_url", lambda c: c.args.get("_token") == reply_token)


def _page_buttons(message: dict[str, Any]) -> dict[str, str]:
    """The listing's paging buttons: action id -> value."""
    return {
        element["action_id"]: element["value"]
        for block in message.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] in (blocks.ACTION_LIST_PREVIOUS, blocks.ACTION_LIST_NEXT)
    }


async def test_list_all_pages_forward_and_back_and_each_click_is_rechecked(bot: ContractBot) -> None:
    _seed(bot, 200)
    reply = await bot.slack.slash_command(ADMIN, "list all")
    assert_acked(reply)
    first = reply.json() if reply.body else json.loads(await bot.slack.private_answer(reply))
    assert violations(first) == []
    buttons = _page_buttons(first)
    assert set(buttons) == {blocks.ACTION_LIST_NEXT}
    shown_first = {b["text"]["text"].split("*")[1] for b in first["blocks"][1:] if b["type"] == "section"}

    await bot.slack.click(ADMIN, blocks.ACTION_LIST_NEXT, buttons[blocks.ACTION_LIST_NEXT])
    [second] = await bot.slack.wait_for("response_url", lambda c: "page 2 of" in c.text_blob)
    assert second.args["replace_original"] is True
    assert set(_page_buttons(second.args)) == {blocks.ACTION_LIST_PREVIOUS, blocks.ACTION_LIST_NEXT}
    shown_second = {b["text"]["text"].split("*")[1] for b in second.args["blocks"][1:] if b["type"] == "section"}
    assert shown_first.isdisjoint(shown_second)

    # A page past the end shows the last page; a student's click on an admin's page is refused.
    await bot.slack.click(ADMIN, blocks.ACTION_LIST_NEXT, "all:999")
    [last] = await bot.slack.wait_for("response_url", lambda c: "page 10 of 10" in c.text_blob)
    assert set(_page_buttons(last.args)) == {blocks.ACTION_LIST_PREVIOUS}
    await bot.slack.click(STUDENT, blocks.ACTION_LIST_NEXT, "all:2")
    [refused] = await bot.slack.wait_for("response_url", lambda c: "Only platform admins" in c.text_blob)
    assert not refused.args.get("replace_original")
    _nothing_refused(bot)


@pytest.mark.parametrize("value", ["", "all", "all:", "all:-1", "all:x", "own:" + "9" * 5_000, "everything:1", "²"])
async def test_a_forged_page_button_gets_a_polite_answer(bot: ContractBot, value: str) -> None:
    reply = await bot.slack.click(ADMIN, blocks.ACTION_LIST_NEXT, value)
    assert_acked(reply)
    [answer] = await bot.slack.wait_for("response_url")
    _nothing_refused(bot)
    assert "`list`" in answer.text_blob or "active environment" in answer.text_blob


# The store keeps profile and cluster names of up to 64 characters.
STORED_NAME = 64


def _biggest_policy() -> dict[str, Any]:
    """150 profiles with 200-character descriptions and 150 clusters, named as long as the
    policy allows (the store's 64 characters)."""
    profiles = {
        f"gpu-{i:03d}-".ljust(STORED_NAME, "x"): {
            "description": ("<b>A100</b> & friends " * 10)[:200],
            "image": "quay.io/jupyter/minimal-notebook:2025-06-30",
            "cpu": "1",
            "memory": "2Gi",
        }
        for i in range(150)
    }
    clusters = {f"zone-{i:03d}-".ljust(STORED_NAME, "y"): {"context": f"ctx-{i:03d}"} for i in range(150)}
    return {
        "roles": {
            "students": {
                "members": ["group:S0STUDENTS"],
                "allow": ["launch", "list", "status"],
                "profiles": list(profiles),
                "clusters": list(clusters),
                "max_lifetime": "1d",
            }
        },
        "profiles": profiles,
        "clusters": clusters,
        "defaults": {"lifetime": "8h", "profile": next(iter(profiles)), "cluster": next(iter(clusters))},
    }


async def test_the_launch_form_of_a_policy_with_150_profiles_opens_and_launches(
    database_url: str, tmp_path: Path
) -> None:
    policy = _biggest_policy()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "big.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    deployer = InMemoryDeployer()
    async with running_bot(
        database_url=database_url, policies_dir=policies, groups=GROUPS, deployer=deployer
    ) as running:
        assert_acked(await running.slack.slash_command(STUDENT, "launch"))
        [opened] = await running.slack.wait_for("views.open")
        assert running.slack.refused == []
        view = opened.args["view"]
        profile_menu = view["blocks"][1]["element"]
        options = [o for group in profile_menu["option_groups"] for o in group["options"]]
        assert len(options) == 150
        last_profile, last_cluster = list(policy["profiles"])[-1], list(policy["clusters"])[-1]
        cluster_options = [o for group in view["blocks"][2]["element"]["option_groups"] for o in group["options"]]

        def selected(value: str) -> dict[str, Any]:
            return {"type": "static_select", "selected_option": {"value": value}}

        values = {
            "name": {"value": {"type": "plain_text_input", "value": "biggest"}},
            "profile": {"value": selected(options[-1]["value"])},
            "cluster": {"value": selected(cluster_options[-1]["value"])},
            "lifetime": {"value": selected("8h")},
        }
        submitted = await running.slack.submit_view(STUDENT, view, values)
        assert_acked(submitted)
        assert submitted.body == "", submitted.body
        await running.slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
        await running.settle()
        env = running.environment(STUDENT, "biggest")
        assert (env.profile, env.cluster, env.state) == (last_profile, last_cluster, State.READY)
