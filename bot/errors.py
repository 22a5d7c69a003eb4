"""The bot's exception tree.

Listeners turn these into polite Slack messages; anything else is a bug and is
logged with its traceback.

    BotError                      user_message: what the person in Slack is told
    ├── UsageError                malformed command text or form input
    ├── PolicyError               the policy says no
    │   ├── NotAllowed            this person may not do this (verb, profile, cluster, button)
    │   ├── QuotaExceeded         too many active environments
    │   └── LifetimeTooLong       requested lifetime or extension above the cap
    ├── NotFound                  no such environment (for this person)
    ├── Conflict                  the state changed under us (duplicate name, already decided)
    └── DeployError               Helm or Kubernetes failed; message is in plain words
        └── InvalidChartValues    the chart's schema refused the values
"""

from __future__ import annotations

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
    """An expected failure with a message that is safe to show the requester."""

    def __init__(self, user_message: str, *, field: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
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
    """Deploying or tearing down failed; ``user_message`` explains it in plain words."""


class InvalidChartValues(DeployError):
    """The chart's values schema rejected what we sent."""
