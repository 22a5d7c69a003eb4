"""One place that turns the core's answers and refusals into private Slack replies."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.errors import BotError
from bot.core.notices import Notice
from bot.slack.blocks import Message, text_message
from bot.slack.render import problem, render
from bot.slack.services import Services
from bot.slack.wording import GENERIC_FAILURE

__all__ = ["after_ack", "answer_in_ack", "reply_privately", "run_and_reply"]

log = logging.getLogger(__name__)


def after_ack(context: AsyncBoltContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` once the listener has acknowledged, as a tracked background task.

    Listeners ack and return at once (``process_before_response``), so Slack gets its
    answer immediately; the work goes on without holding the response."""
    services: Services = context["services"]
    services.lifecycle.work.spawn(work)


async def reply_privately(
    respond: AsyncRespond,
    message: Message,
    *,
    replace: bool = False,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """An ephemeral reply through ``response_url``: only the person who acted sees it."""
    if session is None or not respond.response_url:
        await respond(response_type="ephemeral", replace_original=replace, **message)
        return
    webhook = AsyncWebhookClient(respond.response_url, session=session, timeout=10)
    await webhook.send_dict({"response_type": "ephemeral", "replace_original": replace, **message})


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
    respond: AsyncRespond,
    work: Awaitable[Notice | None],
    *,
    replace: bool = False,
    dm: Callable[[Message], Awaitable[object]] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """Await ``work``; send its answer, or the reason it failed, privately.

    ``replace`` swaps the message that holds the clicked button (only on success: a
    refusal leaves the buttons where they were). Clicks in the App Home carry no
    ``response_url``; their answer goes through ``dm``."""
    message, succeeded = await message_of(work)
    if message is None:
        return
    if respond.response_url:
        await reply_privately(respond, message, replace=replace and succeeded, session=session)
    elif dm is not None:
        await dm(message)


async def answer_in_ack(
    ack: AsyncAck,
    respond: AsyncRespond,
    context: AsyncBoltContext,
    work: Coroutine[Any, Any, Notice],
    *,
    within: float,
) -> None:
    """Answer in the acknowledgement itself when ``work`` is done ``within`` seconds.

    For questions that only read the database and the policy. One HTTP round trip
    instead of an ack plus a response_url post, so the user sees the answer sooner and
    the bot does less work per request. If the answer takes longer (a slow database, a
    group look-up that has to ask Slack), the ack goes out empty and the answer follows
    through response_url, so Slack's 3-second limit is never at risk."""
    services: Services = context["services"]
    answer = asyncio.ensure_future(work)
    done, _ = await asyncio.wait((answer,), timeout=within)
    if not done:
        await ack()
        after_ack(context, run_and_reply(respond, answer, session=services.http))
        return
    message, _succeeded = await message_of(answer)
    if message:
        await ack(response_type="ephemeral", **message)
    else:
        await ack()
