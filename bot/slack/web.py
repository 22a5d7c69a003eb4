"""HTTP mode: Slack's signed requests on ``/slack/events``, plus ``/healthz``, ``/readyz``
and ``/metrics``.

Requests are checked before Bolt sees them: too large is 413, a bad or stale
signature is 401, a replay of a request already served is 401, a body that cannot be
parsed or lacks what the listeners rely on is 400. Bolt then dispatches the parsed body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.metrics import Metrics

__all__ = ["MAX_BODY_BYTES", "Readiness", "make_health_app", "make_web_app"]

# Checks what the bot depends on; returns each check's name and "ok" or the problem.
Readiness = Callable[[], Awaitable[dict[str, str]]]
# Remembers a signature until the given time; False if it was seen before (a replay).
ReplayGuard = Callable[[str, datetime], Awaitable[bool]]

# Slack's signatures are accepted for five minutes either side of their timestamp.
SIGNATURE_LIFETIME = timedelta(minutes=5)

log = logging.getLogger(__name__)

# Slack's largest payloads (views with many blocks) stay well below this.
MAX_BODY_BYTES = 1024 * 1024


def _signed_by_slack(verifier: SignatureVerifier, body: bytes, request: web.Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        return False


_INTERACTIONS = ("block_actions", "view_submission", "view_closed")


def _shape_problem(payload: dict[str, Any]) -> str | None:
    """What is missing from an interaction payload that Bolt and our listeners rely on."""
    kind = payload.get("type")
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


def _parse(body: bytes, content_type: str) -> Any:
    """The body as Slack meant it: an Events API envelope, an interaction payload, or a
    slash command's fields.

    Parsed here rather than by Bolt, whose parser takes any form body that merely
    contains the word "payload" (``/jupyterhub launch payload-test``) for an interaction
    and drops every field."""
    text = body.decode()
    if content_type == "application/json":
        return json.loads(text)
    fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=64))
    if "payload" in fields and "command" not in fields:
        return json.loads(fields["payload"])
    return fields


def _kind_and_problem(parsed: Any) -> tuple[str, str | None]:
    """What Slack sent, for metrics, and why it cannot be handled (None if it can).

    ``parsed`` is what :func:`_parse` made of the body."""
    if not isinstance(parsed, dict):
        return "malformed", "body is not an object"
    if "command" in parsed:
        if not parsed.get("user_id"):
            return "command", "slash command has no user_id"
        return "command", None
    kind = str(parsed.get("type", "unknown"))
    if kind in _INTERACTIONS:
        return kind, _shape_problem(parsed)
    return kind, None


def make_web_app(
    bolt: AsyncApp,
    signing_secret: str,
    *,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
    first_sighting: ReplayGuard | None = None,
) -> web.Application:
    verifier = SignatureVerifier(signing_secret)
    metrics = metrics or Metrics()

    async def handle(request: web.Request) -> tuple[str, web.Response]:
        body = await request.read()
        if not _signed_by_slack(verifier, body, request):
            return "unsigned", web.json_response({"error": "invalid or stale signature"}, status=401)
        if first_sighting is not None:
            stamp = datetime.fromtimestamp(int(request.headers["X-Slack-Request-Timestamp"]), UTC)
            if not await first_sighting(request.headers["X-Slack-Signature"], stamp + SIGNATURE_LIFETIME):
                log.warning("refused a replayed Slack request")
                return "replayed", web.json_response({"error": "this request was already served"}, status=401)
        try:
            parsed = _parse(body, request.content_type)
        except (ValueError, UnicodeDecodeError):
            log.warning("unreadable Slack request body (%d bytes)", len(body))
            return "malformed", web.json_response({"error": "malformed request body"}, status=400)
        kind, problem = _kind_and_problem(parsed)
        if problem is not None:
            log.warning("malformed Slack request: %s", problem)
            return kind, web.json_response({"error": f"malformed request body: {problem}"}, status=400)
        # Bolt takes an already parsed body only in its Socket Mode shape, where it
        # skips its own signature check: the one above is what protects this endpoint.
        bolt_request = AsyncBoltRequest(
            body=parsed, query=request.query_string, headers=dict(request.headers), mode="socket_mode"
        )
        response = await bolt.async_dispatch(bolt_request)
        return kind, await to_aiohttp_response(response)

    async def slack_events(request: web.Request) -> web.Response:
        kind, response = await handle(request)
        metrics.slack_requests.labels(kind, str(response.status)).inc()
        return response

    app = make_health_app(metrics=metrics, readiness=readiness)
    app.router.add_post("/slack/events", slack_events)
    return app


def make_health_app(*, metrics: Metrics, readiness: Readiness | None = None) -> web.Application:
    """``/healthz`` (the process is up), ``/readyz`` (what it depends on answers) and ``/metrics``:
    served in HTTP mode beside ``/slack/events``, and on their own in Socket Mode."""

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
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    return app
