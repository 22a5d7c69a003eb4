"""Policy as data: who may do what, with which profiles, clusters, quotas and lifetimes."""

from bot.core.policy.decide import (
    Actor,
    ExtensionLimits,
    LaunchGrant,
    can,
    extension_limits,
    grant_launch,
    is_admin,
    launch_choices,
    referenced_groups,
)
from bot.core.policy.load import PolicyLoadError, load_policy
from bot.core.policy.model import ClusterSpec, Defaults, Policy, Profile, Role, Verb

__all__ = [
    "Actor",
    "ClusterSpec",
    "Defaults",
    "ExtensionLimits",
    "LaunchGrant",
    "Policy",
    "PolicyLoadError",
    "Profile",
    "Role",
    "Verb",
    "can",
    "extension_limits",
    "grant_launch",
    "is_admin",
    "launch_choices",
    "load_policy",
    "referenced_groups",
]
