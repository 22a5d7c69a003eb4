"""The command language after ``/jupyterhub``: one registry entry per verb.

Each command class is the whole entry for its verb: its names, its usage lines, how its
arguments are parsed, and what it does (``run``: one call into the core, returning the
answer for the person who typed it). Adding a verb is adding one class to
:data:`COMMANDS`. The text is chat-neutral: Slack and any other front-end send the same
words after the slash command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from bot.core import notices
from bot.core.durations import DurationError, parse_duration
from bot.core.errors import UsageError
from bot.core.names import validate_env_name
from bot.core.problems import (
    BadArguments,
    InvalidDuration,
    InvalidName,
    MissingOptionValue,
    OptionsWithoutName,
    RepeatedOption,
    TwoNames,
    UnclosedQuote,
    UnknownOption,
    UnknownVerb,
)

if TYPE_CHECKING:
    from bot.core.lifecycle import Lifecycle
    from bot.core.policy import Actor
    from bot.core.ports import ReplyChannel

__all__ = [
    "COMMANDS",
    "Command",
    "Creds",
    "Delete",
    "Extend",
    "Help",
    "Launch",
    "ListEnvironments",
    "Status",
    "UsageLine",
    "parse_command",
    "usage_lines",
]


@dataclass(frozen=True)
class UsageLine:
    syntax: str
    summary: str


class Command:
    """Base of every command. Subclasses set ``verbs`` (the first is its name) and ``usage``,
    and implement ``parse`` and ``run``."""

    verbs: ClassVar[tuple[str, ...]]
    usage: ClassVar[tuple[UsageLine, ...]]

    @classmethod
    def parse(cls, args: list[str]) -> Command:
        raise NotImplementedError

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        """Do it for ``actor``; ``reply`` leads back to where the command was typed. The answer
        for them, or ``None`` if what was done already answered them."""
        raise NotImplementedError


def _checked_name(verb: str, name: str) -> str:
    problem = validate_env_name(name)
    if problem:
        raise UsageError(InvalidName(verb, name, problem), field="name")
    return name


def _one_name(verb: str, args: list[str]) -> str:
    if len(args) != 1:
        raise UsageError(BadArguments(verb))
    return _checked_name(verb, args[0])


def _duration(where: str, text: str, field: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise UsageError(
            InvalidDuration(where, text, exc.reason, limit_seconds=exc.limit_seconds), field=field
        ) from None


@dataclass(frozen=True)
class Launch(Command):
    """``launch`` with no name means: open the form."""

    verbs = ("launch",)
    usage = (
        UsageLine("launch", "open a form to request a JupyterHub"),
        UsageLine("launch <name> [profile=<profile>] [cluster=<cluster>] [ttl=<8h|3d|…>]", "request one directly"),
    )
    options: ClassVar[Mapping[str, str]] = {"profile": "profile", "cluster": "cluster", "ttl": "ttl", "lifetime": "ttl"}

    name: str | None = None
    profile: str | None = None
    cluster: str | None = None
    lifetime: timedelta | None = None

    @property
    def wants_form(self) -> bool:
        return self.name is None

    @classmethod
    def parse(cls, args: list[str]) -> Launch:
        name: str | None = None
        given: dict[str, str] = {}
        for arg in args:
            key, sep, value = arg.partition("=")
            if sep:
                key = key.lower()
                if key not in cls.options:
                    raise UsageError(UnknownOption(key), field=key)
                if not value:
                    raise UsageError(MissingOptionValue(key), field=key)
                key = cls.options[key]
                if key in given:
                    raise UsageError(RepeatedOption(key), field=key)
                given[key] = value
            elif name is None:
                name = _checked_name("launch", arg)
            else:
                raise UsageError(TwoNames(name, arg))
        if name is None and given:
            raise UsageError(OptionsWithoutName())
        lifetime = _duration("ttl", given["ttl"], "ttl") if "ttl" in given else None
        return cls(name=name, profile=given.get("profile"), cluster=given.get("cluster"), lifetime=lifetime)

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        return notices.LaunchAccepted(await core.launches.request(actor, self, reply=reply))


_PAGE = re.compile(r"[1-9][0-9]{0,5}")


@dataclass(frozen=True)
class ListEnvironments(Command):
    verbs = ("list",)
    usage = (UsageLine("list [all] [page]", "your environments (list all: everyone's, for admins)"),)

    all: bool = False
    page: int = 1

    @classmethod
    def parse(cls, args: list[str]) -> ListEnvironments:
        everyone = args[:1] == ["all"]
        rest = args[1:] if everyone else args
        if not rest:
            return cls(all=everyone)
        if len(rest) == 1 and _PAGE.fullmatch(rest[0]):
            return cls(all=everyone, page=int(rest[0]))
        raise UsageError(BadArguments("list"))

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        envs = await core.owner.list_environments(actor, everyone=self.all)
        pools = await core.pools.status(actor) if self.all else []
        return notices.EnvironmentListing(
            envs, everyone=self.all, admin=core.is_admin(actor), now=core.now(), page=self.page, pools=pools
        )


@dataclass(frozen=True)
class Status(Command):
    verbs = ("status",)
    usage = (UsageLine("status <name>", "details and recent events"),)

    name: str

    @classmethod
    def parse(cls, args: list[str]) -> Status:
        return cls(_one_name("status", args))

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        env, events = await core.owner.status(actor, self.name)
        return notices.StatusReport(env, events, core.now())


@dataclass(frozen=True)
class Creds(Command):
    verbs = ("creds", "credentials")
    usage = (UsageLine("creds <name>", "send the URL and login to you again, privately"),)

    name: str

    @classmethod
    def parse(cls, args: list[str]) -> Creds:
        return cls(_one_name("creds", args))

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        env, by_direct_message = await core.owner.send_credentials(actor, self.name, reply=reply)
        return notices.CredentialsResent(env) if by_direct_message else None


@dataclass(frozen=True)
class Extend(Command):
    verbs = ("extend",)
    usage = (UsageLine("extend <name> [duration]", "push the expiry (within policy)"),)

    name: str
    by: timedelta | None = None

    @classmethod
    def parse(cls, args: list[str]) -> Extend:
        if not 1 <= len(args) <= 2:
            raise UsageError(BadArguments("extend"))
        name = _checked_name("extend", args[0])
        by = _duration("extend", args[1], "duration") if len(args) == 2 else None
        return cls(name=name, by=by)

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        return notices.Extended(await core.owner.extend(actor, self.name, self.by), core.now())


@dataclass(frozen=True)
class Delete(Command):
    verbs = ("delete",)
    usage = (UsageLine("delete <name>", "tear it down now"),)

    name: str

    @classmethod
    def parse(cls, args: list[str]) -> Delete:
        return cls(_one_name("delete", args))

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        return notices.DeleteConfirmation(await core.owner.delete_request(actor, self.name))


@dataclass(frozen=True)
class Help(Command):
    verbs = ("help", "-h", "--help")
    usage = (UsageLine("help", "this message"),)

    @classmethod
    def parse(cls, args: list[str]) -> Help:
        return cls()

    async def run(self, core: Lifecycle, actor: Actor, *, reply: ReplyChannel | None = None) -> notices.Notice | None:
        return notices.Help()


COMMANDS: tuple[type[Command], ...] = (Launch, ListEnvironments, Status, Creds, Extend, Delete, Help)
_BY_VERB: dict[str, type[Command]] = {verb: cls for cls in COMMANDS for verb in cls.verbs}


def usage_lines() -> list[UsageLine]:
    """Every usage line, in the registry's order."""
    return [line for cls in COMMANDS for line in cls.usage]


def parse_command(text: str) -> Command:
    """Parse the slash command's text. Raises :class:`UsageError` with a problem for the user."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise UsageError(UnclosedQuote()) from None
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    command = _BY_VERB.get(verb)
    if command is None:
        raise UsageError(UnknownVerb(words[0]))
    return command.parse(args)
