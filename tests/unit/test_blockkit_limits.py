"""The Block Kit limits checker refuses what Slack documents it refuses, and nothing less."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.limits import violations

# Raw blocks: the builders in bot.slack.blocks keep within the limits themselves.


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def actions(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(buttons)}


def _message(*blocks: dict[str, Any], text: str = "t") -> dict[str, Any]:
    return {"text": text, "blocks": list(blocks)}


def test_a_message_within_every_limit_passes() -> None:
    assert (
        violations(_message(header("h" * 150), section("s" * 3000), actions(button("b" * 75, "a", "v" * 2000)))) == []
    )


@pytest.mark.parametrize(
    ("payload", "surface", "problem"),
    [
        (_message(*[section("x")] * 51), "message", "51 blocks, more than 50"),
        ({"type": "home", "blocks": [section("x")] * 101}, "home", "101 blocks, more than 100"),
        (_message(section("x" * 3001)), "message", "blocks[0].text: 3001 characters"),
        (_message(header("x" * 151)), "message", "blocks[0].text: 151 characters"),
        (_message(actions(button("x" * 76, "a", "v"))), "message", "elements[0].text: 76 characters"),
        (_message(actions(button("b", "a", "v" * 2001))), "message", "elements[0].value: 2001 characters"),
        (_message(actions(*[button("b", f"a{i}", "v") for i in range(26)])), "message", "26 elements"),
        (
            {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []},
            "modal",
            "title: 25 characters",
        ),
        ({"text": "", "blocks": []}, "message", "needs text or blocks"),
        (_message({"type": "fancy"}), "message", "unknown block type 'fancy'"),
    ],
)
def test_each_documented_limit_is_refused(payload: dict[str, Any], surface: str, problem: str) -> None:
    found = violations(payload, surface)  # type: ignore[arg-type]
    assert any(problem in line for line in found), found


def test_select_options_are_held_to_their_limits() -> None:
    option = {"text": {"type": "plain_text", "text": "o" * 76}, "value": "v" * 151}
    block = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Pick"},
        "element": {"type": "static_select", "action_id": "value", "options": [option] * 101},
    }
    found = violations({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [block]}, "modal")
    assert any("101 options" in line for line in found)
    assert any("options[0].text: 76 characters" in line for line in found)
    assert any("options[0].value: 151 characters" in line for line in found)


def test_option_groups_are_held_to_their_limits() -> None:
    option = {"text": {"type": "plain_text", "text": "o"}, "value": "v"}
    group = {"label": {"type": "plain_text", "text": "g" * 76}, "options": [option] * 101}
    block = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Pick"},
        "element": {"type": "static_select", "action_id": "value", "option_groups": [group] * 101},
    }
    found = violations({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [block]}, "modal")
    assert any("101 option groups" in line for line in found)
    assert any("option_groups[0].label: 76 characters" in line for line in found)
    assert any("option_groups[0].options: 101 options" in line for line in found)


def test_a_view_over_250_kb_is_refused() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_600}}] * 99
    found = violations({"type": "home", "blocks": blocks}, "home")
    assert any("bytes of JSON, more than 250000" in line for line in found)
