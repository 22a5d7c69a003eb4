"""The launch form's submission: field errors inline, in the ack; the launch after it."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core.commands import Launch
from bot.core.durations import DurationError, parse_duration
from bot.core.errors import BotError
from bot.core.names import validate_env_name
from bot.core.notices import LaunchAccepted, Notice
from bot.core.policy import Actor, grant_launch
from bot.core.problems import InvalidDuration, InvalidName, NameTaken, Problem
from bot.slack import blocks, wording
from bot.slack.render import problem, render
from bot.slack.replies import after_ack
from bot.slack.services import Services

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


def read_launch_form(state: dict[str, Any]) -> tuple[Launch | None, dict[str, Problem]]:
    """The form's values as a launch request, or problems keyed by block id."""
    errors: dict[str, Problem] = {}
    name = _value(state, "name")
    name_problem = validate_env_name(name)
    if name_problem:
        errors["name"] = InvalidName("launch", name, name_problem)
    lifetime = None
    text = _value(state, "lifetime")
    try:
        lifetime = parse_duration(text)
    except DurationError as exc:
        errors["lifetime"] = InvalidDuration("lifetime", text, exc.reason, limit_seconds=exc.limit_seconds)
    if errors:
        return None, errors
    profile = _value(state, "profile") or None
    cluster = _value(state, "cluster") or None
    return Launch(name=name, profile=profile, cluster=cluster, lifetime=lifetime), {}


def _named(services: Services, request: Launch) -> Launch:
    """The request with the policy names its options stand for (long names are sent as digests)."""
    policy = services.policy
    return dataclasses.replace(
        request,
        profile=blocks.chosen(request.profile, list(policy.profiles)) if request.profile else None,
        cluster=blocks.chosen(request.cluster, list(policy.clusters)) if request.cluster else None,
    )


async def _policy_errors(services: Services, actor: Actor, request: Launch) -> dict[str, Problem]:
    try:
        grant_launch(
            services.policy, actor, profile=request.profile, cluster=request.cluster, lifetime=request.lifetime
        )
    except BotError as exc:
        return {exc.field or "name": exc.problem}
    assert request.name is not None
    if await services.lifecycle.launches.name_in_use(actor.user_id, request.name):
        return {"name": NameTaken(request.name)}
    return {}


async def launch_form_submitted(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Inline field errors must come in the ack itself, so the form is checked first."""
    services: Services = context["services"]
    request, errors = read_launch_form(view["state"]["values"])
    actor = await services.actor(body["user"]["id"])
    if request is not None:
        request = _named(services, request)
        errors = await _policy_errors(services, actor, request)
    if errors or request is None:
        await ack(
            response_action="errors", errors={field: wording.field_error(found) for field, found in errors.items()}
        )
        return
    await ack()
    after_ack(context, _launch(services, actor, request))


async def _launch(services: Services, actor: Actor, request: Launch) -> None:
    answer: Notice
    try:
        answer = LaunchAccepted(await services.lifecycle.launches.request(actor, request))
    except BotError as exc:
        await services.notifier.direct_message(actor.user_id, problem(exc.problem))
        return
    await services.notifier.direct_message(actor.user_id, render(answer))


def register(app: AsyncApp) -> None:
    app.view(blocks.LAUNCH_FORM)(launch_form_submitted)
