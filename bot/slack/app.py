"""Build the Bolt app: the Slack client, the listeners, one error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.problems import ChatUnavailable
from bot.slack import wording
from bot.slack.listeners import register_listeners
from bot.slack.services import Services

__all__ = ["build_app", "build_client"]

log = logging.getLogger(__name__)


def build_client(token: str | None, api_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
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
    bot_token: str,
    api_url: str,
    signing_secret: str | None,
) -> AsyncApp:
    """The Bolt app. Its own client carries no token: Bolt gets the token per request from
    ``known_installation``, and the listeners use the bot's pooled client (``services.slack``)."""

    async def this_installation_only(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Requests from another workspace or app do nothing, in HTTP and Socket Mode alike.

        Runs before Bolt's own authorization, so a stranger's request costs no Slack call.
        Until the bot has learned its installation (Slack did not answer at start-up), every
        request is acknowledged with a polite word and nothing is done."""
        if body.get("type") == "app_rate_limited":
            # Slack sends this without any subscription; an app that does not answer it
            # may have its event subscriptions disabled.
            log.warning("Slack is rate-limiting this app's events (minute %s)", body.get("minute_rate_limited"))
            return BoltResponse(status=200, body="")
        if services.workspace.installation is None:
            log.warning("a request came before the bot could learn its installation from Slack")
            if "command" in body:
                text = wording.describe(ChatUnavailable())
                return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
            return BoltResponse(status=200, body="")
        refusal = services.workspace.refusal(body)
        if refusal is not None:
            log.warning("refused a request from outside this installation: %s", refusal)
            if "command" in body:
                return BoltResponse(status=200, body={"response_type": "ephemeral", "text": wording.FOREIGN_WORKSPACE})
            return BoltResponse(status=403, body={"error": "not for this installation"})
        context["services"] = services
        return await next()

    async def known_installation(**_: Any) -> AuthorizeResult:
        """Bolt's authorization, from what the bot learned at start-up: no Slack call per request."""
        installation = services.workspace.installation
        assert installation is not None, "this_installation_only runs first"
        return AuthorizeResult(
            enterprise_id=installation.enterprise_id or None,
            team_id=installation.team_id,
            bot_user_id=installation.bot_user_id,
            bot_id=installation.bot_id,
            bot_token=bot_token,
        )

    app = AsyncApp(
        client=build_client(None, api_url),
        authorize=known_installation,
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
