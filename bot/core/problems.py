"""What went wrong, as data: every refusal and failure the core reports to a person.

A problem says *what* happened, with the facts needed to explain it (names, states,
limits); a chat front-end's wording module says *how* (``bot/slack/wording.py``).
Problems travel inside :mod:`bot.core.errors` exceptions, and a deploy failure is
also stored with its environment (:func:`to_record` / :func:`from_record`), so
``status`` can explain it later in the reader's language.

Fields are plain values (str, int, tuples of str) so a problem survives JSON.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "AccountNotEligible",
    "Action",
    "AlreadyDecided",
    "BadArguments",
    "ChangedConcurrently",
    "ChatUnavailable",
    "ChoiceNotAllowed",
    "ClusterNotConfigured",
    "ClusterUnreachable",
    "CredentialsUnreadable",
    "DeployTimedOut",
    "EnvironmentGone",
    "ExtensionLimitReached",
    "FormUnavailable",
    "HelmFailed",
    "ImagePullFailed",
    "InvalidDuration",
    "InvalidName",
    "KubernetesRefused",
    "LifetimeTooLong",
    "LoadBalancerPending",
    "MissingOptionValue",
    "NameTaken",
    "NamespaceNotOurs",
    "NamespaceNotRemoved",
    "NamespaceStillTerminating",
    "NoNodeAddress",
    "NoSuchEnvironment",
    "NotAllowed",
    "NotAnOrphan",
    "OptionsWithoutName",
    "PastMaxLifetime",
    "Problem",
    "QuotaExceeded",
    "RepeatedOption",
    "RightsNotEffective",
    "TlsSecretUnavailable",
    "TwoNames",
    "UnclosedQuote",
    "UnexpectedFailure",
    "UnknownChoice",
    "UnknownCluster",
    "UnknownOption",
    "UnknownVerb",
    "ValuesRefused",
    "WrongState",
    "from_record",
    "to_record",
]


class Action(StrEnum):
    """What someone tried to do, for refusals and wrong-state answers."""

    LAUNCH = "launch"
    LIST = "list"
    LIST_ALL = "list-all"
    STATUS = "status"
    CREDS = "creds"
    EXTEND = "extend"
    DELETE = "delete"
    APPROVE = "approve"
    DENY = "deny"
    EXPIRE = "expire"
    KEEP = "keep"
    REMOVE_ORPHAN = "remove-orphan"
    # Acting on someone else's environment without being an admin.
    DELETE_OTHERS = "delete-others"
    EXTEND_OTHERS = "extend-others"
    KEEP_OTHERS = "keep-others"
    APPROVE_OWN = "approve-own"


@dataclass(frozen=True)
class Problem:
    """Base of every problem; subclasses add the facts."""


# -- the command text ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnclosedQuote(Problem):
    pass


@dataclass(frozen=True)
class UnknownVerb(Problem):
    word: str


@dataclass(frozen=True)
class BadArguments(Problem):
    """The verb got the wrong number or kind of arguments."""

    verb: str


@dataclass(frozen=True)
class InvalidName(Problem):
    """``reason`` is one of :data:`bot.core.names.NameProblem`'s values."""

    verb: str
    name: str
    reason: str


@dataclass(frozen=True)
class UnknownOption(Problem):
    option: str


@dataclass(frozen=True)
class MissingOptionValue(Problem):
    option: str


@dataclass(frozen=True)
class RepeatedOption(Problem):
    option: str


@dataclass(frozen=True)
class TwoNames(Problem):
    first: str
    second: str


@dataclass(frozen=True)
class OptionsWithoutName(Problem):
    pass


@dataclass(frozen=True)
class FormUnavailable(Problem):
    """The launch form cannot be opened from here (the request carried no way to open it)."""


@dataclass(frozen=True)
class InvalidDuration(Problem):
    """``where`` is the option or verb the duration was given to; ``reason`` one of
    ``format``, ``zero``, ``too_long`` (see :mod:`bot.core.durations`)."""

    where: str
    text: str
    reason: str
    limit_seconds: int = 0


# -- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotAllowed(Problem):
    """``help``: where to ask for the right, as the policy's operators wrote it."""

    action: Action
    help: str = ""


@dataclass(frozen=True)
class AccountNotEligible(Problem):
    """The account itself may not use the bot: ``kind`` is guest, external, deactivated or bot."""

    kind: str


