"""The sandbox's page and what it calls: served on the emulator's own port, beside the
Web API the bot calls, so there is one workspace and one emulator.

- ``GET /`` and ``/static/…``: the page, plain HTML, CSS and JavaScript (no build step);
- ``GET /sandbox/workspace``: the demo people and channels;
- ``GET /sandbox/feed``: Server-Sent Events, every change of the workspace from the start
  (or after ``Last-Event-ID``), then each new one as it happens;
- ``POST /sandbox/…``: what a person does (type, click, submit, open the App Home), sent on
  to the bot by the emulator exactly as Slack sends it.

Requests must name this server as their host (no DNS rebinding) and, when they change
something, carry JSON from this page's own origin (no cross-site forms).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox import demo
from bot.sandbox.emulator import BOT_USER, SlackEmulator
from bot.sandbox.workspace import Message

__all__ = ["SandboxPage"]

STATIC = Path(__file__).resolve().parent / "static"
# Comment lines keep an idle event stream open through anything that times it out.
KEEPALIVE_SECONDS = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SandboxPage:
    def __init__(self, emulator: SlackEmulator) -> None:
        self.emulator = emulator
        # Why the bot cannot answer yet (the cluster is starting, say); empty once it can.
        self.not_ready = "the sandbox is starting"

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/", self._index),
            web.static("/static", STATIC),
            web.get("/sandbox/workspace", self._workspace),
            web.get("/sandbox/feed", self._feed),
            web.post("/sandbox/type", self._type),
            web.post("/sandbox/click", self._click),
            web.post("/sandbox/submit", self._submit),
            web.post("/sandbox/close", self._close),
            web.post("/sandbox/home", self._home),
        ]

    @staticmethod
    def guard(port: Callable[[], int]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
        """A middleware that refuses requests for another host, and cross-site writes."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            hosts = {f"127.0.0.1:{port()}", f"localhost:{port()}"}
            if request.host not in hosts:
                return web.Response(status=421, text="this sandbox answers only at 127.0.0.1")
            if request.path.startswith("/sandbox/") and request.method == "POST":
                origin = request.headers.get("Origin")
                if request.content_type != "application/json" or (origin and origin != f"http://{request.host}"):
                    return web.Response(status=403, text="only the sandbox's own page may do this")
            return await handler(request)

        return middleware

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _workspace(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "bot": BOT_USER,
                "people": [{"id": p.id, "name": p.name, "role": p.role} for p in demo.PEOPLE],
                "channels": [
                    {"id": cid, "name": name, "members": list(members)}
                    for cid, (name, members) in demo.CHANNELS.items()
                ],
            }
        )

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        try:
            seq = int(request.headers.get("Last-Event-ID") or request.query.get("after") or 0)
        except ValueError:
            seq = 0
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        workspace = self.emulator.workspace
        quiet_since = time.monotonic()
        try:
            while request.transport is not None and not request.transport.is_closing():
                # Short waits, so a closed page (or a stopping server) ends this at once.
                changes = await workspace.wait_after(seq, 1.0)
                if not changes:
                    if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                        await response.write(b": keep-alive\n\n")
                        quiet_since = time.monotonic()
                    continue
                quiet_since = time.monotonic()
                chunk = "".join(
                    f"id: {c.seq}\nevent: {c.kind}\ndata: {json.dumps(c.data)}\n\n" for c in changes
                ).encode()
                await response.write(chunk)
                seq = changes[-1].seq
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body = await request.json()
        if not isinstance(body, dict) or str(body.get("user")) not in {p.id for p in demo.PEOPLE}:
            raise web.HTTPBadRequest(text="who is acting? (user: one of the demo people)")
        return body

    def _say_privately(self, user: str, channel: str, text: str) -> None:
        workspace = self.emulator.workspace
        workspace.post(Message(channel, workspace.new_ts(time.time()), BOT_USER, text, [], user))

    async def _type(self, request: web.Request) -> web.Response:
        """A line typed in the composer: ``/jupyterhub …`` goes to the bot; anything else is a post."""
        body = await self._body(request)
        user, channel, text = str(body["user"]), str(body.get("channel", "")), str(body.get("text", "")).strip()
        workspace = self.emulator.workspace
        if not text:
            return web.json_response({"ok": True})
        if not text.startswith("/"):
            workspace.post(Message(channel, workspace.new_ts(time.time()), user, text[:4000]))
            return web.json_response({"ok": True})
        command, _, rest = text.partition(" ")
        if command != "/jupyterhub":
            self._say_privately(user, channel, f"`{command[:40]}` is not a command here; try `/jupyterhub help`.")
            return web.json_response({"ok": True})
        if self.not_ready:
            workspace.post(Message(channel, workspace.new_ts(time.time()), user, text, [], user))
            self._say_privately(user, channel, f"The bot is not running yet: {self.not_ready}.")
            return web.json_response({"ok": True})
        reply = await self.emulator.type_command(user, channel, rest.strip())
        return web.json_response({"ok": reply.status == 200, "status": reply.status, "elapsed": reply.elapsed})

    async def _click(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        action = body.get("action")
        if not isinstance(action, dict) or self.not_ready:
            return web.json_response({"ok": False, "error": self.not_ready or "no action"})
        user = str(body["user"])
        if body.get("view_id"):
            reply = await self.emulator.click_view(user, str(body["view_id"]), action)
        else:
            reply = await self.emulator.click_message(user, str(body.get("channel")), str(body.get("ts")), action)
        return web.json_response({"ok": reply.status == 200, "status": reply.status})

    async def _submit(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        values = body.get("values")
        if not isinstance(values, dict) or self.not_ready:
            return web.json_response({"ok": False, "errors": {}})
        errors = await self.emulator.submit_modal(str(body["user"]), values)
        return web.json_response({"ok": not errors, "errors": errors})

    async def _close(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.emulator.workspace.close_modal(str(body["user"]))
        return web.json_response({"ok": True})

    async def _home(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if self.not_ready:
            return web.json_response({"ok": False, "error": self.not_ready})
        reply = await self.emulator.open_home(str(body["user"]))
        return web.json_response({"ok": reply.status == 200})
