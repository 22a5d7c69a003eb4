"""Read ``policies/*.yaml`` into one validated :class:`Policy`, or explain precisely what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.policy.model import Policy

__all__ = ["PolicyLoadError", "PolicyProblem", "load_policy"]

_SECTIONS = ("roles", "profiles", "clusters")


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class PolicyLoadError(Exception):
    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _read(path: Path, problems: list[PolicyProblem]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(PolicyProblem(str(path), where, f"not valid YAML ({getattr(exc, 'problem', exc)})"))
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(PolicyProblem(str(path), "", "the top level must be a mapping"))
        return None
    return data


def load_policy(directory: Path) -> Policy:
    """Load every ``*.yaml``/``*.yml`` file in ``directory`` and merge them.

    Each name (role, profile, cluster) may be defined once across all files;
    ``defaults`` may appear in one file only.
    """
    problems: list[PolicyProblem] = []
    if not directory.is_dir():
        raise PolicyLoadError([PolicyProblem(str(directory), "", "no such directory")])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise PolicyLoadError([PolicyProblem(str(directory), "", "no policy files (*.yaml) found")])

    merged: dict[str, Any] = {section: {} for section in _SECTIONS}
    origin: dict[str, str] = {}
    for path in files:
        data = _read(path, problems)
        if data is None:
            continue
        try:
            Policy.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                problems.append(
                    PolicyProblem(str(path), _dotted(error["loc"]), error["msg"].removeprefix("Value error, "))
                )
            continue
        for section in _SECTIONS:
            for key, value in (data.get(section) or {}).items():
                dotted = f"{section}.{key}"
                if dotted in origin:
                    problems.append(PolicyProblem(str(path), dotted, f"already defined in {origin[dotted]}"))
                    continue
                origin[dotted] = str(path)
                merged[section][key] = value
        if "defaults" in data:
            if "defaults" in origin:
                problems.append(PolicyProblem(str(path), "defaults", f"already defined in {origin['defaults']}"))
            else:
                origin["defaults"] = str(path)
                merged["defaults"] = data["defaults"]
    if problems:
        raise PolicyLoadError(problems)

    policy = Policy.model_validate(merged)
    for dotted, message in policy.reference_problems():
        top = ".".join(dotted.split(".")[:2])
        problems.append(PolicyProblem(origin.get(top, str(directory)), dotted, message))
    if problems:
        raise PolicyLoadError(problems)
    return policy
