"""``/jupyterhub <verb>``: parse, ack within Slack's 3 seconds, then one core call."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core.commands import Command, Help, Launch, ListEnvironments, Status, parse_command
from bot.core.durations import parse_duration
from bot.core.errors import NotAllowed, UsageError
from bot.core.notices import Notice
from bot.core.policy import launch_choices
from bot.core.problems import Action, FormUnavailable
from bot.core.problems import NotAllowed as Refused
from bot.slack import wording
from bot.slack.render import launch_form
from bot.slack.replies import ResponseUrl, after_ack, answer_in_ack, response_url, run_and_reply
from bot.slack.services import Services

__all__ = ["COMMAND", "QUESTIONS", "execute", "register"]

COMMAND = "/jupyterhub"
# Commands that only read the database and the policy: answered in the ack itself when
# the answer is ready this quickly (seconds), else right after it. Commands that change
# something are acknowledged first and answered when done.
QUESTIONS = (ListEnvironments, Status)
ANSWER_WITHIN = 1.0
FORM_LIFETIMES = ("1h", "4h", "8h", "1d", "3d", "7d")


async def jupyterhub_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Usage problems are answered in the ack itself; everything else right after it."""
    try:
        command = parse_command(body.get("text") or "")
    except UsageError as exc:
        await ack(text=wording.describe(exc.problem))
        return
    if isinstance(command, Help):
        await ack(text=wording.usage())
        return
    services: Services = context["services"]
    if isinstance(command, QUESTIONS):
        reply = response_url(body, services)
        await answer_in_ack(ack, reply, context, execute(services, body["user_id"], command), within=ANSWER_WITHIN)
        return
    await ack()
    after_ack(context, run_command(services, command, body))


async def run_command(services: Services, command: Command, body: dict[str, Any]) -> None:
    """The command's work and its private reply."""
    user_id = body["user_id"]
    reply = response_url(body, services)
    work: Coroutine[Any, Any, Notice | None]
    if isinstance(command, Launch) and command.wants_form:
        work = open_launch_form(services, user_id, body.get("trigger_id"))
    else:
        work = execute(services, user_id, command, reply=reply)
    await run_and_reply(reply, work, dm=lambda message: services.notifier.direct_message(user_id, message))


async def open_launch_form(services: Services, user_id: str, trigger_id: object) -> Notice | None:
    if not isinstance(trigger_id, str) or not trigger_id:
        raise UsageError(FormUnavailable())
    actor = await services.actor(user_id)
    profiles, clusters = launch_choices(services.policy, actor)
    if not profiles or not clusters:
        raise NotAllowed(Refused(Action.LAUNCH, help=services.policy.defaults.access_help))
    await services.slack.views_open(
        trigger_id=trigger_id,
        view=launch_form(
            profiles=[(name, services.policy.profiles[name].description) for name in profiles],
            clusters=clusters,
            lifetimes=[parse_duration(t) for t in FORM_LIFETIMES],
            default_lifetime=services.policy.defaults.lifetime,
        ),
    )
    return None


async def execute(
    services: Services, user_id: str, command: Command, *, reply: ResponseUrl | None = None
) -> Notice | None:
    """Run a parsed command for ``user_id``; its answer for them (``None``: already answered)."""
    return await command.run(services.lifecycle, await services.actor(user_id), reply=reply)


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(jupyterhub_command)
