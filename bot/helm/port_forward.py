"""A port-forward to a pod's port through the API server, and a local relay that lets an
HTTP client use it.

The WebSocket form of ``kubectl port-forward``: TLS to the API server with the kube
client's own credentials, and from there the API server's connection to the kubelet.
Bytes arrive unchanged, headers included: what the API server's service proxy cannot
promise, since it deletes the Authorization header of every request it authenticated.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol

import aiohttp
from kubernetes import client as k8s

from bot.hub.activity import HubUnreachable

__all__ = ["PortForward", "Tunnel", "TunnelRelay"]

_CONNECT_TIMEOUT = 10


class Tunnel(Protocol):
    """A byte stream to a port somewhere else."""

    async def read(self) -> bytes:
        """The next bytes from the far end; ``b""`` once it has closed."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def error(self) -> str | None:
        """What the far end said went wrong, if anything."""
        ...


_CHANNEL_PROTOCOL = "v4.channel.k8s.io"
_DATA, _ERROR = 0, 1


class PortForward:
    """A port-forward to one port of a pod, over the API server's WebSocket protocol.

    ``v4.channel.k8s.io``: binary messages whose first byte is the channel (0 carries the
    data, 1 the far end's errors); the first message on each channel carries the port
    number (two bytes, little-endian)."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, port: int) -> None:
        self._session = session
        self._ws = ws
        self._port = port
        self._announced: set[int] = set()
        self._errors: list[str] = []

    @classmethod
    async def open(
        cls, configuration: k8s.Configuration, namespace: str, pod: str, port: int, *, timeout: float = _CONNECT_TIMEOUT
    ) -> PortForward:
        # Reading the token may run a kubeconfig's exec plugin or read a file: not on the loop.
        auth = await asyncio.to_thread(configuration.auth_settings)
        headers = {"Authorization": str(auth["BearerToken"]["value"])} if "BearerToken" in auth else {}
        url = f"{configuration.host}/api/v1/namespaces/{namespace}/pods/{pod}/portforward"
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout))
        where = f"port-forward to {namespace}/{pod}:{port}"
        try:
            ws = await session.ws_connect(
                url,
                params={"ports": str(port)},
                protocols=(_CHANNEL_PROTOCOL,),
                headers=headers,
                ssl=_tls(configuration),
                server_hostname=configuration.tls_server_name or None,
                proxy=configuration.proxy or None,
                timeout=aiohttp.ClientWSTimeout(ws_close=timeout),
                autoping=True,
                max_msg_size=0,
            )
        except aiohttp.WSServerHandshakeError as exc:
            await session.close()
            raise HubUnreachable(f"{where} refused ({exc.status})") from None
        except (aiohttp.ClientError, OSError) as exc:
            await session.close()
            raise HubUnreachable(f"{where} failed ({type(exc).__name__})") from None
        except BaseException:  # cancelled: out of time
            await session.close()
            raise
        return cls(session, ws, port)

    async def read(self) -> bytes:
        while True:
            message = await self._ws.receive()
            if message.type is not aiohttp.WSMsgType.BINARY:
                if message.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                    continue
                return b""  # closed, or something this protocol never sends
            data: bytes = message.data
            if not data:
                continue
            channel, payload = data[0], data[1:]
            if channel not in self._announced:
                # Each channel opens with the port number it is for.
                if int.from_bytes(payload[:2], "little") != self._port:
                    raise HubUnreachable(f"the port-forward answered for another port ({payload[:2].hex()})")
                self._announced.add(channel)
                continue
            if channel == _DATA:
                if payload:
                    return payload
            elif channel == _ERROR:
                self._errors.append(payload.decode(errors="replace"))

    async def write(self, data: bytes) -> None:
        await self._ws.send_bytes(bytes((_DATA,)) + data)

    async def close(self) -> None:
        await self._ws.close()
        await self._session.close()

    def error(self) -> str | None:
        return "".join(self._errors).strip() or None


def _tls(configuration: k8s.Configuration) -> ssl.SSLContext | bool:
    """TLS to the API server as the kube client would: its CA, its client certificate."""
    if not configuration.verify_ssl:
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert or None)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    if configuration.assert_hostname is False:
        context.check_hostname = False
    return context


class TunnelRelay:
    """A listener on 127.0.0.1 whose every connection is piped through a new tunnel.

    The first tunnel is opened on entry, so a refused one is reported as such, not as a
    dropped connection. On exit the listener, its connections and their tunnels close,
    and a failed read inside is reported with what the far end said."""

    def __init__(self, open_tunnel: Callable[[], Awaitable[Tunnel]], *, name: str) -> None:
        self._open_tunnel = open_tunnel
        self._name = name
        self._spare: Tunnel | None = None
        self._server: asyncio.Server | None = None
        self._serving: set[asyncio.Task[Any]] = set()
        self._errors: list[str] = []

    async def __aenter__(self) -> str:
        self._spare = await self._open_tunnel()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._serving):
            task.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._spare is not None:
            await self._spare.close()
        if isinstance(exc, HubUnreachable) and self._errors:
            raise HubUnreachable(f"{exc}; {self._name}: {'; '.join(self._errors)}") from exc

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
        tunnel: Tunnel | None = None
        try:
            tunnel, self._spare = self._spare or await self._open_tunnel(), None
            await asyncio.gather(_to_tunnel(reader, tunnel), _from_tunnel(tunnel, writer))
        except HubUnreachable as exc:
            self._errors.append(str(exc))
        except (OSError, aiohttp.ClientError) as exc:
            self._errors.append(type(exc).__name__)
        finally:
            writer.close()
            if tunnel is not None:
                await tunnel.close()
                if said := tunnel.error():
                    self._errors.append(said)
            if task is not None:
                self._serving.discard(task)


async def _to_tunnel(source: asyncio.StreamReader, tunnel: Tunnel) -> None:
    while chunk := await source.read(64 * 1024):
        await tunnel.write(chunk)


async def _from_tunnel(tunnel: Tunnel, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await tunnel.read():
            sink.write(chunk)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
