from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import Creds, Delete, Extend, Help, Launch, ListEnvironments, Status, parse_command
from bot.core.errors import UsageError
from bot.slack.wording import describe


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("launch", Launch()),
        ("launch my-hub", Launch(name="my-hub")),
        (
            "launch my-hub profile=medium cluster=dev ttl=1d12h",
            Launch(name="my-hub", profile="medium", cluster="dev", lifetime=timedelta(hours=36)),
        ),
        ("LAUNCH hub lifetime=30m", Launch(name="hub", lifetime=timedelta(minutes=30))),
        ("list", ListEnvironments()),
        ("list all", ListEnvironments(all=True)),
        ("list 3", ListEnvironments(page=3)),
        ("list all 12", ListEnvironments(all=True, page=12)),
        ("status hub", Status("hub")),
        ("creds hub", Creds("hub")),
        ("credentials hub", Creds("hub")),
        ("extend hub", Extend("hub")),
        ("extend hub 2h", Extend("hub", timedelta(hours=2))),
        ("delete hub", Delete("hub")),
    ],
)
def test_parses(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_bare_launch_opens_the_form() -> None:
    assert Launch().wants_form and not Launch(name="x").wants_form


@pytest.mark.parametrize(
    ("text", "message", "field"),
    [
        ("destroy everything", "I don't know the command `destroy`", None),
        ("launch profile=small", "needs a name before its options", None),
        ("launch -bad", "not a valid name", "name"),
        ("launch " + "a" * 31, "too long", "name"),
        ("launch x profile=", "`profile=` needs a value", "profile"),
        ("launch x profile=a profile=b", "given twice", "profile"),
        ("launch x ttl=0h", "is zero", "ttl"),
        ("list everyone", "takes nothing, or `all`", None),
        ("list 0", "takes nothing, or `all`", None),
        ("list 2 all", "takes nothing, or `all`", None),
        ("list all all", "takes nothing, or `all`", None),
        ("list ²", "takes nothing, or `all`", None),
        ("list " + "9" * 5_000, "takes nothing, or `all`", None),
        ("extend", "takes a name and an optional duration", None),
        ("extend x soon", "is not a duration", "duration"),
        ("delete a b", "exactly one environment name", None),
    ],
)
def test_usage_errors_are_specific(text: str, message: str, field: str | None) -> None:
    with pytest.raises(UsageError) as caught:
        parse_command(text)
    assert message in describe(caught.value.problem)
    assert caught.value.field == field


@given(st.text(max_size=200))
def test_any_text_parses_or_gets_a_usage_message(text: str) -> None:
    try:
        parse_command(text)
    except UsageError as exc:
        assert describe(exc.problem).strip()
