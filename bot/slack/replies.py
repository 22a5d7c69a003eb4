"""One place that turns expected failures into polite private replies."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import blocks
from bot.errors import BotError
from bot.services import Services

__all__ = ["after_ack", "reply_privately", "run_and_reply"]

log = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Something went wrong on our side and nothing was changed. The admins can see the details in the logs."
)


def after_ack(context: AsyncBoltContext, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` once the listener has acknowledged, as a tracked background task.

    Listeners ack and return at once (``process_before_response``), so Slack gets its
    answer immediately; the work goes on without holding the response."""
    services: Services = context["services"]
    services.lifecycle.spawn(work)


async def reply_privately(
    respond: AsyncRespond,
    message: dict[str, Any],
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


async def run_and_reply(
    respond: AsyncRespond,
    work: Awaitable[dict[str, Any] | None],
    *,
    replace: bool = False,
    dm: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> None:
    """Await ``work``; send its message, or the reason it failed, privately.

    ``replace`` swaps the message that holds the clicked button (only on success: a
    refusal leaves the buttons where they were). Clicks in the App Home carry no
    ``response_url``; their answer goes through ``dm``."""
    try:
        message = await work
    except BotError as exc:
        message, replace = blocks.text_message(exc.user_message), False
    except Exception:
        log.exception("a Slack request failed")
        message, replace = blocks.text_message(GENERIC_FAILURE), False
    if message is None:
        return
    if respond.response_url:
        await reply_privately(respond, message, replace=replace, session=session)
    elif dm is not None:
        await dm(message)
