"""Kubernetes names for environments: always valid, never colliding.

An environment's name is chosen by its owner and is unique only among that
owner's active environments, so the namespace and release add a suffix taken
from the environment id. The result stays well inside the limits
(namespace 63 characters, Helm release 53).
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "MAX_ENV_NAME",
    "MAX_PREFIX",
    "NameProblem",
    "namespace_for",
    "release_for",
    "validate_env_name",
    "validate_prefix",
]

MAX_ENV_NAME = 30
MAX_PREFIX = 12
_SUFFIX_LEN = 6
_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_PREFIX = re.compile(r"[a-z][-a-z0-9]*")


class NameProblem(StrEnum):
    MISSING = "missing"
    TOO_LONG = "too_long"
    INVALID = "invalid"


def validate_env_name(name: str) -> NameProblem | None:
    """Return ``None`` when ``name`` is a usable environment name, else what is wrong with it."""
    if not name:
        return NameProblem.MISSING
    if len(name) > MAX_ENV_NAME:
        return NameProblem.TOO_LONG
    if not _LABEL.fullmatch(name):
        return NameProblem.INVALID
    return None


def validate_prefix(prefix: str) -> str | None:
    if len(prefix) > MAX_PREFIX or not _PREFIX.fullmatch(prefix):
        return (
            f"namespace prefix '{prefix}' must be at most {MAX_PREFIX} characters of "
            "lowercase letters, digits and '-', starting with a letter"
        )
    return None


def namespace_for(prefix: str, name: str, environment_id: str) -> str:
    """``<prefix><name>-<6 hex of the id>``: at most 12 + 30 + 7 = 49 characters."""
    suffix = environment_id.replace("-", "")[:_SUFFIX_LEN].lower()
    return f"{prefix}{name}-{suffix}"


def release_for(namespace: str) -> str:
    """One release per namespace; it carries the namespace's name so either finds the other."""
    return namespace
