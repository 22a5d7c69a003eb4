"""What the schema alone cannot see: references between sections, and settings that are valid
one by one but cannot work together. Errors stop the bot; warnings are likely mistakes."""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

from bot.core.durations import format_duration
from bot.core.policy.model import Policy
from bot.core.policy.report import Severity

__all__ = ["Finding", "KnownContexts", "check"]


class Finding(NamedTuple):
    severity: Severity
    path: str
    message: str


class KnownContexts(NamedTuple):
    """The context names of a kubeconfig, and where they were read (for the message)."""

    names: frozenset[str]
    source: str


# The longest profile or cluster name an environment's record can hold.
MAX_NAME = 64


def check(policy: Policy, contexts: KnownContexts | None = None) -> list[Finding]:
    return [*_names(policy), *_references(policy), *_roles(policy), *_clusters(policy, contexts), *_pools(policy)]


def _names(policy: Policy) -> list[Finding]:
    return [
        _error(f"{section}.{name}", f"is {len(name)} characters long; a name may have at most {MAX_NAME}")
        for section, names in (("profiles", policy.profiles), ("clusters", policy.clusters))
        for name in names
        if len(name) > MAX_NAME
    ]


# A pool's name goes into its hubs' names, which go into namespace names.
MAX_POOL_NAME = 20
_POOL_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")


def _pools(policy: Policy) -> list[Finding]:
    found: list[Finding] = []
    asked: dict[str, list[tuple[str, int]]] = {}
    serving: dict[tuple[str, str], str] = {}
    for name, pool in policy.pools.items():
        path = f"pools.{name}"
        if len(name) > MAX_POOL_NAME or not _POOL_NAME.fullmatch(name):
            found.append(
                _error(
                    path, f"a pool name has at most {MAX_POOL_NAME} lowercase letters, digits and '-', from a letter"
                )
            )
        if pool.profile not in policy.profiles:
            found.append(_error(f"{path}.profile", f"unknown profile '{pool.profile}'"))
        if pool.cluster not in policy.clusters:
            found.append(_error(f"{path}.cluster", f"unknown cluster '{pool.cluster}'"))
            continue
        other = serving.setdefault((pool.profile, pool.cluster), name)
        if other != name:
            found.append(
                _error(
                    path,
                    f"pool '{other}' already keeps hubs of profile '{pool.profile}' on '{pool.cluster}'; "
                    "a launch takes from one pool, so merge them (a schedule gives one pool several sizes)",
                )
            )
        asked.setdefault(pool.cluster, []).append((name, pool.largest))
    for cluster, pools in asked.items():
        limit = policy.clusters[cluster].pool_limit
        total = sum(size for _, size in pools)
        if total > limit:
            each = ", ".join(f"{name}: {size}" for name, size in pools)
            found.append(
                _error(
                    f"clusters.{cluster}.pool_limit",
                    f"its pools may keep {total} hubs ready at once ({each}), more than its pool_limit of {limit}; "
                    "raise pool_limit (what the cluster can spare) or shrink the pools",
                )
            )
    return found


def _error(path: str, message: str) -> Finding:
    return Finding("error", path, message)


def _warning(path: str, message: str) -> Finding:
    return Finding("warning", path, message)


def _references(policy: Policy) -> list[Finding]:
    found: list[Finding] = []
    for name, role in policy.roles.items():
        found += [
            _error(f"roles.{name}.profiles", f"unknown profile '{p}'")
            for p in role.profiles
            if p not in policy.profiles
        ]
        found += [
            _error(f"roles.{name}.clusters", f"unknown cluster '{c}'")
            for c in role.clusters
            if c not in policy.clusters
        ]
    defaults = policy.defaults
    if defaults.profile and defaults.profile not in policy.profiles:
        found.append(_error("defaults.profile", f"unknown profile '{defaults.profile}'"))
    if defaults.cluster and defaults.cluster not in policy.clusters:
        found.append(_error("defaults.cluster", f"unknown cluster '{defaults.cluster}'"))
    return found


def _roles(policy: Policy) -> list[Finding]:
    found: list[Finding] = []
    approvers = [name for name, role in policy.roles.items() if "approve" in role.allow]
    cap_is_implicit = "max_lifetime" not in policy.defaults.model_fields_set
    anyone = any(role.members for role in policy.roles.values())
    for name, role in policy.roles.items():
        if not role.members and anyone:
            found.append(
                _warning(
                    f"roles.{name}.members",
                    "is empty, so nobody has this role; add Slack IDs (user:U…, user:W…, group:S…)",
                )
            )
        if "launch" not in role.allow:
            continue
        if not role.profiles or not role.clusters:
            found.append(_error(f"roles.{name}", "a role that allows 'launch' needs profiles and clusters"))
        if role.max_environments == 0:
            found.append(
                _error(
                    f"roles.{name}.max_environments",
                    "is 0, so every launch this role allows would be refused; "
                    "to stop its members launching, take 'launch' out of allow",
                )
            )
        if role.approval == "required" and not approvers:
            found.append(
                _error(
                    f"roles.{name}.approval",
                    "is 'required', but no role may 'approve', so requests would wait forever; "
                    "give a role 'approve' (and 'deny'), or set approval: none",
                )
            )
        if role.max_lifetime is None and cap_is_implicit:
            cap = format_duration(policy.defaults.max_lifetime)
            found.append(
                _warning(
                    f"roles.{name}",
                    f"allows 'launch' but sets no max_lifetime, so the built-in cap of {cap} applies; "
                    "set max_lifetime here, or defaults.max_lifetime",
                )
            )
    if not anyone:
        found.append(
            _warning(
                "roles",
                "no role has a member, so nobody can use the bot yet; "
                "name Slack users (user:U… or user:W…) or user groups (group:S…) in a role's members",
            )
        )
    return found


def _clusters(policy: Policy, contexts: KnownContexts | None) -> list[Finding]:
    found: list[Finding] = []
    first_without_context: str | None = None
    for name, cluster in policy.clusters.items():
        path = f"clusters.{name}"
        if cluster.tls and not cluster.base_domain:
            found.append(
                _error(
                    f"{path}.tls",
                    "needs a base_domain: TLS is served by the Ingress, and hubs get an Ingress only with one",
                )
            )
        if cluster.service_type == "ClusterIP" and not cluster.base_domain:
            found.append(
                _error(
                    f"{path}.service_type",
                    "ClusterIP without a base_domain gives each hub an in-cluster address (….svc) that no browser "
                    "can open; use NodePort or LoadBalancer, or set a base_domain for an Ingress",
                )
            )
        if cluster.context is None:
            if first_without_context is None:
                first_without_context = name
            else:
                found.append(
                    _error(
                        f"{path}.context",
                        f"is not set, nor is clusters.{first_without_context}.context: both would be the "
                        "kubeconfig's current context (or the cluster the bot runs in); give each cluster its context",
                    )
                )
        elif contexts is not None and cluster.context not in contexts.names:
            known = sorted(contexts.names)
            close = difflib.get_close_matches(cluster.context, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "") if known else "none"
            found.append(
                _warning(
                    f"{path}.context",
                    f"'{cluster.context}' is not a context in the kubeconfig ({contexts.source}), so launches on "
                    f"this cluster would fail; {hint}its contexts: {listed}",
                )
            )
    return found
