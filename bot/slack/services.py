"""What the Slack listeners need, wired together once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.lifecycle import Lifecycle
from bot.core.policy import Actor, Policy
from bot.slack.groups import GroupDirectory
from bot.slack.notifier import SlackNotifier

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    lifecycle: Lifecycle
    groups: GroupDirectory
    notifier: SlackNotifier
    # The bot's Web API client with pooled connections, and that pool itself.
    slack: AsyncWebClient
    http: aiohttp.ClientSession

    @property
    def policy(self) -> Policy:
        return self.lifecycle.policy

    async def actor(self, user_id: str) -> Actor:
        return Actor(user_id=user_id, groups=await self.groups.groups_of(user_id))
