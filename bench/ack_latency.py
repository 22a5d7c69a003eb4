"""Acknowledgement latency: signed slash commands against the bot and a bare Bolt app.

1,000 requests at concurrency 50 to each, in the same run, over HTTP on 127.0.0.1, for
two commands: `help` (answered in the ack itself) and `list` (acknowledged at once, then
a database query and a reply through response_url after the ack).
Each runs as its own process (`python -m bot serve`, and a bare Bolt app that only
acknowledges, behind the same HTTP front), with the Slack emulator in a third: the bot
does its real work after each ack (group look-ups, a database query, a reply to
response_url), as it would in production.

    .venv/bin/python -m bench.ack_latency [--requests 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from bench.common import machine, summary
from bench.processes import REPO, bot_process, emulator_process, free_port, offline_cluster
from bot.sandbox.emulator import sign

POLICIES = REPO / "tests" / "contract" / "policies"
USERS = [f"U{i:06d}" for i in range(100)]
GROUPS = {"S0STUDENTS": USERS, "S0RESEARCH": [], "S0ADMINS": []}
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"


async def _fire(url: str, response_url: str, requests: int, concurrency: int, text: str = "help") -> list[float]:
    latencies: list[float] = []
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            body = urlencode(
                {
                    "command": "/jupyterhub",
                    "text": text,
                    "user_id": USERS[i % len(USERS)],
                    "team_id": "T0TEST",
                    "channel_id": "CGENERAL",
                    "response_url": response_url,
                    "trigger_id": f"{i}.t",
                    "api_app_id": "A0TEST",
                }
            ).encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
            }
            async with limit:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(i) for i in range(requests)))
    return latencies


async def main(requests: int, concurrency: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, emulator_process(GROUPS) as slack_url:
        common = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": f"{slack_url}/api/",
            "ADMIN_CHANNEL_ID": "C0ADMINS",
            "LOG_LEVEL": "WARNING",
        }
        bot_env = {
            **common,
            "PORT": str(free_port()),
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "POLICIES_DIR": str(POLICIES),
            **offline_cluster(Path(tmp)),
        }
        bare_env = {**common, "PORT": str(free_port())}
        response_url = f"{slack_url}/response/bench"
        results: dict[str, object] = {"machine": machine(), "requests": requests, "concurrency": concurrency}
        with bot_process(bot_env), bot_process(bare_env, module="bench.bare_bolt", args=()):
            bot_url = f"http://127.0.0.1:{bot_env['PORT']}/slack/events"
            bare_url = f"http://127.0.0.1:{bare_env['PORT']}/slack/events"
            for url in (bare_url, bot_url):  # warm-up: imports, caches, connections
                await _fire(url, response_url, 100, concurrency)
            for text in ("help", "list"):
                bare = await _fire(bare_url, response_url, requests, concurrency, text)
                ours = await _fire(bot_url, response_url, requests, concurrency, text)
                bot_figures, bare_figures = summary(ours), summary(bare)
                results[f"/jupyterhub {text}"] = {
                    "bot": bot_figures,
                    "bare_bolt": bare_figures,
                    "ratio_p50": bot_figures["p50_ms"] / bare_figures["p50_ms"],
                    "ratio_p99": bot_figures["p99_ms"] / bare_figures["p99_ms"],
                }
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    outcome = asyncio.run(main(args.requests, args.concurrency))
    print(json.dumps(outcome, indent=2))
    for name, figures in outcome.items():
        if isinstance(figures, dict):
            ours, bare = figures["bot"], figures["bare_bolt"]
            print(
                f"{name}: bot p50 {ours['p50_ms']:.1f} / p99 {ours['p99_ms']:.1f} / max {ours['max_ms']:.1f} ms; "
                f"bare Bolt p50 {bare['p50_ms']:.1f} / p99 {bare['p99_ms']:.1f} ms; "
                f"ratio p99 {figures['ratio_p99']:.2f}"
            )
