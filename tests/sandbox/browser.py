"""A real browser for tests: Debian's Chromium, driven by Playwright's Python package.

Playwright's own browser download cannot reach its host here, so it never runs
``playwright install``: it launches ``/usr/bin/chromium``, which ``chromium_path()``
installs with apt when it is missing (as root, under a lock, like the PostgreSQL
support). Fixture ``browser_page``: a fresh page in a fresh headless Chromium.

When Chromium cannot be had, tests using it are an ERROR if ``CI`` is set, and are
skipped (loudly, with the reason in the terminal summary) otherwise.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.reporting import say

CHROMIUM = Path("/usr/bin/chromium")
# As root, Chromium's sandbox cannot start; /dev/shm may be small in containers.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
_INSTALL_TIMEOUT_S = 20 * 60
_INSTALL_LOCK = Path(tempfile.gettempdir()) / "jupyterhub-bot-chromium-install.lock"
_skip_reasons: list[str] = []


class BrowserUnavailable(RuntimeError):
    """Chromium could not be found or installed."""


def _apt(*args: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "-q", "-y", "-o", "DPkg::Lock::Timeout=600", *args]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=_INSTALL_TIMEOUT_S, env=env, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise BrowserUnavailable(f"`{' '.join(command)}` took longer than {_INSTALL_TIMEOUT_S}s") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise BrowserUnavailable(f"`{' '.join(command)}` failed: {last[0]}")


def chromium_path(config: pytest.Config | None = None) -> Path:
    """Debian's Chromium, installed first if missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"no {CHROMIUM}, and cannot apt-get install chromium (not root, or no apt-get)")
    with open(_INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not CHROMIUM.exists():
            if config is not None:
                say(config, "browser tests: installing Debian's chromium with apt (first run only, about a minute)")
            _apt("update")
            _apt("install", "--no-install-recommends", "chromium", "fonts-dejavu-core", "fonts-noto-color-emoji")
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"apt-get installed chromium, but there is no {CHROMIUM}")
    return CHROMIUM


def _unavailable(problem: str) -> None:
    if "CI" in os.environ:
        pytest.fail(f"no browser for the browser tests (CI is set, no skip): {problem}", pytrace=False)
    reason = f"BROWSER UNAVAILABLE, browser tests skipped: {problem}"
    _skip_reasons.append(reason)
    pytest.skip(reason)


@pytest.fixture
async def browser_page(pytestconfig: pytest.Config) -> AsyncIterator[object]:
    """A Playwright page (``playwright.async_api.Page``) in a fresh headless Chromium."""
    try:
        executable = chromium_path(pytestconfig)
        from playwright.async_api import async_playwright
    except (BrowserUnavailable, ImportError) as exc:
        _unavailable(str(exc))
        raise AssertionError("unreachable") from exc
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            yield page
        finally:
            await browser.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skip_reasons:
        terminalreporter.section("browser", sep="!", red=True, bold=True)
        terminalreporter.write_line(_skip_reasons[0], red=True, bold=True)
