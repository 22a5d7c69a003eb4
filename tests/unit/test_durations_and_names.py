from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.commands import parse_command
from bot.core.durations import DurationError, format_duration, parse_duration
from bot.core.errors import UsageError
from bot.core.names import namespace_for, release_for, validate_env_name
from bot.core.problems import InvalidDuration
from bot.slack.listeners.views import read_launch_form
from bot.slack.wording import describe


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("8h", 28800), ("3d", 259200), ("1w", 604800), ("1d12h", 129600), (" 2H ", 7200), ("90s", 90)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "h", "8", "3 days", "-1h", "0m", "1.5h", "8hh"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(hours=50), "2d 2h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(seconds=-5), "0s"),
        (timedelta(hours=8), "8h"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize("name", ["a", "my-hub", "x1", "a" * 30])
def test_valid_names(name: str) -> None:
    assert validate_env_name(name) is None


@pytest.mark.parametrize("name", ["", "1abc", "-a", "a-", "A", "a_b", "a.b", "a" * 31])
def test_invalid_names(name: str) -> None:
    assert validate_env_name(name)


@given(
    st.from_regex(r"[a-z]([-a-z0-9]{0,28}[a-z0-9])?", fullmatch=True),
    st.uuids(),
    st.from_regex(r"[a-z][-a-z0-9]{0,11}", fullmatch=True),
)
def test_namespaces_are_valid_dns_labels_and_releases_fit_helm(name: str, env_id: object, prefix: str) -> None:
    namespace = namespace_for(prefix, name, str(env_id).replace("-", ""))
    assert len(namespace) <= 63 and len(release_for(namespace)) <= 53
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace)
    assert namespace.startswith(prefix + name + "-")


def test_same_name_different_ids_never_collide() -> None:
    assert namespace_for("jh-", "hub", "aaaaaa00") != namespace_for("jh-", "hub", "bbbbbb00")


YEAR_AND_A_DAY = 366 * 86400


def test_durations_up_to_the_cap_are_accepted() -> None:
    assert parse_duration("366d") == timedelta(days=366)
    assert parse_duration("000000000000008h") == timedelta(hours=8)


@pytest.mark.parametrize("text", ["367d", "366d1s", "53w", "99999999999d", "1" + "0" * 5000 + "s", "9" * 40 + "w"])
def test_durations_over_the_cap_are_refused_with_the_limit(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert (caught.value.reason, caught.value.limit_seconds) == ("too_long", YEAR_AND_A_DAY)
    assert "366d" in str(caught.value)


@pytest.mark.parametrize(
    ("command", "where", "field", "text"),
    [
        ("launch big ttl=99999999999d", "ttl", "ttl", "99999999999d"),
        ("launch big lifetime=400d", "ttl", "ttl", "400d"),
        ("extend x 99999999999d", "extend", "duration", "99999999999d"),
    ],
)
def test_commands_refuse_huge_durations_and_say_the_limit(command: str, where: str, field: str, text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_command(command)
    assert caught.value.field == field
    assert caught.value.problem == InvalidDuration(where, text, "too_long", limit_seconds=YEAR_AND_A_DAY)
    assert "366d at most" in describe(caught.value.problem)


def test_the_launch_form_refuses_a_huge_lifetime_and_says_the_limit() -> None:
    request, errors = read_launch_form(
        {"name": {"value": {"value": "big"}}, "lifetime": {"value": {"value": "99999999999d"}}}
    )
    assert request is None
    assert errors == {"lifetime": InvalidDuration("lifetime", "99999999999d", "too_long", limit_seconds=YEAR_AND_A_DAY)}
