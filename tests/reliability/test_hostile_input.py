"""Hostile input, property-based: whatever a signed request carries, the bot answers with a
2xx or 4xx and a polite message, never a 5xx, and keeps serving.

The requests go over real HTTP to the real Bolt app (aiohttp on 127.0.0.1), signed with the
signing secret exactly as Slack signs them. The fixed cases (forged and stale signatures,
missing headers, oversized bodies, ``{not json``, a list of bad command texts) live in
``tests/contract/test_requests.py``; this file throws generated input at the same door.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import Help, parse_command
from bot.core.errors import UsageError
from bot.sandbox.emulator import TEAM_ID, ApiCall
from bot.slack import blocks
from bot.slack.listeners.commands import QUESTIONS
from bot.slack.wording import GENERIC_FAILURE, describe, usage
from tests.reliability.conftest import ADMIN, NOBODY, RESEARCHER, STUDENT
from tests.support.bot_harness import BotUnderTest, assert_acked

FUZZ = settings(
    # FUZZ_EXAMPLES=1000 for a longer hunt; the suite keeps it small.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    # One bot serves every example of a test: that is the point (it must keep serving).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
USERS = st.sampled_from([STUDENT, RESEARCHER, ADMIN, NOBODY])
VERBS = ["launch", "list", "status", "creds", "extend", "delete", "help", "approve", "list all"]
ACTIONS = [
    blocks.ACTION_APPROVE,
    blocks.ACTION_DENY,
    blocks.ACTION_EXPIRE,
    blocks.ACTION_EXTEND,
    blocks.ACTION_KEEP,
    blocks.ACTION_DELETE_CONFIRM,
    blocks.ACTION_DELETE_NOW,
    blocks.ACTION_CANCEL,
    blocks.ACTION_REMOVE_ORPHAN,
    blocks.ACTION_LIST_PREVIOUS,
    blocks.ACTION_LIST_NEXT,
    blocks.ACTION_LIST_OPEN,
    "mystery",
]
_serial = itertools.count()

# -- command text ------------------------------------------------------------------------------

_word = st.one_of(
    st.text(min_size=1, max_size=40),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.=\"' ", min_size=1, max_size=40),
    st.sampled_from(
        [
            "profile=",
            "ttl=",
            "cluster=",
            "=",
            "==",
            '"',
            "'",
            '""',
            "ttl=-1h",
            "ttl=99999d",
            "all",
            "payload",
            "payload=x",
        ]
    ),
)
COMMAND_TEXT = st.one_of(
    st.text(max_size=300),
    st.builds(lambda verb, words: " ".join([verb, *words]), st.sampled_from(VERBS), st.lists(_word, max_size=5)),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=2000, max_size=8000),
    st.builds(lambda verb, n: f"{verb} {'a' * n}", st.sampled_from(VERBS), st.integers(25, 5000)),
)


async def _slash(bot: BotUnderTest, user: str, text: str) -> tuple[int, str, str, str]:
    """Send a signed slash command; return (status, ack text, response token, trigger id)."""
    n = next(_serial)
    token, trigger = f"fuzz-{n}", f"{n}.fuzz-trigger"
    form = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": "CGENERAL",
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/jupyterhub",
        "text": text,
        "api_app_id": "A0TEST",
        "response_url": f"{bot.slack.base_url}/response/{token}",
        "trigger_id": trigger,
    }
    reply = await bot.slack.send(form)
    assert reply.status < 500, f"{reply.status} for {text!r}: {reply.body[:500]}"
    assert_acked(reply)
    return reply.status, reply.text, token, trigger


def _expected_ack(text: str) -> str | None:
    """What the ack must say: the parser's own usage message, the usage for help, or nothing."""
    try:
        command = parse_command(text)
    except UsageError as exc:
        return describe(exc.problem)
    return usage() if isinstance(command, Help) else None


