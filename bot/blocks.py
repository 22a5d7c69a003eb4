"""Block Kit builders: plain data in, Slack message or view payloads out. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.durations import format_duration
from bot.states import State
from bot.store import AuditEvent, Environment

__all__ = [
    "ACTION_APPROVE",
    "ACTION_CANCEL",
    "ACTION_DELETE_CONFIRM",
    "ACTION_DELETE_NOW",
    "ACTION_DENY",
    "ACTION_EXPIRE",
    "ACTION_EXTEND",
    "ACTION_KEEP",
    "ACTION_REMOVE_ORPHAN",
    "DEPLOY_STEPS",
    "LAUNCH_FORM",
    "Message",
    "approval_decided",
    "approval_request",
    "credentials",
    "delete_confirmation",
    "deploy_progress",
    "environment_list",
    "expiry_warning",
    "home_view",
    "hub_unreachable",
    "idle_warning",
    "launch_form",
    "missing_release",
    "orphan_namespace",
    "status",
    "text_message",
]

ACTION_APPROVE = "approve_request"
ACTION_DENY = "deny_request"
ACTION_EXPIRE = "expire_environment"
ACTION_EXTEND = "extend_environment"
ACTION_KEEP = "keep_environment"
ACTION_DELETE_CONFIRM = "delete_confirmed"
ACTION_DELETE_NOW = "delete_now"
ACTION_CANCEL = "cancel"
ACTION_REMOVE_ORPHAN = "remove_orphan"
LAUNCH_FORM = "launch_form"

Message = dict[str, Any]
Block = dict[str, Any]

_STATE_LABEL = {
    State.REQUESTED: ":hourglass: requested",
    State.PENDING_APPROVAL: ":raised_hand: waiting for approval",
    State.APPROVED: ":white_check_mark: approved",
    State.DEPLOYING: ":gear: deploying",
    State.READY: ":large_green_circle: ready",
    State.EXPIRING: ":wastebasket: being removed",
    State.DELETED: ":black_circle: deleted",
    State.DENIED: ":no_entry: denied",
    State.FAILED: ":x: failed",
}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def _slack_date(when: datetime) -> str:
    """Slack renders this in each reader's own time zone."""
    epoch = int(when.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{when:%Y-%m-%d %H:%M} UTC>"


def text_message(text: str) -> Message:
    return {"text": text, "blocks": [_section(text)]}


def _question(text: str, *buttons: Block, summary: str | None = None) -> Message:
    """A message that asks for a click: ``text`` with ``buttons`` under it; ``summary`` is the
    notification text (defaults to ``text``)."""
    return {"text": summary or text, "blocks": [_section(text), _actions(*buttons)]}


def _summary(env: Environment, *, show_owner: bool) -> str:
    line = f"*{env.name}* — {_STATE_LABEL[env.state_enum]} · `{env.profile}` on `{env.cluster}`"
    if show_owner:
        line += f" · <@{env.owner_id}>"
    if env.url and env.state_enum is State.READY:
        line += f"\n<{env.url}|{env.url}>"
    if env.expires_at and env.state_enum is State.READY:
        line += f"\nexpires {_slack_date(env.expires_at)}"
    return line


def environment_list(envs: Sequence[Environment], *, show_owner: bool, admin_buttons: bool, now: datetime) -> Message:
    if not envs:
        return text_message("No active environments." if show_owner else "You have no active environments.")
    title = f"{len(envs)} active environment(s)"
    blocks: list[Block] = [_section(f"*{title}*")]
    for env in envs:
        block = _section(_summary(env, show_owner=show_owner))
        if admin_buttons and env.state_enum is State.READY:
            block["accessory"] = _button("Expire", ACTION_EXPIRE, env.id, "danger")
        blocks.append(block)
    blocks.append(_context(f"as of {_slack_date(now)}"))
    return {"text": title, "blocks": blocks}


def status(env: Environment, events: Sequence[AuditEvent], *, now: datetime) -> Message:
    lines = [
        _summary(env, show_owner=True),
        f"namespace `{env.namespace}` · requested {_slack_date(env.created_at)}",
    ]
    if env.expires_at and env.state_enum is State.READY:
        lines.append(f"time left: {format_duration(env.expires_at - now)} · extended {env.extensions} time(s)")
    if env.last_error:
        lines.append(f"last problem: {env.last_error}")
    history = "\n".join(
        f"• {_slack_date(e.at)} {e.action}"
        + (f" → {e.to_state.replace('_', ' ')}" if e.to_state else "")
        + f" by {_who(e.actor)}"
        + (f" ({e.detail})" if e.detail and e.action != "request" else "")
        for e in events
    )
    blocks = [_section("\n".join(lines))]
    if history:
        blocks.append(_context(f"*Recent events*\n{history}"))
    return {"text": f"{env.name}: {env.state.replace('_', ' ')}", "blocks": blocks}


def _who(actor: str) -> str:
    return f"<@{actor}>" if actor.startswith(("U", "W")) else actor


def approval_request(env: Environment) -> Message:
    text = (
        f"<@{env.owner_id}> asks for a JupyterHub *{env.name}*: profile `{env.profile}` on "
        f"`{env.cluster}` for {format_duration(env.lifetime)}."
    )
    return _question(
        text,
        _button("Approve", ACTION_APPROVE, env.id, "primary"),
        _button("Deny", ACTION_DENY, env.id, "danger"),
        summary=f"Approval needed: {env.name} for <@{env.owner_id}>",
    )


def approval_decided(env: Environment, *, approved: bool, by: str) -> Message:
    verdict = f"approved by <@{by}>" if approved else f"denied by <@{by}>"
    text = (
        f"<@{env.owner_id}>'s request for *{env.name}* (`{env.profile}` on `{env.cluster}`, "
        f"{format_duration(env.lifetime)}) was {verdict}."
    )
    return text_message(text)


def credentials(env: Environment, *, username: str, password: str) -> Message:
    """Only ever sent to the owner, privately."""
    text = f"Your JupyterHub *{env.name}* is ready: {env.url}"
    lines = [
        f":rocket: Your JupyterHub *{env.name}* is ready.",
        f"*URL:* <{env.url}|{env.url}>",
        f"*Username:* `{username}`",
        f"*Password:* `{password}`",
    ]
    if env.expires_at:
        lines.append(f"It expires {_slack_date(env.expires_at)}; `/jupyterhub extend {env.name}` gives it more time.")
    return {"text": text, "blocks": [_section("\n".join(lines)), _context("Only you can see this message.")]}


def delete_confirmation(env: Environment) -> Message:
    text = f"Delete *{env.name}*? Its hub, notebooks and volumes are removed for good."
    return _question(
        text,
        _button(f"Delete {env.name}", ACTION_DELETE_CONFIRM, env.id, "danger"),
        _button("Cancel", ACTION_CANCEL, env.id),
        summary=f"Delete {env.name}?",
    )


def launch_form(
    *,
    profiles: Sequence[tuple[str, str]],
    clusters: Sequence[str],
    lifetimes: Sequence[timedelta],
    default_lifetime: timedelta,
    private_metadata: str = "",
) -> dict[str, Any]:
    """The modal opened by a bare ``/jupyterhub launch``; profiles are (name, description)."""

    def option(value: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}

    def select(block_id: str, label: str, options: list[dict[str, Any]]) -> Block:
        return {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": label},
            "element": {
                "type": "static_select",
                "action_id": "value",
                "options": options,
                "initial_option": options[0],
            },
        }

    lifetime_options = [option(format_duration(t).replace(" ", ""), format_duration(t)) for t in lifetimes]
    default_value = format_duration(default_lifetime).replace(" ", "")
    lifetime_block = select("lifetime", "Lifetime", lifetime_options)
    for opt in lifetime_options:
        if opt["value"] == default_value:
            lifetime_block["element"]["initial_option"] = opt
    return {
        "type": "modal",
        "callback_id": LAUNCH_FORM,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Launch a JupyterHub"},
        "submit": {"type": "plain_text", "text": "Launch"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Name"},
                "hint": {"type": "plain_text", "text": "Lowercase letters, digits and '-', e.g. thesis-hub"},
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 30},
            },
            select(
                "profile",
                "Profile",
                [option(name, f"{name} — {desc}" if desc else name) for name, desc in profiles],
            ),
            select("cluster", "Cluster", [option(c, c) for c in clusters]),
            lifetime_block,
        ],
    }


