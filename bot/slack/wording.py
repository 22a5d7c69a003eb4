"""Every sentence the bot says in Slack, in one place.

The core reports problems and notices as data; this module turns them into Slack's
mrkdwn (``*bold*``, ``code``, ``<@U…>`` mentions, ``<!date^…>``). Text that came
from outside (a person's arguments, Helm's and Kubernetes' own words) is escaped
and capped here, so it can neither mention anyone nor break a message's size limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.core import problems as p
from bot.core.commands import Launch, usage_lines
from bot.core.durations import format_duration
from bot.core.environment import AuditEvent, Environment
from bot.core.names import MAX_ENV_NAME, NameProblem
from bot.core.notices import DeployStep, HubSource, PoolStatus, Removal, RemovalReason
from bot.core.states import State

__all__ = [
    "GENERIC_FAILURE",
    "NOTHING_ACTIVE",
    "STATE_LABEL",
    "cap",
    "describe",
    "escape",
    "link",
    "mention",
    "outside",
    "slack_date",
    "state_words",
    "usage",
    "word",
]

GENERIC_FAILURE = (
    "Something went wrong on our side and nothing was changed. The admins can see the details in the logs."
)
NOTHING_ACTIVE = "Nothing active. Start one with `/jupyterhub launch`."
FOREIGN_WORKSPACE = "This JupyterHub bot serves another Slack workspace; nothing was done."

# The longest piece of outside text (Helm output, an argument) quoted in one message.
EXTERNAL_TEXT_LIMIT = 600
# The longest name or word from outside (a profile, a cluster, a word someone typed).
NAME_LIMIT = 80
URL_LIMIT = 500
# Stands for the middle of a capped text.
CUT = " […] "
# How many of someone's allowed profiles or clusters a refusal names.
CHOICES_SHOWN = 10
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_LINKABLE = re.compile(rf"https?://[^\s<>|]{{1,{URL_LIMIT}}}")

STATE_LABEL = {
    State.REQUESTED: ":hourglass: requested",
    State.PENDING_APPROVAL: ":raised_hand: waiting for approval",
    State.APPROVED: ":white_check_mark: approved",
    State.DEPLOYING: ":gear: deploying",
    State.READY: ":large_green_circle: ready",
    State.EXPIRING: ":wastebasket: being removed",
    State.DELETED: ":black_circle: deleted",
    State.DENIED: ":no_entry: denied",
    State.FAILED: ":x: failed",
    State.CLAIMED: ":handshake: handed to a launch",
}

STEP_LABEL = {step: step.value for step in DeployStep}
# A warm pool's hub is ready before the launch: the last step only hands it over.
POOL_STEP_LABEL = {**STEP_LABEL, DeployStep.HUB_READY: "hub handed over to you"}


# -- formatting helpers -------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters, so outside text cannot mention or link anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cap(text: str, limit: int = EXTERNAL_TEXT_LIMIT) -> str:
    """At most ``limit`` characters, keeping the head and the tail (where Helm puts the cause)."""
    if len(text) <= limit:
        return text
    keep = limit - len(CUT)
    return f"{text[: keep // 2]}{CUT}{text[-(keep - keep // 2) :]}"


def _escaped_within(chars: Iterable[str], budget: int) -> list[str]:
    """The escaped form of as many of ``chars`` as fit in ``budget`` characters."""
    taken: list[str] = []
    for char in chars:
        piece = escape(char)
        budget -= len(piece)
        if budget < 0:
            break
        taken.append(piece)
    return taken


def outside(text: str, limit: int = EXTERNAL_TEXT_LIMIT) -> str:
    """Text from outside the bot, made safe to quote: escaped, and at most ``limit`` characters
    as sent (escaping makes ``<`` four), keeping the head and the tail (where Helm puts the
    cause). An escape is never split."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    keep = limit - len(CUT)
    head = _escaped_within(text, keep - keep // 2)
    tail = _escaped_within(reversed(text), keep // 2)
    return "".join(head) + CUT + "".join(reversed(tail))


def word(text: str) -> str:
    """A name or a word from outside the bot's own rules (a policy's profile or cluster, a word
    someone typed), made safe and short."""
    return outside(text, NAME_LIMIT)


def link(url: str) -> str:
    """A link to ``url``, or the URL as plain text if it is not one Slack can link safely."""
    return f"<{url}|{url}>" if _LINKABLE.fullmatch(url) else outside(url, URL_LIMIT)


def mention(user_id: str) -> str:
    """A mention of a Slack user; anything that is not a user ID is shown as plain text."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else word(user_id)


def who(actor: str) -> str:
    """An audit event's actor: a mention for a person, the name for the bot's own jobs."""
    return mention(actor)


def slack_date(when: datetime) -> str:
    """Slack renders this in each reader's own time zone."""
    epoch = int(when.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>"


def state_words(state: str) -> str:
    return state.replace("_", " ")


def duration(seconds: int | float) -> str:
    return format_duration(timedelta(seconds=seconds))


def usage() -> str:
    lines = ["*Usage:* `/jupyterhub <command>`"]
    lines += [f"• `{line.syntax}` — {line.summary}" for line in usage_lines()]
    return "\n".join(lines)


# -- problems -------------------------------------------------------------------------------------

_NAME_PROBLEMS = {
    NameProblem.MISSING: "a name is required",
    NameProblem.TOO_LONG: "'{name}' is too long; use at most " + str(MAX_ENV_NAME) + " characters",
    NameProblem.INVALID: (
        "'{name}' is not a valid name; use lowercase letters, digits and '-', "
        "starting with a letter and not ending with '-'"
    ),
}

_DURATION_PROBLEMS = {
    "format": "'{text}' is not a duration; use a number with a unit, like 30m, 8h, 3d or 1d12h",
    "zero": "'{text}' is zero; a duration must be positive",
    "too_long": "'{text}' is longer than any lifetime the bot gives ({limit} at most)",
}

_REFUSALS = {
    p.Action.LAUNCH: "You are not allowed to launch environments.",
    p.Action.LIST: "You are not allowed to list environments.",
    p.Action.LIST_ALL: "Only platform admins may list everyone's environments.",
    p.Action.STATUS: "You are not allowed to see environment status.",
    p.Action.CREDS: "You are not allowed to see credentials.",
    p.Action.EXTEND: "You are not allowed to extend environments.",
    p.Action.DELETE: "You are not allowed to delete environments.",
    p.Action.APPROVE: "Only platform admins may approve requests; nothing was changed.",
    p.Action.DENY: "Only platform admins may deny requests; nothing was changed.",
    p.Action.EXPIRE: "Only platform admins may expire environments; nothing was changed.",
    p.Action.KEEP: "You are not allowed to keep environments.",
    p.Action.REMOVE_ORPHAN: "Only platform admins may remove orphaned namespaces; nothing was changed.",
    p.Action.DELETE_OTHERS: "You may only delete your own environments; nothing was changed.",
    p.Action.EXTEND_OTHERS: "You may only extend your own environments; nothing was changed.",
    p.Action.KEEP_OTHERS: "Only the owner can keep this environment; nothing was changed.",
    p.Action.APPROVE_OWN: "You cannot decide your own request; another admin has to. Nothing was changed.",
}

_ACCOUNTS = {
    "guest": "Guest accounts cannot use this bot here. Ask a platform admin if you need it.",
    "external": "This bot serves its own workspace only; accounts from other organisations cannot use it.",
    "deactivated": "This account is deactivated and cannot use the bot.",
    "bot": "Bots and apps cannot use this bot.",
}

_WRONG_STATE = {
    p.Action.EXPIRE: "there is nothing to expire",
    p.Action.DELETE: "it cannot be deleted now",
    p.Action.EXTEND: "only a ready environment can be extended",
    p.Action.CREDS: "credentials exist only once it is ready",
    p.Action.KEEP: "there is nothing to keep",
}

_BAD_ARGUMENTS = {
    "list": "`list` takes nothing, or `all`, and a page number if you like: `/jupyterhub list all 2`.",
    "extend": "`extend` takes a name and an optional duration, like `/jupyterhub extend my-hub 4h`.",
}


def name_problem(name: str, reason: str) -> str:
    """Why ``name`` is not a usable environment name (no final full stop)."""
    return _NAME_PROBLEMS[NameProblem(reason)].format(name=word(name))


def duration_problem(problem: p.InvalidDuration) -> str:
    return _DURATION_PROBLEMS[problem.reason].format(text=word(problem.text), limit=duration(problem.limit_seconds))


def _choices(allowed: Sequence[str]) -> str:
    shown = ", ".join(f"`{word(a)}`" for a in allowed[:CHOICES_SHOWN]) or "none"
    more = len(allowed) - CHOICES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def describe(problem: p.Problem) -> str:
    """The problem in words, for the person it concerns."""
    match problem:
        case p.UnclosedQuote():
            return "I could not read that command: a quote is not closed."
        case p.UnknownVerb(word=typed):
            return f"I don't know the command `{word(typed)}`.\n{usage()}"
        case p.BadArguments(verb=verb):
            return _BAD_ARGUMENTS.get(
                verb, f"`{word(verb)}` takes exactly one environment name, like `/jupyterhub {word(verb)} my-hub`."
            )
        case p.InvalidName(verb=verb, name=name, reason=reason):
            return f"`{word(verb)}`: {name_problem(name, reason)}."
        case p.UnknownOption(option=option):
            known = ", ".join(f"{o}=" for o in dict.fromkeys(Launch.options.values()))
            return f"`launch` does not know the option `{word(option)}`; use {known}."
        case p.MissingOptionValue(option=option):
            return f"`{word(option)}=` needs a value."
        case p.RepeatedOption(option=option):
            return f"`{word(option)}` is given twice."
        case p.TwoNames(first=first, second=second):
            return (
                f"`launch` takes one name, but got `{word(first)}` and `{word(second)}`; "
                "options look like profile=small."
            )
        case p.OptionsWithoutName():
            return (
                "`launch` needs a name before its options, like `/jupyterhub launch my-hub profile=small`,"
                " or no arguments at all to open the form."
            )
        case p.FormUnavailable():
            return "The launch form cannot be opened from here; name it instead, like `/jupyterhub launch my-hub`."
        case p.InvalidDuration(where=where):
            return f"`{word(where)}`: {duration_problem(problem)}."
        case p.NotAllowed(action=action, help=help_):
            return f"{_REFUSALS[action]} {outside(help_)}" if help_ else _REFUSALS[action]
        case p.AccountNotEligible(kind=kind):
            return _ACCOUNTS.get(kind, _ACCOUNTS["bot"])
        case p.ChatUnavailable():
            return "Slack is not answering the bot right now, so nothing was done. Please try again in a minute."
        case p.UnknownChoice(kind=kind, requested=requested, allowed=allowed):
            return f"There is no {word(kind)} called `{word(requested)}`. Yours: {_choices(allowed)}."
        case p.ChoiceNotAllowed(kind=kind, requested=requested, allowed=allowed):
            return f"You may not use the {word(kind)} `{word(requested)}`. Yours: {_choices(allowed)}."
        case p.LifetimeTooLong(requested_seconds=requested, cap_seconds=limit, profile=profile, cluster=cluster):
            return (
                f"A lifetime of {duration(requested)} is more than you may ask for "
                f"(at most {duration(limit)} for `{word(profile)}` on `{word(cluster)}`)."
            )
        case p.QuotaExceeded(active=active, limit=limit):
            return (
                f"You already have {active} active environment(s), the most your role allows ({limit}). "
                "Delete one first."
            )
        case p.ExtensionLimitReached(name=name, extensions=extensions, limit=limit):
            return f"*{word(name)}* has been extended {extensions} time(s), the most your role allows ({limit})."
        case p.PastMaxLifetime(name=name, max_lifetime_seconds=longest, latest_epoch=latest):
            until = datetime.fromtimestamp(latest, UTC)
            return (
                f"That would take *{word(name)}* past its maximum lifetime of {duration(longest)}; "
                f"it can run until {until:%Y-%m-%d %H:%M} UTC at most."
            )
        case p.EnvironmentGone():
            return "That environment no longer exists."
        case p.NoSuchEnvironment(name=name):
            return f"You have no environment called `{word(name)}`. `/jupyterhub list` shows yours."
        case p.NameTaken(name=name, state=state):
            held = f" ({state_words(word(state))})" if state else ""
            return f"You already have an environment called `{word(name)}`{held}."
        case p.AlreadyDecided(name=name, state=state):
            return f"The request for *{word(name)}* was already handled; it is now {state_words(word(state))}."
        case p.WrongState(name=name, state=state, action=action):
            return f"*{word(name)}* is {state_words(word(state))}; {_WRONG_STATE[action]}."
        case p.ChangedConcurrently(name=name):
            return f"*{word(name)}* changed while extending it; please try again."
        case p.UnknownCluster(cluster=cluster):
            return f"There is no cluster called `{word(cluster)}`."
        case p.NotAnOrphan(namespace=namespace):
            return f"`{word(namespace)}` is not an orphan of this bot (anymore); nothing was changed."
        case p.ClusterUnreachable():
            return "The cluster could not be reached; please try again later."
        case p.ClusterNotConfigured(cluster=cluster):
            return f"The cluster `{word(cluster)}` cannot be used by the bot right now; the admins have been told."
        case p.DeployTimedOut(limit_seconds=limit):
            return (
                f"The hub did not become ready within {duration(limit)} "
                "(images may be slow to pull, or the cluster is short of capacity)."
            )
        case p.ValuesRefused(detail=detail):
            return f"The chart refused the environment's settings: {outside(detail)}"
        case p.HelmFailed(detail=detail, removing=removing):
            return f"Helm could not {'remove' if removing else 'install'} the hub: {outside(detail)}"
        case p.ImagePullFailed(image=image, reason=reason, container=container):
            return (
                f"The image `{outside(image, 200)}` could not be pulled ({word(reason)}, "
                f"container `{word(container)}`). Check its name and tag, and that the cluster can "
                "reach its registry."
            )
        case p.NamespaceNotOurs(namespace=namespace):
            return f"The namespace `{word(namespace)}` already exists and is not managed by this bot."
        case p.NamespaceStillTerminating(namespace=namespace):
            return f"The namespace `{word(namespace)}` is still being removed; try again in a minute."
        case p.NamespaceNotRemoved(namespace=namespace, limit_seconds=limit):
            return f"The namespace `{word(namespace)}` was not removed within {duration(limit)}."
        case p.RightsNotEffective():
            return "The bot's rights in the new namespace did not take effect; ask an admin."
        case p.KubernetesRefused(status=status, reason=reason, step=step):
            return f"Kubernetes refused a request ({status} {outside(reason, 120)}) while {word(step)}."
        case p.CredentialsUnreadable():
            return "The hub's credentials could not be read from the cluster."
        case p.NoNodeAddress():
            return "The cluster has no Ready node to reach the hub at."
        case p.TlsSecretUnavailable(secret=secret, status=status):
            return (
                f"The cluster's TLS certificate `{word(secret)}` could not be read (HTTP {status}); ask an admin to "
                "check that it exists and that the bot's chart lists it in tlsSourceSecrets."
            )
        case p.LoadBalancerPending(limit_seconds=limit):
            return (
                f"The cluster gave the hub's load balancer no address within {duration(limit)}; "
                "ask an admin to check the cluster's load-balancer controller."
            )
        case p.UnexpectedFailure():
            return "an unexpected error on our side (the admins can see the details in the logs)"
    return GENERIC_FAILURE


def failure_reason(failure: p.Problem | str) -> str:
    """A stored deploy failure: a problem, or the plain text an older release kept."""
    return describe(failure) if isinstance(failure, p.Problem) else outside(failure)


def field_error(problem: p.Problem) -> str:
    """A problem as an inline error under a form field (a sentence on its own)."""
    match problem:
        case p.InvalidName(name=name, reason=reason):
            text = name_problem(name, reason)
            return text[:1].upper() + text[1:] + "."
        case p.InvalidDuration():
            return duration_problem(problem)
        case p.NameTaken(name=name):
            return f"You already have an environment called {name}; pick another name."
    return describe(problem)


# -- notices -----------------------------------------------------------------------------------


def removal(removal_: Removal) -> str:
    match removal_.reason:
        case RemovalReason.LIFETIME_ENDED:
            return "its lifetime ended"
        case RemovalReason.IDLE:
            return f"it was not used for {format_duration(removal_.idle_for or timedelta())}"
        case RemovalReason.OWNER_DELETED:
            return "deleted by its owner"
        case RemovalReason.ADMIN_DELETED:
            return f"deleted by {mention(removal_.by)}"
        case RemovalReason.ADMIN_EXPIRED:
            return f"expired by {mention(removal_.by)}"
        case RemovalReason.RESUMED:
            return "its removal was interrupted and has now finished"
        case RemovalReason.POOL_SHRUNK:
            return "its warm pool shrank"
        case RemovalReason.POOL_OUTDATED:
            return "its warm pool's chart or profile changed"
        case RemovalReason.POOL_UNHEALTHY:
            return "it stopped answering while it waited in its warm pool"
        case RemovalReason.POOL_REMOVED:
            return "its warm pool left the policy"
    return removal_.reason.value


def launch_accepted(env: Environment) -> str:
    what = f"*{env.name}* (`{word(env.profile)}` on `{word(env.cluster)}`, {format_duration(env.lifetime)})"
    if env.state is State.PENDING_APPROVAL:
        return f":raised_hand: Your request for {what} needs an admin's approval. I'll message you when it is decided."
    return (
        f":rocket: Launching {what}. I'll send you the URL and login in a direct message when it is ready, "
        "usually within a few minutes."
    )


def listing_title(count: int) -> str:
    return f"{count} active environment(s)"


def state_counts(counts: Mapping[State, int]) -> str:
    """How many environments are in each state, e.g. ``3 :raised_hand: waiting for approval · 190 …``."""
    return " · ".join(f"{count} {STATE_LABEL[state]}" for state, count in counts.items() if count)


def listing_heading(count: int, counts: Mapping[State, int], page: int, pages: int) -> str:
    heading = f"*{listing_title(count)}*"
    if pages > 1:
        heading += f" · page {page} of {pages}"
    return f"{heading}\n{state_counts(counts)}"


def listing_footer(now: datetime, everyone: bool, page: int, pages: int) -> str:
    if pages <= 1:
        return as_of(now)
    command = "list all" if everyone else "list"
    return f"{as_of(now)} · `/jupyterhub {command} <page>` opens any page"


def and_more(count: int) -> str:
    return f"… and {count} more"


def nothing_listed(everyone: bool) -> str:
    return "No active environments." if everyone else "You have no active environments."


def summary(env: Environment, *, show_owner: bool) -> str:
    line = f"*{env.name}* — {STATE_LABEL[env.state]} · `{word(env.profile)}` on `{word(env.cluster)}`"
    if show_owner:
        line += f" · {mention(env.owner_id)}"
    if env.url and env.state is State.READY:
        line += f"\n{link(env.url)}"
    if env.expires_at and env.state is State.READY:
        line += f"\nexpires {slack_date(env.expires_at)}"
    return line


def idle_for(env: Environment, now: datetime) -> str:
    return f"idle for {format_duration(now - env.last_activity_at)}" if env.last_activity_at else ""


def as_of(now: datetime) -> str:
    return f"as of {slack_date(now)}"


def updated(now: datetime) -> str:
    return f"Updated {slack_date(now)}"


POOLS_HEADING = "*Warm pools*"


def pool_line(pool: PoolStatus) -> str:
    """One warm pool for the admins: what it keeps, what is ready, what is on its way."""
    line = (
        f"*{word(pool.name)}* (`{word(pool.profile)}` on `{word(pool.cluster)}`): {pool.ready} of {pool.wanted} ready"
    )
    if pool.warming:
        line += f" · {pool.warming} warming"
    return f"{line} · {pool.claimed_today} claimed today"


def pool_failing(pool: str, problem: p.Problem) -> str:
    return (
        f":warning: Warm pool *{word(pool)}* cannot deploy its hubs: {describe(problem)}\n"
        "It tries one hub at a time, every few minutes, until one works; launches deploy new hubs meanwhile."
    )


def home_title(admin: bool) -> str:
    return "All environments" if admin else "Your environments"


def home_counts(count: int, counts: Mapping[State, int]) -> str:
    return f"*{listing_title(count)}*\n{state_counts(counts)}"


def home_more(shown: int, count: int, everyone: bool) -> str:
    if everyone:
        return (
            f"Showing {shown} of {count}: yours first, then those waiting for approval, those being set up "
            "or removed, and the ready ones that expire soonest. `/jupyterhub list all` lists every one, "
            "a page at a time, and so does the button below, in a direct message."
        )
    return (
        f"Showing {shown} of your {count}. `/jupyterhub list` lists every one, a page at a time, "
        "and so does the button below, in a direct message."
    )


def status_lines(env: Environment, now: datetime) -> list[str]:
    lines = [
        summary(env, show_owner=True),
        f"namespace `{word(env.namespace)}` · requested {slack_date(env.created_at)}",
    ]
    if env.expires_at and env.state is State.READY:
        lines.append(f"time left: {format_duration(env.expires_at - now)} · extended {env.extensions} time(s)")
    if env.failure is not None:
        lines.append(f"last problem: {failure_reason(env.failure)}")
    return lines


def audit_line(event: AuditEvent) -> str:
    line = f"• {slack_date(event.at)} {word(event.action)}"
    if event.to_state:
        line += f" → {state_words(word(event.to_state))}"
    line += f" by {who(event.actor)}"
    if event.detail and event.action != "request":
        line += f" ({outside(event.detail, 200)})"
    return line


RECENT_EVENTS = "*Recent events*"


def status_title(env: Environment) -> str:
    return f"{env.name}: {state_words(env.state)}"


def credentials_resent(env: Environment) -> str:
    return f":key: I sent the URL and login for *{env.name}* to you in a direct message."


def extended(env: Environment, now: datetime) -> str:
    assert env.expires_at is not None
    return (
        f":hourglass_flowing_sand: *{env.name}* now expires in {format_duration(env.expires_at - now)} "
        f"({env.expires_at:%Y-%m-%d %H:%M} UTC)."
    )


def delete_question(env: Environment) -> str:
    return f"Delete *{env.name}*? Its hub, notebooks and volumes are removed for good."


def delete_summary(env: Environment) -> str:
    return f"Delete {env.name}?"


def delete_button(env: Environment) -> str:
    return f"Delete {env.name}"


def deleting(env: Environment) -> str:
    return f":wastebasket: Deleting *{env.name}*. I'll tell you when it is gone."


def expiring(env: Environment) -> str:
    return f"Removing *{env.name}* of {mention(env.owner_id)}; its owner will be told."


def kept(env: Environment) -> str:
    return f":ok_hand: Keeping *{env.name}*; the idle clock starts again now."


def orphan_removed(namespace: str) -> str:
    return f"Removed the orphaned namespace `{word(namespace)}`."


def progress_title(env: Environment) -> str:
    return f"*Launching {env.name}* (`{word(env.profile)}` on `{word(env.cluster)}`)"


def progress_step(step: DeployStep, done: bool, source: HubSource = HubSource.NEW) -> str:
    label = (POOL_STEP_LABEL if source is HubSource.POOL else STEP_LABEL)[step]
    return f"{':white_check_mark:' if done else ':white_square:'} {label}"


def progress_source(source: HubSource) -> str | None:
    """A line on where the hub comes from, when that is news to the owner."""
    if source is HubSource.POOL_EMPTY:
        return ":hourglass_flowing_sand: No warm hub was free, so a new one is being set up; this takes a few minutes."
    return None


def progress_ready(url: str) -> str:
    return f":rocket: ready at {link(url)}; your login is in the next message."


def progress_failed(problem: p.Problem) -> str:
    return f":x: {describe(problem)}"


def progress_summary(env: Environment, done: Sequence[DeployStep], *, ready: bool, failed: bool) -> str:
    state = "ready" if ready else "failed" if failed else STEP_LABEL[done[-1]] if done else "starting"
    return f"Launching {env.name}: {state}"


def credentials_summary(env: Environment) -> str:
    return f"Your JupyterHub *{env.name}* is ready: {outside(env.url or '', URL_LIMIT)}"


def credentials_lines(env: Environment, username: str, password: str) -> list[str]:
    lines = [
        f":rocket: Your JupyterHub *{env.name}* is ready.",
        f"*URL:* {link(env.url or '')}",
        f"*Username:* `{word(username)}`",
        f"*Password:* `{password}`",
    ]
    if env.expires_at:
        lines.append(f"It expires {slack_date(env.expires_at)}; `/jupyterhub extend {env.name}` gives it more time.")
    lines.append(f"`/jupyterhub creds {env.name}` shows this login again.")
    return lines


ONLY_YOU = "Only you can see this message."


def credentials_withdrawn(env: Environment) -> str:
    return f":lock: The login of *{env.name}* was here; the environment has been removed, so it was taken down."


def deploy_failed(env: Environment, problem: p.Problem, cleaned_up: bool) -> str:
    after = (
        "Everything it created has been removed" if cleaned_up else "The admins have been asked to remove what was left"
    )
    return (
        f":x: Sorry, *{env.name}* could not be deployed: {describe(problem)}\n"
        f"{after}, and it no longer counts toward your quota."
    )


def approval_request(env: Environment) -> str:
    return (
        f"{mention(env.owner_id)} asks for a JupyterHub *{env.name}*: profile `{word(env.profile)}` on "
        f"`{word(env.cluster)}` for {format_duration(env.lifetime)}."
    )


def approval_summary(env: Environment) -> str:
    return f"Approval needed: {env.name} for {mention(env.owner_id)}"


def approval_decided(env: Environment, approved: bool, by: str) -> str:
    verdict = f"{'approved' if approved else 'denied'} by {mention(by)}"
    return (
        f"{mention(env.owner_id)}'s request for *{env.name}* (`{word(env.profile)}` on `{word(env.cluster)}`, "
        f"{format_duration(env.lifetime)}) was {verdict}."
    )


def approval_withdrawn(env: Environment) -> str:
    return f"{mention(env.owner_id)} withdrew the request for *{env.name}*; there is nothing to decide."


def request_decided(env: Environment, approved: bool, by: str) -> str:
    if approved:
        return f"{mention(by)} approved *{env.name}*; deploying it now."
    return f"{mention(by)} denied your request for *{env.name}*."


def removed(env: Environment, removal_: Removal) -> str:
    return f":wastebasket: Your JupyterHub *{env.name}* was removed: {removal(removal_)}."


def idle_warning(env: Environment, idle: timedelta, grace: timedelta) -> str:
    return (
        f":zzz: Your JupyterHub *{env.name}* has not been used for {format_duration(idle)}. "
        f"It will be removed in {format_duration(grace)} unless you keep it."
    )


def expiry_warning(env: Environment, left: timedelta) -> str:
    return f":hourglass: Your JupyterHub *{env.name}* expires in {format_duration(left)}."


def hub_unreachable(env: Environment, failures: int, reason: str) -> str:
    return (
        f":warning: The hub *{env.name}* of {mention(env.owner_id)} (`{word(env.namespace)}` on "
        f"`{word(env.cluster)}`) did not "
        f"answer {failures} activity checks in a row ({outside(reason, 300)}). It is not treated as idle and will "
        "not be removed for that."
    )


def orphan_found(cluster: str, namespace: str, env_id: str) -> str:
    owned = f" (environment id `{word(env_id)}`)" if env_id else ""
    return (
        f":mag: `{word(namespace)}` on `{word(cluster)}` carries this bot's label but no active environment owns it"
        f"{owned}. Nothing was deleted."
    )


def cluster_unusable(cluster: str, reason: str) -> str:
    return (
        f":warning: A launch on `{word(cluster)}` failed: the bot cannot use that cluster ({outside(reason, 300)}). "
        "Check the bot's KUBECONFIG and the cluster's context in the policy; nothing was created there."
    )


def missing_release(env: Environment) -> str:
    return (
        f":mag: *{env.name}* of {mention(env.owner_id)} is recorded as ready, but its namespace "
        f"`{word(env.namespace)}` is gone from `{word(env.cluster)}`."
    )


# Button labels.
APPROVE = "Approve"
DENY = "Deny"
EXPIRE = "Expire"
EXTEND = "Extend"
KEEP = "Keep it"
DELETE = "Delete"
DELETE_NOW = "Delete now"
CANCEL = "Cancel"
REMOVE_IT = "Remove it"
PREVIOUS = "← Previous"
NEXT = "Next →"
LIST_THEM_ALL = "List them all"

# The launch form.
FORM_TITLE = "Launch a JupyterHub"
FORM_SUBMIT = "Launch"
FORM_CLOSE = "Cancel"
FORM_NAME = "Name"
FORM_NAME_HINT = "Lowercase letters, digits and '-', e.g. thesis-hub"
FORM_PROFILE = "Profile"
FORM_CLUSTER = "Cluster"
FORM_LIFETIME = "Lifetime"


def profile_option(name: str, description: str) -> str:
    return f"{name} — {description}" if description else name


def option_group(label: str, first: int, last: int) -> str:
    """The label of one group of a long menu, e.g. ``Profile 101-150``."""
    return f"{label} {first}-{last}"
