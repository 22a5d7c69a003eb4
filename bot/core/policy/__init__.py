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
from bot.core.policy.load import load_policy, read_policy
from bot.core.policy.model import ClusterSpec, Defaults, Policy, Profile, Role, Verb
from bot.core.policy.report import LoadedPolicy, PolicyLoadError, PolicyProblem

__all__ = [
    "Actor",
    "ClusterSpec",
    "Defaults",
    "ExtensionLimits",
    "LaunchGrant",
    "LoadedPolicy",
    "Policy",
    "PolicyLoadError",
    "PolicyProblem",
    "Profile",
    "Role",
    "Verb",
    "can",
    "extension_limits",
    "grant_launch",
    "is_admin",
    "launch_choices",
    "load_policy",
    "read_policy",
    "referenced_groups",
]
