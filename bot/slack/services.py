"""What the Slack listeners need, wired together once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.errors import NotAllowed
from bot.core.lifecycle import Lifecycle
from bot.core.policy import Actor, Policy
from bot.core.problems import AccountNotEligible, ChatUnavailable
from bot.slack.groups import GroupDirectory
from bot.slack.identity import Workspace
from bot.slack.notifier import SlackNotifier
from bot.slack.people import AccountKind, People, SlackUnavailable

__all__ = ["Services"]


@dataclass(frozen=True)
class Services:
    lifecycle: Lifecycle
    workspace: Workspace
    people: People
    groups: GroupDirectory
    notifier: SlackNotifier
    # The bot's Web API client with pooled connections, that pool itself, and where the API is.
    slack: AsyncWebClient
    http: aiohttp.ClientSession
    api_url: str

    @property
    def policy(self) -> Policy:
        return self.lifecycle.policy

    async def actor(self, user_id: str) -> Actor:
        """The person behind ``user_id`` as the policy sees them; raises for an account that may
        not use the bot at all, or when Slack cannot tell who it is."""
        try:
            kind = await self.people.kind(user_id)
        except SlackUnavailable:
            raise NotAllowed(ChatUnavailable()) from None
        guest = kind is AccountKind.GUEST
        admits_guests = any(role.guests for role in self.policy.roles.values())
        if kind is not AccountKind.MEMBER and not (guest and admits_guests):
            raise NotAllowed(AccountNotEligible(kind.value))
        return Actor(user_id=user_id, groups=await self.groups.groups_of(user_id), guest=guest)
