"""Concurrent launches on the local cluster: 20 at once against 20 one after another.

The real bot (over HTTP, with the Slack emulator) deploys our chart with the real helm
into the local kube-apiserver. Each launch is timed from the slash command to the
credentials DM; the time spent inside the deployer (Helm and the API server) is timed
separately, and the difference is the bot's own overhead per launch. Concurrency is
bounded by MAX_CONCURRENT_DEPLOYS (given with --limit).

    .venv/bin/python -m bench.concurrent_launches [--launches 20] [--limit 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine
from bench.deployers import TimedDeployer
from bot.config import DEFAULT_CHART
from bot.core.environment import Target
from bot.core.policy import ClusterSpec
from bot.helm.deployer import HelmDeployer
from bot.helm.kube import ClusterConnections
from tests.support.bot_harness import BotUnderTest, cluster_policy, running_bot
from tests.support.cluster import ensure_cluster

OWNER = "U0BENCHLAUNCH"


async def _launch(bot: BotUnderTest, name: str) -> float:
    started = time.perf_counter()
    reply = await bot.slack.slash_command(OWNER, f"launch {name}")
    assert reply.status == 200
    await bot.slack.wait_for_private(OWNER, lambda c: f"Your JupyterHub *{name}* is ready" in c.text_blob, timeout=600)
    return time.perf_counter() - started


async def _round(mode: str, launches: int, limit: int, tmp: Path) -> dict[str, float]:
    cluster = ensure_cluster()
    policies = tmp / f"policies-{mode}"
    policies.mkdir()
    (policies / "policy.yaml").write_text(
        cluster_policy(owners=[OWNER], context=cluster.context, max_environments=launches)
    )
    connections = ClusterConnections(
        {"local": ClusterSpec(context=cluster.context)},
        kubeconfig=str(cluster.kubeconfig),
        helm_binary=str(cluster.helm),
        helm_timeout_seconds=600,
    )
    deployer = TimedDeployer(HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=600))
    async with running_bot(
        database_url=f"sqlite:///{tmp / f'{mode}.db'}",
        policies_dir=policies,
        groups={},
        deployer=deployer,  # type: ignore[arg-type]
        extra_env={"MAX_CONCURRENT_DEPLOYS": str(limit), "DEPLOY_TIMEOUT_SECONDS": "600"},
    ) as bot:
        names = [f"{mode[:3]}{i}" for i in range(launches)]
        started = time.perf_counter()
        if mode == "sequential":
            totals = [await _launch(bot, name) for name in names]
        else:
            totals = list(await asyncio.gather(*(_launch(bot, name) for name in names)))
        wall = time.perf_counter() - started
        await bot.settle()
        envs = [bot.environment(OWNER, name) for name in names]
        inside = [deployer.inside[env.namespace] for env in envs]
        for env in envs:
            await deployer.teardown(Target(cluster="local", namespace=env.namespace, release=env.release))
    # The bot's own part of a launch: everything but the deploy itself. Under concurrency a
    # launch also waits for a free deploy slot; that wait is the configured bound, not overhead.
    overhead = [t - i for t, i in zip(totals, inside, strict=True)] if mode == "sequential" else []
    return {
        "wall_s": wall,
        "mean_launch_s": statistics.fmean(totals),
        "mean_inside_deployer_s": statistics.fmean(inside),
        **({"mean_bot_overhead_ms": statistics.fmean(overhead) * 1000} if overhead else {}),
    }


async def main(launches: int, limit: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        sequential = await _round("sequential", launches, limit, Path(tmp))
        concurrent = await _round("concurrent", launches, limit, Path(tmp))
    return {
        "machine": machine(),
        "launches": launches,
        "max_concurrent_deploys": limit,
        "sequential": sequential,
        "concurrent": concurrent,
        "speed_up": sequential["wall_s"] / concurrent["wall_s"],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=20)
    parser.add_argument("--limit", type=int, default=4)
    args = parser.parse_args()
    result = asyncio.run(main(args.launches, args.limit))
    print(json.dumps(result, indent=2))
    print(
        f"{args.launches} launches: one after another {result['sequential']['wall_s']:.1f} s, "
        f"at once (limit {args.limit}) {result['concurrent']['wall_s']:.1f} s, speed-up {result['speed_up']:.2f}x; "
        f"bot overhead per launch {result['sequential']['mean_bot_overhead_ms']:.0f} ms"
    )