@dataclass(frozen=True)
class ChatUnavailable(Problem):
    """The chat service did not answer a question the bot cannot go on without."""


@dataclass(frozen=True)
class UnknownChoice(Problem):
    """A profile or cluster that the policy does not define."""

    kind: str
    requested: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class ChoiceNotAllowed(Problem):
    """A profile or cluster that exists but is not among the actor's."""

    kind: str
    requested: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class LifetimeTooLong(Problem):
    requested_seconds: int
    cap_seconds: int
    profile: str
    cluster: str


@dataclass(frozen=True)
class QuotaExceeded(Problem):
    active: int
    limit: int


@dataclass(frozen=True)
class ExtensionLimitReached(Problem):
    name: str
    extensions: int
    limit: int


@dataclass(frozen=True)
class PastMaxLifetime(Problem):
    name: str
    max_lifetime_seconds: int
    latest_epoch: int


# -- environments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvironmentGone(Problem):
    pass


@dataclass(frozen=True)
class NoSuchEnvironment(Problem):
    name: str


@dataclass(frozen=True)
class NameTaken(Problem):
    name: str
    state: str = ""


@dataclass(frozen=True)
class AlreadyDecided(Problem):
    name: str
    state: str


@dataclass(frozen=True)
class WrongState(Problem):
    """``action`` cannot be done to an environment in ``state``."""

    name: str
    state: str
    action: Action


@dataclass(frozen=True)
class ChangedConcurrently(Problem):
    name: str


@dataclass(frozen=True)
class UnknownCluster(Problem):
    cluster: str


@dataclass(frozen=True)
class NotAnOrphan(Problem):
    namespace: str


# -- deploying and tearing down ------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterUnreachable(Problem):
    pass


@dataclass(frozen=True)
class ClusterNotConfigured(Problem):
    """The bot has no usable connection settings for the cluster (``reason`` is for admins)."""

    cluster: str
    reason: str


@dataclass(frozen=True)
class DeployTimedOut(Problem):
    limit_seconds: int


@dataclass(frozen=True)
class ValuesRefused(Problem):
    """The chart's schema refused the values; ``detail`` is the chart's own words."""

    detail: str


@dataclass(frozen=True)
class HelmFailed(Problem):
    """``removing``: while uninstalling rather than installing."""

    detail: str
    removing: bool = False


@dataclass(frozen=True)
class ImagePullFailed(Problem):
    image: str
    reason: str
    container: str


@dataclass(frozen=True)
class NamespaceNotOurs(Problem):
    namespace: str


@dataclass(frozen=True)
class NamespaceStillTerminating(Problem):
    namespace: str


@dataclass(frozen=True)
class NamespaceNotRemoved(Problem):
    namespace: str
    limit_seconds: int


@dataclass(frozen=True)
class RightsNotEffective(Problem):
    pass


@dataclass(frozen=True)
class KubernetesRefused(Problem):
    """``step`` says what the bot was doing: ``deploying``, ``reading the namespace``, …"""

    status: int
    reason: str
    step: str


@dataclass(frozen=True)
class CredentialsUnreadable(Problem):
    pass


@dataclass(frozen=True)
class NoNodeAddress(Problem):
    pass


@dataclass(frozen=True)
class TlsSecretUnavailable(Problem):
    """The cluster's TLS Secret (``namespace/name``) could not be read to copy it."""

    secret: str
    status: int


@dataclass(frozen=True)
class LoadBalancerPending(Problem):
    """The cluster gave the hub's LoadBalancer Service no external address in time."""

    limit_seconds: int


@dataclass(frozen=True)
class UnexpectedFailure(Problem):
    """A bug or an unforeseen failure; the details are in the logs."""


def _all_problem_classes() -> dict[str, type[Problem]]:
    found: dict[str, type[Problem]] = {}
    pending = list(Problem.__subclasses__())
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def to_record(problem: Problem) -> str:
    """A problem as one JSON string, for the database (no credential is ever in a problem)."""
    return json.dumps({"problem": type(problem).__name__, **dataclasses.asdict(problem)}, sort_keys=True)


def from_record(text: str) -> Problem | None:
    """The problem :func:`to_record` wrote, or ``None`` if ``text`` is not one."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    cls = _all_problem_classes().get(str(data.pop("problem", "")))
    if cls is None:
        return None
    fields = {f.name: f for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in fields})
    except TypeError:
        return None
