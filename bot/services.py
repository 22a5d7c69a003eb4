"""What listeners and jobs need, wired together once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.groups import GroupDirectory
from bot.lifecycle import Lifecycle
from bot.policy import Actor, Policy
from bot.store import Store
from bot.watch import Watcher

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    policy: Policy
    store: Store
    lifecycle: Lifecycle
    watcher: Watcher
    groups: GroupDirectory
    # The bot's Web API client with pooled connections, and that pool itself.
    slack: AsyncWebClient
    http: aiohttp.ClientSession

    async def actor(self, user_id: str) -> Actor:
        return Actor(user_id=user_id, groups=await self.groups.groups_of(user_id))
