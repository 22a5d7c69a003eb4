"""Run the real bot (Bolt app over aiohttp on 127.0.0.1) against the Slack emulator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from bot.config import load_settings
from bot.core.environment import Environment
from bot.runtime import ClusterDeployer, Runtime, build_runtime
from bot.sandbox.emulator import ApiCall, SlackEmulator, SlackReply
from tests.support.cluster import RealNode
from tests.support.stand_ins import MutableClock

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN_CHANNEL = "C0ADMINS"
# Slack gives up on an acknowledgement after 3 seconds.
ACK_LIMIT_SECONDS = 3.0


OWNER_VERBS = ("launch", "list", "status", "creds", "extend", "delete")


def cluster_policy(
    *,
    owners: Sequence[str],
    context: str | None,
    max_environments: int = 2,
    admins: Sequence[str] = (),
    allow: Sequence[str] = OWNER_VERBS,
    namespace_prefix: str = "jh-",
) -> str:
    """A policy letting ``owners`` launch tiny hubs on the cluster behind kubeconfig ``context``
    (``None``: the current context, or in-cluster), and ``admins`` approve and expire them."""
    roles: dict[str, Any] = {
        "owners": {
            "members": [f"user:{user}" for user in owners],
            "allow": list(allow),
            "profiles": ["tiny"],
            "clusters": ["local"],
            "max_environments": max_environments,
        }
    }
    if admins:
        roles["admins"] = {
            "members": [f"user:{user}" for user in admins],
            "allow": ["approve", "deny", "expire", "list-all", "list", "status"],
        }
    policy = {
        "roles": roles,
        "profiles": {
            "tiny": {
                "image": "quay.io/jupyter/minimal-notebook:2025-06-30",
                "cpu": "0.5",
                "memory": "512Mi",
                "storage": "1Gi",
            }
        },
        "clusters": {"local": {"context": context, "service_type": "NodePort"}},
        "defaults": {"lifetime": "1h", "profile": "tiny", "cluster": "local", "namespace_prefix": namespace_prefix},
    }
    return yaml.safe_dump(policy, sort_keys=False)


def real_node_policy(
    node: RealNode,
    *,
    owners: Sequence[str],
    context: str | None,
    max_environments: int = 2,
    namespace_prefix: str = "jh-",
    defaults: dict[str, Any] | None = None,
) -> str:
    """:func:`cluster_policy` as an operator writes it for a cluster whose hubs must run on
    the real node: its address in URLs, its label and taint, the local images; ``defaults``
    are added to the policy's defaults (idle timeout, lifetime, ...)."""
    policy = yaml.safe_load(
        cluster_policy(
            owners=owners, context=context, max_environments=max_environments, namespace_prefix=namespace_prefix
        )
    )
    policy["profiles"]["tiny"].update(image=node.images["singleuser"], cpu="1", memory="512Mi", storage="1Gi")
    policy["clusters"]["local"].update(
        public_address=node.ip,
        scheduling={"node_selector": node.node_selector, "tolerations": node.tolerations},
        images={"hub": node.images["hub"], "proxy": node.images["proxy"]},
    )
    policy["defaults"].update(defaults or {})
    return yaml.safe_dump(policy, sort_keys=False)


@dataclass
class BotUnderTest:
    runtime: Runtime
    slack: SlackEmulator
    clock: MutableClock

    async def settle(self) -> None:
        """Wait for the bot's background work (deploys, teardowns) to finish."""
        await self.runtime.lifecycle.drain()

    def environment(self, owner: str, name: str) -> Environment:
        env = self.runtime.store.find_by_name(owner, name)
        assert env is not None, f"{owner} has no environment {name}"
        return env

    def maybe_environment(self, owner: str, name: str) -> Environment | None:
        return self.runtime.store.find_by_name(owner, name)


def delivered_login(call: ApiCall) -> tuple[str, str]:
    """The URL and password in the message that delivered a hub's login."""
    blob = call.text_blob
    url = re.search(r"\*URL:\* <(https?://[^|>]+)\|", blob)
    password = re.search(r"\*Password:\* `([^`]+)`", blob)
    assert url and password, f"no login in {blob[:500]}"
    return url.group(1), password.group(1)


def assert_acked(reply: SlackReply) -> None:
    assert reply.status == 200, reply.body
    assert reply.elapsed < ACK_LIMIT_SECONDS, f"ack took {reply.elapsed:.2f}s"


@asynccontextmanager
async def running_bot(
    *,
    database_url: str,
    policies_dir: Path,
    groups: dict[str, list[str]],
    deployer: ClusterDeployer | None = None,
    extra_env: dict[str, str] | None = None,
    clock: MutableClock | None = None,
    slack_down_at_start: bool = False,
) -> AsyncIterator[BotUnderTest]:
    slack = SlackEmulator(signing_secret=SIGNING_SECRET, groups={k: list(v) for k, v in groups.items()})
    await slack.start()
    if slack_down_at_start:
        slack.fail("auth.test", status=503, times=1_000_000)
    settings = load_settings(
        "serve",
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "ADMIN_CHANNEL_ID": ADMIN_CHANNEL,
            "DATABASE_URL": database_url,
            "POLICIES_DIR": str(policies_dir),
            **(extra_env or {}),
        },
    )
    clock = clock or MutableClock()
    runtime = build_runtime(settings, deployer=deployer, clock=clock)
    await runtime.identify()
    runner = web.AppRunner(runtime.web_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
    try:
        yield BotUnderTest(runtime=runtime, slack=slack, clock=clock)
    finally:
        await runtime.lifecycle.drain()
        await runner.cleanup()
        # Close the pooled connections now: on PostgreSQL they would pile up test after test.
        await runtime.close()
        await slack.stop()
    slack.assert_nothing_refused()


def base_url(bot: BotUnderTest) -> str:
    """Where the bot's HTTP server listens."""
    return bot.slack.bot_url.removesuffix("/slack/events")
