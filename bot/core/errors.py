"""The core's exception tree. Each exception carries a :class:`~bot.core.problems.Problem`
(what went wrong, as data); a chat front-end turns it into words. Anything else
raised is a bug and is logged with its traceback.

    BotError                      .problem: what to explain; .field: the form field, if any
    ├── UsageError                malformed command text or form input
    ├── PolicyError               the policy says no
    │   ├── NotAllowed            this person may not do this (verb, profile, cluster, button)
    │   ├── QuotaExceeded         too many active environments
    │   └── LifetimeTooLong       requested lifetime or extension above the cap
    ├── NotFound                  no such environment (for this person)
    ├── Conflict                  the state changed under us (duplicate name, already decided)
    └── DeployError               Helm or Kubernetes failed
        └── InvalidChartValues    the chart's schema refused the values
"""

from __future__ import annotations

from bot.core.problems import Problem

__all__ = [
    "BotError",
    "Conflict",
    "DeployError",
    "InvalidChartValues",
    "LifetimeTooLong",
    "NotAllowed",
    "NotFound",
    "PolicyError",
    "QuotaExceeded",
    "UsageError",
]


class BotError(Exception):
    """An expected failure that can be explained to the person who caused it."""

    def __init__(self, problem: Problem, *, field: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        # The form field the problem belongs to, where there is one (for inline modal errors).
        self.field = field


class UsageError(BotError):
    """The command text or a form field could not be understood."""


class PolicyError(BotError):
    """The policy refuses the request."""


class NotAllowed(PolicyError):
    """The actor lacks the right for this verb, profile, cluster or button."""


class QuotaExceeded(PolicyError):
    """The actor already has as many active environments as the policy allows."""


class LifetimeTooLong(PolicyError):
    """A requested lifetime or extension goes past the policy's cap."""


class NotFound(BotError):
    """No environment matches (or none the actor may see)."""


class Conflict(BotError):
    """Someone else changed the environment first, or the name is taken."""


class DeployError(BotError):
    """Deploying or tearing down failed."""


class InvalidChartValues(DeployError):
    """The chart's values schema rejected what we sent."""
