"""Reaching a real hub the way a bot outside the cluster does, from the relay on.

Outside the cluster the bot opens a port-forward to the proxy's pod through the API server
and relays its reads through it (bot/helm/activity.py, bot/helm/port_forward.py). On the local cluster kwok plays
the node, so a port-forward ends at kwok; tests/botchart/test_least_privilege.py shows
that leg: the real API server, the bot's ServiceAccount, kwok answering for the proxy
pod's port. Here the tunnel's far end is what a kubelet's end of a port-forward is, a TCP
connection to the port, into a real hub started from our chart's configuration; the
relay, the reader, the token and the hub's REST API are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.helm.port_forward import TunnelRelay
from bot.hub.activity import HubActivityReader, HubApi, HubUnreachable, at
from tests.support.hub import HubSession, RunningHub, running_hub

pytestmark = pytest.mark.hub


class TcpTunnel:
    """The far end of a port-forward: a TCP connection to the port."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> TcpTunnel:
        return cls(*await asyncio.open_connection(host, port))

    async def read(self) -> bytes:
        return await self._reader.read(64 * 1024)

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        self.closed = True
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    def error(self) -> str | None:
        return None


@pytest.fixture(scope="module")
def hub(helm: Path) -> Iterator[RunningHub]:
    with running_hub(helm) as running:
        yield running


@pytest.fixture
async def reader() -> AsyncIterator[HubActivityReader]:
    reading = HubActivityReader()
    yield reading
    await reading.close()


async def test_a_real_hub_is_read_through_the_relay_as_directly(hub: RunningHub, reader: HubActivityReader) -> None:
    session = HubSession(hub.base_url)
    assert session.login(hub.admin_user, hub.admin_password).status == 302
    assert session.get("hub/home").status == 200  # someone used it: there is activity to read
    address = urllib.parse.urlsplit(hub.base_url)
    tunnels: list[TcpTunnel] = []

    async def open_tunnel() -> TcpTunnel:
        tunnel = await TcpTunnel.open(str(address.hostname), int(address.port or 80))
        tunnels.append(tunnel)
        return tunnel

    @asynccontextmanager
    async def through_the_relay() -> AsyncIterator[HubApi]:
        async with TunnelRelay(open_tunnel, name="tunnel to the hub") as base_url:
            assert base_url.startswith("http://127.0.0.1:")
            yield HubApi(f"{base_url}/hub/api", hub.bot_api_token)

    direct = await reader.latest_activity(at(HubApi(hub.api_url, hub.bot_api_token)))
    relayed = await reader.latest_activity(through_the_relay)
    assert relayed is not None and relayed == direct
    # The tunnel opened on entry carried the read; on exit it was closed.
    assert len(tunnels) == 1 and tunnels[0].closed

    # The hub still refuses a wrong token, through the relay as anywhere.
    @asynccontextmanager
    async def with_a_wrong_token() -> AsyncIterator[HubApi]:
        async with TunnelRelay(open_tunnel, name="tunnel to the hub") as base_url:
            yield HubApi(f"{base_url}/hub/api", "not-the-bots-token")

    with pytest.raises(HubUnreachable, match="HTTP 403"):
        await reader.latest_activity(with_a_wrong_token)
    assert all(tunnel.closed for tunnel in tunnels)
