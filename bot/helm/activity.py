"""The activity of an environment's hub: our chart's read-only API token, read from the
environment's namespace once and cached, and the hub's REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.environment import Environment, Target
from bot.core.ports import ActivityUnknown
from bot.hub.activity import HubActivityReader, HubApi, at

__all__ = ["EnvironmentActivity", "HubTokens"]


class HubTokens(Protocol):
    async def hub_token(self, target: Target) -> str:
        """The bot's read-only API token for the hub in ``target``."""
        ...


class EnvironmentActivity:
    def __init__(self, deployer: HubTokens, reader: HubActivityReader) -> None:
        self._deployer = deployer
        self._reader = reader
        self._tokens: dict[str, str] = {}

    async def _token(self, env: Environment) -> str:
        if env.id not in self._tokens:
            self._tokens[env.id] = await self._deployer.hub_token(env.target)
        return self._tokens[env.id]

    async def latest_activity(self, env: Environment) -> datetime | None:
        if not env.url:
            raise ActivityUnknown("the environment has no URL")
        api = HubApi(env.url.rstrip("/") + "/hub/api", await self._token(env))
        return await self._reader.latest_activity(at(api))

    def forget(self, env: Environment) -> None:
        self._tokens.pop(env.id, None)

    async def close(self) -> None:
        await self._reader.close()
