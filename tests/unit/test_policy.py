from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.core import problems
from bot.core.errors import LifetimeTooLong, NotAllowed, UsageError
from bot.core.policy import (
    Actor,
    Defaults,
    Policy,
    Role,
    can,
    extension_limits,
    grant_launch,
    is_admin,
    launch_choices,
    load_policy,
)
from bot.core.policy import load as policy_load
from bot.core.policy.load import PolicyLoadError
from bot.slack.wording import describe

REPO = Path(__file__).resolve().parents[2]
CONTRACT_POLICIES = REPO / "tests" / "contract" / "policies"


@pytest.fixture(scope="module")
def policy():  # type: ignore[no-untyped-def]
    return load_policy(CONTRACT_POLICIES)


STUDENT = Actor("U1", frozenset({"S0STUDENTS"}))
RESEARCHER = Actor("U2", frozenset({"S0RESEARCH"}))
BOTH = Actor("U3", frozenset({"S0STUDENTS", "S0RESEARCH"}))
ADMIN = Actor("U4", frozenset({"S0ADMINS"}))
NOBODY = Actor("U5")


def test_shipped_example_policy_is_valid() -> None:
    """Valid, matching nobody until an operator names people, saying so, and still an
    example of every feature."""
    loaded = policy_load.read_policy(REPO / "policies")
    policy = loaded.policy
    assert policy.roles and policy.profiles and policy.clusters
    assert [role.members for role in policy.roles.values()] == [[] for _ in policy.roles]
    assert [str(w) for w in loaded.warnings] == [
        f"{REPO / 'policies' / 'default.yaml'}: roles: warning: no role has a member, so nobody can use the bot yet; "
        "name Slack users (user:U… or user:W…) or user groups (group:S…) in a role's members"
    ]
    roles = list(policy.roles.values())
    assert any(role.approval == "required" for role in roles) and any("approve" in role.allow for role in roles)
    assert any(role.guests for role in roles)
    assert any(role.max_environments > 1 for role in roles)
    assert all(role.max_lifetime for role in roles if "launch" in role.allow)
    assert "max_lifetime" in policy.defaults.model_fields_set
    assert policy.defaults.access_help != Defaults().access_help


def test_shipped_policy_refuses_everyone_politely() -> None:
    policy = load_policy(REPO / "policies")
    for actor in (Actor("U0ANYONE"), Actor("W0GRID"), Actor("U0GUEST", guest=True), Actor("U1", frozenset({"S0X"}))):
        assert not any(can(policy, actor, verb) for verb in ("launch", "list", "approve", "expire", "list-all"))
        with pytest.raises(NotAllowed) as refused:
            grant_launch(policy, actor, profile=None, cluster=None, lifetime=None)
        assert "#platform-help" in describe(refused.value.problem)


def test_shipped_policy_member_examples_are_valid_members() -> None:
    """The commented `# members: [...]` lines work once uncommented."""
    text = (REPO / "policies" / "default.yaml").read_text()
    examples = re.findall(r"^\s*# members: (\[.*\])$", text, flags=re.MULTILINE)
    assert len(examples) == 3
    for example in examples:
        Role(members=yaml.safe_load(example), allow=["list"])
    assert not re.search(r"^\s*members: .*\*", text, flags=re.MULTILINE)


def test_deny_by_default(policy) -> None:  # type: ignore[no-untyped-def]
    assert not any(can(policy, NOBODY, verb) for verb in ("launch", "list", "approve", "expire"))
    with pytest.raises(NotAllowed) as refused:
        grant_launch(policy, NOBODY, profile=None, cluster=None, lifetime=None)
    assert refused.value.problem == problems.NotAllowed(problems.Action.LAUNCH, help=policy.defaults.access_help)
    assert "not allowed to launch" in describe(refused.value.problem)


def test_defaults_and_caps(policy) -> None:  # type: ignore[no-untyped-def]
    grant = grant_launch(policy, STUDENT, profile=None, cluster=None, lifetime=None)
    assert (grant.profile, grant.cluster, grant.lifetime, grant.max_environments) == (
        "small",
        "dev",
        timedelta(hours=8),
        1,
    )
    assert not grant.approval_required
    with pytest.raises(LifetimeTooLong) as caught:
        grant_launch(policy, STUDENT, profile=None, cluster=None, lifetime=timedelta(days=2))
    assert caught.value.field == "lifetime"
    assert caught.value.problem == problems.LifetimeTooLong(2 * 86400, 86400, "small", "dev")
    assert "at most 1d" in describe(caught.value.problem)