@FUZZ
@given(user=USERS, text=COMMAND_TEXT)
async def test_any_command_text_gets_a_polite_answer_never_an_error(
    inmemory_bot: BotUnderTest, user: str, text: str
) -> None:
    bot = inmemory_bot
    _, ack_text, token, trigger = await _slash(bot, user, text)
    expected = _expected_ack(text)
    if expected is not None:
        assert ack_text == expected
        return
    if ack_text:  # a question answered in the ack itself
        assert isinstance(parse_command(text), QUESTIONS), ack_text
        assert GENERIC_FAILURE not in ack_text
        return
    # The command ran after the ack: its private reply (or the launch form) must come, and it
    # must be the command's own answer, not the catch-all for a crash.
    replies = await _answers(bot, token, trigger)
    assert all(GENERIC_FAILURE not in c.text_blob for c in replies), replies


async def _answers(bot: BotUnderTest, token: str, trigger: str, timeout: float = 10) -> list[ApiCall]:
    """The response_url post or views.open the bot made for one slash command."""

    def answered(call: ApiCall) -> bool:
        return (call.method == "response_url" and call.args.get("_token") == token) or (
            call.method == "views.open" and call.args.get("trigger_id") == trigger
        )

    deadline = time.monotonic() + timeout
    while not (found := [c for c in bot.slack.calls if answered(c)]):
        assert time.monotonic() < deadline, f"no answer to {token} within {timeout}s"
        await asyncio.sleep(0.02)  # wait-ok: bounded polling for the reply after the ack
    return found


_FORM_FIELDS = ["token", "team_id", "channel_id", "user_id", "user_name", "text", "response_url", "trigger_id"]


@FUZZ
@given(
    missing=st.sets(st.sampled_from(_FORM_FIELDS), min_size=1),
    junk=st.dictionaries(st.sampled_from([*_FORM_FIELDS, "command", "x"]), st.text(max_size=40), max_size=3),
)
async def test_a_slash_command_with_fields_missing_or_garbled_is_never_a_server_error(
    inmemory_bot: BotUnderTest, missing: set[str], junk: dict[str, str]
) -> None:
    form = {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "channel_id": "CGENERAL",
        "user_id": STUDENT,
        "user_name": "student",
        "command": "/jupyterhub",
        "text": "list",
        "response_url": f"{inmemory_bot.slack.base_url}/response/garbled",
        "trigger_id": "1.trigger",
    }
    for key in missing:
        form.pop(key, None)
    form.update(junk)
    reply = await inmemory_bot.slack.send(form)
    assert reply.status < 500, (form, reply.status, reply.body[:200])
    assert reply.elapsed < 3


# -- interaction payloads --------------------------------------------------------------------

_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
JSON_VALUE = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
_ANY = st.one_of(JSON_VALUE, st.just({}), st.just([]))


@st.composite
def _block_actions(draw: st.DrawFn) -> dict[str, Any]:
    """A block_actions payload with parts missing or of the wrong type."""
    action: dict[str, Any] = {
        "type": "button",
        "action_id": draw(st.sampled_from(ACTIONS)),
        "block_id": "b1",
        "value": draw(st.one_of(st.text(max_size=60), _ANY)),
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": draw(st.one_of(st.just({"id": draw(USERS)}), _ANY)),
        "api_app_id": "A0TEST",
        "container": draw(st.one_of(st.just({"type": "message"}), st.just({"type": "view"}), _ANY)),
        "trigger_id": "1.trigger",
        "response_url": draw(st.one_of(st.just("http://127.0.0.1:9/nowhere"), _ANY)),
        "actions": draw(st.one_of(st.just([action]), st.just([]), _ANY)),
    }
    for key in draw(st.sets(st.sampled_from(sorted(payload)))):
        del payload[key]
    return payload


