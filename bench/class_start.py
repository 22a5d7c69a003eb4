"""A class starts: every student types `/jupyterhub launch` within the same second.

On the local cluster's real node, with every image already there, the real bot over HTTP
(the Slack emulator plays Slack) gets N launches at once from N students, twice:

- from a warm pool of N hubs the bot's pool job deployed ahead of time;
- without a pool, so every launch deploys its hub with Helm.

Each launch is timed from its slash command to the login reaching its student; the
result is p50, p95 and max per round. The bot runs with its shipped concurrency
(``MAX_CONCURRENT_DEPLOYS``); the cluster reserves little for each hub and proxy
(``hub_requests``), as an operator packing idle hubs does. After the pool fills, what its
idle hubs and proxies really use is read from the kubelet (working set per container).

    JHB_CLUSTER_NAME=... JHB_CLUSTER_PORT=... [JHB_CLUSTER_ATTACH=1] \\
        .venv/bin/python -m bench.class_start [--students 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s

from bench.common import machine, percentile
from bench.launch_time import delete_namespace
from bot.core.states import State
from tests.support.bot_harness import BotUnderTest, real_node_policy, running_bot
from tests.support.cluster import LocalCluster, RealNode, describe_real_node, ensure_cluster
from tests.support.kube import admin_api

INSTALLATION = f"bench-class-{uuid.uuid4().hex[:6]}"
LABEL_INSTALLATION = "jupyterhub-bot.io/installation"
HUB_REQUESTS = {"cpu": "20m", "memory": "160Mi"}
WAIT_SECONDS = 900.0


def students(count: int) -> list[str]:
    return [f"U0CLASS{index:03d}" for index in range(count)]


def class_policy(cluster: LocalCluster, node: RealNode, count: int, *, pool: bool) -> str:
    policy = yaml.safe_load(
        real_node_policy(node, owners=students(count), context=cluster.context, namespace_prefix="cls-")
    )
    policy["clusters"]["local"].update(pool_limit=count if pool else 0, hub_requests=HUB_REQUESTS)
    if pool:
        policy["pools"] = {"course": {"profile": "tiny", "cluster": "local", "size": count}}
    return yaml.safe_dump(policy, sort_keys=False)


async def fill(bot: BotUnderTest, count: int) -> float:
    """Runs the pool job until the pool holds ``count`` ready hubs; returns the seconds."""
    started = time.perf_counter()
    while True:
        await bot.runtime.lifecycle.pools.maintain()
        await bot.settle()
        hubs = list(bot.runtime.store.pool_hubs("course"))
        if sum(hub.state is State.READY for hub in hubs) >= count:
            return time.perf_counter() - started
        if time.perf_counter() - started > WAIT_SECONDS:
            raise TimeoutError(f"the pool did not fill: {[hub.state for hub in hubs]}")


async def one_launch(bot: BotUnderTest, student: str, start: float) -> tuple[float, float]:
    """Seconds from ``start`` to the acknowledgement, and from the command to the login."""
    sent = time.perf_counter()
    reply = await bot.slack.slash_command(student, "launch lab")
    assert reply.status == 200, reply.body
    acked = time.perf_counter() - start
    await bot.slack.wait_for_private(student, lambda c: "*lab* is ready" in c.text_blob, timeout=WAIT_SECONDS)
    return acked, time.perf_counter() - sent


async def class_starts(bot: BotUnderTest, count: int) -> dict[str, Any]:
    started = time.perf_counter()
    timings = await asyncio.gather(*(one_launch(bot, student, started) for student in students(count)))
    all_done = time.perf_counter() - started
    await bot.settle()
    seconds = [login for _, login in timings]
    ready = sum(bot.environment(student, "lab").state is State.READY for student in students(count))
    return {
        "all_acked_within_s": max(acked for acked, _ in timings),
        "ready": ready,
        "p50_s": percentile(seconds, 0.50),
        "p95_s": percentile(seconds, 0.95),
        "max_s": max(seconds),
        "mean_s": statistics.fmean(seconds),
        "all_done_s": all_done,
    }


def idle_usage(cluster: LocalCluster, node: RealNode, namespaces: set[str]) -> dict[str, float]:
    """Working set of the pool's idle hub and proxy containers, in MiB, from the kubelet."""
    api = admin_api(cluster)
    try:
        # Unparsed: the client would turn the JSON into the repr of a dict.
        answer = k8s.CoreV1Api(api).connect_get_node_proxy_with_path(node.name, "stats/summary", _preload_content=False)
        stats = json.loads(answer.data)
    finally:
        api.close()
    usage: dict[str, list[float]] = defaultdict(list)
    for pod in stats["pods"]:
        if pod["podRef"]["namespace"] not in namespaces:
            continue
        for container in pod.get("containers", []):
            working_set = container.get("memory", {}).get("workingSetBytes")
            if working_set is not None:
                usage[container["name"]].append(working_set / 2**20)
    return {
        f"{name}_{what}_mib": value
        for name, values in usage.items()
        for what, value in (("median", statistics.median(values)), ("max", max(values)))
    }


def remove_everything(cluster: LocalCluster) -> None:
    api = admin_api(cluster)
    core = k8s.CoreV1Api(api)
    try:
        names = [
            ns.metadata.name for ns in core.list_namespace(label_selector=f"{LABEL_INSTALLATION}={INSTALLATION}").items
        ]
        for name in names:
            core.delete_namespace(name)
        for name in names:
            delete_namespace(core, name)
    finally:
        api.close()


async def round_(cluster: LocalCluster, node: RealNode, count: int, *, pool: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"pool": count if pool else 0}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        policies = folder / "policies"
        policies.mkdir()
        (policies / "class.yaml").write_text(class_policy(cluster, node, count, pool=pool))
        try:
            async with running_bot(
                database_url=f"sqlite:///{folder / 'bench.db'}",
                policies_dir=policies,
                groups={},
                extra_env={
                    "KUBECONFIG": str(cluster.kubeconfig),
                    "HELM_BINARY": str(cluster.helm),
                    "DEPLOY_TIMEOUT_SECONDS": "600",
                    "INSTALLATION_ID": INSTALLATION,
                },
            ) as bot:
                if pool:
                    result["pool_fill_s"] = await fill(bot, count)
                    namespaces = {hub.namespace for hub in bot.runtime.store.pool_hubs("course")}
                    result["idle"] = await asyncio.to_thread(idle_usage, cluster, node, namespaces)
                    print(f"pool of {count} ready after {result['pool_fill_s']:.0f} s; idle: {result['idle']}")
                result.update(await class_starts(bot, count))
                if pool:
                    result["from_pool"] = sum(
                        bot.runtime.store.claimed_by_launch(bot.environment(student, "lab").id) is not None
                        for student in students(count)
                    )
        finally:
            await asyncio.to_thread(remove_everything, cluster)
    return result


async def main(count: int) -> dict[str, Any]:
    cluster = ensure_cluster()
    node = describe_real_node()
    rounds = []
    for pool in (True, False):
        result = await round_(cluster, node, count, pool=pool)
        label = "warm pool" if pool else "no pool"
        print(
            f"{label}: {result['ready']}/{count} ready; command to login p50 {result['p50_s']:.1f} s, "
            f"p95 {result['p95_s']:.1f} s, max {result['max_s']:.1f} s",
            flush=True,
        )
        rounds.append(result)
    return {"machine": machine(), "students": count, "hub_requests": HUB_REQUESTS, "rounds": rounds}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.students)), indent=2))
