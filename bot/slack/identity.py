"""Which Slack installation this bot is, learned from Slack at start-up, and whether a request
belongs to it.

A request signed with our signing secret can still come from another workspace (the
same app installed elsewhere) or name another app; none of it may reach the listeners.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

__all__ = [
    "SLACK_API",
    "Installation",
    "TokenRefused",
    "Workspace",
    "foreign_reason",
    "identify",
    "safe_response_url",
]

SLACK_API = "https://slack.com/api/"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Installation:
    team_id: str
    app_id: str
    bot_user_id: str
    bot_id: str = ""
    enterprise_id: str = ""
    # Installed across an Enterprise Grid organisation rather than in one workspace.
    enterprise_install: bool = False


async def identify(client: AsyncWebClient) -> Installation:
    """Ask Slack who our token belongs to (``auth.test``) and which app it is (``bots.info``)."""
    me = await client.auth_test()
    bot = await client.bots_info(bot=str(me["bot_id"]))
    return Installation(
        team_id=str(me.get("team_id") or ""),
        app_id=str(bot["bot"]["app_id"]),
        bot_user_id=str(me.get("user_id") or ""),
        bot_id=str(me["bot_id"]),
        enterprise_id=str(me.get("enterprise_id") or ""),
        enterprise_install=bool(me.get("is_enterprise_install")),
    )


def _dig(body: Mapping[str, Any], *paths: tuple[str, ...]) -> str:
    """The first non-empty string found at one of ``paths`` in ``body``."""
    for path in paths:
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value:
            return value
    return ""


def foreign_reason(body: Mapping[str, Any], installation: Installation) -> str | None:
    """Why ``body`` (a slash command, interaction or event) is not for this installation, or
    ``None`` if it is. Every payload Slack sends names its app and its team."""
    app = _dig(body, ("api_app_id",), ("view", "app_id"))
    if app != installation.app_id:
        return f"app {app or 'missing'} is not this app"
    enterprise = _dig(body, ("enterprise_id",), ("enterprise", "id"), ("team", "enterprise_id"))
    if installation.enterprise_install:
        if enterprise != installation.enterprise_id:
            return f"organisation {enterprise or 'missing'} is not ours"
        return None
    if enterprise and enterprise != installation.enterprise_id:
        return f"organisation {enterprise} is not ours"
    team = _dig(body, ("team_id",), ("team", "id"), ("view", "team_id"), ("user", "team_id"))
    if team != installation.team_id:
        return f"workspace {team or 'missing'} is not ours"
    return None


def safe_response_url(url: str, installation: Installation, api_url: str) -> bool:
    """Whether the bot may post a private reply to ``url``.

    A ``response_url`` arrives inside the request, so whoever could forge a request could
    point the bot's reply (a login, say) anywhere. With Slack's own API the URL must be
    one of Slack's for this workspace; with another API (the sandbox, a test emulator)
    it must be on that API's own host."""
    parts = urlsplit(url)
    if api_url.rstrip("/") != SLACK_API.rstrip("/"):
        api = urlsplit(api_url)
        return (parts.scheme, parts.netloc) == (api.scheme, api.netloc)
    if parts.scheme != "https" or parts.netloc != "hooks.slack.com":
        return False
    kind, _, rest = parts.path.lstrip("/").partition("/")
    team = rest.split("/", 1)[0]
    return kind in ("commands", "actions") and (team == installation.team_id or installation.enterprise_install)


# Slack's answers to a token that can never work (wrong kind, revoked, wrong workspace).
_FATAL = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}
)


class TokenRefused(Exception):
    """Slack refused the bot token: nothing can work until the operator fixes it."""


class Workspace:
    """This bot's installation once learned; until then, no request is served."""

    def __init__(self) -> None:
        self.installation: Installation | None = None
        # Why the bot can no longer speak in this workspace (uninstalled, token revoked).
        self.lost: str | None = None

    def lose(self, reason: str) -> None:
        """Stop speaking: the installation is gone. Said loudly, once."""
        if self.lost is None:
            log.error("%s: the bot sends nothing to Slack any more; reinstall the app and restart the bot", reason)
        self.lost = reason

    async def learn(self, client: AsyncWebClient) -> Installation:
        """Ask Slack; raises :class:`TokenRefused` for a token that can never work, and the
        transport's or Slack's own error for a failure that may pass."""
        try:
            self.installation = await identify(client)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in _FATAL:
                raise TokenRefused(str(error)) from None
            raise
        return self.installation

    def refusal(self, body: Mapping[str, Any]) -> str | None:
        """Why ``body`` may not be served here (``None``: it may)."""
        if self.installation is None:
            return "the bot does not know its own installation yet"
        return foreign_reason(body, self.installation)
