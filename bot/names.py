"""Kubernetes names for environments: always valid, never colliding.

An environment's name is chosen by its owner and is unique only among that
owner's active environments, so the namespace and release add a suffix taken
from the environment id. The result stays well inside the limits
(namespace 63 characters, Helm release 53).
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_ENV_NAME",
    "MAX_PREFIX",
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


def validate_env_name(name: str) -> str | None:
    """Return ``None`` when ``name`` is a usable environment name, else a reason."""
    if not name:
        return "a name is required"
    if len(name) > MAX_ENV_NAME:
        return f"'{name}' is too long; use at most {MAX_ENV_NAME} characters"
    if not _LABEL.fullmatch(name):
        return (
            f"'{name}' is not a valid name; use lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
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
