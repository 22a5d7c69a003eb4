"""The API server stops in the middle of a deploy, and later comes back.

The local cluster is one kube-apiserver shared by the whole test run, so it is not stopped:
the bot reaches it through a TCP proxy (``tests/support/tcp_proxy.py``) given to it in a copy
of the kubeconfig, and "the API server stops" means the proxy closes its listener and every
open connection. TLS passes through the proxy untouched; the server certificate covers
127.0.0.1, so the bot still verifies it on the proxy's port.

What must hold: the requester gets a clear message within a bounded time, the environment
ends ``failed`` with its quota slot freed, the admins are asked to remove what the rollback
could not (it cannot reach the cluster either), and the bot keeps answering everyone else.
Once the API server is back, the owner can launch again, and an admin's click on the
report's "Remove it" button removes the stranded namespace.

The requester is told in the bot's own plain words that the cluster could not be reached,
never Helm's raw output or the API server's address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from bot.core.notices import Removal, RemovalReason
from bot.core.states import State
from bot.sandbox.emulator import ApiCall
from bot.slack.wording import failure_reason
from tests.reliability.support import (
    assert_served_as_usual,
    managed_namespaces,
    poll,
    remove_leftovers,
    unique_prefix,
)
from tests.support.bot_harness import ADMIN_CHANNEL, BotUnderTest, assert_acked, cluster_policy, running_bot
from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, helm_releases, namespace_exists
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.cluster

OWNER = "U0OUTAGE"
DM = "D0OUTAGE"
BYSTANDER = "U0BYSTANDER"
ADMIN = "U0PLATFORM"

DEPLOY_TIMEOUT = 30
# A deploy may take DEPLOY_TIMEOUT (Helm's --timeout) before it fails; then the rollback tries a
# teardown that cannot reach the cluster either. Observed: well under a second, since Helm and
# the Kubernetes client fail at once on a refused connection.
FAILURE_BOUND = DEPLOY_TIMEOUT + 30
LAUNCH_WAIT = 240.0


def _proxied_kubeconfig(cluster: LocalCluster, proxy: TcpProxy, path: Path) -> Path:
    """A copy of the cluster's kubeconfig whose server is the proxy (same CA, same client cert)."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://{proxy.address}"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
async def proxy(local_cluster: LocalCluster) -> AsyncIterator[TcpProxy]:
    upstream = urlsplit(local_cluster.server)
    assert upstream.hostname and upstream.port, local_cluster.server
    tcp = TcpProxy(upstream.hostname, upstream.port)
    await tcp.start()
    yield tcp
    await tcp.stop()


@pytest.fixture
async def outage_bot(
    local_cluster: LocalCluster, proxy: TcpProxy, tmp_path: Path
) -> AsyncIterator[tuple[BotUnderTest, str]]:
    prefix = unique_prefix()
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "outage.yaml").write_text(
        cluster_policy(
            owners=[OWNER, BYSTANDER],
            admins=[ADMIN],
            context=local_cluster.context,
            max_environments=1,
            namespace_prefix=prefix,
        )
    )
    kubeconfig = _proxied_kubeconfig(local_cluster, proxy, tmp_path / "kubeconfig-via-proxy.yaml")
    try:
        async with running_bot(
            database_url=f"sqlite:///{tmp_path / 'bot.db'}",
            policies_dir=policies,
            groups={},
            extra_env={
                "KUBECONFIG": str(kubeconfig),
                "HELM_BINARY": str(local_cluster.helm),
                "DEPLOY_TIMEOUT_SECONDS": str(DEPLOY_TIMEOUT),
            },
        ) as bot:
            yield bot, prefix
    finally:
        # Whatever happened, leave nothing of ours on the shared cluster.
        await asyncio.to_thread(remove_leftovers, core_api(local_cluster), prefix)


