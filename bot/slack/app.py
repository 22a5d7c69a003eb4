"""Build the Bolt app: the Slack client, the listeners, one error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import wording
from bot.slack.listeners import register_listeners
from bot.slack.services import Services

__all__ = ["build_app", "build_client"]

log = logging.getLogger(__name__)


def build_client(token: str, api_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """A Web API client; with ``session`` its connections are pooled instead of opened per call."""
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    client = AsyncWebClient(token=token, base_url=base_url, timeout=10, session=session)
    # Slack asks clients to wait and retry on 429 (Retry-After) and on its own 5xx errors.
    client.retry_handlers.extend(
        [AsyncRateLimitErrorRetryHandler(max_retry_count=2), AsyncServerErrorRetryHandler(max_retry_count=2)]
    )
    return client


def build_app(
    services: Services,
    *,
    client: AsyncWebClient,
    signing_secret: str | None,
) -> AsyncApp:

    async def this_installation_only(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Requests from another workspace or app do nothing, in HTTP and Socket Mode alike.

        Runs before Bolt's own authorization, so a stranger's request costs no Slack call."""
        refusal = services.workspace.refusal(body)
        if refusal is not None:
            log.warning("refused a request from outside this installation: %s", refusal)
            if "command" in body:
                return BoltResponse(status=200, body={"response_type": "ephemeral", "text": wording.FOREIGN_WORKSPACE})
            return BoltResponse(status=403, body={"error": "not for this installation"})
        context["services"] = services
        return await next()

    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        # Socket Mode has no signature to check; HTTP mode always does.
        request_verification_enabled=signing_secret is not None,
        # Listeners ack and hand their work to a background task (replies.after_ack), so
        # the response goes out when the listener returns, without Bolt's ack polling.
        process_before_response=True,
        before_authorize=this_installation_only,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for a %s request", body.get("type") or "slash command", exc_info=error)

    register_listeners(app)
    return app
