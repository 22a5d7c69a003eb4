"""Block Kit: the action ids of our buttons and forms, and the few building blocks every
message is made of. No wording here (see :mod:`bot.slack.wording`), no I/O.

The building blocks keep their own text within Slack's limits (:mod:`bot.slack.limits`):
labels are shortened, and a section or context that would still be too long is cut in the
middle, with :data:`TRIMMED` in its place. Slack refuses a whole message over a limit, so
a cut message is always better than none; the wording keeps every sentence well within
the limits, and the tests check that nothing is ever cut.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from bot.slack import limits

__all__ = [
    "ACTION_APPROVE",
    "ACTION_CANCEL",
    "ACTION_DELETE_CONFIRM",
    "ACTION_DELETE_NOW",
    "ACTION_DENY",
    "ACTION_EXPIRE",
    "ACTION_EXTEND",
    "ACTION_KEEP",
    "ACTION_LIST_NEXT",
    "ACTION_LIST_OPEN",
    "ACTION_LIST_PREVIOUS",
    "ACTION_REMOVE_ORPHAN",
    "LAUNCH_FORM",
    "TRIMMED",
    "Block",
    "Message",
    "actions",
    "button",
    "choice_value",
    "chosen",
    "context",
    "header",
    "option",
    "page_value",
    "plain",
    "question",
    "read_page_value",
    "section",
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
ACTION_LIST_PREVIOUS = "list_previous_page"
ACTION_LIST_NEXT = "list_next_page"
ACTION_LIST_OPEN = "list_open"
LAUNCH_FORM = "launch_form"

# Stands where the middle of a text too long for its block was cut out.
TRIMMED = "\n… (cut to fit a Slack message) …\n"

Message = dict[str, Any]
Block = dict[str, Any]


def _within(text: str, limit: int) -> str:
    """``text``, or its head and tail around :data:`TRIMMED` when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    keep = limit - len(TRIMMED)
    return text[: keep - keep // 2] + TRIMMED + text[len(text) - keep // 2 :]


def _label(text: str, limit: int) -> str:
    """A short plain-text label, ending in an ellipsis if it had to be shortened."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int) -> dict[str, str]:
    return {"type": "plain_text", "text": _label(text, limit)}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _within(text, limits.SECTION_TEXT)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _within(text, limits.SECTION_TEXT)}]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, limits.HEADER_TEXT)}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    """A button; its ``value`` is ours (an id, a page), never longer than Slack allows."""
    if len(value) > limits.BUTTON_VALUE:
        raise ValueError(f"a button value of {len(value)} characters")
    element: Block = {
        "type": "button",
        "text": plain(text, limits.BUTTON_TEXT),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def text_message(text: str) -> Message:
    return {"text": text, "blocks": [section(text)]}


def question(text: str, *buttons: Block, summary: str | None = None) -> Message:
    """A message that asks for a click: ``text`` with ``buttons`` under it; ``summary`` is the
    notification text (defaults to ``text``)."""
    return {"text": summary or text, "blocks": [section(text), actions(*buttons)]}


def message(summary: str, blocks: Sequence[Block]) -> Message:
    return {"text": summary, "blocks": list(blocks)}


# -- select menus ---------------------------------------------------------------------------------


def choice_value(name: str) -> str:
    """A select option's value for a policy name (a profile, a cluster): the name itself, or a
    digest of it when it is longer than an option value may be."""
    if len(name) <= limits.OPTION_VALUE:
        return name
    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()


def chosen(value: str, names: Sequence[str]) -> str:
    """The policy name a submitted option ``value`` stands for (``value`` itself if none does)."""
    if value in names:
        return value
    return next((name for name in names if choice_value(name) == value), value)


def option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, limits.OPTION_TEXT), "value": value}


# -- paging -----------------------------------------------------------------------------------------

_PAGE_VALUE = re.compile(r"(all|own):([1-9][0-9]{0,5})")


def page_value(everyone: bool, page: int) -> str:
    """A paging button's value: whose environments, and which page."""
    return f"{'all' if everyone else 'own'}:{page}"


def read_page_value(value: str) -> tuple[bool, int] | None:
    """``(everyone, page)`` from a paging button's value; ``None`` if it is not one of ours."""
    match = _PAGE_VALUE.fullmatch(value)
    if match is None:
        return None
    return match.group(1) == "all", int(match.group(2))
