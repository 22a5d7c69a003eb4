"""What operators look at: health, readiness, metrics and the log stream."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from bot.logs import log_handler
from tests.contract.conftest import STUDENT, ContractBot, assert_acked
from tests.support.bot_harness import base_url


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


async def _get(bot: ContractBot, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(base_url(bot) + path) as response:
        return response.status, await response.text()


async def test_health_and_readiness(bot: ContractBot) -> None:
    assert await _get(bot, "/healthz") == (200, '{"status": "ok"}')
    status, body = await _get(bot, "/readyz")
    assert status == 200
    assert json.loads(body) == {"ready": True, "checks": {"database": "ok", "cluster:dev": "ok", "slack": "ok"}}


async def test_metrics_count_a_scripted_launch_and_teardown(bot: ContractBot) -> None:
    assert_acked(await bot.slack.slash_command(STUDENT, "launch counted"))
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()
    env = bot.environment(STUDENT, "counted")
    assert_acked(await bot.slack.click(STUDENT, "delete_confirmed", env.id))
    await bot.slack.wait_for("chat.postMessage", lambda c: "was removed" in c.text_blob)
    await bot.settle()

    status, text = await _get(bot, "/metrics")
    assert status == 200
    lines = set(text.splitlines())
    assert 'jupyterhub_bot_launches_total{outcome="ready",source="new"} 1.0' in lines
    assert 'jupyterhub_bot_teardowns_total{outcome="deleted"} 1.0' in lines
    assert 'jupyterhub_bot_launch_duration_seconds_count{source="new"} 1.0' in lines
    assert 'jupyterhub_bot_environments{state="deleted"} 1.0' in lines
    assert 'jupyterhub_bot_environments{state="ready"} 0.0' in lines
    assert 'jupyterhub_bot_slack_requests_total{kind="command",status="200"} 1.0' in lines
    assert 'jupyterhub_bot_slack_requests_total{kind="block_actions",status="200"} 1.0' in lines


async def test_logs_are_json_lines_without_credentials(bot: ContractBot, json_log: io.StringIO) -> None:
    bot.deployer.fail_next = None
    assert_acked(await bot.slack.slash_command(STUDENT, "logged"))
    assert_acked(await bot.slack.slash_command(STUDENT, "launch logged"))
    await bot.slack.wait_for("response_url", lambda c: "*Password:*" in c.text_blob)
    await bot.settle()
    env = bot.environment(STUDENT, "logged")
    password = bot.deployer.releases[env.namespace]["secrets"].admin_password
    logging.getLogger("test").info("if it ever were logged: %s", password)

    lines = [line for line in json_log.getvalue().splitlines() if line]
    records = [json.loads(line) for line in lines]
    assert any(r["logger"] == "bot.core.lifecycle" and "is ready at" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert password not in json_log.getvalue() and "xoxb-test-token" not in json_log.getvalue()
    assert records[-1]["message"] == "if it ever were logged: <redacted>"
