"""Block Kit: the action ids of our buttons and forms, and the few building blocks every
message is made of. No wording here (see :mod:`bot.slack.wording`), no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    "LAUNCH_FORM",
    "Block",
    "Message",
    "actions",
    "button",
    "context",
    "header",
    "question",
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
LAUNCH_FORM = "launch_form"

Message = dict[str, Any]
Block = dict[str, Any]


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
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
