"""Pure policy decisions. Deny by default: no matching role, no right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.core import problems
from bot.core.errors import LifetimeTooLong, NotAllowed, UsageError
from bot.core.policy.model import Policy, Role, Verb

__all__ = [
    "Actor",
    "ExtensionLimits",
    "LaunchGrant",
    "can",
    "extension_limits",
    "grant_launch",
    "is_admin",
    "launch_choices",
    "referenced_groups",
    "roles_of",
]


@dataclass(frozen=True)
class Actor:
    """Who clicked or typed: a Slack user ID, the user groups they belong to, and whether
    Slack calls them a guest (a restricted or ultra-restricted account)."""

    user_id: str
    groups: frozenset[str] = frozenset()
    guest: bool = False


@dataclass(frozen=True)
class LaunchGrant:
    profile: str
    cluster: str
    lifetime: timedelta
    max_environments: int
    approval_required: bool


@dataclass(frozen=True)
class ExtensionLimits:
    max_lifetime: timedelta
    max_extensions: int


def _is_member(role: Role, actor: Actor) -> bool:
    if actor.guest and not role.guests:
        return False
    for member in role.members:
        if member == "*" or member == f"user:{actor.user_id}":
            return True
        if member.startswith("group:") and member[6:] in actor.groups:
            return True
    return False


def roles_of(policy: Policy, actor: Actor) -> list[Role]:
    return [role for role in policy.roles.values() if _is_member(role, actor)]


def can(policy: Policy, actor: Actor, verb: Verb) -> bool:
    return any(verb in role.allow for role in roles_of(policy, actor))


def is_admin(policy: Policy, actor: Actor) -> bool:
    """Admins may act on anyone's environment; the right to expire is what makes one."""
    return can(policy, actor, "expire")


def referenced_groups(policy: Policy) -> frozenset[str]:
    return frozenset(
        member[6:] for role in policy.roles.values() for member in role.members if member.startswith("group:")
    )


def _pick(
    kind: str,
    requested: str | None,
    default: str | None,
    catalogue: set[str],
    allowed: list[str],
) -> str:
    if requested is not None:
        if requested not in catalogue:
            raise UsageError(problems.UnknownChoice(kind, requested, tuple(allowed)), field=kind)
        if requested not in allowed:
            raise NotAllowed(problems.ChoiceNotAllowed(kind, requested, tuple(allowed)), field=kind)
        return requested
    if default is not None and default in allowed:
        return default
    return allowed[0]


def grant_launch(
    policy: Policy,
    actor: Actor,
    *,
    profile: str | None,
    cluster: str | None,
    lifetime: timedelta | None,
) -> LaunchGrant:
    """Decide a launch request. Raises a :class:`BotError` subclass that explains a refusal."""
    launchers = [role for role in roles_of(policy, actor) if "launch" in role.allow]
    if not launchers:
        raise NotAllowed(problems.NotAllowed(problems.Action.LAUNCH, help=policy.defaults.access_help))
    allowed_profiles = list(dict.fromkeys(p for role in launchers for p in role.profiles))
    chosen_profile = _pick("profile", profile, policy.defaults.profile, set(policy.profiles), allowed_profiles)
    with_profile = [role for role in launchers if chosen_profile in role.profiles]
    allowed_clusters = list(dict.fromkeys(c for role in with_profile for c in role.clusters))
    chosen_cluster = _pick("cluster", cluster, policy.defaults.cluster, set(policy.clusters), allowed_clusters)
    matching = [role for role in with_profile if chosen_cluster in role.clusters]

    cap = max(policy.max_lifetime_of(role) for role in matching)
    if lifetime is None:
        lifetime = min(policy.defaults.lifetime, cap)
    elif lifetime > cap:
        raise LifetimeTooLong(
            problems.LifetimeTooLong(
                int(lifetime.total_seconds()), int(cap.total_seconds()), chosen_profile, chosen_cluster
            ),
            field="lifetime",
        )
    return LaunchGrant(
        profile=chosen_profile,
        cluster=chosen_cluster,
        lifetime=lifetime,
        max_environments=max(role.max_environments for role in matching),
        approval_required=all(role.approval == "required" for role in matching),
    )


def launch_choices(policy: Policy, actor: Actor) -> tuple[list[str], list[str]]:
    """Profiles and clusters this actor may launch with, defaults first."""
    launchers = [role for role in roles_of(policy, actor) if "launch" in role.allow]
    profiles = list(dict.fromkeys(p for role in launchers for p in role.profiles))
    clusters = list(dict.fromkeys(c for role in launchers for c in role.clusters))
    for values, default in ((profiles, policy.defaults.profile), (clusters, policy.defaults.cluster)):
        if default in values:
            values.remove(default)
            values.insert(0, default)
    return profiles, clusters


def extension_limits(policy: Policy, actor: Actor, profile: str, cluster: str) -> ExtensionLimits:
    """The caps that apply when ``actor`` extends their own environment."""
    matching = [
        role
        for role in roles_of(policy, actor)
        if "extend" in role.allow and profile in role.profiles and cluster in role.clusters
    ]
    if not matching:
        return ExtensionLimits(max_lifetime=timedelta(0), max_extensions=0)
    return ExtensionLimits(
        max_lifetime=max(policy.max_lifetime_of(role) for role in matching),
        max_extensions=max(role.max_extensions for role in matching),
    )
