"""Time to a hub on the real node: the bot's launch against Helm's own floor.

On the local cluster's real node, with every image already there, one after another:

- the bot: `/jupyterhub launch` through the real bot over HTTP (the Slack emulator plays
  Slack), timed from the slash command to the login reaching its owner; the part spent
  inside the deployer (namespace, Secret, Helm, the URL) is timed as well;
- the floor: a raw `helm install --wait` of the same chart with the same values
  (`bot.helm.chart.build_values` for the same request), into a namespace that already
  holds the hub's Secret; only the install is timed.

Runs alternate, so both see the same machine. Each prints a line as it finishes; at the
end, the median and the spread of each, and the ratio of the medians. Whether the hub's
URL answered with JupyterHub's login page at once (one try, the moment the login arrived
or Helm returned) is recorded for every run.

    JHB_CLUSTER_NAME=... JHB_CLUSTER_PORT=... [JHB_CLUSTER_ATTACH=1] \\
        .venv/bin/python -m bench.launch_time [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bench.common import machine
from bench.deployers import TimedDeployer
from bot.config import DEFAULT_CHART
from bot.core.environment import Target
from bot.core.policy import ClusterSpec, Profile
from bot.core.ports import HubRequest
from bot.helm import chart
from bot.helm.deployer import HelmDeployer
from bot.helm.kube import ClusterConnections
from tests.realnode.hubs import follow
from tests.support.bot_harness import BotUnderTest, delivered_login, real_node_policy, running_bot
from tests.support.cluster import LocalCluster, RealNode, describe_real_node, ensure_cluster
from tests.support.hub import HubSession
from tests.support.kube import admin_api

OWNER = "U0BENCHREAL"
INSTALLATION = f"bench-launch-{uuid.uuid4().hex[:6]}"


def answers_at_once(url: str) -> bool:
    """One GET of the hub's URL, redirects followed: is it JupyterHub's login page?"""
    try:
        status, final, body = follow(HubSession(url), "")
    except OSError:
        return False
    return status == 200 and final.startswith("hub/login") and 'name="_xsrf"' in body


def restarts(core: k8s.CoreV1Api, namespace: str) -> int:
    """Container restarts in ``namespace``: a hub that started before its proxy answered
    exits and is started again after the kubelet's back-off."""
    pods: Any = core.list_namespaced_pod(namespace)
    return sum(status.restart_count for pod in pods.items for status in pod.status.container_statuses or [])


async def bot_launch(bot: BotUnderTest, deployer: TimedDeployer, name: str, core: k8s.CoreV1Api) -> dict[str, Any]:
    started = time.perf_counter()
    reply = await bot.slack.slash_command(OWNER, f"launch {name}")
    assert reply.status == 200, reply.body
    login = await bot.slack.wait_for_private(OWNER, lambda c: f"*{name}* is ready" in c.text_blob, timeout=600)
    seconds = time.perf_counter() - started
    url, _ = delivered_login(login)
    at_once = await asyncio.to_thread(answers_at_once, url)
    await bot.settle()
    env = bot.environment(OWNER, name)
    restarted = await asyncio.to_thread(restarts, core, env.namespace)
    await deployer.teardown(env.target)
    return {
        "seconds": seconds,
        "inside_deployer": deployer.inside[env.namespace],
        "answered_at_once": at_once,
        "restarts": restarted,
    }


def floor_request(policy: dict[str, Any], target: Target) -> HubRequest:
    return HubRequest(
        environment_id=target.namespace.rsplit("-", 1)[-1],
        owner_id=OWNER,
        name="floor",
        target=target,
        profile=Profile(**policy["profiles"]["tiny"]),
        cluster=ClusterSpec(**{k: v for k, v in policy["clusters"]["local"].items() if k != "context"}),
        idle_timeout=timedelta(hours=2),
    )


def floor_values(request: HubRequest, api: k8s.ApiClient) -> dict[str, Any]:
    """What the bot would give Helm for the same request."""
    slice_: Any = k8s.DiscoveryV1Api(api).read_namespaced_endpoint_slice("kubernetes", "default")
    addresses = tuple(sorted({a for e in slice_.endpoints or [] for a in e.addresses or []}))
    ports = tuple(sorted({p.port for p in slice_.ports or [] if p.port}))
    return chart.build_values(request, installation=INSTALLATION, api_server=chart.ApiServer(addresses, ports))


