"""Idle sweep at scale: N ready environments whose hub APIs are all served by one local
HTTP server that answers like JupyterHub (paginated /hub/api/users with last_activity).

Each size runs in its own process so its peak memory is its own.

    .venv/bin/python -m bench.idle_sweep [--sizes 100 1000 5000]
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
from datetime import UTC, datetime

from aiohttp import web

from bench.common import machine
from bench.processes import REPO
from bench.seed import seed_ready
from bot.core.environment import Target
from bot.core.lifecycle import Lifecycle
from bot.core.policy import ClusterSpec, Policy, Profile
from bot.helm.activity import EnvironmentActivity
from bot.hub.activity import HubActivityReader
from bot.logs import SecretRedactor
from bot.store.sql import SqlStore, make_engine
from tests.support.stand_ins import CountingMetrics, RecordingNotifier


class _TokensOnly:
    """The one part of a deployer the sweep uses: each hub's token."""

    async def hub_token(self, target: Target) -> str:
        return "bench-token"


async def _hub_server() -> tuple[web.AppRunner, int]:
    stamp = datetime.now(UTC).isoformat()

    async def users(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "token bench-token":
            return web.json_response({"status": 403}, status=403)
        items = [{"name": "admin", "last_activity": stamp, "servers": {"": {"last_activity": stamp}}}]
        return web.json_response({"items": items, "_pagination": {"offset": 0, "limit": 200, "total": 1, "next": None}})

    app = web.Application()
    app.router.add_get("/{hub}/hub/api/users", users)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def one_size(size: int) -> dict[str, float]:
    runner, port = await _hub_server()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(make_engine(f"sqlite:///{tmp}/sweep.db"))
        store.create_schema()
        seed_ready(store, size, lambda i: f"http://127.0.0.1:{port}/h{i}/")
        policy = Policy(
            profiles={"small": Profile(image="i:1", cpu="1", memory="1Gi")},
            clusters={"dev": ClusterSpec()},
        )
        activity = EnvironmentActivity(_TokensOnly(), HubActivityReader(hubs_at_once=50))
        lifecycle = Lifecycle(
            store=store,
            policy=policy,
            deployer=_TokensOnly(),  # type: ignore[arg-type]
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
            assert report.checked == size and report.unreachable == 0, report
        await activity.close()
        store.close()
    await runner.cleanup()
    return {
        "environments": size,
        "first_sweep_s": timings[0],
        "steady_sweep_s": min(timings[1:]),
        "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asyncio.run(one_size(args.one))))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.idle_sweep", "--one", str(size)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({"machine": machine(), "sweeps": rows}, indent=2))
    for row in rows:
        print(
            f"{row['environments']:>5} environments: sweep {row['steady_sweep_s']:.2f} s "
            f"(first {row['first_sweep_s']:.2f} s), peak RSS {row['peak_rss_mib']:.0f} MiB "
            f"(seeded {row['rss_before_mib']:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