def idle_warning(env: Environment, *, idle_for: timedelta, grace: timedelta) -> Message:
    text = (
        f":zzz: Your JupyterHub *{env.name}* has not been used for {format_duration(idle_for)}. "
        f"It will be removed in {format_duration(grace)} unless you keep it."
    )
    return _question(
        text,
        _button("Keep it", ACTION_KEEP, env.id, "primary"),
        _button("Delete now", ACTION_DELETE_NOW, env.id, "danger"),
    )


def expiry_warning(env: Environment, *, left: timedelta) -> Message:
    text = f":hourglass: Your JupyterHub *{env.name}* expires in {format_duration(left)}."
    return _question(
        text,
        _button("Extend", ACTION_EXTEND, env.id, "primary"),
        _button("Delete now", ACTION_DELETE_NOW, env.id, "danger"),
    )


def hub_unreachable(env: Environment, *, failures: int, reason: str) -> Message:
    text = (
        f":warning: The hub *{env.name}* of <@{env.owner_id}> (`{env.namespace}` on `{env.cluster}`) did not "
        f"answer {failures} activity checks in a row ({reason}). It is not treated as idle and will not be "
        "removed for that."
    )
    return text_message(text)


def orphan_namespace(cluster: str, namespace: str, env_id: str) -> Message:
    text = (
        f":mag: `{namespace}` on `{cluster}` carries this bot's label but no active environment owns it"
        f"{f' (environment id `{env_id}`)' if env_id else ''}. Nothing was deleted."
    )
    return _question(text, _button("Remove it", ACTION_REMOVE_ORPHAN, f"{cluster}/{namespace}", "danger"))


