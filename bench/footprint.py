"""Resident memory of the bot (`python -m bot serve`) with 0 and 5,000 environments in its database.

Measured after start-up, after a /metrics scrape (which counts every environment by state)
and after /readyz, from /proc/<pid>/status.

    .venv/bin/python -m bench.footprint [--sizes 0 5000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from bench.common import machine
from bench.processes import REPO, bot_process, emulator_process, free_port, offline_cluster
from bench.seed import seed_ready
from bot.store.sql import SqlStore, make_engine

POLICIES = REPO / "tests" / "contract" / "policies"


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def measure(size: int, slack_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/footprint.db"
        store = SqlStore(make_engine(url))
        store.create_schema()
        seed_ready(store, size)
        store.close()
        port = free_port()
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": "bench",
            "ADMIN_CHANNEL_ID": "C0ADMINS",
            "SLACK_API_URL": f"{slack_url}/api/",
            "DATABASE_URL": url,
            "POLICIES_DIR": str(POLICIES),
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            **offline_cluster(Path(tmp)),
        }
        with bot_process(env) as process:
            started = _rss_mib(process.pid)
            for path in ("/metrics", "/readyz", "/metrics"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
                        response.read()
                except urllib.error.HTTPError as exc:  # /readyz is 503 here: no cluster to reach
                    exc.read()
            return {
                "environments": size,
                "rss_after_start_mib": started,
                "rss_after_scrapes_mib": _rss_mib(process.pid),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 5000])
    args = parser.parse_args()
    with emulator_process({}) as slack_url:
        rows = [measure(size, slack_url) for size in args.sizes]
    print(json.dumps({"machine": machine(), "footprint": rows}, indent=2))
    for row in rows:
        print(
            f"{row['environments']:>5} environments: {row['rss_after_start_mib']:.0f} MiB after start-up, "
            f"{row['rss_after_scrapes_mib']:.0f} MiB after /metrics and /readyz"
        )


if __name__ == "__main__":
    main()
