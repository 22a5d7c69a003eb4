"""Button clicks. A button's value is an environment id, never a command; every click is
re-checked against the policy by the clicker's Slack user ID."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import blocks
from bot.durations import format_duration
from bot.policy import Actor
from bot.services import Services
from bot.slack.home import publish_home
from bot.slack.replies import after_ack, run_and_reply

__all__ = ["register"]

Message = dict[str, Any]
# What a click does: (services, the clicker, the button's value) -> the private reply.
ClickWork = Callable[[Services, Actor, str], Awaitable[Message | None]]


async def _approve(services: Services, actor: Actor, env_id: str) -> None:
    await services.lifecycle.decide(actor, env_id, approve=True)


async def _deny(services: Services, actor: Actor, env_id: str) -> None:
    await services.lifecycle.decide(actor, env_id, approve=False)


async def _expire(services: Services, actor: Actor, env_id: str) -> Message:
    env = await services.lifecycle.admin_expire(actor, env_id)
    return blocks.text_message(f"Removing *{env.name}* of <@{env.owner_id}>; its owner will be told.")


async def _delete(services: Services, actor: Actor, env_id: str) -> Message:
    env = await services.lifecycle.delete(actor, env_id)
    return blocks.text_message(f":wastebasket: Deleting *{env.name}*. I'll tell you when it is gone.")


async def _keep(services: Services, actor: Actor, env_id: str) -> Message:
    env = await services.watcher.keep(actor, env_id)
    return blocks.text_message(f":ok_hand: Keeping *{env.name}*; the idle clock starts again now.")


async def _extend(services: Services, actor: Actor, env_id: str) -> Message:
    env = await services.lifecycle.extend_environment(actor, env_id)
    assert env.expires_at is not None
    left = format_duration(env.expires_at - services.lifecycle.now())
    return blocks.text_message(f":hourglass_flowing_sand: *{env.name}* now expires in {left}.")


async def _remove_orphan(services: Services, actor: Actor, value: str) -> Message:
    namespace = await services.watcher.remove_orphan(actor, value)
    return blocks.text_message(f"Removed the orphaned namespace `{namespace}`.")


def _listener(work: ClickWork, *, replace: bool = False) -> Callable[..., Awaitable[None]]:
    """Ack, then run ``work`` for the clicker and reply privately; a click in the App Home
    also refreshes it."""

    async def on_click(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        services: Services = context["services"]
        user_id = body["user"]["id"]

        async def clicked() -> Message | None:
            return await work(services, await services.actor(user_id), body["actions"][0]["value"])

        async def dm(message: Message) -> None:
            await services.lifecycle.notifier.dm(user_id, message)

        async def answer() -> None:
            await run_and_reply(respond, clicked(), replace=replace, dm=dm, session=services.http)
            if (body.get("container") or {}).get("type") == "view":
                await publish_home(services, user_id)

        after_ack(context, answer())

    on_click.__name__ = f"on_{work.__name__.lstrip('_')}"
    return on_click


async def cancel(ack: AsyncAck, respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()

    async def remove_the_question() -> None:
        await respond(delete_original=True)

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
    app.action(blocks.ACTION_CANCEL)(cancel)
