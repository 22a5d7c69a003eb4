"""Deploys that fail on the real cluster: the requester is told in plain words, the release
and namespace are removed, the quota is freed, and the bot keeps serving everyone else.

What is here and what is not:
- A chart that never becomes ready (``charts/never-ready``: its pod can never be scheduled),
  deployed by the real bot process with ``CHART_REF`` and ``DEPLOY_TIMEOUT_SECONDS=20``.
- A bad image: our chart with the hub image moved to a registry under ``.invalid``, which
  cannot exist. kwok pulls no images; the harness gives it a stage
  (``cluster/kwok-stages.yaml``) that plays a kubelet failing to pull from such a registry,
  so the hub pod sits in ImagePullBackOff exactly as on a real node.
- The API server stopped mid-deploy: not here. The local cluster is one shared instance that
  other tests (and other engineers' runs) use at the same time; stopping it would fail them.
- Slack answering 429 or 500 is covered in the contract tests.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pyhelm3.errors as helm_errors
import pytest
import yaml

from bot.core.states import State
from bot.helm.deployer import _helm_problem
from bot.sandbox.emulator import ApiCall, SlackEmulator
from bot.slack.wording import describe, failure_reason
from tests.reliability.support import (
    CHARTS,
    REPO,
    Database,
    assert_served_as_usual,
    bot_env,
    bot_process,
    orphans,
    poll,
    remove_leftovers,
    unique_prefix,
    write_policy,
)
from tests.support.bot_harness import assert_acked
from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, helm_releases, namespace_exists

OWNER = "U0UNLUCKY"
DM = "D0UNLUCKY"
BYSTANDER = "U0BYSTANDER"


def _failure_dm(call: ApiCall) -> bool:
    return call.args.get("channel") == DM and "could not be deployed" in call.text_blob


async def _ended_failed_and_removed(
    cluster: LocalCluster, database: Database, prefix: str, name: str, error: str
) -> None:
    """The owner's environment ``name`` ended failed with ``error``, and left nothing in the cluster."""
    failed = await poll(
        f"{name} to end failed",
        lambda: (e := database.environment(OWNER, name)) and e.state is State.FAILED and e,
        timeout=30,
    )
    assert failed.failure is not None and error in failure_reason(failed.failure)
    core = core_api(cluster)
    assert not namespace_exists(core, failed.namespace)
    assert helm_releases(cluster, failed.namespace) == []
    assert orphans(core, prefix, database) == {}


async def _quota_is_free_again(slack: SlackEmulator) -> None:
    """The owner's quota (one environment) is free: a second launch is accepted (and fails the same way)."""
    assert_acked(await slack.slash_command(OWNER, "launch again"))
    [accepted] = await slack.wait_for("response_url", lambda c: "again" in c.text_blob, timeout=10)
    assert "Launching *again*" in accepted.args["text"], accepted.args["text"]
    await slack.wait_for(
        "chat.postMessage",
        lambda c: c.args.get("channel") == DM and "*again* could not be deployed" in c.text_blob,
        timeout=120,
    )


@pytest.mark.cluster
async def test_a_chart_that_never_becomes_ready_fails_cleanly(
    local_cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    database = Database(tmp_path / "bot.db")
    policies = write_policy(tmp_path / "policies", local_cluster, [OWNER, BYSTANDER], prefix)
    env = {
        **bot_env(local_cluster, database=database.path, policies=policies, slack=slack),
        "CHART_REF": str(CHARTS / "never-ready"),
        "DEPLOY_TIMEOUT_SECONDS": "20",
    }
    core = core_api(local_cluster)
    try:
        async with bot_process(env, tmp_path / "bot.log") as bot:
            slack.bot_url = bot.url
            assert_acked(await slack.slash_command(OWNER, "launch stuck"))
            await slack.wait_for(
                "chat.update", lambda c: c.args.get("text") == "Launching stuck: namespace created", timeout=60
            )
            stuck = database.environment(OWNER, "stuck")
            assert stuck is not None and stuck.state is State.DEPLOYING

            # While that deploy hangs, everyone else is served as usual.
            await assert_served_as_usual(slack, BYSTANDER)

            [told] = await slack.wait_for("chat.postMessage", _failure_dm, timeout=120)
            text = told.args["text"]
            assert "Sorry, *stuck* could not be deployed" in text
            assert "did not become ready" in text
            assert "no longer counts toward your quota" in text
            assert "Traceback" not in told.text_blob and "helm" not in text.lower()
            await _ended_failed_and_removed(local_cluster, database, prefix, "stuck", "did not become ready")
            # The progress message says it failed too.
            await slack.wait_for("chat.update", lambda c: c.args.get("text") == "Launching stuck: failed", timeout=10)

            await _quota_is_free_again(slack)
            assert orphans(core, prefix, database) == {}
    finally:
        remove_leftovers(core, prefix)
        database.close()


def _chart_with_hub_image(directory: Path, image: str) -> Path:
    """A copy of our chart whose hub image is ``image``, as an operator's fork with a typo would be."""
    chart = directory / "jupyterhub"
    shutil.copytree(REPO / "charts" / "jupyterhub", chart)
    values = yaml.safe_load((chart / "values.yaml").read_text())
    values["hub"]["image"]["name"] = image
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    return chart


@pytest.mark.cluster
async def test_an_image_that_cannot_be_pulled_fails_fast_and_names_it(
    local_cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    database = Database(tmp_path / "bot.db")
    policies = write_policy(tmp_path / "policies", local_cluster, [OWNER, BYSTANDER], prefix)
    image = "registry.example.invalid/jupyterhub/k8s-hub"
    env = {
        **bot_env(local_cluster, database=database.path, policies=policies, slack=slack),
        "CHART_REF": str(_chart_with_hub_image(tmp_path, image)),
        # Long enough that only the image check can explain a quick failure.
        "DEPLOY_TIMEOUT_SECONDS": "600",
        "IMAGE_PULL_GRACE_SECONDS": "2",
    }
    core = core_api(local_cluster)
    try:
        async with bot_process(env, tmp_path / "bot.log") as bot:
            slack.bot_url = bot.url
            started = time.monotonic()
            assert_acked(await slack.slash_command(OWNER, "launch pull"))
            [told] = await slack.wait_for("chat.postMessage", _failure_dm, timeout=120)
            assert time.monotonic() - started < 120  # the deploy timeout was ten minutes
            text = told.args["text"]
            assert "Sorry, *pull* could not be deployed" in text
            assert f"`{image}:4.4.0` could not be pulled (ImagePullBackOff, container `hub`)" in text
            assert "no longer counts toward your quota" in text

            await _ended_failed_and_removed(local_cluster, database, prefix, "pull", "could not be pulled")

            await assert_served_as_usual(slack, BYSTANDER)
            await _quota_is_free_again(slack)
            assert orphans(core, prefix, database) == {}
    finally:
        remove_leftovers(core, prefix)
        database.close()


def test_the_timeout_message_names_a_real_duration() -> None:
    """Seen in the test above with DEPLOY_TIMEOUT_SECONDS=20."""
    error = helm_errors.Error(1, b"", b"Error: INSTALLATION FAILED: context deadline exceeded")
    message = describe(_helm_problem(error, 20).problem)
    assert "did not become ready" in message
    assert "0 minutes" not in message and "within 20s" in message
