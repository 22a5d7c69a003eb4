"""One place that turns the core's answers and refusals into private Slack replies.

Private replies go back through the request's ``response_url`` (see
:mod:`bot.slack.response_url`); a reply that can no longer use it goes by direct message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core.errors import BotError
from bot.core.notices import Notice
from bot.slack.blocks import Message, text_message
from bot.slack.identity import safe_response_url
from bot.slack.render import problem, render
from bot.slack.response_url import ResponseUrl
from bot.slack.services import Services
from bot.slack.wording import GENERIC_FAILURE

__all__ = ["ResponseUrl", "after_ack", "answer_in_ack", "message_of", "response_url", "run_and_reply"]

log = logging.getLogger(__name__)


def response_url(body: dict[str, Any], services: Services) -> ResponseUrl | None:
    """The request's ``response_url``, if it has one we may post to (App Home clicks have none)."""
    url = body.get("response_url")
    installation = services.workspace.installation
    if not isinstance(url, str) or installation is None:
        return None
    if not safe_response_url(url, installation, services.api_url):
        log.warning("ignored a response_url outside this workspace's Slack")
        return None
    return ResponseUrl(url, services.http, services.lifecycle.now)


def after_ack(context: AsyncBoltContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` once the listener has acknowledged, as a tracked background task.

    Listeners ack and return at once (``process_before_response``), so Slack gets its
    answer immediately; the work goes on without holding the response."""
    services: Services = context["services"]
    services.lifecycle.work.spawn(work)


async def message_of(work: Awaitable[Notice | None]) -> tuple[Message | None, bool]:
    """Await ``work``: its answer, or the polite reason it failed; and whether it succeeded."""
    try:
        notice = await work
    except BotError as exc:
        return problem(exc.problem), False
    except Exception:
        log.exception("a Slack request failed")
        return text_message(GENERIC_FAILURE), False
    return (render(notice) if notice is not None else None), True


async def run_and_reply(
    reply: ResponseUrl | None,
    work: Awaitable[Notice | None],
    *,
    replace: bool = False,
    dm: Callable[[Message], Awaitable[object]] | None = None,
) -> None:
    """Await ``work``; send its answer, or the reason it failed, privately.

    ``replace`` swaps the message that holds the clicked button (only on success: a
    refusal leaves the buttons where they were). Without a usable ``response_url`` (a
    click in the App Home, or a late answer) the answer goes through ``dm``."""
    message, succeeded = await message_of(work)
    if message is None:
        return
    if reply is not None and await reply.post(message, replace=replace and succeeded):
        return
    if dm is not None:
        await dm(message)


async def answer_in_ack(
    ack: AsyncAck,
    reply: ResponseUrl | None,
    context: AsyncBoltContext,
    work: Coroutine[Any, Any, Notice | None],
    *,
    within: float,
) -> None:
    """Answer in the acknowledgement itself when ``work`` is done ``within`` seconds.

    For questions that only read the database and the policy. One HTTP round trip
    instead of an ack plus a response_url post, so the user sees the answer sooner and
    the bot does less work per request. If the answer takes longer (a slow database, a
    group look-up that has to ask Slack), the ack goes out empty and the answer follows
    through response_url, so Slack's 3-second limit is never at risk."""
    answer = asyncio.ensure_future(work)
    done, _ = await asyncio.wait((answer,), timeout=within)
    if not done:
        await ack()
        after_ack(context, run_and_reply(reply, answer))
        return
    message, _succeeded = await message_of(answer)
    if message:
        await ack(response_type="ephemeral", **message)
    else:
        await ack()
