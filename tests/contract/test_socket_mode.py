"""Socket Mode: the same launch scenario as HTTP mode, over the emulator's WebSocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.sandbox.emulator import SlackEmulator
from tests.contract.conftest import GROUPS, POLICIES, STUDENT, assert_acked
from tests.support.stand_ins import InMemoryDeployer, MutableClock


@pytest.fixture
async def socket_bot(tmp_path: Path) -> AsyncIterator[tuple[SlackEmulator, InMemoryDeployer]]:
    slack = SlackEmulator(signing_secret="unused-in-socket-mode", groups={k: list(v) for k, v in GROUPS.items()})
    slack.socket_mode = True
    await slack.start()
    settings = load_settings(
        "socket",
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_APP_TOKEN": "xapp-test-token",
            "SLACK_API_URL": slack.api_url,
            "ADMIN_CHANNEL_ID": "C0ADMINS",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "POLICIES_DIR": str(POLICIES),
        },
    )
    deployer = InMemoryDeployer()
    runtime = build_runtime(settings, deployer=deployer, clock=MutableClock(), http_mode=False)
    await runtime.identify()
    handler = AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    await slack.wait_for_socket()
    try:
        yield slack, deployer
    finally:
        await runtime.lifecycle.drain()
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.close()
        await slack.stop()
    slack.assert_nothing_refused()


async def test_launch_over_socket_mode_delivers_credentials_privately(
    socket_bot: tuple[SlackEmulator, InMemoryDeployer],
) -> None:
    slack, deployer = socket_bot
    assert slack.find("apps.connections.open")
    assert_acked(await slack.slash_command(STUDENT, "launch over-socket"))
    [accepted] = await slack.wait_for("response_url")
    assert "Launching *over-socket*" in accepted.args["text"]
    dm = await slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
    assert dm.args["response_type"] == "ephemeral"
    [target] = deployer.deploys
    password = deployer.releases[target.namespace]["secrets"].admin_password
    assert [c for c in slack.calls if password in c.text_blob] == [dm]


async def test_usage_errors_come_back_in_the_socket_ack(socket_bot: tuple[SlackEmulator, InMemoryDeployer]) -> None:
    slack, _ = socket_bot
    reply = await slack.slash_command(STUDENT, "launch Not_Valid")
    assert_acked(reply)
    assert "not a valid name" in reply.text


async def test_buttons_over_socket_mode(socket_bot: tuple[SlackEmulator, InMemoryDeployer]) -> None:
    slack, deployer = socket_bot
    assert_acked(await slack.slash_command(STUDENT, "launch clicky"))
    await slack.wait_for_private(STUDENT, lambda c: "*Password:*" in c.text_blob)
    env_id = next(iter(deployer.releases.values()))["labels"]["jupyterhub-bot.io/environment-id"]
    assert_acked(await slack.click(STUDENT, "delete_confirmed", env_id))
    await slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    assert deployer.teardowns and deployer.teardowns[0].namespace.startswith("jh-clicky-")


async def test_a_command_from_another_workspace_does_nothing_over_socket_mode(
    socket_bot: tuple[SlackEmulator, InMemoryDeployer],
) -> None:
    slack, deployer = socket_bot
    reply = await slack.slash_command(STUDENT, "launch stranger", fields={"team_id": "T0OTHERORG"})
    assert "serves another Slack workspace" in reply.text
    assert deployer.deploys == [] and not slack.find("response_url")
