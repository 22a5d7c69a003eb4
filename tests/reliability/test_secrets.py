"""Secrets: a whole launch, ``creds`` and teardown on the real cluster by the real bot process,
then the generated hub secrets are looked for everywhere they must not be: the bot's logs (at
DEBUG, JSON lines on stderr; plain and base64), the database file (with its write-ahead log), and
every Slack call except the owner's private replies."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.core.states import State
from bot.sandbox.emulator import SlackEmulator
from bot.slack import blocks
from tests.reliability.support import (
    Database,
    bot_env,
    bot_process,
    poll,
    remove_leftovers,
    unique_prefix,
    write_policy,
)
from tests.support.bot_harness import assert_acked
from tests.support.cluster import LocalCluster
from tests.support.kube import core_api, namespace_exists

pytestmark = pytest.mark.cluster

OWNER = "U0SECRETIVE"


async def test_generated_secrets_appear_only_in_the_owners_dms(
    local_cluster: LocalCluster, slack: SlackEmulator, tmp_path: Path
) -> None:
    prefix = unique_prefix()
    database = Database(tmp_path / "bot.db")
    policies = write_policy(tmp_path / "policies", local_cluster, [OWNER], prefix)
    env = bot_env(local_cluster, database=database.path, policies=policies, slack=slack)
    log = tmp_path / "bot-stderr.jsonl"
    core = core_api(local_cluster)
    try:
        async with bot_process(env, log) as bot:
            slack.bot_url = bot.url
            assert_acked(await slack.slash_command(OWNER, "launch vault"))
            await slack.wait_for_private(OWNER, lambda c: "*Password:*" in c.text_blob, timeout=180)
            launched = database.environment(OWNER, "vault")
            assert launched is not None and launched.state is State.READY
            secret = core.read_namespaced_secret(f"{launched.release}-hub-credentials", launched.namespace)
            generated = {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}
            password = generated["admin-password"]
            assert len(password) >= 32 and set(generated) >= {"admin-password", "bot-api-token", "proxy-token"}

            # `creds` reads the password back from the cluster and shows it again, privately.
            assert_acked(await slack.slash_command(OWNER, "creds vault"))
            await slack.wait_for("response_url", lambda c: f"`{password}`" in c.text_blob, count=2, timeout=30)

            assert_acked(await slack.click(OWNER, blocks.ACTION_DELETE_CONFIRM, launched.id))
            await poll(
                "the teardown",
                lambda: (e := database.environment(OWNER, "vault")) is not None and e.state is State.DELETED,
                timeout=120,
            )
            await slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob, timeout=30)
        assert not namespace_exists(core, launched.namespace)
    finally:
        remove_leftovers(core, prefix)
        database.close()

    logs = log.read_text(errors="replace")
    # The scan has something to scan: the bot logged this environment's whole life at DEBUG.
    assert launched.id in logs and "is ready at" in logs and '"DEBUG"' in logs
    stored = database.raw_bytes()
    assert launched.id.encode() in stored
    for key, value in generated.items():
        assert value not in logs, f"{key} is in the bot's logs"
        assert base64.b64encode(value.encode()).decode() not in logs, f"{key} (base64) is in the bot's logs"
        assert value.encode() not in stored, f"{key} is in the database file"
        assert base64.b64encode(value.encode()) not in stored, f"{key} (base64) is in the database file"
        private = slack.private_to(OWNER)
        leaks = [(c.method, c.args.get("channel")) for c in slack.calls if value in c.text_blob and c not in private]
        assert leaks == [], f"{key} reached Slack outside the owner's private replies: {leaks}"
    # Only the admin password is ever shown to a person, only to the owner, ephemerally (twice).
    shown = [c for c in slack.calls if password in c.text_blob]
    assert len(shown) == 2 and all(c.method == "response_url" and c in slack.private_to(OWNER) for c in shown)
    assert not [c for c in slack.calls if generated["bot-api-token"] in c.text_blob]
    assert not [c for c in slack.calls if generated["proxy-token"] in c.text_blob]
