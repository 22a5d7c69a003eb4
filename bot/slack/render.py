"""Notices and problems as Slack messages and views: layout only; every sentence comes
from :mod:`bot.slack.wording`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core import notices as n
from bot.core.durations import format_duration
from bot.core.environment import Environment
from bot.core.problems import Problem
from bot.core.states import State
from bot.slack import wording as w
from bot.slack.blocks import (
    ACTION_APPROVE,
    ACTION_CANCEL,
    ACTION_DELETE_CONFIRM,
    ACTION_DELETE_NOW,
    ACTION_DENY,
    ACTION_EXPIRE,
    ACTION_EXTEND,
    ACTION_KEEP,
    ACTION_REMOVE_ORPHAN,
    LAUNCH_FORM,
    Block,
    Message,
    actions,
    button,
    context,
    header,
    message,
    question,
    section,
    text_message,
)

__all__ = ["home_view", "launch_form", "problem", "render"]


def problem(problem_: Problem) -> Message:
    return text_message(w.describe(problem_))


def _listing(notice: n.EnvironmentListing) -> Message:
    if not notice.envs:
        return text_message(w.nothing_listed(notice.everyone))
    title = w.listing_title(len(notice.envs))
    blocks: list[Block] = [section(f"*{title}*")]
    for env in notice.envs:
        block = section(w.summary(env, show_owner=notice.everyone))
        if notice.admin and env.state is State.READY:
            block["accessory"] = button(w.EXPIRE, ACTION_EXPIRE, env.id, "danger")
        blocks.append(block)
    blocks.append(context(w.as_of(notice.now)))
    return message(title, blocks)


def _status(notice: n.StatusReport) -> Message:
    blocks = [section("\n".join(w.status_lines(notice.env, notice.now)))]
    if notice.events:
        history = "\n".join(w.audit_line(event) for event in notice.events)
        blocks.append(context(f"{w.RECENT_EVENTS}\n{history}"))
    return message(w.status_title(notice.env), blocks)


def _progress(notice: n.DeployProgress) -> Message:
    lines = [w.progress_title(notice.env)]
    lines += [w.progress_step(step, step in notice.done) for step in n.DeployStep]
    if notice.url:
        lines.append(w.progress_ready(notice.url))
    if notice.failure is not None:
        lines.append(w.progress_failed(notice.failure))
    summary = w.progress_summary(
        notice.env, notice.done, ready=notice.url is not None, failed=notice.failure is not None
    )
    return message(summary, [section("\n".join(lines))])


def _credentials(notice: n.Credentials) -> Message:
    lines = w.credentials_lines(notice.env, notice.username, notice.password)
    return message(w.credentials_summary(notice.env), [section("\n".join(lines)), context(w.ONLY_YOU)])


def render(notice: n.Notice) -> Message:
    """The Slack message for ``notice``."""
    match notice:
        case n.LaunchAccepted(env=env):
            return text_message(w.launch_accepted(env))
        case n.EnvironmentListing():
            return _listing(notice)
        case n.StatusReport():
            return _status(notice)
        case n.CredentialsResent(env=env):
            return text_message(w.credentials_resent(env))
        case n.Extended(env=env, now=now):
            return text_message(w.extended(env, now))
        case n.DeleteConfirmation(env=env):
            return question(
                w.delete_question(env),
                button(w.delete_button(env), ACTION_DELETE_CONFIRM, env.id, "danger"),
                button(w.CANCEL, ACTION_CANCEL, env.id),
                summary=w.delete_summary(env),
            )
        case n.Deleting(env=env):
            return text_message(w.deleting(env))
        case n.Expiring(env=env):
            return text_message(w.expiring(env))
        case n.Kept(env=env):
            return text_message(w.kept(env))
        case n.OrphanRemoved(namespace=namespace):
            return text_message(w.orphan_removed(namespace))
        case n.Help():
            return text_message(w.usage())
        case n.DeployProgress():
            return _progress(notice)
        case n.Credentials():
            return _credentials(notice)
        case n.CredentialsWithdrawn(env=env):
            return text_message(w.credentials_withdrawn(env))
        case n.DeployFailed(env=env, problem=failure, cleaned_up=cleaned_up):
            return text_message(w.deploy_failed(env, failure, cleaned_up))
        case n.ApprovalRequest(env=env):
            return question(
                w.approval_request(env),
                button(w.APPROVE, ACTION_APPROVE, env.id, "primary"),
                button(w.DENY, ACTION_DENY, env.id, "danger"),
                summary=w.approval_summary(env),
            )
        case n.ApprovalDecided(env=env, approved=approved, by=by):
            return text_message(w.approval_decided(env, approved, by))
        case n.ApprovalWithdrawn(env=env):
            return text_message(w.approval_withdrawn(env))
        case n.RequestDecided(env=env, approved=approved, by=by):
            return text_message(w.request_decided(env, approved, by))
        case n.Removed(env=env, removal=removal):
            return text_message(w.removed(env, removal))
        case n.IdleWarning(env=env, idle_for=idle_for, grace=grace):
            return question(
                w.idle_warning(env, idle_for, grace),
                button(w.KEEP, ACTION_KEEP, env.id, "primary"),
                button(w.DELETE_NOW, ACTION_DELETE_NOW, env.id, "danger"),
            )
        case n.ExpiryWarning(env=env, left=left):
            return question(
                w.expiry_warning(env, left),
                button(w.EXTEND, ACTION_EXTEND, env.id, "primary"),
                button(w.DELETE_NOW, ACTION_DELETE_NOW, env.id, "danger"),
            )
        case n.HubUnreachable(env=env, failures=failures, reason=reason):
            return text_message(w.hub_unreachable(env, failures, reason))
        case n.OrphanFound(cluster=cluster, namespace=namespace, env_id=env_id):
            return question(
                w.orphan_found(cluster, namespace, env_id),
                button(w.REMOVE_IT, ACTION_REMOVE_ORPHAN, f"{cluster}/{namespace}", "danger"),
            )
        case n.ClusterUnusable(cluster=cluster, reason=reason):
            return text_message(w.cluster_unusable(cluster, reason))
        case n.MissingRelease(env=env):
            return question(w.missing_release(env), button(w.EXPIRE, ACTION_EXPIRE, env.id, "danger"))
    raise TypeError(f"no Slack rendering for {type(notice).__name__}")


def home_view(
    envs: Sequence[Environment], *, everyone: bool, admin: bool, viewer: str, now: datetime
) -> dict[str, Any]:
    """The App Home tab: everyone's environments for admins, your own for everyone else."""
    blocks: list[Block] = [header(w.home_title(everyone))]
    if not envs:
        blocks.append(section(w.NOTHING_ACTIVE))
    for env in envs:
        line = w.summary(env, show_owner=everyone)
        if env.state is State.READY and env.last_activity_at:
            line += "\n" + w.idle_for(env, now)
        blocks.append(section(line))
        buttons = []
        if env.state is State.READY:
            if env.owner_id == viewer:
                buttons.append(button(w.EXTEND, ACTION_EXTEND, env.id))
                buttons.append(button(w.DELETE, ACTION_DELETE_NOW, env.id, "danger"))
            if admin:
                buttons.append(button(w.EXPIRE, ACTION_EXPIRE, env.id, "danger"))
        if buttons:
            blocks.append(actions(*buttons))
    blocks.append(context(w.updated(now)))
    return {"type": "home", "blocks": blocks}


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
    lifetime_block = select("lifetime", w.FORM_LIFETIME, lifetime_options)
    for opt in lifetime_options:
        if opt["value"] == default_value:
            lifetime_block["element"]["initial_option"] = opt
    return {
        "type": "modal",
        "callback_id": LAUNCH_FORM,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": w.FORM_TITLE},
        "submit": {"type": "plain_text", "text": w.FORM_SUBMIT},
        "close": {"type": "plain_text", "text": w.FORM_CLOSE},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": w.FORM_NAME},
                "hint": {"type": "plain_text", "text": w.FORM_NAME_HINT},
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 30},
            },
            select("profile", w.FORM_PROFILE, [option(name, w.profile_option(name, desc)) for name, desc in profiles]),
            select("cluster", w.FORM_CLUSTER, [option(c, c) for c in clusters]),
            lifetime_block,
        ],
    }