def test_profile_refusals_name_the_field(policy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed) as not_yours:
        grant_launch(policy, STUDENT, profile="large", cluster=None, lifetime=None)
    assert not_yours.value.field == "profile"
    with pytest.raises(UsageError) as unknown:
        grant_launch(policy, STUDENT, profile="gpu", cluster=None, lifetime=None)
    assert "no profile called `gpu`" in describe(unknown.value.problem)


def test_most_generous_matching_role_wins(policy) -> None:  # type: ignore[no-untyped-def]
    small = grant_launch(policy, BOTH, profile="small", cluster=None, lifetime=None)
    assert not small.approval_required and small.max_environments == 2
    large = grant_launch(policy, BOTH, profile="large", cluster=None, lifetime=timedelta(days=5))
    assert large.approval_required


def test_admin_rights(policy) -> None:  # type: ignore[no-untyped-def]
    assert is_admin(policy, ADMIN) and not is_admin(policy, RESEARCHER)
    assert can(policy, ADMIN, "approve") and not can(policy, ADMIN, "launch")
    assert launch_choices(policy, ADMIN) == ([], [])
    assert launch_choices(policy, RESEARCHER) == (["small", "large"], ["dev"])


def test_extension_limits(policy) -> None:  # type: ignore[no-untyped-def]
    limits = extension_limits(policy, STUDENT, "small", "dev")
    assert limits.max_lifetime == timedelta(days=1) and limits.max_extensions == 2
    assert extension_limits(policy, NOBODY, "small", "dev").max_extensions == 0


def _write(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)


def test_load_errors_name_file_path_and_problem(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.yaml",
        "roles:\n  r:\n    members: [alice]\n    allow: [launch]\n    profiles: [p]\n"
        "    clusters: [c]\n    max_lifetime: soon\n",
    )
    _write(tmp_path, "b.yaml", "profiles:\n  p: {image: 'x:1', cpu: lots, memory: 1Gi}\n")
    _write(tmp_path, "c.yaml", "clusters: [not, a, mapping]\n")
    _write(tmp_path, "d.yaml", "roles: {\n")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(tmp_path)
    lines = [str(p) for p in caught.value.problems]
    assert any(line.startswith(f"{tmp_path / 'a.yaml'}: roles.r.members:") and "'alice'" in line for line in lines)
    assert any("roles.r.max_lifetime: 'soon' is not a duration" in line for line in lines)
    assert any(line.startswith(f"{tmp_path / 'b.yaml'}: profiles.p.cpu:") for line in lines)
    assert any(line.startswith(f"{tmp_path / 'c.yaml'}: clusters:") for line in lines)
    assert any(line.startswith(f"{tmp_path / 'd.yaml'}: line ") and "not valid YAML" in line for line in lines)


def test_cross_references_and_duplicates(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.yaml",
        "roles:\n  r:\n    members: ['*']\n    allow: [launch]\n    profiles: [ghost]\n"
        "    clusters: [dev]\nclusters:\n  dev: {}\n",
    )
    _write(tmp_path, "b.yaml", "clusters:\n  dev: {}\n")
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(tmp_path)
    lines = [str(p) for p in caught.value.problems]
    assert f"{tmp_path / 'b.yaml'}: clusters.dev: already defined in {tmp_path / 'a.yaml'}" in lines


def test_unknown_profile_reference(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "a.yaml",
        "roles:\n  r:\n    members: ['*']\n    allow: [launch]\n    profiles: [ghost]\n"
        "    clusters: [dev]\nclusters:\n  dev: {}\n",
    )
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'a.yaml'}: roles.r.profiles: unknown profile 'ghost'"
    ]


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match="no policy files"):
        load_policy(tmp_path)


def test_enterprise_grid_user_ids_are_members() -> None:
    role = Role(members=["user:W07ALICE01", "user:U0BOB", "group:S0TEAM"], allow=["list"])
    policy = Policy(roles={"team": role})
    assert can(policy, Actor("W07ALICE01"), "list")
    assert can(policy, Actor("U0BOB"), "list")
    assert can(policy, Actor("W0CAROL", frozenset({"S0TEAM"})), "list")
    assert not can(policy, Actor("W0DAN"), "list")


