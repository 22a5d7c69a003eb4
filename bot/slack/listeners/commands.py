"""``/jupyterhub <verb>``: parse, ack within Slack's 3 seconds, then one service call."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot import blocks
from bot.commands import (
    USAGE,
    Command,
    Creds,
    Delete,
    Extend,
    Help,
    Launch,
    ListEnvironments,
    Status,
    parse_command,
)
from bot.durations import format_duration, parse_duration
from bot.errors import NotAllowed, UsageError
from bot.policy import is_admin, launch_choices
from bot.services import Services
from bot.slack.replies import after_ack, answer_in_ack, run_and_reply
from bot.states import State

__all__ = ["COMMAND", "execute", "register"]

COMMAND = "/jupyterhub"
# Commands that only read the database and the policy: answered in the ack itself when
# the answer is ready this quickly (seconds), else right after it. Commands that change
# something are acknowledged first and answered when done.
QUESTIONS = (ListEnvironments, Status)
ANSWER_WITHIN = 1.0
FORM_LIFETIMES = ("1h", "4h", "8h", "1d", "3d", "7d")


async def jupyterhub_command(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """Usage problems are answered in the ack itself; everything else right after it."""
    try:
        command = parse_command(body.get("text") or "")
    except UsageError as exc:
        await ack(text=exc.user_message)
        return
    if isinstance(command, Help):
        await ack(text=USAGE)
        return
    services: Services = context["services"]
    if isinstance(command, QUESTIONS):
        await answer_in_ack(ack, respond, context, execute(services, body["user_id"], command), within=ANSWER_WITHIN)
        return
    await ack()
    after_ack(context, run_command(services, command, body, respond))


async def run_command(services: Services, command: Command, body: dict[str, Any], respond: AsyncRespond) -> None:
    """The command's work and its private reply."""
    user_id = body["user_id"]
    work: Awaitable[dict[str, Any] | None]
    if isinstance(command, Launch) and command.wants_form:
        work = open_launch_form(services, user_id, body["trigger_id"])
    else:
        work = execute(services, user_id, command)
    await run_and_reply(respond, work, session=services.http)


async def open_launch_form(services: Services, user_id: str, trigger_id: str) -> None:
    actor = await services.actor(user_id)
    profiles, clusters = launch_choices(services.policy, actor)
    if not profiles or not clusters:
        raise NotAllowed("You are not allowed to launch environments. Ask a platform admin to add you to a role.")
    await services.slack.views_open(
        trigger_id=trigger_id,
        view=blocks.launch_form(
            profiles=[(name, services.policy.profiles[name].description) for name in profiles],
            clusters=clusters,
            lifetimes=[parse_duration(t) for t in FORM_LIFETIMES],
            default_lifetime=services.policy.defaults.lifetime,
        ),
    )


def launch_accepted(env_name: str, state: State, profile: str, cluster: str, lifetime: str) -> dict[str, Any]:
    if state is State.PENDING_APPROVAL:
        return blocks.text_message(
            f":raised_hand: Your request for *{env_name}* (`{profile}` on `{cluster}`, {lifetime}) needs an "
            "admin's approval. I'll message you when it is decided."
        )
    return blocks.text_message(
        f":rocket: Launching *{env_name}* (`{profile}` on `{cluster}`, {lifetime}). "
        "I'll send you the URL and login in a direct message when it is ready, usually within a few minutes."
    )


async def execute(services: Services, user_id: str, command: Command) -> dict[str, Any]:
    """Run a parsed command for ``user_id`` and return the private reply."""
    lifecycle = services.lifecycle
    actor = await services.actor(user_id)
    if isinstance(command, Launch):
        env = await lifecycle.request_launch(actor, command)
        return launch_accepted(env.name, env.state_enum, env.profile, env.cluster, format_duration(env.lifetime))
    if isinstance(command, ListEnvironments):
        envs = await lifecycle.list_environments(actor, everyone=command.all)
        return blocks.environment_list(
            envs,
            show_owner=command.all,
            admin_buttons=is_admin(services.policy, actor),
            now=lifecycle.now(),
        )
    if isinstance(command, Status):
        env, events = await lifecycle.status(actor, command.name)
        return blocks.status(env, events, now=lifecycle.now())
    if isinstance(command, Creds):
        env = await lifecycle.send_credentials(actor, command.name)
        return blocks.text_message(f":key: I sent the URL and login for *{env.name}* to you in a direct message.")
    if isinstance(command, Extend):
        env = await lifecycle.extend(actor, command.name, command.by)
        assert env.expires_at is not None
        return blocks.text_message(
            f":hourglass_flowing_sand: *{env.name}* now expires {env.expires_at:%Y-%m-%d %H:%M} UTC "
            f"(in {format_duration(env.expires_at - lifecycle.now())})."
        )
    if isinstance(command, Delete):
        env = await lifecycle.delete_request(actor, command.name)
        return blocks.delete_confirmation(env)
    return blocks.text_message(USAGE)


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(jupyterhub_command)
