"""The chart's hub configuration, run by the real jupyterhub package.

tests/support/hub.py renders the chart, swaps only the Kubernetes block for a
local spawner and starts jupyterhub behind configurable-http-proxy on
127.0.0.1. Then the generated credentials are used as a person and as the bot
would use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hub import HubSession, RunningHub, api_request, running_hub

pytestmark = pytest.mark.hub

BOT_SCOPES = {"list:users", "read:users:activity", "read:servers"}


@pytest.fixture(scope="module")
def hub(helm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    with running_hub(helm, workdir=tmp_path_factory.mktemp("hub")) as started:
        yield started


@pytest.fixture(scope="module")
def admin(hub: RunningHub) -> HubSession:
    """A browser session logged in as the admin, which has been active once."""
    session = HubSession(hub.base_url)
    response = session.login(hub.admin_user, hub.admin_password)
    assert response.status == 302, response.text
    assert (response.header("Location") or "").endswith("/hub/home")
    home = session.get("hub/home")
    assert home.status == 200, home.text
    return session


def test_admin_logs_in_with_the_generated_password(hub: RunningHub, admin: HubSession) -> None:
    assert admin.cookie("jupyterhub-session-id")
    assert admin.get("hub/home").status == 200
    me = admin.api("user")
    assert me.status == 200, me.text
    assert me.json()["name"] == hub.admin_user
    assert me.json()["admin"] is True


def test_wrong_password_is_refused(hub: RunningHub) -> None:
    session = HubSession(hub.base_url)
    response = session.login(hub.admin_user, hub.admin_password[:-1] + "x")
    assert response.status == 403
    assert "Invalid username or password" in response.text
    home = session.get("hub/home")
    assert home.status == 302
    assert "/hub/login" in (home.header("Location") or "")


def test_nobody_else_logs_in_even_with_the_admin_password(hub: RunningHub) -> None:
    response = HubSession(hub.base_url).login("mallory", hub.admin_password)
    assert response.status == 403


def test_bot_token_reads_users_with_last_activity(hub: RunningHub, admin: HubSession) -> None:
    response = api_request(hub.api_url, "users", hub.bot_api_token)
    assert response.status == 200, response.text
    users = {user["name"]: user for user in response.json()}
    assert set(users) == {hub.admin_user}
    assert users[hub.admin_user]["last_activity"] is not None
    assert "servers" in users[hub.admin_user]


def test_bot_token_is_only_a_reader(hub: RunningHub, admin: HubSession) -> None:
    me = api_request(hub.api_url, "user", hub.bot_api_token)
    assert me.status == 200, me.text
    assert me.json()["kind"] == "service"
    assert me.json()["name"] == "jupyterhub-bot"
    assert BOT_SCOPES <= set(me.json()["scopes"])
    assert all(scope.startswith(("list:", "read:")) for scope in me.json()["scopes"]), me.json()["scopes"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "users/admin"),
        ("POST", "users/admin/server"),
        ("DELETE", "users/admin/server"),
        ("POST", "users/mallory"),
        ("PATCH", "users/admin"),
    ],
)
def test_bot_token_is_refused_admin_actions(hub: RunningHub, admin: HubSession, method: str, path: str) -> None:
    response = api_request(hub.api_url, path, hub.bot_api_token, method=method, body={"admin": False})
    assert response.status == 403, response.text
    assert "not authorized with current scopes" in response.text
    still_there = api_request(hub.api_url, "users/admin", hub.bot_api_token)
    assert still_there.status == 200
    assert still_there.json()["admin"] is True


def test_a_wrong_token_reads_nothing(hub: RunningHub) -> None:
    response = api_request(hub.api_url, "users", "not-the-" + hub.bot_api_token)
    assert response.status == 403


def test_idle_culler_runs_as_a_managed_service(hub: RunningHub, admin: HubSession) -> None:
    response = admin.api("services")
    assert response.status == 200, response.text
    services = response.json()
    assert set(services) == {"jupyterhub-bot", "idle-culler"}
    culler = services["idle-culler"]
    assert culler["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    assert culler["pid"] > 0


def test_hub_log_holds_no_secret(hub: RunningHub, admin: HubSession) -> None:
    HubSession(hub.base_url).login(hub.admin_user, "wrong-" + hub.admin_password)
    log = hub.log()
    assert "jupyterhub-bot" in log  # the log is the right one
    for secret in (hub.admin_password, hub.bot_api_token):
        assert secret not in log
