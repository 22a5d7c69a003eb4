"""The emulator's workspace (what the sandbox's page draws) follows what the real bot does,
through Slack's wire protocol: the demo people and policy, the bot over HTTP, an in-memory
deployer standing in for the cluster (the browser test uses a real one)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox import demo
from bot.sandbox.workspace import Message, Workspace
from tests.support.bot_harness import BotUnderTest, running_bot
from tests.support.stand_ins import InMemoryDeployer

SCIENTIST, ADMIN, STUDENT = demo.SCIENTIST.id, demo.ADMIN.id, demo.STUDENT.id


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotUnderTest]:
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=demo.POLICIES,
        groups={},
        deployer=InMemoryDeployer(),
        extra_env={"ADMIN_CHANNEL_ID": demo.ADMIN_CHANNEL},
    ) as running:
        yield running


def seen_by(workspace: Workspace, user: str, channel: str) -> list[Message]:
    return [m for (c, _), m in workspace.messages.items() if c == channel and m.visible_to in ("", user)]


def button(message: Message, text: str) -> dict[str, object]:
    for block in message.blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("type") == "button" and element["text"]["text"].startswith(text):
                return dict(element, block_id=block.get("block_id", ""))
    raise AssertionError(f"no button {text!r} in {json.dumps(message.blocks)[:500]}")


async def test_approval_launch_and_delete_as_the_page_shows_them(bot: BotUnderTest) -> None:
    slack, workspace = bot.slack, bot.slack.workspace
    await slack.type_command(SCIENTIST, demo.GENERAL, "launch demo")
    typed = seen_by(workspace, SCIENTIST, demo.GENERAL)
    assert typed[0].text == "/jupyterhub launch demo" and typed[0].visible_to == SCIENTIST
    # Nobody else sees what was typed.
    assert seen_by(workspace, STUDENT, demo.GENERAL) == []

    [request] = await slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == demo.ADMIN_CHANNEL)
    [approval] = seen_by(workspace, ADMIN, demo.ADMIN_CHANNEL)
    assert approval.text == request.args["text"] and f"<@{SCIENTIST}>" in approval.text
    await slack.click_message(ADMIN, demo.ADMIN_CHANNEL, approval.ts, button(approval, "Approve"))

    # The password comes as an ephemeral reply where the command was typed, to its author only.
    await slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob, timeout=20)
    await bot.settle()
    [login] = [m for m in seen_by(workspace, SCIENTIST, demo.GENERAL) if "Password" in json.dumps(m.blocks)]
    assert login.visible_to == SCIENTIST
    assert all("Password" not in json.dumps(m.blocks) for m in seen_by(workspace, ADMIN, demo.GENERAL))
    # The progress message in the DM was revised in place, up to ready.
    progress = [m for m in seen_by(workspace, SCIENTIST, "D" + SCIENTIST[1:]) if "Launching demo" in m.text]
    assert len(progress) == 1 and slack.find("chat.update", lambda c: c.args["ts"] == progress[0].ts)
    # The admin's request was replaced by the decision.
    assert "Approve" not in json.dumps(workspace.messages[(demo.ADMIN_CHANNEL, approval.ts)].blocks)

    await slack.type_command(SCIENTIST, demo.GENERAL, "delete demo")
    await slack.wait_for("response_url", lambda c: "delete_confirmed" in c.text_blob)
    [question] = [m for m in seen_by(workspace, SCIENTIST, demo.GENERAL) if "delete_confirmed" in json.dumps(m.blocks)]
    await slack.click_message(SCIENTIST, demo.GENERAL, question.ts, button(question, "Delete"))
    await slack.wait_for("response_url", lambda c: c.args.get("replace_original") is True)
    await bot.settle()
    # Clicking replaced the question with the answer, in place.
    replaced = workspace.messages[(demo.GENERAL, question.ts)]
    assert "delete_confirmed" not in json.dumps(replaced.blocks) and replaced.visible_to == SCIENTIST


async def test_the_launch_form_shows_field_errors_inline_and_closes_when_accepted(bot: BotUnderTest) -> None:
    slack, workspace = bot.slack, bot.slack.workspace
    await slack.type_command(STUDENT, demo.GENERAL, "launch")
    await slack.wait_for("views.open")
    form = workspace.modals[STUDENT]
    assert form["callback_id"] == "launch_form" and form["id"]

    def values(name: str) -> dict[str, object]:
        chosen = {"type": "static_select", "selected_option": {"value": "demo"}}
        return {
            "name": {"value": {"type": "plain_text_input", "value": name}},
            "profile": {"value": chosen},
            "cluster": {"value": {"type": "static_select", "selected_option": {"value": "local"}}},
            "lifetime": {"value": {"type": "static_select", "selected_option": {"value": "1h"}}},
        }

    errors = await slack.submit_modal(STUDENT, values("Not A Name"))
    assert set(errors) == {"name"} and STUDENT in workspace.modals
    assert await slack.submit_modal(STUDENT, values("notebook")) == {}
    assert STUDENT not in workspace.modals
    assert [c.kind for c in workspace.changes].count("modal_closed") == 1
    await slack.wait_for("chat.postMessage", lambda c: c.args["channel"] == "D0STUDENT" and "notebook" in c.text_blob)


async def test_the_app_home_is_published_for_whoever_opens_it(bot: BotUnderTest) -> None:
    slack, workspace = bot.slack, bot.slack.workspace
    await slack.open_home(ADMIN)
    await slack.wait_for("views.publish", lambda c: c.args["user_id"] == ADMIN)
    assert workspace.homes[ADMIN]["type"] == "home" and STUDENT not in workspace.homes


async def test_the_feed_replays_from_any_point(bot: BotUnderTest) -> None:
    workspace = bot.slack.workspace
    await bot.slack.type_command(STUDENT, demo.GENERAL, "help")
    first = workspace.changes[0].seq
    assert [c.seq for c in workspace.since(first)] == [c.seq for c in workspace.changes[1:]]
    assert await workspace.wait_after(workspace.changes[-1].seq, timeout=0.05) == []
