"""Turn the text after ``/jupyterhub`` into a typed command, or a helpful usage error."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import timedelta

from bot.durations import parse_duration
from bot.errors import UsageError
from bot.names import validate_env_name

__all__ = [
    "USAGE",
    "Command",
    "Creds",
    "Delete",
    "Extend",
    "Help",
    "Launch",
    "ListEnvironments",
    "Status",
    "parse_command",
]

USAGE = """\
*Usage:* `/jupyterhub <command>`
• `launch` — open a form to request a JupyterHub
• `launch <name> [profile=<profile>] [cluster=<cluster>] [ttl=<8h|3d|…>]` — request one directly
• `list` — your environments (`list all` for admins)
• `status <name>` — details and recent events
• `creds <name>` — send the URL and login to you again, privately
• `extend <name> [duration]` — push the expiry (within policy)
• `delete <name>` — tear it down now
• `help` — this message"""

_LAUNCH_OPTIONS = {"profile", "cluster", "ttl", "lifetime"}


@dataclass(frozen=True)
class Launch:
    """``launch`` with no name means: open the form."""

    name: str | None = None
    profile: str | None = None
    cluster: str | None = None
    lifetime: timedelta | None = None

    @property
    def wants_form(self) -> bool:
        return self.name is None


@dataclass(frozen=True)
class ListEnvironments:
    all: bool = False


@dataclass(frozen=True)
class Status:
    name: str


@dataclass(frozen=True)
class Creds:
    name: str


@dataclass(frozen=True)
class Extend:
    name: str
    by: timedelta | None = None


@dataclass(frozen=True)
class Delete:
    name: str


@dataclass(frozen=True)
class Help:
    pass


Command = Launch | ListEnvironments | Status | Creds | Extend | Delete | Help


def _checked_name(verb: str, name: str) -> str:
    problem = validate_env_name(name)
    if problem:
        raise UsageError(f"`{verb}`: {problem}.", field="name")
    return name


def _one_name(verb: str, args: list[str]) -> str:
    if len(args) != 1:
        raise UsageError(f"`{verb}` takes exactly one environment name, like `/jupyterhub {verb} my-hub`.")
    return _checked_name(verb, args[0])


def _parse_launch(args: list[str]) -> Launch:
    name: str | None = None
    options: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep:
            key = key.lower()
            if key not in _LAUNCH_OPTIONS:
                raise UsageError(
                    f"`launch` does not know the option `{key}`; use profile=, cluster= or ttl=.",
                    field=key,
                )
            if not value:
                raise UsageError(f"`{key}=` needs a value.", field=key)
            if key == "lifetime":
                key = "ttl"
            if key in options:
                raise UsageError(f"`{key}` is given twice.", field=key)
            options[key] = value
        elif name is None:
            name = _checked_name("launch", arg)
        else:
            raise UsageError(f"`launch` takes one name, but got `{name}` and `{arg}`; options look like profile=small.")
    if name is None and options:
        raise UsageError(
            "`launch` needs a name before its options, like `/jupyterhub launch my-hub profile=small`,"
            " or no arguments at all to open the form."
        )
    lifetime = None
    if "ttl" in options:
        try:
            lifetime = parse_duration(options["ttl"])
        except ValueError as exc:
            raise UsageError(f"`ttl`: {exc}.", field="ttl") from None
    return Launch(
        name=name,
        profile=options.get("profile"),
        cluster=options.get("cluster"),
        lifetime=lifetime,
    )


def _parse_extend(args: list[str]) -> Extend:
    if not 1 <= len(args) <= 2:
        raise UsageError("`extend` takes a name and an optional duration, like `/jupyterhub extend my-hub 4h`.")
    name = _checked_name("extend", args[0])
    by = None
    if len(args) == 2:
        try:
            by = parse_duration(args[1])
        except ValueError as exc:
            raise UsageError(f"`extend`: {exc}.", field="duration") from None
    return Extend(name=name, by=by)


def _parse_list(args: list[str]) -> ListEnvironments:
    if not args:
        return ListEnvironments()
    if args == ["all"]:
        return ListEnvironments(all=True)
    raise UsageError("`list` takes nothing, or `all`.")


def parse_command(text: str) -> Command:
    """Parse the slash command's text. Raises ``UsageError`` with a message fit for the user."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise UsageError("I could not read that command: a quote is not closed.") from None
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb in ("help", "-h", "--help"):
        return Help()
    if verb == "launch":
        return _parse_launch(args)
    if verb == "list":
        return _parse_list(args)
    if verb == "status":
        return Status(_one_name(verb, args))
    if verb in ("creds", "credentials"):
        return Creds(_one_name("creds", args))
    if verb == "extend":
        return _parse_extend(args)
    if verb == "delete":
        return Delete(_one_name(verb, args))
    raise UsageError(f"I don't know the command `{words[0]}`.\n{USAGE}")
