"""Button clicks. A button's value is an environment id, never a command; every click is
re-checked against the policy by the clicker's Slack user ID."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import blocks
from bot.services import Services
from bot.slack.replies import run_and_reply

__all__ = ["register"]


def _clicked(body: dict[str, Any]) -> tuple[str, str]:
    """(user id, environment id) of a block_actions payload."""
    return body["user"]["id"], body["actions"][0]["value"]


async def _decide(services: Services, body: dict[str, Any], *, approve: bool) -> None:
    user_id, env_id = _clicked(body)
    await services.lifecycle.decide(await services.actor(user_id), env_id, approve=approve)


async def approve_request(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    await run_and_reply(respond, _decide(context["services"], body, approve=True))


async def deny_request(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    await run_and_reply(respond, _decide(context["services"], body, approve=False))


async def _expire(services: Services, body: dict[str, Any]) -> dict[str, Any]:
    user_id, env_id = _clicked(body)
    env = await services.lifecycle.admin_expire(await services.actor(user_id), env_id)
    return blocks.text_message(f"Removing *{env.name}* of <@{env.owner_id}>; its owner will be told.")


async def expire_environment(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    await run_and_reply(respond, _expire(context["services"], body))


async def _delete(services: Services, body: dict[str, Any]) -> dict[str, Any]:
    user_id, env_id = _clicked(body)
    env = await services.lifecycle.delete(await services.actor(user_id), env_id)
    return blocks.text_message(f":wastebasket: Deleting *{env.name}*. I'll tell you when it is gone.")


async def delete_confirmed(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await ack()
    await run_and_reply(respond, _delete(context["services"], body), replace=True)


async def cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
    await ack()
    await respond(delete_original=True)


def register(app: AsyncApp) -> None:
    app.action(blocks.ACTION_APPROVE)(approve_request)
    app.action(blocks.ACTION_DENY)(deny_request)
    app.action(blocks.ACTION_EXPIRE)(expire_environment)
    app.action(blocks.ACTION_DELETE_CONFIRM)(delete_confirmed)
    app.action(blocks.ACTION_DELETE_NOW)(delete_confirmed)
    app.action(blocks.ACTION_CANCEL)(cancel)