def missing_release(env: Environment) -> Message:
    text = (
        f":mag: *{env.name}* of <@{env.owner_id}> is recorded as ready, but its namespace `{env.namespace}` is "
        f"gone from `{env.cluster}`."
    )
    return _question(text, _button("Expire", ACTION_EXPIRE, env.id, "danger"))


def home_view(envs: Sequence[Environment], *, admin: bool, viewer: str, now: datetime) -> dict[str, Any]:
    """The App Home tab: everyone's environments for admins, your own for everyone else."""
    title = "All environments" if admin else "Your environments"
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    if not envs:
        blocks.append(_section("Nothing active. Start one with `/jupyterhub launch`."))
    for env in envs:
        line = _summary(env, show_owner=admin)
        if env.last_activity_at and env.state_enum is State.READY:
            line += f"\nidle for {format_duration(now - env.last_activity_at)}"
        blocks.append(_section(line))
        buttons = []
        if env.state_enum is State.READY:
            if env.owner_id == viewer:
                buttons.append(_button("Extend", ACTION_EXTEND, env.id))
                buttons.append(_button("Delete", ACTION_DELETE_NOW, env.id, "danger"))
            if admin:
                buttons.append(_button("Expire", ACTION_EXPIRE, env.id, "danger"))
        if buttons:
            blocks.append(_actions(*buttons))
    blocks.append(_context(f"Updated {_slack_date(now)}"))
    return {"type": "home", "blocks": blocks}


DEPLOY_STEPS = ("request accepted", "namespace created", "chart installed, hub ready")


def deploy_progress(
    env: Environment, done: Sequence[str], *, url: str | None = None, failed: str | None = None
) -> Message:
    """The requester's private progress message, updated in place as the deploy goes."""
    lines = [f"*Launching {env.name}* (`{env.profile}` on `{env.cluster}`)"]
    for step in DEPLOY_STEPS:
        lines.append(f"{':white_check_mark:' if step in done else ':white_square:'} {step}")
    if url:
        lines.append(f":rocket: ready at <{url}|{url}>; your login is in the next message.")
    if failed:
        lines.append(f":x: {failed}")
    state = "ready" if url else "failed" if failed else done[-1] if done else "starting"
    return {"text": f"Launching {env.name}: {state}", "blocks": [_section("\n".join(lines))]}
