"""Every message and view the bot renders, at its largest, is one Slack accepts.

Largest means: the longest names the core allows, policy names and descriptions of any
length, hundreds of environments, long audit histories, a 10,000-character Helm error,
arguments of thousands of characters, and text full of Slack's control characters
(``<``, ``>``, ``&`` are escaped, so they count four or five times). Each payload is
checked against Slack's documented limits (:mod:`bot.slack.limits`).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import notices as n
from bot.core import problems as p
from bot.core.environment import AuditEvent, Environment
from bot.core.names import MAX_ENV_NAME, NameProblem
from bot.core.states import ACTIVE_STATES, State
from bot.slack import limits
from bot.slack.blocks import TRIMMED
from bot.slack.render import FORM_MENU_OPTIONS, home_view, launch_form, problem, render

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
# Escaping turns each of these into &lt; &gt; &amp;: the worst case for a length limit.
_HOSTILE = "<!channel> <@U0BOSS> & *x* `y` >"


def hostile(length: int) -> str:
    return (_HOSTILE * (length // len(_HOSTILE) + 1))[:length]


HELM_ERROR = "Error: INSTALLATION FAILED: " + hostile(10_000) + " the real cause is at the end"
LONG_ARGUMENT = hostile(3_000)
# Policy names (profiles, clusters) have no length limit of their own.
POLICY_NAME = hostile(1_000)
OWNER = "W" + "9" * 20
URL = "https://" + "h" * 60 + "." + "d" * 180 + ".example/" + "n" * 63 + "/"


def environment(i: int = 0, state: State = State.READY, *, owner: str = OWNER, **changes: Any) -> Environment:
    name = f"e{i:05d}".ljust(MAX_ENV_NAME, "x")
    fields: dict[str, Any] = {
        "id": f"{i:032x}",
        "name": name,
        "owner_id": owner,
        "profile": POLICY_NAME,
        "cluster": POLICY_NAME,
        "namespace": ("jupyterhubs-" + name + "-abcdef")[:63],
        "release": "r",
        "state": state,
        "lifetime_seconds": 366 * 86_400,
        "created_at": NOW - timedelta(days=1, minutes=i),
        "updated_at": NOW,
        "ready_at": NOW - timedelta(hours=20),
        "expires_at": NOW + timedelta(days=300, minutes=i),
        "url": URL,
        "extensions": 10**6,
        "last_error": p.to_record(p.HelmFailed(HELM_ERROR)),
        "last_activity_at": NOW - timedelta(days=200),
    }
    fields.update(changes)
    return Environment(**fields)


def environments(count: int, *, owner: str = OWNER) -> list[Environment]:
    states = sorted(ACTIVE_STATES)
    return [environment(i, states[i % len(states)], owner=owner) for i in range(count)]


def events(count: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            "e",
            NOW - timedelta(minutes=i),
            actor=OWNER if i % 2 else hostile(500),
            action="hub-unreachable",
            from_state="ready",
            to_state="ready",
            detail=hostile(10_000),
        )
        for i in range(count)
    ]


# -- every problem, at its largest -------------------------------------------------------------

_ACTIONS_FOR = {"WrongState": [p.Action.EXPIRE, p.Action.DELETE, p.Action.EXTEND, p.Action.CREDS, p.Action.KEEP]}
_CHOICES = {
    "InvalidName": {"reason": [r.value for r in NameProblem]},
    "InvalidDuration": {"reason": ["format", "zero", "too_long"]},
    "AccountNotEligible": {"kind": ["guest", "external", "deactivated", "bot", hostile(5_000)]},
}


def _largest(hint: Any) -> Any:
    if hint is str:
        return hostile(10_000)
    if hint is int:
        return 10**9
    if hint is bool:
        return True
    if hint == tuple[str, ...]:
        return tuple(hostile(200) for _ in range(150))
    raise AssertionError(f"no largest value for {hint}")


def largest_problems() -> Iterator[p.Problem]:
    """Each problem class, with every field at its largest (and each allowed choice)."""
    classes = p._all_problem_classes().values()
    for cls in sorted(classes, key=lambda c: c.__name__):
        hints = typing.get_type_hints(cls)
        base: dict[str, Any] = {}
        varied: tuple[str, list[Any]] | None = None
        for field in dataclasses.fields(cls):
            hint = hints[field.name]
            if hint is p.Action:
                varied = (field.name, _ACTIONS_FOR.get(cls.__name__, list(p.Action)))
            elif field.name in _CHOICES.get(cls.__name__, {}):
                varied = (field.name, _CHOICES[cls.__name__][field.name])
            else:
                base[field.name] = _largest(hint)
        if varied is None:
            yield cls(**base)
        else:
            for value in varied[1]:
                yield cls(**base, **{varied[0]: value})


PROBLEMS = list(largest_problems())


def pools(count: int) -> list[n.PoolStatus]:
    """Warm pools at their largest: a policy allows names of 20 characters, but a front-end
    must not rely on that."""
    return [n.PoolStatus(hostile(200), hostile(200), hostile(200), 10**9, 10**9, 10**9, 10**9) for _ in range(count)]


def largest_notices() -> Iterator[n.Notice]:
    env = environment()
    pending = environment(1, State.PENDING_APPROVAL)
    done = tuple(n.DeployStep)
    yield n.LaunchAccepted(env)
    yield n.LaunchAccepted(pending)
    yield n.EnvironmentListing(environments(500), everyone=True, admin=True, now=NOW, pools=pools(150))
    yield n.EnvironmentListing([], everyone=True, admin=True, now=NOW, pools=pools(150))
    yield n.EnvironmentListing(environments(500), everyone=False, admin=False, now=NOW)
    yield n.StatusReport(env, events(50), NOW)
    yield n.CredentialsResent(env)
    yield n.Extended(env, NOW)
    yield n.DeleteConfirmation(env)
    yield n.Deleting(env)
    yield n.Expiring(env)
    yield n.Kept(env)
    yield n.OrphanRemoved(hostile(10_000))
    yield n.Help()
    for source in n.HubSource:
        yield n.DeployProgress(env, done, url=URL, source=source)
    yield n.Credentials(env, hostile(1_000), "p" * 43)
    yield n.CredentialsWithdrawn(env)
    yield n.ApprovalRequest(pending)
    yield n.ApprovalDecided(pending, approved=True, by=OWNER)
    yield n.ApprovalWithdrawn(pending)
    yield n.RequestDecided(pending, approved=False, by=OWNER)
    for reason in n.RemovalReason:
        yield n.Removed(env, n.Removal(reason, by=OWNER, idle_for=timedelta(days=366)))
    yield n.IdleWarning(env, timedelta(days=366), timedelta(days=366))
    yield n.ExpiryWarning(env, timedelta(days=366))
    yield n.HubUnreachable(env, 10**9, hostile(10_000))
    yield n.OrphanFound(POLICY_NAME, "n" * 63, "i" * 63)
    yield n.ClusterUnusable(POLICY_NAME, hostile(10_000))
    yield n.MissingRelease(env)
    for failure in PROBLEMS:
        yield n.PoolFailing(hostile(10_000), failure)
        yield n.DeployFailed(env, failure, cleaned_up=False)
        yield n.DeployProgress(env, done[:2], failure=failure)
        yield n.StatusReport(environment(2, State.FAILED, last_error=p.to_record(failure)), events(8), NOW)


NOTICES = list(largest_notices())


def _refused(payload: dict[str, Any], surface: limits.Surface = "message") -> list[str]:
    """What Slack would refuse, and whether a block had to cut its text to fit (the wording
    should never leave that to the blocks)."""
    cut = [f"{where} was cut to fit" for where, text in _texts(payload) if TRIMMED in text]
    return limits.violations(payload, surface) + cut


def _texts(payload: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            yield from _texts(value, f"{where}.{key}")
    elif isinstance(payload, list):
        for i, value in enumerate(payload):
            yield from _texts(value, f"{where}[{i}]")
    elif isinstance(payload, str):
        yield where, payload


def test_every_problem_and_notice_class_is_covered() -> None:
    assert {type(x).__name__ for x in PROBLEMS} == set(p._all_problem_classes())
    assert {type(x) for x in NOTICES} == set(n.Notice.__subclasses__())


@pytest.mark.parametrize("failure", PROBLEMS, ids=lambda x: type(x).__name__)
def test_every_problem_fits_a_message(failure: p.Problem) -> None:
    assert _refused(problem(failure)) == []


@pytest.mark.parametrize("notice", NOTICES, ids=lambda x: type(x).__name__)
def test_every_notice_fits_a_message(notice: n.Notice) -> None:
    assert _refused(render(notice)) == []


def test_a_long_helm_error_keeps_its_head_and_tail() -> None:
    message = render(n.DeployFailed(environment(), p.HelmFailed(HELM_ERROR), cleaned_up=True))
    text = message["blocks"][0]["text"]["text"]
    assert "INSTALLATION FAILED" in text and "the real cause is at the end" in text
    assert "could not be deployed" in text and "no longer counts toward your quota" in text


def test_outside_text_cannot_mention_anyone() -> None:
    for notice in (n.HubUnreachable(environment(), 3, hostile(10_000)), n.StatusReport(environment(), events(8), NOW)):
        blob = json.dumps(render(notice))
        assert "<!channel>" not in blob and "<@U0BOSS>" not in blob


def test_list_all_of_many_environments_fits_a_message() -> None:
    for count in (49, 69, 200, 500):
        listing = n.EnvironmentListing(environments(count), everyone=True, admin=True, now=NOW)
        message = render(listing)
        assert _refused(message) == [], count
        assert f"{count} active" in message["text"]


def test_the_app_home_of_an_admin_with_many_environments_fits_a_view() -> None:
    for count in (50, 69, 200, 500):
        envs = [environment(i) for i in range(count)]
        view = home_view(envs, everyone=True, admin=True, viewer=OWNER, now=NOW, pools=pools(150))
        assert _refused(view, "home") == [], count


def test_the_app_home_of_an_owner_with_many_environments_fits_a_view() -> None:
    view = home_view(environments(500), everyone=False, admin=False, viewer=OWNER, now=NOW)
    assert _refused(view, "home") == []


def test_the_launch_form_of_the_biggest_policy_fits_a_modal() -> None:
    profiles = [(f"p{i}-" + hostile(200), hostile(200)) for i in range(150)]
    clusters = [f"c{i}-" + hostile(200) for i in range(150)]
    form = launch_form(
        profiles=profiles,
        clusters=clusters,
        lifetimes=[timedelta(hours=1), timedelta(days=7)],
        default_lifetime=timedelta(hours=8),
    )
    assert _refused(form, "modal") == []


def test_a_status_with_eight_html_error_events_fits_a_message() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>" * 4
    history = [
        AuditEvent("e", NOW - timedelta(minutes=i), actor="sweep", action="hub-unreachable", detail=page)
        for i in range(8)
    ]
    env = environment(profile="small", cluster="dev")
    assert _refused(render(n.StatusReport(env, history, NOW))) == []


def test_refusing_a_profile_to_a_role_with_150_profiles_fits_a_message() -> None:
    allowed = tuple(f"profile-number-{i:03d}-with-gpu" for i in range(150))
    message = problem(p.UnknownChoice("profile", "nope", allowed))
    assert _refused(message) == []
    assert "profile-number-000-with-gpu" in message["text"]


def test_a_policy_of_10000_profiles_still_gives_a_form_within_a_views_size() -> None:
    profiles = [(f"p{i}-" + "<" * 300, "&" * 300) for i in range(10_000)]
    form = launch_form(
        profiles=profiles,
        clusters=[f"c{i}" for i in range(10_000)],
        lifetimes=[timedelta(hours=1)],
        default_lifetime=timedelta(hours=1),
    )
    assert limits.violations(form, "modal") == []
    menu = form["blocks"][1]["element"]
    assert sum(len(group["options"]) for group in menu["option_groups"]) == FORM_MENU_OPTIONS
    assert menu["option_groups"][1]["label"]["text"] == "Profile 101-200"
