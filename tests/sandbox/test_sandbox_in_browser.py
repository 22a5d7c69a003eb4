"""`python -m bot sandbox` as a person uses it: Debian's Chromium opens the page, the data
scientist asks for a hub, the admin approves it, the login arrives, the hub is deleted.

The sandbox runs as its own process, exactly as `make run` starts it without Slack
settings, on the local cluster of cluster/harness.sh (the fixture starts it first).
Screenshots of each step go to test-artifacts/sandbox/ (gitignored), with timings.json.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from bot.sandbox import demo
from bot.sandbox.run import SLACK_SETTINGS
from tests.support.cluster import HARNESS, LocalCluster
from tests.support.kube import core_api
from tests.support.reporting import say

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "sandbox"
START_WAIT = 300.0
DEPLOY_WAIT_MS = 300_000


@dataclass
class RunningSandbox:
    proc: subprocess.Popen[str]
    url: str = ""
    output: list[str] = field(default_factory=list)
    url_after: float = 0.0
    ready_after: float = 0.0
    _ready: threading.Event = field(default_factory=threading.Event)

    def read(self, started: float) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            found = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
            if found and not self.url:
                self.url, self.url_after = found.group(1), time.monotonic() - started
            if line.startswith("sandbox: ready in"):
                self.ready_after = time.monotonic() - started
                self._ready.set()
            if line.startswith("sandbox: no cluster"):
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or not self.ready_after:
            raise AssertionError("the sandbox did not get ready:\n" + "\n".join(self.output[-30:]))


@pytest.fixture
def sandbox(local_cluster: LocalCluster) -> Iterator[RunningSandbox]:
    """`python -m bot sandbox` without Slack settings or KUBECONFIG: it starts (here: finds
    running) the harness's cluster itself, as on a fresh machine."""
    env = {k: v for k, v in os.environ.items() if k not in (*SLACK_SETTINGS, "KUBECONFIG")}
    env["PYTHONUNBUFFERED"] = "1"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = RunningSandbox(proc)
    reader = threading.Thread(target=running.read, args=(started,), daemon=True)
    reader.start()
    try:
        running.wait_ready(START_WAIT)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        (ARTIFACTS / "sandbox-output.txt").write_text("\n".join(running.output) + "\n")


def _listening(pid: int) -> list[tuple[str, int]]:
    process = psutil.Process(pid)
    sockets = [c for p in [process, *process.children(recursive=True)] for c in p.net_connections(kind="inet")]
    return [(c.laddr.ip, c.laddr.port) for c in sockets if c.status == psutil.CONN_LISTEN]


def _real_node_ready() -> bool:
    out = subprocess.run([str(HARNESS), "status"], capture_output=True, text=True, timeout=60, check=False).stdout
    return "real_node=ready" in out.splitlines()


