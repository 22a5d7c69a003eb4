"""The launch form's submission: field errors inline, in the ack; the launch after it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot import blocks
from bot.commands import Launch
from bot.durations import format_duration, parse_duration
from bot.errors import BotError
from bot.names import validate_env_name
from bot.policy import Actor, grant_launch
from bot.services import Services
from bot.slack.listeners.commands import launch_accepted
from bot.slack.replies import after_ack

__all__ = ["read_launch_form", "register"]

log = logging.getLogger(__name__)


def _value(state: dict[str, Any], block_id: str) -> str:
    block = state.get(block_id)
    element = block.get("value") if isinstance(block, dict) else None
    if not isinstance(element, dict):
        return ""
    selected = element.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value", ""))
    return str(element.get("value") or "").strip()


def read_launch_form(state: dict[str, Any]) -> tuple[Launch | None, dict[str, str]]:
    """The form's values as a launch request, or errors keyed by block id."""
    errors: dict[str, str] = {}
    name = _value(state, "name")
    problem = validate_env_name(name)
    if problem:
        errors["name"] = problem[0].upper() + problem[1:] + "."
    lifetime = None
    try:
        lifetime = parse_duration(_value(state, "lifetime"))
    except ValueError as exc:
        errors["lifetime"] = str(exc)
    profile = _value(state, "profile") or None
    cluster = _value(state, "cluster") or None
    if errors:
        return None, errors
    return Launch(name=name, profile=profile, cluster=cluster, lifetime=lifetime), {}


async def _policy_errors(services: Services, actor: Actor, request: Launch) -> dict[str, str]:
    try:
        grant_launch(
            services.policy, actor, profile=request.profile, cluster=request.cluster, lifetime=request.lifetime
        )
    except BotError as exc:
        return {exc.field or "name": exc.user_message}
    assert request.name is not None
    if await services.lifecycle.name_in_use(actor.user_id, request.name):
        return {"name": f"You already have an environment called {request.name}; pick another name."}
    return {}


async def _checked(
    services: Services, body: dict[str, Any], view: dict[str, Any]
) -> tuple[Actor, Launch | None, dict[str, str]]:
    request, errors = read_launch_form(view["state"]["values"])
    actor = await services.actor(body["user"]["id"])
    if request is not None:
        errors = await _policy_errors(services, actor, request)
    return actor, request, errors


async def launch_form_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Inline field errors must come in the ack itself, so the form is checked first."""
    services: Services = context["services"]
    actor, request, errors = await _checked(services, body, view)
    if errors or request is None:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    after_ack(context, _launch(services, actor, request))


async def _launch(services: Services, actor: Actor, request: Launch) -> None:
    try:
        env = await services.lifecycle.request_launch(actor, request)
    except BotError as exc:
        message = blocks.text_message(exc.user_message)
    else:
        message = launch_accepted(env.name, env.state_enum, env.profile, env.cluster, format_duration(env.lifetime))
    await services.lifecycle.notifier.dm(actor.user_id, message)


def register(app: AsyncApp) -> None:
    app.view(blocks.LAUNCH_FORM)(launch_form_submitted)
