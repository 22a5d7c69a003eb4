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
from typing import Any
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


def _shape_problem(payload: Any) -> str | None:
    """What is missing from an interaction payload that Bolt and our listeners rely on."""
    if not isinstance(payload, dict):
        return "payload is not an object"
    kind = payload.get("type")
    if kind in ("block_actions", "view_submission", "view_closed"):
        user = payload.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            return "payload has no user id"
    if kind == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions payload has no actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action has no action_id"
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("state", {}), dict):
            return "view payload has no view"
        if kind == "view_submission":
            values = view.get("state", {}).get("values")
            if not isinstance(values, dict):
                return "view_submission payload has no state values"
            for block in values.values():
                if not isinstance(block, dict) or not all(
                    isinstance(element, dict) and isinstance(element.get("type"), str) for element in block.values()
                ):
                    return "a form field is not an element object with a type"
    return None


def _inspect(body: bytes, content_type: str) -> tuple[str, str | None]:
    """(what Slack sent, for metrics; why it cannot be handled, or None)."""
    try:
        if content_type == "application/json":
            event = json.loads(body)
            if not isinstance(event, dict):
                return "malformed", "body is not an object"
            return str(event.get("type", "unknown")), None
        form = parse_qs(body.decode(), max_num_fields=64)
        if "command" in form:
            return "command", None
        if "payload" in form:
            payload = json.loads(form["payload"][0])
            kind = str(payload.get("type", "unknown")) if isinstance(payload, dict) else "malformed"
            return kind, _shape_problem(payload)
    except (ValueError, UnicodeDecodeError):
        return "malformed", "body is not valid form data or JSON"
    return "unknown", None


def make_web_app(
    bolt: AsyncApp,
    signing_secret: str,
    *,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)
    metrics = metrics or Metrics()

    async def handle(request: web.Request, body: bytes, problem: str | None) -> web.Response:
        if not _signed_by_slack(verifier, body, request):
            return web.json_response({"error": "invalid or stale signature"}, status=401)
        if problem is not None:
            log.warning("malformed Slack request: %s", problem)
            return web.json_response({"error": f"malformed request body: {problem}"}, status=400)
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:
            log.warning("unreadable Slack request body (%d bytes)", len(body))
            return web.json_response({"error": "malformed request body"}, status=400)
        response = await bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    async def slack_events(request: web.Request) -> web.Response:
        body = await request.read()
        kind, problem = _inspect(body, request.content_type)
        response = await handle(request, body, problem)
        metrics.slack_requests.labels(kind, str(response.status)).inc()
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
