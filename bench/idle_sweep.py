"""Idle sweep at scale: N ready environments whose hub APIs are all served by one local
HTTP server that answers like JupyterHub (paginated /hub/api/users with last_activity).
With --bad K, K of them misbehave in turn: pagination that never ends, no answer at all,
pages that each come just inside the request timeout but never finish.

Each size runs in its own process so its peak memory is its own.

    .venv/bin/python -m bench.idle_sweep [--sizes 100 1000 5000] [--bad 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web

from bench.common import machine
from bench.processes import REPO
from bench.seed import seed_ready
from bot.core.environment import Target
from bot.core.lifecycle import Lifecycle
from bot.core.policy import ClusterSpec, Policy, Profile
from bot.helm.activity import EnvironmentActivity
from bot.hub.activity import HubActivityReader, ReadLimits
from bot.logs import SecretRedactor
from bot.store.sql import SqlStore, make_engine
from tests.support.stand_ins import CountingMetrics, RecordingNotifier

BAD_KINDS = ("endless", "silent", "crawling")


class _HubsOnOneServer:
    """The parts of a deployer the sweep uses: each hub's token and API address."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.paths: dict[str, str] = {}

    async def hub_token(self, target: Target) -> str:
        return "bench-token"

    @asynccontextmanager
    async def hub_api_url(self, target: Target) -> AsyncIterator[str]:
        yield f"http://127.0.0.1:{self.port}/{self.paths[target.namespace]}/hub/api"


async def _hub_server(limits: ReadLimits) -> tuple[web.AppRunner, int]:
    stamp = datetime.now(UTC).isoformat()
    never = asyncio.Event()

    async def users(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "token bench-token":
            return web.json_response({"status": 403}, status=403)
        hub = request.match_info["hub"]
        offset = int(request.query.get("offset", "0"))
        following = None
        if hub.startswith("endless"):
            following = {"offset": offset + 200, "limit": 200}
        elif hub.startswith("silent"):
            await never.wait()
        elif hub.startswith("crawling"):
            await asyncio.sleep(limits.request_seconds * 0.8)
            following = {"offset": offset + 200, "limit": 200}
        items = [{"name": "admin", "last_activity": stamp, "servers": {"": {"last_activity": stamp}}}]
        pagination = {"offset": offset, "limit": 200, "total": None, "next": following}
        return web.json_response({"items": items, "_pagination": pagination})

    app = web.Application()
    app.router.add_get("/{hub}/hub/api/users", users)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def one_size(size: int, bad: int = 0) -> dict[str, float]:
    limits = ReadLimits()
    runner, port = await _hub_server(limits)
    hubs = _HubsOnOneServer(port)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(make_engine(f"sqlite:///{tmp}/sweep.db"))
        store.create_schema()
        for i, env_id in enumerate(seed_ready(store, size)):
            env = store.get(env_id)
            assert env is not None
            hubs.paths[env.namespace] = f"{BAD_KINDS[i % len(BAD_KINDS)]}{i}" if i < bad else f"h{i}"
        policy = Policy(
            profiles={"small": Profile(image="i:1", cpu="1", memory="1Gi")},
            clusters={"dev": ClusterSpec()},
        )
        activity = EnvironmentActivity(hubs, HubActivityReader(limits=limits))
        lifecycle = Lifecycle(
            store=store,
            policy=policy,
            deployer=hubs,  # type: ignore[arg-type]
            notifier=RecordingNotifier(),
            activity=activity,
            metrics=CountingMetrics(),
            secrets=SecretRedactor(),
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = await lifecycle.watch.sweep_idle()
            timings.append(time.perf_counter() - started)
            assert report.checked == size and report.unreachable == bad, report
        await activity.close()
        store.close()
    await runner.cleanup()
    return {
        "environments": size,
        "misbehaving": bad,
        "first_sweep_s": timings[0],
        "steady_sweep_s": min(timings[1:]),
        "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--bad", type=int, default=0, help="how many of the hubs misbehave")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_size(args.one, args.bad))))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.idle_sweep", "--one", str(size), "--bad", str(args.bad)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({"machine": machine(), "sweeps": rows}, indent=2))
    for row in rows:
        print(
            f"{row['environments']:>5} environments ({row['misbehaving']} misbehaving): "
            f"sweep {row['steady_sweep_s']:.2f} s "
            f"(first {row['first_sweep_s']:.2f} s), peak RSS {row['peak_rss_mib']:.0f} MiB "
            f"(seeded {row['rss_before_mib']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