async def test_launch_with_approval_then_delete_in_a_real_browser(
    sandbox: RunningSandbox, browser_page: Any, local_cluster: LocalCluster, pytestconfig: pytest.Config
) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    timings: dict[str, float] = {"url_printed_s": sandbox.url_after, "sandbox_ready_s": sandbox.ready_after}
    shots = iter(range(1, 100))

    async def shot(name: str) -> None:
        await page.screenshot(path=str(ARTIFACTS / f"{next(shots):02d}-{name}.png"))

    async def act_as(person: demo.Person, conversation: str) -> None:
        await page.select_option("#who", person.id)
        await page.click(f'#sidebar [data-conversation="{conversation}"]')

    async def type_line(text: str) -> None:
        await page.fill("#compose", text)
        await page.press("#compose", "Enter")

    # Only 127.0.0.1 listens: the page's port and the bot's.
    listening = _listening(sandbox.proc.pid)
    assert len(listening) >= 2 and {ip for ip, _ in listening} == {"127.0.0.1"}, listening
    assert f":{listening[0][1]}/" in sandbox.url or any(f":{port}/" in sandbox.url for _, port in listening)

    started = time.monotonic()
    await page.goto(sandbox.url + f"?as={demo.SCIENTIST.id}")
    await expect(page.locator("#status")).to_have_attribute("data-phase", "ready")
    timings["page_loaded_s"] = time.monotonic() - started
    await expect(page.locator("#banner")).to_contain_text("not for production")

    # The data scientist asks; only they see what they typed and the answer.
    await type_line("/jupyterhub launch demo")
    general = page.locator("#messages")
    await expect(general.locator(".message.ephemeral").last).to_contain_text("needs an admin's approval")
    await expect(general.locator(".message.ephemeral .only-you").first).to_have_text("Only visible to you")
    await shot("scientist-asks")

    # The admin approves in the admin channel.
    await act_as(demo.ADMIN, demo.ADMIN_CHANNEL)
    request = page.locator("#messages .message", has_text="asks for a JupyterHub")
    await expect(request).to_contain_text("@Dana Scientist")
    approve = request.locator("button.primary", has_text="Approve")
    await expect(approve).to_be_visible()
    await expect(request.locator("button.danger", has_text="Deny")).to_be_visible()
    await shot("admin-sees-request")
    approved_at = time.monotonic()
    await approve.click()
    await expect(request.locator("button", has_text="Approve")).to_have_count(0)
    await shot("admin-approved")

    # Back as the data scientist: the progress message in the DM advances to ready.
    await act_as(demo.SCIENTIST, "dm")
    progress = page.locator("#messages .message", has_text="Launching demo")
    await expect(progress).to_be_visible()
    await shot("progress")
    await expect(progress).to_contain_text("ready at", timeout=DEPLOY_WAIT_MS)
    await expect(progress).to_have_class(re.compile(r"\bupdated\b"))
    await shot("progress-ready")

    # The login: ephemeral, where the request was typed.
    await page.click(f'#sidebar [data-conversation="{demo.GENERAL}"]')
    login = page.locator("#messages .message.ephemeral", has_text="Password:")
    await expect(login).to_be_visible(timeout=DEPLOY_WAIT_MS)
    timings["launch_after_approval_s"] = time.monotonic() - approved_at
    text = await login.inner_text()
    url = await login.locator("a").first.get_attribute("href")
    password = re.search(r"Password:\s*(\S+)", text)
    assert url and url.startswith("http://") and password and len(password.group(1)) >= 32
    await shot("login-delivered")

    # Nobody else sees it.
    await act_as(demo.ADMIN, demo.GENERAL)
    await expect(page.locator("#messages", has_text="Password:")).to_have_count(0)
    await act_as(demo.SCIENTIST, demo.GENERAL)

    if _real_node_ready():
        # The test page owns its context, so the hub gets a context of its own
        # (a separate cookie jar, like a second browser profile).
        browser = page.context.browser
        assert browser is not None
        hub_context = await browser.new_context()
        hub = await hub_context.new_page()
        await hub.goto(url)
        await hub.fill("input[name=username]", "admin")
        await hub.fill("input[name=password]", password.group(1))
        await hub.click("input[type=submit], button[type=submit]")
        await expect(hub).not_to_have_url(re.compile(r"/hub/login"), timeout=60_000)
        await hub.screenshot(path=str(ARTIFACTS / "hub-logged-in.png"))
        await hub_context.close()
    else:
        say(pytestconfig, "sandbox browser test: kwok nodes only, so the hub's URL is not opened (no real node)")

    # Delete, and confirm.
    await type_line("/jupyterhub delete demo")
    question = page.locator("#messages .message.ephemeral", has_text="Delete")
    confirm = question.locator("button.danger")
    await expect(confirm).to_be_visible()
    await shot("delete-question")
    await confirm.click()
    await expect(page.locator("#messages .message.ephemeral button.danger")).to_have_count(0)
    await shot("deleting")
    await page.click('#sidebar [data-conversation="dm"]')
    await expect(page.locator("#messages .message", has_text="was removed")).to_be_visible(timeout=DEPLOY_WAIT_MS)
    await shot("removed")

    core = core_api(local_cluster)
    left = [
        ns.metadata.name
        for ns in core.list_namespace().items
        if ns.metadata.name.startswith("sandbox-demo") and not ns.metadata.deletion_timestamp
    ]
    assert left == []
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    say(pytestconfig, f"sandbox browser test: {json.dumps(timings)}; screenshots in {ARTIFACTS}")
