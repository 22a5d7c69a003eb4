"""A local stand-in for Slack that speaks Slack's wire protocol.

Towards the bot it plays both of Slack's roles:
- it *sends* what Slack sends: slash commands and interaction payloads, form-encoded
  and signed with the signing secret (``v0:{timestamp}:{body}``, HMAC-SHA256);
- it *answers* the Web API (``POST /api/<method>``) and ``response_url`` posts the
  way Slack does, recording every call so tests can assert on them.

Nothing in the bot or in Bolt is patched: the bot is configured with
``SLACK_API_URL`` pointing here, exactly as an operator would point it at Slack.

It also keeps what a workspace would show (:class:`~bot.sandbox.workspace.Workspace`):
conversations, ephemeral replies, App Homes and modals, with a feed of changes; the
sandbox's page (:mod:`bot.sandbox.server`) is drawn from it, and its people act through
:meth:`SlackEmulator.type_command`, :meth:`~SlackEmulator.click_message`,
:meth:`~SlackEmulator.click_view`, :meth:`~SlackEmulator.submit_modal` and
:meth:`~SlackEmulator.open_home`, which send exactly what Slack sends.

Like Slack, it refuses payloads over Block Kit's documented limits
(:mod:`bot.slack.limits`): ``invalid_blocks`` for messages, ``invalid_arguments`` for
views, HTTP 400 on a ``response_url``. Every refusal is also kept in :attr:`refused`,
so a test (or the sandbox page) sees what a real workspace would have dropped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.sandbox.workspace import Message, ReplyTarget, Workspace
from bot.slack.limits import Surface, violations

__all__ = ["ApiCall", "Refusal", "SlackEmulator", "SlackReply", "sign"]

TEAM_ID = "T0TEST"
APP_ID = "A0TEST"
BOT_ID = "B0TEST"
BOT_USER = "UBOT"
# Methods whose payload is a message, and those whose payload is a view.
_MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
_VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ApiCall:
    """One Web API call or response_url post the bot made."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    args: dict[str, Any]
    at: float

    @property
    def text_blob(self) -> str:
        """Everything a person could read in this call, for secret scans."""
        return json.dumps(self.args, sort_keys=True)


@dataclass(frozen=True)
class SlackReply:
    """What the bot answered to a request from "Slack"."""

    status: int
    body: str
    elapsed: float
    # The response_url token of the slash command this answers, if it was one.
    response_token: str = ""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def text(self) -> str:
        """The message of an acknowledgement: Slack accepts plain text or JSON with ``text``."""
        if self.body.startswith("{"):
            return str(self.json().get("text", ""))
        return self.body


@dataclass(frozen=True)
class Refusal:
    """A payload Slack would have refused, and why."""

    method: str
    problems: list[str]
    args: dict[str, Any]


@dataclass
class _Failure:
    status: int
    remaining: int
    error: str = ""


