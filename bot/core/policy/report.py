"""What loading a policy found: problems (errors), warnings and notes, each with its file and path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.policy.model import Policy

__all__ = ["LoadedPolicy", "PolicyLoadError", "PolicyProblem", "Severity"]

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class PolicyProblem:
    """``file: path: problem``; warnings and notes say that they are one."""

    file: str
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        label = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {label}{self.message}"


class PolicyLoadError(Exception):
    """``problems`` stop the policy from loading; ``warnings`` and ``notes`` were found on the way."""

    def __init__(
        self,
        problems: list[PolicyProblem],
        warnings: tuple[PolicyProblem, ...] = (),
        notes: tuple[PolicyProblem, ...] = (),
    ) -> None:
        self.problems = problems
        self.warnings = warnings
        self.notes = notes
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadedPolicy:
    """A valid policy, with what an operator should still hear about it.

    ``warnings``: likely mistakes that do not stop the bot; ``notes``: files that were skipped.
    """

    policy: Policy
    warnings: tuple[PolicyProblem, ...] = ()
    notes: tuple[PolicyProblem, ...] = ()