def _exists(read: Any, name: str, namespace: str) -> bool:
    """Does the object exist? (``read`` is one of the admin client's ``read_namespaced_*``.)"""
    try:
        read(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _dm(call: ApiCall) -> bool:
    return call.args.get("channel") == DM


# Where the API server goes away: before Helm runs (the progress DM says "namespace created"),
# while Helm applies the chart's objects (the hub ConfigMap exists), and while Helm waits for
# them to become ready (the last Deployment exists).
CUTS = {
    "after-namespace": None,
    "while-applying": ("read_namespaced_config_map", "{release}-hub", k8s.CoreV1Api),
    "while-waiting": ("read_namespaced_deployment", "{release}-proxy", k8s.AppsV1Api),
}


@pytest.mark.parametrize("cut", list(CUTS))
async def test_api_server_stopped_mid_deploy(
    local_cluster: LocalCluster, proxy: TcpProxy, outage_bot: tuple[BotUnderTest, str], cut: str
) -> None:
    bot, prefix = outage_bot
    slack = bot.slack
    core = core_api(local_cluster)

    # -- 1. the API server stops in the middle of a deploy -------------------------------------
    assert_acked(await slack.slash_command(OWNER, "launch stranded"))
    await slack.wait_for(
        "chat.update", lambda c: c.args.get("text") == "Launching stranded: namespace created", timeout=60
    )
    stranded = bot.environment(OWNER, "stranded")
    if (marker := CUTS[cut]) is not None:
        method, name, api = marker
        read = getattr(api(core.api_client), method)
        await poll(
            f"helm to reach {cut}",
            lambda: _exists(read, name.format(release=stranded.release), stranded.namespace),
            timeout=60,
            interval=0.02,
        )
    await proxy.stop()
    cut_at = time.monotonic()
    assert bot.environment(OWNER, "stranded").state == State.DEPLOYING, "the deploy ended before the cut"
    assert stranded.namespace.startswith(prefix)
    assert proxy.connections > 0, "the bot did not go through the proxy"

    # While the API server is down, everyone else is served as usual.
    await assert_served_as_usual(slack, BYSTANDER)

    [told] = await slack.wait_for(
        "chat.postMessage", lambda c: _dm(c) and "could not be deployed" in c.text_blob, timeout=FAILURE_BOUND
    )
    took = time.monotonic() - cut_at
    text = told.args["text"]
    assert "Sorry, *stranded* could not be deployed" in text
    assert "The admins have been asked to remove what was left" in text
    assert "no longer counts toward your quota" in text
    assert "Traceback" not in told.text_blob
    assert not proxy.listening, "the failure was reported while the API server was still down"

    failed = bot.environment(OWNER, "stranded")
    assert failed.state == State.FAILED and failed.quota_slot is None
    assert failed.failure is not None and failure_reason(failed.failure) in text
    await slack.wait_for("chat.update", lambda c: c.args.get("text") == "Launching stranded: failed", timeout=10)

    [report] = await slack.wait_for(
        "chat.postMessage",
        lambda c: c.args.get("channel") == ADMIN_CHANNEL and stranded.namespace in c.text_blob,
        timeout=10,
    )
    assert f"local/{stranded.namespace}" in report.text_blob and "remove_orphan" in report.text_blob
    # The rollback could not reach the cluster: the namespace is still there (seen directly).
    assert await asyncio.to_thread(namespace_exists, core, stranded.namespace)

    # Still served after the failure, with the API server still down.
    assert_acked(await slack.slash_command(BYSTANDER, "help"))
    assert not proxy.listening

    # -- 2. the API server comes back ---------------------------------------------------------
    await proxy.start()

    # The quota (one environment) was freed: a new launch is accepted and delivered.
    assert_acked(await slack.slash_command(OWNER, "launch again"))
    [accepted] = await slack.wait_for("response_url", lambda c: "again" in c.text_blob, timeout=10)
    assert "Launching *again*" in accepted.args["text"], accepted.args["text"]
    creds = await slack.wait_for_private(OWNER, lambda c: "*Password:*" in c.text_blob, timeout=LAUNCH_WAIT)
    assert "again" in creds.text_blob
    again = bot.environment(OWNER, "again")
    assert again.state == State.READY, again.last_error

    # An admin's click on "Remove it" removes what the failed deploy left.
    assert_acked(await slack.click(ADMIN, "remove_orphan", f"local/{stranded.namespace}", message=report))
    await slack.wait_for(
        "response_url", lambda c: "Removed the orphaned namespace" in c.args.get("text", ""), timeout=LAUNCH_WAIT
    )
    await poll("the stranded namespace to be gone", lambda: not namespace_exists(core, stranded.namespace), timeout=60)
    assert await asyncio.to_thread(helm_releases, local_cluster, stranded.namespace) == []

    # Nothing of this test is left once the second environment is removed too.
    await bot.runtime.lifecycle.teardowns.expire(
        again.id, actor=ADMIN, removal=Removal(RemovalReason.ADMIN_EXPIRED, by=ADMIN)
    )
    await bot.settle()
    assert bot.environment(OWNER, "again").state == State.DELETED
    await poll("this test's namespaces to be gone", lambda: managed_namespaces(core, prefix) == {}, timeout=60)

    print(f"\n[{cut}] failure reported {took:.1f}s after the API server stopped: {text!r}")
    # Last, so that everything above is proven whether or not this holds: the requester is told
    # in plain words, without Helm's output or the API server's address.
    plain = "The cluster could not be reached; please try again later."
    assert plain in text and "127.0.0.1" not in text and "helm" not in text.lower(), text