@dataclass
class SlackEmulator:
    signing_secret: str
    groups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    bot_url: str = ""
    # users.info answers, by user ID; anyone not listed is a full member of the workspace.
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    team_id: str = TEAM_ID
    enterprise_id: str = ""
    app_id: str = APP_ID
    refused: list[Refusal] = field(default_factory=list)
    # When set, the one bot token accepted (the sandbox's per-run token); else any xoxb- token.
    bot_token: str = ""

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._failures: dict[str, _Failure] = {}
        self._holds: dict[str, asyncio.Event] = {}
        # Who each response_url was issued to (its token -> user ID), and where it posts.
        self._response_owner: dict[str, str] = {}
        self._response_targets: dict[str, ReplyTarget] = {}
        # Who each trigger_id was issued to, so a modal opens for the right person.
        self._trigger_owner: dict[str, str] = {}
        self.workspace = Workspace()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base_url = ""
        self.port = 0
        self.socket_mode = False
        self._socket_ws: web.WebSocketResponse | None = None
        self._socket_connected = asyncio.Event()
        self._pending_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, *, port: int = 0, routes: Iterable[web.AbstractRouteDef] = (), middlewares: Iterable[Any] = ()
    ) -> None:
        """Serve on 127.0.0.1 (only) at ``port`` (0: any free port), with extra ``routes``."""
        app = web.Application(middlewares=list(middlewares))
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{token}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_routes(list(routes))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session:
            await self._session.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def fail(self, method: str, *, status: int = 200, error: str = "", times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail (HTTP ``status``, or ok=false ``error``)."""
        self._failures[method] = _Failure(status=status, remaining=times, error=error)

    def assert_nothing_refused(self) -> None:
        """Fail if the bot sent anything Slack would have refused."""
        if self.refused:
            detail = "\n".join(f"  {r.method}: {'; '.join(r.problems[:5])}" for r in self.refused[:10])
            raise AssertionError(f"Slack would have refused {len(self.refused)} payload(s):\n{detail}")

    def hold(self, method: str) -> asyncio.Event:
        """Keep every call of ``method`` waiting for its answer until the returned event is set."""
        gate = asyncio.Event()
        self._holds[method] = gate
        return gate

    # -- the Web API ---------------------------------------------------------------------------

    async def _record(self, method: str, args: dict[str, Any]) -> None:
        async with self._changed:
            self.calls.append(ApiCall(method, args, time.monotonic()))
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.method == "POST":
            args.update(await request.post())
        for key in ("blocks", "view", "attachments"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        token_kind = "Bearer xapp-" if method == "apps.connections.open" else "Bearer xoxb-"
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith(token_kind):
            return web.json_response({"ok": False, "error": "not_authed"})
        if self.bot_token and token_kind.endswith("xoxb-") and authorization != f"Bearer {self.bot_token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        gate = self._holds.get(method)
        if gate is not None:
            await gate.wait()
        refused = self._refusal(method, args)
        if refused is not None:
            self.refused.append(refused)
            self.workspace.refused(method, refused.problems)
            await self._record(f"{method}!refused", args)
            error = "invalid_arguments" if method in _VIEW_METHODS else "invalid_blocks"
            return web.json_response(
                {
                    "ok": False,
                    "error": error,
                    "errors": refused.problems,
                    "response_metadata": {"messages": refused.problems},
                }
            )
        failure = self._failures.get(method)
        if failure and failure.remaining > 0:
            failure.remaining -= 1
            await self._record(f"{method}!failed", args)
            if failure.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
                )
            if failure.status >= 500:
                return web.Response(status=failure.status, text="internal error")
            return web.json_response({"ok": False, "error": failure.error or "fatal_error"})
        await self._record(method, args)
        answer = self._answer(method, args)
        if answer.get("ok"):
            self._show(method, args, answer)
        return web.json_response(answer)

    def _show(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
        """Apply an accepted call to what the workspace shows."""
        text, blocks = str(args.get("text", "")), list(args.get("blocks") or [])
        if method == "chat.postMessage":
            self.workspace.post(Message(str(answer["channel"]), str(answer["ts"]), BOT_USER, text, blocks))
        elif method == "chat.update":
            self.workspace.update(str(args.get("channel")), str(args.get("ts")), text, blocks)
        elif method == "chat.postEphemeral":
            ts = str(answer["message_ts"])
            self.workspace.post(Message(str(args.get("channel")), ts, BOT_USER, text, blocks, str(args.get("user"))))
        elif method == "views.publish":
            self.workspace.publish_home(str(args.get("user_id")), answer["view"])
            self.workspace.remember_view(str(args.get("user_id")), str(answer["view"]["id"]))
        elif method in ("views.open", "views.push"):
            user = self._trigger_owner.get(str(args.get("trigger_id")), "")
            if user:
                self.workspace.open_modal(user, answer["view"])
        elif method == "views.update":
            view_id = str(args.get("view_id", ""))
            self.workspace.update_view(view_id, dict(answer["view"], id=view_id))

    @staticmethod
    def _refusal(method: str, args: dict[str, Any]) -> Refusal | None:
        """What Slack would refuse in a call's payload (``None`` if nothing)."""
        if method in _MESSAGE_METHODS:
            problems = violations(args, "message")
        elif method in _VIEW_METHODS and isinstance(args.get("view"), dict):
            view = args["view"]
            surface: Surface = "home" if view.get("type") == "home" else "modal"
            problems = violations(view, surface)
        else:
            return None
        return Refusal(method, problems, args) if problems else None

    def _user(self, user_id: str) -> dict[str, Any]:
        """``users.info``'s user object: a full member unless :attr:`users` says otherwise."""
        base: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": user_id.lower(),
            "deleted": False,
            "is_bot": False,
            "is_app_user": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
        }
        if self.enterprise_id:
            base["enterprise_user"] = {"enterprise_id": self.enterprise_id, "id": user_id}
        return {**base, **self.users.get(user_id, {})}

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        if method == "auth.test":
            identity: dict[str, Any] = {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "jupyterhub",
                "team_id": self.team_id,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
            if self.enterprise_id:
                identity["enterprise_id"] = self.enterprise_id
            return identity
        if method == "bots.info":
            if args.get("bot") != BOT_ID:
                return {"ok": False, "error": "bot_not_found"}
            return {"ok": True, "bot": {"id": BOT_ID, "app_id": self.app_id, "user_id": BOT_USER, "name": "jupyterhub"}}
        if method == "users.info":
            user_id = str(args.get("user", ""))
            if not user_id.startswith(("U", "W")):
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": self._user(user_id)}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "")).lstrip("U")}}
        if method in ("chat.postMessage", "chat.update"):
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": args.get("ts") or ts,
                "message": {"text": args.get("text", ""), "blocks": args.get("blocks", [])},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            return {"ok": True, "view": dict(args.get("view") or {}, id=f"V{next(self._ts):08d}")}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup", ""))
            if group not in self.groups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.groups[group]}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        payload = await request.json()
        problems = violations(payload, "message")
        if problems:
            self.refused.append(Refusal("response_url", problems, payload))
            self.workspace.refused("response_url", problems)
            await self._record("response_url!refused", dict(payload, _token=request.match_info["token"]))
            return web.Response(status=400, text="invalid_blocks")
        target = self._response_targets.get(request.match_info["token"])
        if target is not None:
            self.workspace.reply(target, payload, time.time())
        await self._record("response_url", dict(payload, _token=request.match_info["token"]))
        return web.Response(text="ok")

    # -- Socket Mode ----------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket_ws = ws
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": self.app_id},
                "debug_info": {"host": "emulator", "approximate_connection_time": 3600},
            }
        )
        self._socket_connected.set()
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            ack = json.loads(message.data)
            future = self._pending_acks.pop(str(ack.get("envelope_id")), None)
            if future is not None and not future.done():
                future.set_result(ack)
        self._socket_connected.clear()
        return ws

    async def wait_for_socket(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def socket_send(self, kind: str, payload: dict[str, Any], timeout: float = 10.0) -> SlackReply:
        """Deliver an envelope over the Socket Mode connection; the reply is the app's ack."""
        assert self._socket_ws is not None, "no Socket Mode connection"
        envelope_id = f"env-{next(self._ts)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        started = time.monotonic()
        await self._socket_ws.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": True,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        ack = await asyncio.wait_for(future, timeout)
        response = ack.get("payload")
        body = json.dumps(response) if isinstance(response, dict) else str(response or "")
        reply = SlackReply(200, body, time.monotonic() - started)
        self._check_ack(reply)
        return reply

    # -- waiting on what the bot did ---------------------------------------------------------

    def find(self, method: str, predicate: Callable[[ApiCall], bool] = lambda _c: True) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method and predicate(c)]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] = lambda _c: True,
        *,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list[ApiCall]:
        """Wait until ``count`` calls of ``method`` match ``predicate``; return them."""

        def ready() -> bool:
            return len(self.find(method, predicate)) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                seen = "\n".join(f"  {c.method}: {c.text_blob[:300]}" for c in self.calls[-15:])
                raise AssertionError(
                    f"no {count} matching {method} call(s) within {timeout}s; last calls:\n{seen}"
                ) from None
        return self.find(method, predicate)

    def private_to(self, user_id: str, predicate: Callable[[ApiCall], bool] = lambda _c: True) -> list[ApiCall]:
        """What only ``user_id`` reads: direct messages to them, and ephemeral replies to
        their commands and clicks, that match ``predicate``."""
        channel = "D" + user_id.lstrip("UW")
        return [
            c
            for c in self.calls
            if predicate(c)
            and (
                (c.method == "chat.postMessage" and c.args.get("channel") == channel)
                or (c.method == "response_url" and self._response_owner.get(str(c.args.get("_token"))) == user_id)
            )
        ]

    async def wait_for_private(
        self, user_id: str, predicate: Callable[[ApiCall], bool] = lambda _c: True, *, timeout: float = 10.0
    ) -> ApiCall:
        """The first private message to ``user_id`` matching ``predicate``, once it has come."""

        def ready() -> bool:
            return bool(self.private_to(user_id, predicate))

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                seen = "\n".join(f"  {c.method}: {c.text_blob[:300]}" for c in self.calls[-15:])
                raise AssertionError(f"no matching private message to {user_id} within {timeout}s:\n{seen}") from None
        return self.private_to(user_id, predicate)[0]

    def dms_to(self, user_id: str) -> list[ApiCall]:
        channel = "D" + user_id.lstrip("U")
        return self.find("chat.postMessage", lambda c: c.args.get("channel") == channel)

    # -- what Slack sends to the bot ---------------------------------------------------------

    async def send(
        self,
        form: dict[str, str],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> SlackReply:
        """POST a form-encoded, signed request to the bot, as Slack does."""
        assert self._session is not None
        body = raw_body if raw_body is not None else urlencode(form).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        request_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(secret or self.signing_secret, stamp, body),
        }
        request_headers.update(headers or {})
        started = time.monotonic()
        async with self._session.post(self.bot_url, data=body, headers=request_headers) as response:
            text = await response.text()
        reply = SlackReply(response.status, text, time.monotonic() - started)
        self._check_ack(reply)
        return reply

    def _check_ack(self, reply: SlackReply) -> None:
        """An acknowledgement that carries a message is held to the same limits as a post."""
        if reply.status != 200 or not reply.body.startswith("{"):
            return
        try:
            payload = json.loads(reply.body)
        except ValueError:
            return
        if isinstance(payload, dict) and ("blocks" in payload or "text" in payload):
            problems = violations(payload, "message")
            if problems:
                self.refused.append(Refusal("ack", problems, payload))

    async def send_json(self, payload: dict[str, Any], **kwargs: Any) -> SlackReply:
        """An Events API delivery: a signed JSON body."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return await self.send({}, raw_body=body, headers=headers, **kwargs)

    def _response_url_for(self, user_id: str, channel: str = "CGENERAL", message_ts: str = "") -> str:
        token = str(next(self._ts))
        self._response_owner[token] = user_id
        self._response_targets[token] = ReplyTarget(user_id, channel, message_ts)
        return f"{self.base_url}/response/{token}"

    def _trigger_for(self, user_id: str) -> str:
        trigger = f"{next(self._ts)}.trigger"
        self._trigger_owner[trigger] = user_id
        return trigger

    async def slash_command(
        self,
        user_id: str,
        text: str,
        *,
        channel_id: str = "CGENERAL",
        fields: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> SlackReply:
        """``/jupyterhub <text>`` typed by ``user_id``; ``fields`` replace what Slack would send."""
        form = self.command_form(user_id, text, channel_id=channel_id, fields=fields)
        token = form["response_url"].rsplit("/", 1)[1]
        if self.socket_mode:
            reply = await self.socket_send("slash_commands", form)
        else:
            reply = await self.send(form, **kwargs)
        return dataclasses.replace(reply, response_token=token)

    def command_form(
        self, user_id: str, text: str, *, channel_id: str = "CGENERAL", fields: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The fields Slack posts for ``/jupyterhub <text>``."""
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": "/jupyterhub",
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url_for(user_id, channel_id),
            "trigger_id": self._trigger_for(user_id),
            **(fields or {}),
        }

    async def private_answer(self, reply: SlackReply, *, timeout: float = 10.0) -> str:
        """What the person who typed the command reads: the message in the ack itself,
        or else the one the bot posted to that command's response_url."""
        if reply.body.strip():
            return reply.body
        assert reply.response_token, "not the reply to a slash command"
        [answer] = await self.wait_for(
            "response_url", lambda c: c.args.get("_token") == reply.response_token, timeout=timeout
        )
        return answer.text_blob

    async def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        message: ApiCall | None = None,
        channel_id: str = "CGENERAL",
        **kwargs: Any,
    ) -> SlackReply:
        """A button click (``block_actions``) on ``message`` (a recorded call that carried it)."""
        container: dict[str, Any] = {"type": "message", "channel_id": channel_id, "is_ephemeral": True}
        original: dict[str, Any] = {}
        if message is not None and message.method == "chat.postMessage":
            channel_id = str(message.args.get("channel"))
            container = {"type": "message", "channel_id": channel_id, "message_ts": "1.000001", "is_ephemeral": False}
            original = {
                "type": "message",
                "ts": "1.000001",
                "text": message.args.get("text", ""),
                "blocks": message.args.get("blocks", []),
            }
        payload = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": self.app_id,
            "token": "legacy-verification-token",
            "container": container,
            "trigger_id": f"{next(self._ts)}.trigger",
            "channel": {"id": channel_id, "name": "channel"},
            "message": original,
            "response_url": self._response_url_for(user_id),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "text": {"type": "plain_text", "text": action_id},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if self.socket_mode:
            return await self.socket_send("interactive", payload)
        return await self.send({"payload": json.dumps(payload)}, **kwargs)

    async def submit_view(
        self, user_id: str, view: dict[str, Any], values: dict[str, Any], **kwargs: Any
    ) -> SlackReply:
        """Submit a modal the bot opened, with ``values`` as Slack's ``view.state.values``."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "test"},
            "user": {"id": user_id, "username": user_id.lower(), "team_id": self.team_id},
            "api_app_id": self.app_id,
            "token": "legacy-verification-token",
            "trigger_id": f"{next(self._ts)}.trigger",
            "view": dict(view, id="V0FORM", team_id=self.team_id, state={"values": values}, hash="1.abc"),
            "response_urls": [],
        }
        if self.socket_mode:
            return await self.socket_send("interactive", payload)
        return await self.send({"payload": json.dumps(payload)}, **kwargs)

    # -- what the sandbox's people do ----------------------------------------------------------

    def _person(self, user_id: str) -> dict[str, str]:
        return {"id": user_id, "username": user_id.lower(), "team_id": self.team_id}

    async def type_command(self, user_id: str, channel: str, text: str) -> SlackReply:
        """``/jupyterhub <text>`` typed by ``user_id`` in ``channel``. They alone see what they
        typed and the message of the acknowledgement, as in Slack."""
        workspace = self.workspace
        typed = f"/jupyterhub {text}".strip()
        workspace.post(Message(channel, workspace.new_ts(time.time()), user_id, typed, [], user_id))
        reply = await self.slash_command(user_id, text, channel_id=channel)
        if reply.status == 200 and reply.body.strip():
            payload = reply.json() if reply.body.startswith("{") else {"text": reply.body}
            if isinstance(payload, dict) and ("text" in payload or "blocks" in payload):
                visible_to = "" if payload.get("response_type") == "in_channel" else user_id
                text_, blocks = str(payload.get("text", "")), list(payload.get("blocks") or [])
                workspace.post(Message(channel, workspace.new_ts(time.time()), BOT_USER, text_, blocks, visible_to))
        return reply

    def _interaction(self, user_id: str, action: dict[str, Any]) -> dict[str, Any]:
        """The parts of a ``block_actions`` payload every click shares."""
        clicked = {k: v for k, v in action.items() if k in ("type", "action_id", "block_id", "value", "text", "style")}
        return {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "sandbox"},
            "user": self._person(user_id),
            "api_app_id": self.app_id,
            "token": "legacy-verification-token",
            "trigger_id": self._trigger_for(user_id),
            "actions": [dict(clicked, action_ts=f"{time.time():.6f}")],
        }

    async def click_message(self, user_id: str, channel: str, ts: str, action: dict[str, Any]) -> SlackReply:
        """A click on a button of the message ``ts`` in ``channel``."""
        message = self.workspace.messages.get((channel, ts))
        ephemeral = bool(message and message.visible_to)
        payload = self._interaction(user_id, action)
        payload.update(
            container={"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral},
            channel={"id": channel, "name": channel.lower()},
            response_url=self._response_url_for(user_id, channel, ts),
        )
        if message is not None and not ephemeral:
            payload["message"] = {"type": "message", "ts": ts, "text": message.text, "blocks": message.blocks}
        return await self.send({"payload": json.dumps(payload)})

    async def click_view(self, user_id: str, view_id: str, action: dict[str, Any]) -> SlackReply:
        """A click on a button in a view (the App Home, or a modal); Slack gives no response_url."""
        view = self.workspace.homes.get(user_id, {})
        if view.get("id") != view_id:
            view = self.workspace.modals.get(user_id, {})
        payload = self._interaction(user_id, action)
        payload.update(container={"type": "view", "view_id": view_id}, view=dict(view, team_id=self.team_id))
        return await self.send({"payload": json.dumps(payload)})

    async def submit_modal(self, user_id: str, values: dict[str, Any]) -> dict[str, str]:
        """Submit ``user_id``'s open modal; the inline field errors the bot answered with (by
        block ID), none if it accepted and the modal closed."""
        view = self.workspace.modals.get(user_id)
        if view is None:
            return {}
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "sandbox"},
            "user": self._person(user_id),
            "api_app_id": self.app_id,
            "token": "legacy-verification-token",
            "trigger_id": self._trigger_for(user_id),
            "view": dict(view, team_id=self.team_id, app_id=self.app_id, state={"values": values}, hash="1.sandbox"),
            "response_urls": [],
        }
        reply = await self.send({"payload": json.dumps(payload)})
        answer = reply.json() if reply.body.startswith("{") else {}
        if reply.status == 200 and answer.get("response_action") == "errors":
            return {str(k): str(v) for k, v in dict(answer.get("errors") or {}).items()}
        if reply.status == 200 and answer.get("response_action") == "update":
            self.workspace.open_modal(user_id, dict(answer["view"], id=view["id"]))
            return {}
        if reply.status != 200:
            return {"": f"the app answered HTTP {reply.status}"}
        self.workspace.close_modal(user_id)
        return {}

    async def open_home(self, user_id: str) -> SlackReply:
        """``user_id`` opens the app's Home tab: the ``app_home_opened`` event."""
        event = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "type": "event_callback",
            "event_id": f"Ev{next(self._ts):08d}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user_id,
                "channel": "D" + user_id.lstrip("UW"),
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
        }
        return await self.send_json(event)


async def _serve_forever(groups: dict[str, list[str]], signing_secret: str) -> None:
    emulator = SlackEmulator(signing_secret=signing_secret, groups=groups)
    await emulator.start()
    print(emulator.base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


if __name__ == "__main__":
    # A standalone emulator for benchmarks and multi-process tests: prints its base URL, then serves.
    import argparse

    parser = argparse.ArgumentParser(description="Local Slack emulator")
    parser.add_argument("--groups", default="{}", help="JSON: user group ID -> member IDs")
    parser.add_argument("--signing-secret", default="unused")
    options = parser.parse_args()
    asyncio.run(_serve_forever(json.loads(options.groups), options.signing_secret))
