"""HTTP mode: Slack's signed requests on ``/slack/events``, plus a health check.

Requests are checked before Bolt sees them: too large is 413, a bad or stale
signature is 401, a body that cannot be parsed is 400. Bolt then verifies again
and dispatches.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

__all__ = ["MAX_BODY_BYTES", "make_web_app"]

log = logging.getLogger(__name__)

# Slack's largest payloads (views with many blocks) stay well below this.
MAX_BODY_BYTES = 1024 * 1024


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        return False


def make_web_app(bolt: AsyncApp, signing_secret: str) -> web.Application:
    verifier = SignatureVerifier(signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        if not _signed_by_slack(verifier, body, request):
            return web.json_response({"error": "invalid or stale signature"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:
            log.warning("unreadable Slack request body (%d bytes)", len(body))
            return web.json_response({"error": "malformed request body"}, status=400)
        response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app
