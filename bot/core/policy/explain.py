"""Pydantic's validation errors, told in the policy's own terms: which keys exist, which one
was probably meant, what to write instead. No internal class name reaches the operator."""

from __future__ import annotations

import difflib
from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from bot.core.policy.model import ClusterSpec, Defaults, Policy, Profile, Role, Verb

__all__ = ["explain"]

_ENTRIES: dict[str, tuple[str, type[BaseModel]]] = {
    "roles": ("a role", Role),
    "profiles": ("a profile", Profile),
    "clusters": ("a cluster", ClusterSpec),
}


def _settings_at(loc: tuple[int | str, ...]) -> tuple[str, type[BaseModel]] | None:
    """What kind of mapping ``loc`` is: the whole file, ``defaults``, or one role/profile/cluster."""
    match loc:
        case ():
            return "a policy file", Policy
        case ("defaults",):
            return "defaults", Defaults
        case (str(section), _) if section in _ENTRIES:
            return _ENTRIES[section]
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _closest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _shape(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"


def explain(error: ErrorDetails) -> str:
    """One sentence for one error at ``error['loc']``."""
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden" and loc:
        found = _settings_at(loc[:-1])
        if found is not None:
            what, model = found
            key = str(loc[-1])
            valid = _keys(model)
            return f"unknown key '{key}'{_closest(key, valid)}; {what} may have: {', '.join(valid)}"
    if kind in ("model_type", "dict_type"):
        found = _settings_at(loc)
        if found is not None:
            what, model = found
            required = [name for name, field in model.model_fields.items() if field.is_required()]
            needs = f" with at least {', '.join(required)}" if required else ""
            return f"is {_shape(value)}; {what} must be a mapping of settings{needs}"
        return f"is {_shape(value)}; it must be a mapping (name: settings)"
    if kind == "missing" and loc:
        return "is missing; it is required"
    if kind == "list_type":
        return f"is {_shape(value)}; write a list in brackets, like [{value if isinstance(value, str) else '…'}]"
    if kind in ("bool_type", "bool_parsing"):
        return f"is {_shape(value)}; write true or false"
    if kind == "greater_than_equal":
        return f"must be at least {error.get('ctx', {}).get('ge')}"
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"is the number {value}; write it as text in quotes, like '{value}'"
    if kind == "literal_error" and loc and loc[0] == "roles" and "allow" in loc and isinstance(value, str):
        verbs = list(get_args(Verb))
        return f"'{value}' is not a verb{_closest(value, verbs)}; use {', '.join(verbs)}"
    return str(error["msg"]).removeprefix("Value error, ")
