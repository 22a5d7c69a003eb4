"""The page draws every Block Kit element the bot uses, and they work: the real bot's launch
form with inline field errors, buttons with confirm dialogs, mrkdwn, the App Home. No
cluster: an in-memory deployer stands in for it; Debian's Chromium draws the page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox import demo
from bot.sandbox.server import SandboxPage
from tests.support.bot_harness import BotUnderTest, running_bot
from tests.support.stand_ins import InMemoryDeployer

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "sandbox"
WHEN = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture
async def page_url(tmp_path: Path) -> AsyncIterator[tuple[str, BotUnderTest]]:
    async with running_bot(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        policies_dir=demo.POLICIES,
        groups={},
        deployer=InMemoryDeployer(),
        extra_env={"ADMIN_CHANNEL_ID": demo.ADMIN_CHANNEL},
    ) as bot:
        page = SandboxPage(bot.slack)
        page.not_ready = ""
        port = 0
        app = web.Application(middlewares=[SandboxPage.guard(lambda: port)])
        app.router.add_routes(page.routes())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield f"http://127.0.0.1:{port}/", bot
        finally:
            await runner.cleanup()


GALLERY: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Every element"}},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": f"*bold* _italic_ ~struck~ `a <code>` <https://example.org/x?a=1&amp;b=2|a link> "
            f"<@{demo.ADMIN.id}> <!date^{WHEN}^{{date_num}}|2026-01-01 00:00 UTC> 1 &lt; 2",
        },
        "fields": [{"type": "mrkdwn", "text": "*Profile*\ndemo"}, {"type": "mrkdwn", "text": "*Cluster*\nlocal"}],
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Remove"},
            "action_id": "cancel",
            "value": "x",
            "style": "danger",
            "confirm": {
                "title": {"type": "plain_text", "text": "Remove this message?"},
                "text": {"type": "mrkdwn", "text": "It goes for *everyone*."},
                "confirm": {"type": "plain_text", "text": "Remove"},
                "deny": {"type": "plain_text", "text": "Keep"},
                "style": "danger",
            },
        },
    },
    {"type": "divider"},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": ":warning: context line"}]},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "a1", "style": "primary"},
            {"type": "button", "text": {"type": "plain_text", "text": "Stop"}, "action_id": "a2", "style": "danger"},
        ],
    },
]


async def test_block_kit_elements_are_drawn_and_confirm_dialogs_guard_clicks(
    page_url: tuple[str, BotUnderTest], browser_page: Any
) -> None:
    from playwright.async_api import expect

    url, bot = page_url
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            bot.slack.api_url + "chat.postMessage",
            json={"channel": demo.GENERAL, "text": "gallery", "blocks": GALLERY},
            headers={"Authorization": "Bearer xoxb-test-token"},
        ) as posted,
    ):
        assert (await posted.json())["ok"]

    await page.goto(url + f"?as={demo.STUDENT.id}")
    message = page.locator("#messages .message", has_text="Every element")
    await expect(message.locator(".header-block")).to_have_text("Every element")
    section = message.locator(".section-block")
    await expect(section.locator("b", has_text="bold")).to_be_visible()
    await expect(section.locator("i", has_text="italic")).to_be_visible()
    await expect(section.locator("s", has_text="struck")).to_be_visible()
    await expect(section.locator("code")).to_have_text("a <code>")
    await expect(section.locator("a", has_text="a link")).to_have_attribute("href", "https://example.org/x?a=1&b=2")
    await expect(section.locator(".mention")).to_have_text("@Alex Admin")
    await expect(section.locator("time")).to_have_attribute("datetime", "2026-01-01T00:00:00.000Z")
    await expect(section).to_contain_text("1 < 2")
    await expect(section.locator(".fields > div")).to_have_count(2)
    await expect(message.locator("hr.divider-block")).to_have_count(1)
    await expect(message.locator(".context-block")).to_contain_text("⚠️ context line")
    await expect(message.locator(".actions-block button.primary")).to_have_text("Go")
    await expect(message.locator(".actions-block button.danger")).to_have_text("Stop")
    await page.screenshot(path=str(ARTIFACTS / "blockkit-gallery.png"))

    # A button with a confirm dialog: "Keep" sends nothing, "Remove" sends the click.
    await section.locator("button.danger", has_text="Remove").click()
    dialog = page.locator("#confirm-layer .confirm-dialog")
    await expect(dialog.locator("h2")).to_have_text("Remove this message?")
    await expect(dialog.locator("b")).to_have_text("everyone")
    await page.screenshot(path=str(ARTIFACTS / "blockkit-confirm.png"))
    await dialog.locator("button", has_text="Keep").click()
    await expect(dialog).to_have_count(0)
    assert [c for c in bot.slack.calls if c.method == "response_url"] == []
    await section.locator("button.danger", has_text="Remove").click()
    await dialog.locator("button", has_text="Remove").click()
    # The bot's cancel listener took the message down through its response_url.
    await expect(message).to_have_count(0)


async def test_the_launch_form_shows_field_errors_inline(page_url: tuple[str, BotUnderTest], browser_page: Any) -> None:
    from playwright.async_api import expect

    url, bot = page_url
    page = browser_page
    await page.goto(url + f"?as={demo.STUDENT.id}")
    await page.fill("#compose", "/jupyterhub launch")
    await page.press("#compose", "Enter")
    modal = page.locator("#modal-layer .modal")
    await expect(modal.locator("h2")).to_have_text("Launch a JupyterHub")
    await expect(modal.locator("select")).to_have_count(3)
    await expect(modal.locator('[data-block-id="profile"] select')).to_have_value("demo")
    await modal.locator('[data-block-id="name"] input').fill("Not A Name")
    await modal.locator("button[type=submit]").click()
    error = modal.locator('[data-block-id="name"] .error')
    await expect(error).to_contain_text("not a valid name")
    # What was typed stays, so it can be corrected.
    await expect(modal.locator('[data-block-id="name"] input')).to_have_value("Not A Name")
    await page.screenshot(path=str(ARTIFACTS / "blockkit-form-error.png"))
    [submitted] = [c for c in bot.slack.calls if c.method == "views.open"]
    assert submitted.args["view"]["callback_id"] == "launch_form"

    await modal.locator('[data-block-id="name"] input').fill("notebook")
    await modal.locator('[data-block-id="lifetime"] select').select_option("4h")
    await modal.locator("button[type=submit]").click()
    await expect(page.locator("#modal-layer")).to_be_hidden()
    await page.click('#sidebar [data-conversation="dm"]')
    await expect(page.locator("#messages .message", has_text="Launching notebook").first).to_be_visible()
    env = bot.environment(demo.STUDENT.id, "notebook")
    assert env.lifetime.total_seconds() == 4 * 3600

    # The App Home is drawn when opened, with its buttons.
    await page.click('#sidebar [data-conversation="home"]')
    await expect(page.locator("#home .header-block")).to_be_visible()
    await bot.settle()
    await page.screenshot(path=str(ARTIFACTS / "blockkit-home.png"))
    assert json.dumps(bot.slack.refused) == "[]"