@st.composite
def _view_submission(draw: st.DrawFn) -> dict[str, Any]:
    """The launch form's submission with its state missing, empty or nonsense."""
    view: dict[str, Any] = {
        "id": "V0FORM",
        "type": "modal",
        "callback_id": draw(st.sampled_from([blocks.LAUNCH_FORM, "other"])),
        "state": draw(
            st.one_of(
                st.just({"values": {}}),
                st.builds(lambda v: {"values": v}, JSON_VALUE),
                st.fixed_dictionaries(
                    {
                        "values": st.fixed_dictionaries(
                            {
                                block: st.fixed_dictionaries(
                                    {"value": st.one_of(st.fixed_dictionaries({"value": _ANY}), _ANY)}
                                )
                                for block in ("name", "profile", "cluster", "lifetime")
                            }
                        )
                    }
                ),
                _ANY,
            )
        ),
    }
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": draw(st.one_of(st.just({"id": draw(USERS)}), _ANY)),
        "view": view,
    }
    for key in draw(st.sets(st.sampled_from(["user", "view", "team"]))):
        del payload[key]
    for key in draw(st.sets(st.sampled_from(["state", "callback_id", "id"]))):
        del view[key]
    return payload


PAYLOAD_FIELD = st.one_of(
    st.text(max_size=200),  # mostly not JSON at all
    JSON_VALUE.map(json.dumps),  # JSON, but not an object, or an object of anything
    st.builds(
        lambda kind, rest: json.dumps({"type": kind, **rest}),
        st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "message_action", "x"]),
        st.dictionaries(st.text(max_size=10), JSON_VALUE, max_size=4),
    ),
    _block_actions().map(json.dumps),
    _view_submission().map(json.dumps),
)


@FUZZ
@given(payload=PAYLOAD_FIELD)
async def test_any_interaction_payload_is_answered_without_a_server_error(
    inmemory_bot: BotUnderTest, payload: str
) -> None:
    reply = await inmemory_bot.slack.send({"payload": payload})
    assert reply.status < 500, f"{reply.status} for payload={payload[:300]!r}: {reply.body[:300]}"
    assert reply.elapsed < 3


_FORM_VALUES = {"name": {"value": {"type": "plain_text_input", "value": "lab"}}}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"type": "block_actions", "user": {"id": STUDENT}, "actions": []}, id="actions-empty"),
        pytest.param({"type": "block_actions", "user": {"id": STUDENT}, "actions": {}}, id="actions-object"),
        pytest.param({"type": "block_actions", "user": {"id": STUDENT}, "actions": None}, id="actions-null"),
        pytest.param({"type": "block_actions", "user": {"id": STUDENT}, "actions": [{}]}, id="action-no-id"),
        pytest.param({"type": "view_submission", "user": {"id": STUDENT}, "view": None}, id="view-null"),
        pytest.param(
            {"type": "view_submission", "user": {"id": STUDENT}, "view": {"callback_id": blocks.LAUNCH_FORM}},
            id="form-without-state",
        ),
        pytest.param(
            {"type": "view_submission", "view": {"callback_id": blocks.LAUNCH_FORM, "state": {"values": _FORM_VALUES}}},
            id="form-without-user",
        ),
        pytest.param(
            {
                "type": "view_submission",
                "user": {"id": STUDENT},
                "view": {"callback_id": blocks.LAUNCH_FORM, "state": {"values": {"name": {"value": "lab"}}}},
            },
            id="form-field-not-an-object",
        ),
    ],
)
async def test_known_malformed_payloads_get_a_4xx(inmemory_bot: BotUnderTest, body: dict[str, Any]) -> None:
    reply = await inmemory_bot.slack.send({"payload": json.dumps(body)})
    assert 400 <= reply.status < 500, (reply.status, reply.body[:200])


async def test_the_bot_still_serves_after_the_fuzzing(
    inmemory_bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A burst of garbage, then a normal request: the garbage changed nothing."""
    bot = inmemory_bot
    with caplog.at_level(logging.WARNING):
        for payload in ("{not json", "[]", "null", '{"type": "block_actions"}', '{"type": "view_submission"}'):
            reply = await bot.slack.send({"payload": payload})
            assert reply.status < 500, (payload, reply.status, reply.body)
    help_reply = await bot.slack.slash_command(STUDENT, "help")
    assert_acked(help_reply)
    assert help_reply.text == usage()
    listed = await bot.slack.slash_command(STUDENT, "list")
    assert_acked(listed)
    assert "no active environments" in await bot.slack.private_answer(listed)
