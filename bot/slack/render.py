"""Notices and problems as Slack messages and views: layout only; every sentence comes
from :mod:`bot.slack.wording`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core import notices as n
from bot.core.durations import format_duration
from bot.core.environment import Environment
from bot.core.names import MAX_ENV_NAME
from bot.core.problems import Problem
from bot.core.states import State
from bot.slack import limits
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
    ACTION_LIST_NEXT,
    ACTION_LIST_OPEN,
    ACTION_LIST_PREVIOUS,
    ACTION_REMOVE_ORPHAN,
    LAUNCH_FORM,
    Block,
    Message,
    actions,
    button,
    choice_value,
    context,
    header,
    message,
    option,
    page_value,
    plain,
    question,
    section,
    text_message,
)

__all__ = ["HOME_SHOWN", "LIST_PAGE_SIZE", "home_view", "launch_form", "problem", "render"]

# Environments on one page of `list`, and in the App Home (each takes a block or two; Slack
# allows 50 blocks in a message and 100 in the Home tab).
LIST_PAGE_SIZE = 20
HOME_SHOWN = 20
# Options in one menu of the launch form: two full menus stay well inside a view's 250 kB.
FORM_MENU_OPTIONS = 400

# Most relevant first: what waits for an admin, then what is changing, then what runs.
_RANK = {
    State.PENDING_APPROVAL: 0,
    State.REQUESTED: 1,
    State.APPROVED: 1,
    State.DEPLOYING: 1,
    State.EXPIRING: 2,
    State.READY: 3,
}


def problem(problem_: Problem) -> Message:
    return text_message(w.describe(problem_))


def _relevance(env: Environment) -> tuple[int, datetime, datetime, str]:
    """Sort key: by state (see :data:`_RANK`), then the soonest to expire (or the oldest)."""
    return (_RANK.get(env.state, len(_RANK)), env.expires_at or env.created_at, env.created_at, env.id)


def _counts(envs: Sequence[Environment]) -> dict[State, int]:
    """How many are in each state, in the order of relevance."""
    counted = Counter(env.state for env in envs)
    return {state: counted[state] for state in sorted(counted, key=lambda s: (_RANK.get(s, len(_RANK)), s))}


def _within_lines(lines: Sequence[str], limit: int) -> str:
    """As many whole ``lines`` as fit in ``limit`` characters, then how many were left out."""
    kept: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        reserve = len(w.and_more(len(lines))) + 1 if i < len(lines) - 1 else 0
        if used + len(line) + 1 + reserve > limit:
            kept.append(w.and_more(len(lines) - i))
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def _pools(pools: Sequence[n.PoolStatus]) -> list[Block]:
    """The warm pools, for the admins: one section, whatever their number."""
    if not pools:
        return []
    return [section(_within_lines([w.POOLS_HEADING, *(w.pool_line(pool) for pool in pools)], limits.SECTION_TEXT))]


def _listing(notice: n.EnvironmentListing) -> Message:
    """One page of environments, most relevant first, with buttons to the pages around it,
    after the warm pools (in a listing of everyone's)."""
    if not notice.envs:
        if not notice.pools:
            return text_message(w.nothing_listed(notice.everyone))
        text = w.nothing_listed(notice.everyone)
        return message(text, [section(text), *_pools(notice.pools)])
    envs = sorted(notice.envs, key=_relevance)
    pages = -(-len(envs) // LIST_PAGE_SIZE)
    page = min(max(notice.page, 1), pages)
    blocks: list[Block] = [section(w.listing_heading(len(envs), _counts(envs), page, pages)), *_pools(notice.pools)]
    for env in envs[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE]:
        block = section(w.summary(env, show_owner=notice.everyone))
        if notice.admin and env.state is State.READY:
            block["accessory"] = button(w.EXPIRE, ACTION_EXPIRE, env.id, "danger")
        blocks.append(block)
    blocks.append(context(w.listing_footer(notice.now, notice.everyone, page, pages)))
    paging = []
    if page > 1:
        paging.append(button(w.PREVIOUS, ACTION_LIST_PREVIOUS, page_value(notice.everyone, page - 1)))
    if page < pages:
        paging.append(button(w.NEXT, ACTION_LIST_NEXT, page_value(notice.everyone, page + 1)))
    if paging:
        blocks.append(actions(*paging))
    return message(w.listing_title(len(envs)), blocks)


def _status(notice: n.StatusReport) -> Message:
    blocks = [section("\n".join(w.status_lines(notice.env, notice.now)))]
    if notice.events:
        lines = [w.RECENT_EVENTS] + [w.audit_line(event) for event in notice.events]
        blocks.append(context(_within_lines(lines, limits.SECTION_TEXT)))
    return message(w.status_title(notice.env), blocks)


def _orphan_found(notice: n.OrphanFound) -> Message:
    text = w.orphan_found(notice.cluster, notice.namespace, notice.env_id)
    value = f"{notice.cluster}/{notice.namespace}"
    if len(value) > limits.BUTTON_VALUE:
        # A cluster name too long for a button: the admins are told all the same.
        return text_message(text)
    return question(text, button(w.REMOVE_IT, ACTION_REMOVE_ORPHAN, value, "danger"))


def _progress(notice: n.DeployProgress) -> Message:
    lines = [w.progress_title(notice.env)]
    lines += [w.progress_step(step, step in notice.done, notice.source) for step in notice.steps]
    if (source := w.progress_source(notice.source)) is not None:
        lines.append(source)
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
        case n.OrphanFound():
            return _orphan_found(notice)
        case n.ClusterUnusable(cluster=cluster, reason=reason):
            return text_message(w.cluster_unusable(cluster, reason))
        case n.PoolFailing(pool=pool, problem=problem_):
            return text_message(w.pool_failing(pool, problem_))
        case n.MissingRelease(env=env):
            return question(w.missing_release(env), button(w.EXPIRE, ACTION_EXPIRE, env.id, "danger"))
    raise TypeError(f"no Slack rendering for {type(notice).__name__}")


def home_view(
    envs: Sequence[Environment],
    *,
    everyone: bool,
    admin: bool,
    viewer: str,
    now: datetime,
    pools: Sequence[n.PoolStatus] = (),
) -> dict[str, Any]:
    """The App Home tab: for admins, a summary of everyone's environments and the most relevant
    of them (the viewer's own first); for everyone else, their own. At most
    :data:`HOME_SHOWN`, and a pointer to ``list`` for the rest."""
    blocks: list[Block] = [header(w.home_title(everyone))]
    if not envs:
        blocks.append(section(w.NOTHING_ACTIVE))
    elif everyone:
        blocks.append(section(w.home_counts(len(envs), _counts(envs))))
    blocks += _pools(pools)
    shown = sorted(envs, key=lambda env: (env.owner_id != viewer, _relevance(env)))[:HOME_SHOWN]
    for env in shown:
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
    if len(shown) < len(envs):
        blocks.append(context(w.home_more(len(shown), len(envs), everyone)))
        blocks.append(actions(button(w.LIST_THEM_ALL, ACTION_LIST_OPEN, page_value(everyone, 1))))
    blocks.append(context(w.updated(now)))
    return {"type": "home", "blocks": blocks}


def _select(block_id: str, label: str, options: list[dict[str, Any]], initial: dict[str, Any]) -> Block:
    """A required menu; more options than one menu holds go into numbered groups."""
    element: Block = {"type": "static_select", "action_id": "value", "initial_option": initial}
    options = options[:FORM_MENU_OPTIONS]
    if len(options) <= limits.SELECT_OPTIONS:
        element["options"] = options
    else:
        size = limits.SELECT_OPTIONS
        element["option_groups"] = [
            {
                "label": plain(w.option_group(label, first + 1, min(first + size, len(options))), limits.OPTION_TEXT),
                "options": options[first : first + size],
            }
            for first in range(0, len(options), size)
        ]
    return {"type": "input", "block_id": block_id, "label": plain(label, limits.INPUT_LABEL), "element": element}


def launch_form(
    *,
    profiles: Sequence[tuple[str, str]],
    clusters: Sequence[str],
    lifetimes: Sequence[timedelta],
    default_lifetime: timedelta,
    private_metadata: str = "",
) -> dict[str, Any]:
    """The modal opened by a bare ``/jupyterhub launch``; profiles are (name, description).

    Policy names longer than an option value may be are sent as digests
    (:func:`bot.slack.blocks.choice_value`); :func:`bot.slack.blocks.chosen` reads them back."""
    profile_options = [option(choice_value(name), w.profile_option(name, desc)) for name, desc in profiles]
    cluster_options = [option(choice_value(name), name) for name in clusters]
    lifetime_options = [option(format_duration(t).replace(" ", ""), format_duration(t)) for t in lifetimes]
    default_value = format_duration(default_lifetime).replace(" ", "")
    default_option = next((o for o in lifetime_options if o["value"] == default_value), lifetime_options[0])
    return {
        "type": "modal",
        "callback_id": LAUNCH_FORM,
        "private_metadata": private_metadata,
        "title": plain(w.FORM_TITLE, limits.VIEW_TITLE),
        "submit": plain(w.FORM_SUBMIT, limits.VIEW_BUTTON),
        "close": plain(w.FORM_CLOSE, limits.VIEW_BUTTON),
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": plain(w.FORM_NAME, limits.INPUT_LABEL),
                "hint": plain(w.FORM_NAME_HINT, limits.INPUT_HINT),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": MAX_ENV_NAME},
            },
            _select("profile", w.FORM_PROFILE, profile_options, profile_options[0]),
            _select("cluster", w.FORM_CLUSTER, cluster_options, cluster_options[0]),
            _select("lifetime", w.FORM_LIFETIME, lifetime_options, default_option),
        ],
    }
