"""Button clicks. A button's value is an environment id or a page of a list, never a command;
every click is re-checked against the policy by the clicker's Slack user ID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core import notices
from bot.core.commands import ListEnvironments
from bot.core.errors import UsageError
from bot.core.notices import Notice
from bot.core.policy import Actor
from bot.core.problems import BadArguments
from bot.slack import blocks
from bot.slack.blocks import Message
from bot.slack.home import publish_home
from bot.slack.replies import after_ack, response_url, run_and_reply
from bot.slack.services import Services

__all__ = ["register"]

# What a click does: (services, the clicker, the button's value) -> the clicker's answer.
ClickWork = Callable[[Services, Actor, str], Awaitable[Notice | None]]


async def _approve(services: Services, actor: Actor, env_id: str) -> None:
    await services.lifecycle.approvals.decide(actor, env_id, approve=True)


async def _deny(services: Services, actor: Actor, env_id: str) -> None:
    await services.lifecycle.approvals.decide(actor, env_id, approve=False)


async def _expire(services: Services, actor: Actor, env_id: str) -> Notice:
    return notices.Expiring(await services.lifecycle.admin.expire(actor, env_id))


async def _delete(services: Services, actor: Actor, env_id: str) -> Notice:
    return notices.Deleting(await services.lifecycle.owner.delete(actor, env_id))


async def _keep(services: Services, actor: Actor, env_id: str) -> Notice:
    return notices.Kept(await services.lifecycle.owner.keep(actor, env_id))


async def _extend(services: Services, actor: Actor, env_id: str) -> Notice:
    env = await services.lifecycle.owner.extend_environment(actor, env_id)
    return notices.Extended(env, services.lifecycle.now())


async def _remove_orphan(services: Services, actor: Actor, value: str) -> Notice:
    return notices.OrphanRemoved(await services.lifecycle.admin.remove_orphan(actor, value))


async def _list_page(services: Services, actor: Actor, value: str) -> Notice | None:
    """[Previous] and [Next] under a list, [List them all] in the App Home: the same command as
    typing ``list [all] <page>``."""
    page = blocks.read_page_value(value)
    if page is None:
        raise UsageError(BadArguments("list"))
    everyone, number = page
    return await ListEnvironments(all=everyone, page=number).run(services.lifecycle, actor)


def _listener(work: ClickWork, *, replace: bool = False) -> Callable[..., Awaitable[None]]:
    """Ack, then run ``work`` for the clicker and reply privately; a click in the App Home
    also refreshes it."""

    async def on_click(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        services: Services = context["services"]
        user_id = body["user"]["id"]
        reply = response_url(body, services)

        async def clicked() -> Notice | None:
            return await work(services, await services.actor(user_id), body["actions"][0]["value"])

        async def dm(message: Message) -> None:
            await services.notifier.direct_message(user_id, message)

        async def answer() -> None:
            await run_and_reply(reply, clicked(), replace=replace, dm=dm)
            if (body.get("container") or {}).get("type") == "view":
                await publish_home(services, user_id)

        after_ack(context, answer())

    on_click.__name__ = f"on_{work.__name__.lstrip('_')}"
    return on_click


async def cancel(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    reply = response_url(body, context["services"])

    async def remove_the_question() -> None:
        if reply is not None:
            await reply.delete_original()

    after_ack(context, remove_the_question())


def register(app: AsyncApp) -> None:
    app.action(blocks.ACTION_APPROVE)(_listener(_approve))
    app.action(blocks.ACTION_DENY)(_listener(_deny))
    app.action(blocks.ACTION_EXPIRE)(_listener(_expire))
    app.action(blocks.ACTION_DELETE_CONFIRM)(_listener(_delete, replace=True))
    app.action(blocks.ACTION_DELETE_NOW)(_listener(_delete))
    app.action(blocks.ACTION_KEEP)(_listener(_keep))
    app.action(blocks.ACTION_EXTEND)(_listener(_extend))
    app.action(blocks.ACTION_REMOVE_ORPHAN)(_listener(_remove_orphan))
    app.action(blocks.ACTION_LIST_PREVIOUS)(_listener(_list_page, replace=True))
    app.action(blocks.ACTION_LIST_NEXT)(_listener(_list_page, replace=True))
    app.action(blocks.ACTION_LIST_OPEN)(_listener(_list_page))
    app.action(blocks.ACTION_CANCEL)(cancel)