def helm(cluster: LocalCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(cluster.helm), "--kube-context", cluster.context, *args],
        env={**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def delete_namespace(core: k8s.CoreV1Api, name: str) -> None:
    """Delete it and wait until it is gone, volumes released, before the next run."""
    try:
        core.delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:
            raise
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            core.read_namespace(name)
        except ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(1)  # wait-ok: polling with a deadline
    raise TimeoutError(f"namespace {name} was not deleted within 300 s")


def floor_install(cluster: LocalCluster, node: RealNode, policy: dict[str, Any], folder: Path) -> dict[str, Any]:
    api = admin_api(cluster)
    core = k8s.CoreV1Api(api)
    name = f"floor-{uuid.uuid4().hex[:6]}"
    target = Target(cluster="local", namespace=name, release=name)
    request = floor_request(policy, target)
    labels = {key: value for key, value in chart.namespace_labels(request, INSTALLATION).items() if value is not None}
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name, labels=labels)))
    try:
        secrets = chart.HubSecrets.generate()
        core.create_namespaced_secret(
            name,
            {"metadata": {"name": chart.hub_secret_name(name)}, "stringData": secrets.secret_data()},
        )
        values = folder / f"{name}.yaml"
        values.write_text(yaml.safe_dump(floor_values(request, api)))
        started = time.perf_counter()
        install = ["install", name, str(DEFAULT_CHART), "-n", name, "-f", str(values), "--wait", "--timeout", "5m"]
        proc = helm(cluster, *install)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"helm install failed: {proc.stderr}")
        service: Any = core.read_namespaced_service(chart.public_service_name(name), name)
        at_once = answers_at_once(f"http://{node.ip}:{service.spec.ports[0].node_port}/")
        return {"seconds": seconds, "answered_at_once": at_once, "restarts": restarts(core, name)}
    finally:
        helm(cluster, "uninstall", name, "-n", name, "--wait", "--timeout", "3m")
        delete_namespace(core, name)
        api.close()


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


async def main(runs: int) -> dict[str, Any]:
    cluster = ensure_cluster()
    node = describe_real_node()
    floors: list[dict[str, Any]] = []
    launches: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        policies = folder / "policies"
        policies.mkdir()
        text = real_node_policy(
            node, owners=[OWNER], context=cluster.context, max_environments=runs, namespace_prefix="bench-"
        )
        (policies / "policy.yaml").write_text(text)
        policy = yaml.safe_load(text)
        connections = ClusterConnections(
            {"local": ClusterSpec(**policy["clusters"]["local"])},
            kubeconfig=str(cluster.kubeconfig),
            helm_binary=str(cluster.helm),
            helm_timeout_seconds=300,
        )
        deployer = TimedDeployer(
            HelmDeployer(connections, chart_ref=str(DEFAULT_CHART), timeout_seconds=300, installation=INSTALLATION)
        )
        async with running_bot(
            database_url=f"sqlite:///{folder / 'bench.db'}",
            policies_dir=policies,
            groups={},
            deployer=deployer,  # type: ignore[arg-type]
            extra_env={"DEPLOY_TIMEOUT_SECONDS": "300", "INSTALLATION_ID": INSTALLATION},
        ) as bot:
            api = admin_api(cluster)
            core = k8s.CoreV1Api(api)
            for run in range(runs):
                floor = await asyncio.to_thread(floor_install, cluster, node, policy, folder)
                floors.append(floor)
                print(
                    f"run {run + 1}: helm install --wait {floor['seconds']:.1f} s (restarts {floor['restarts']})",
                    flush=True,
                )
                launch = await bot_launch(bot, deployer, f"run{run}", core)
                launches.append(launch)
                print(
                    f"run {run + 1}: bot, command to login {launch['seconds']:.1f} s "
                    f"(inside the deployer {launch['inside_deployer']:.1f} s, restarts {launch['restarts']})",
                    flush=True,
                )
            api.close()
    bot_s = spread([launch["seconds"] for launch in launches])
    floor_s = spread([floor["seconds"] for floor in floors])
    return {
        "machine": machine(),
        "runs": runs,
        "helm_install_wait_s": floor_s,
        "bot_command_to_login_s": bot_s,
        "bot_inside_deployer_s": spread([launch["inside_deployer"] for launch in launches]),
        "ratio_of_medians": bot_s["median"] / floor_s["median"],
        "answered_at_once": {
            "bot": sum(launch["answered_at_once"] for launch in launches),
            "helm": sum(floor["answered_at_once"] for floor in floors),
        },
        "runs_with_restarts": {
            "bot": sum(launch["restarts"] > 0 for launch in launches),
            "helm": sum(floor["restarts"] > 0 for floor in floors),
        },
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = asyncio.run(main(args.runs))
    print(json.dumps(result, indent=2))
    bot_s, floor_s = result["bot_command_to_login_s"], result["helm_install_wait_s"]
    print(
        f"{args.runs} runs: bot {bot_s['median']:.1f} s ({bot_s['min']:.1f}-{bot_s['max']:.1f}), "
        f"helm install --wait {floor_s['median']:.1f} s ({floor_s['min']:.1f}-{floor_s['max']:.1f}), "
        f"ratio {result['ratio_of_medians']:.2f}; URL answered at once: bot "
        f"{result['answered_at_once']['bot']}/{args.runs}, helm {result['answered_at_once']['helm']}/{args.runs}"
    )
