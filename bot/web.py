"""HTTP mode: Slack's signed requests on ``/slack/events``, plus ``/healthz``, ``/readyz``
and ``/metrics``.

Requests are checked before Bolt sees them: too large is 413, a bad or stale
signature is 401, a body that cannot be parsed is 400. Bolt then verifies again
and dispatches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from bot.metrics import Metrics

__all__ = ["MAX_BODY_BYTES", "Readiness", "make_web_app"]

# Checks what the bot depends on; returns each check's name and "ok" or the problem.
Readiness = Callable[[], Awaitable[dict[str, str]]]

log = logging.getLogger(__name__)

# Slack's largest payloads (views with many blocks) stay well below this.
MAX_BODY_BYTES = 1024 * 1024


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        return False


def _kind(body: bytes, content_type: str) -> str:
    """What Slack sent, for metrics: a slash command, an interaction type or an event."""
    try:
        if content_type == "application/json":
            return str(json.loads(body).get("type", "unknown"))
        form = parse_qs(body.decode(), max_num_fields=64)
        if "command" in form:
            return "command"
        if "payload" in form:
            return str(json.loads(form["payload"][0]).get("type", "unknown"))
    except (ValueError, AttributeError):
        return "malformed"
    return "unknown"


def make_web_app(
    bolt: AsyncApp,
    signing_secret: str,
    *,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)
    metrics = metrics or Metrics()

    async def handle(request: web.Request, body: bytes) -> web.Response:
        if not _signed_by_slack(verifier, body, request):
            return web.json_response({"error": "invalid or stale signature"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:
            log.warning("unreadable Slack request body (%d bytes)", len(body))
            return web.json_response({"error": "malformed request body"}, status=400)
        response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        response = await handle(request, body)
        metrics.slack_requests.labels(_kind(body, request.content_type), str(response.status)).inc()
        return response

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        checks = await readiness() if readiness else {}
        ready = all(result == "ok" for result in checks.values())
        return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    async def metrics_page(_request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    return app