@pytest.mark.parametrize("member", ["user:alice", "user:S0TEAM", "group:U0BOB", "group:W0BOB", "U0BOB", "user:w07x"])
def test_other_member_shapes_are_refused_naming_every_accepted_form(member: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Role(members=[member], allow=["list"])
    message = caught.value.errors()[0]["msg"]
    assert f"'{member}' is not a member" in message
    assert all(form in message for form in ("user:U…", "user:W…", "group:S…", "'*'"))


def _guest_policy() -> Policy:
    return Policy(
        roles={
            "everyone": Role(members=["*"], allow=["list"]),
            "named": Role(members=["user:U0GUEST"], allow=["creds"]),
            "course": Role(members=["group:S0COURSE"], allow=["status"], guests=True),
        }
    )


def test_a_guest_matches_only_roles_that_admit_guests() -> None:
    guest = Actor("U0GUEST", frozenset({"S0COURSE"}), guest=True)
    policy = _guest_policy()
    assert can(policy, guest, "status")
    # Neither "*" nor naming the guest's own ID admits a guest: only `guests: true` does.
    assert not can(policy, guest, "list")
    assert not can(policy, guest, "creds")


def test_a_full_member_matches_every_role_they_are_in() -> None:
    member = Actor("U0GUEST", frozenset({"S0COURSE"}))
    assert all(can(_guest_policy(), member, verb) for verb in ("list", "creds", "status"))


def test_guests_are_refused_a_launch_unless_their_role_admits_guests(policy) -> None:  # type: ignore[no-untyped-def]
    guest_student = Actor("U1", frozenset({"S0STUDENTS"}), guest=True)
    with pytest.raises(NotAllowed):
        grant_launch(policy, guest_student, profile=None, cluster=None, lifetime=None)
    students = policy.roles["students"].model_copy(update={"guests": True})
    admitting = policy.model_copy(update={"roles": {**policy.roles, "students": students}})
    assert grant_launch(admitting, guest_student, profile=None, cluster=None, lifetime=None).profile == "small"


def test_roles_do_not_admit_guests_unless_they_say_so() -> None:
    assert Role(members=["*"], allow=["list"]).guests is False
    assert Actor("U1").guest is False


def test_a_role_without_max_lifetime_is_capped_by_the_default_cap(policy) -> None:  # type: ignore[no-untyped-def]
    """The researchers role sets no max_lifetime: defaults.max_lifetime (7d unless set) applies."""
    assert policy.roles["researchers"].max_lifetime is None
    assert policy.defaults.max_lifetime == timedelta(days=7)
    with pytest.raises(LifetimeTooLong) as caught:
        grant_launch(policy, RESEARCHER, profile=None, cluster=None, lifetime=timedelta(days=999_999))
    assert caught.value.problem == problems.LifetimeTooLong(999_999 * 86400, 7 * 86400, "small", "dev")
    assert extension_limits(policy, RESEARCHER, "small", "dev").max_lifetime == timedelta(days=7)


def _capped(defaults: dict[str, str], **role: str) -> Policy:
    launcher = Role(members=["user:U1"], allow=["launch", "extend"], profiles=["p"], clusters=["c"], **role)
    return Policy.model_validate(
        {
            "roles": {"r": launcher.model_dump(exclude_unset=True)},
            "profiles": {"p": {"image": "quay.io/jupyter/minimal-notebook:2025-06-30", "cpu": "1", "memory": "1Gi"}},
            "clusters": {"c": {}},
            "defaults": defaults,
        }
    )


def test_defaults_max_lifetime_applies_only_where_a_role_sets_none() -> None:
    actor = Actor("U1")
    assert extension_limits(_capped({"max_lifetime": "2d"}), actor, "p", "c").max_lifetime == timedelta(days=2)
    own = _capped({"max_lifetime": "2d"}, max_lifetime="30d")
    assert extension_limits(own, actor, "p", "c").max_lifetime == timedelta(days=30)
    assert grant_launch(own, actor, profile=None, cluster=None, lifetime=timedelta(days=20)).lifetime == timedelta(
        days=20
    )
    # A default lifetime longer than the cap is cut to the cap.
    short = _capped({"lifetime": "3d", "max_lifetime": "1d"})
    assert grant_launch(short, actor, profile=None, cluster=None, lifetime=None).lifetime == timedelta(days=1)


def test_a_lifetime_near_the_cap_plus_an_extension_does_not_overflow(policy) -> None:  # type: ignore[no-untyped-def]
    """Once a role without max_lifetime let any ttl through, and the expiry after the deploy
    overflowed (year 10000). Now the largest grant plus the largest extension stays a date,
    and the extension is refused by the cap."""
    with pytest.raises(LifetimeTooLong):
        grant_launch(policy, RESEARCHER, profile=None, cluster=None, lifetime=timedelta(days=3_000_000))
    at_cap = _capped({"extend_by": "366d", "lifetime": "366d"}, max_lifetime="366d")
    actor = Actor("U1")
    grant = grant_launch(at_cap, actor, profile=None, cluster=None, lifetime=timedelta(days=366))
    ready = datetime(9000, 1, 1, tzinfo=UTC)
    extended = ready + grant.lifetime + at_cap.defaults.extend_by
    assert extended - ready > extension_limits(at_cap, actor, "p", "c").max_lifetime == timedelta(days=366)
