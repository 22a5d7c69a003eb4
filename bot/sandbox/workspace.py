"""What a Slack workspace shows its people: conversations with their messages, each
person's App Home and open modal, and a feed of every change for the sandbox's page.

The emulator (:mod:`bot.sandbox.emulator`) applies what the bot does to it (posts, edits,
ephemeral replies, views); the page replays the feed from the start and then follows it,
so a page opened late, or reconnected, shows the same as one that watched throughout.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Change", "Message", "ReplyTarget", "Workspace"]


@dataclass
class Message:
    channel: str
    ts: str
    author: str  # a user ID, or the bot's user ID
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    # Only this person sees an ephemeral message ("Only visible to you").
    visible_to: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReplyTarget:
    """Where a ``response_url`` posts: the person who acted, the conversation, and the
    message that carried the clicked button (empty for a slash command)."""

    user: str
    channel: str
    message_ts: str = ""


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str  # message | delete | home | modal | modal_closed | status | refused
    data: dict[str, Any]


class Workspace:
    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], Message] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        # Each person's open modal, and which person each view ID belongs to.
        self.modals: dict[str, dict[str, Any]] = {}
        self._view_owner: dict[str, str] = {}
        self.changes: list[Change] = []
        self._seq = itertools.count(1)
        self._ts = itertools.count(1)
        # Set when something changes, then replaced by a fresh one for the next change.
        self._changed = asyncio.Event()

    # -- what changes ------------------------------------------------------------------------

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        self.changes.append(Change(next(self._seq), kind, data))
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def new_ts(self, now: float) -> str:
        return f"{int(now)}.{next(self._ts):06d}"

    def post(self, message: Message) -> Message:
        self.messages[(message.channel, message.ts)] = message
        self._emit("message", message.as_dict())
        return message

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Message | None:
        message = self.messages.get((channel, ts))
        if message is None:
            return None
        message.text, message.blocks = text, blocks
        self._emit("message", message.as_dict())
        return message

    def delete(self, channel: str, ts: str) -> None:
        if self.messages.pop((channel, ts), None) is not None:
            self._emit("delete", {"channel": channel, "ts": ts})

    def reply(self, target: ReplyTarget, payload: dict[str, Any], now: float) -> None:
        """A ``response_url`` post, as Slack applies it."""
        if payload.get("delete_original"):
            self.delete(target.channel, target.message_ts)
            return
        text, blocks = str(payload.get("text", "")), list(payload.get("blocks") or [])
        if payload.get("replace_original") and self.update(target.channel, target.message_ts, text, blocks):
            return
        visible_to = "" if payload.get("response_type") == "in_channel" else target.user
        self.post(Message(target.channel, self.new_ts(now), "UBOT", text, blocks, visible_to))

    def publish_home(self, user: str, view: dict[str, Any]) -> None:
        self.homes[user] = view
        self._emit("home", {"user": user, "view": view})

    def open_modal(self, user: str, view: dict[str, Any]) -> None:
        self.modals[user] = view
        self._view_owner[str(view["id"])] = user
        self._emit("modal", {"user": user, "view": view})

    def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        user = self._view_owner.get(view_id)
        if user is None:
            return
        if self.homes.get(user, {}).get("id") == view_id:
            self.publish_home(user, view)
        else:
            self.open_modal(user, view)

    def close_modal(self, user: str) -> None:
        if self.modals.pop(user, None) is not None:
            self._emit("modal_closed", {"user": user})

    def owner_of_view(self, view_id: str) -> str:
        return self._view_owner.get(view_id, "")

    def remember_view(self, user: str, view_id: str) -> None:
        self._view_owner[view_id] = user

    def status(self, data: dict[str, Any]) -> None:
        """Something the sandbox itself reports (the cluster's progress, the bot starting)."""
        self._emit("status", data)

    def refused(self, method: str, problems: list[str]) -> None:
        self._emit("refused", {"method": method, "problems": problems[:10]})

    # -- following it ------------------------------------------------------------------------

    def since(self, seq: int) -> list[Change]:
        return [change for change in self.changes if change.seq > seq]

    async def wait_after(self, seq: int, timeout: float) -> list[Change]:
        """The changes after ``seq``, waiting up to ``timeout`` seconds for one."""
        if not self.since(seq):
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return []
        return self.since(seq)
