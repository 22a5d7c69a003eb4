"""Slack's documented Block Kit limits, as a checker: what Slack would refuse in a payload.

The numbers are Slack's (docs.slack.dev, the block, element, composition-object and view
references). Slack refuses a whole payload over any of them: ``invalid_blocks`` for a
message, ``invalid_arguments`` for a view. The Slack emulator checks every payload the
bot sends with this, so every test catches a violation, and the bot's own renderer is
tested at its largest against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

__all__ = ["MESSAGE_BLOCKS", "VIEW_BLOCKS", "Surface", "violations"]

Surface = Literal["message", "modal", "home"]

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
SECTION_TEXT = 3_000
SECTION_FIELDS = 10
FIELD_TEXT = 2_000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BLOCK_ID = 255
ACTION_ID = 255
BUTTON_TEXT = 75
BUTTON_VALUE = 2_000
BUTTON_URL = 3_000
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
OPTION_GROUPS = 100
OPTION_GROUP_LABEL = 75
OPTION_DESCRIPTION = 75
INPUT_LABEL = 2_000
INPUT_HINT = 2_000
PLACEHOLDER = 150
VIEW_TITLE = 24
VIEW_BUTTON = 24
PRIVATE_METADATA = 3_000
# views.open, views.update, views.push and views.publish: "view_too_large" above 250 kB of JSON.
VIEW_BYTES = 250_000
CALLBACK_ID = 255
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
TEXT_INPUT_MAX = 3_000


def _text(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, Mapping) else ""


def _long(where: str, value: str, limit: int) -> Iterator[str]:
    if len(value) > limit:
        yield f"{where}: {len(value)} characters, more than {limit}"


def _text_object(where: str, obj: Any, limit: int, *, plain_only: bool = False) -> Iterator[str]:
    if not isinstance(obj, Mapping) or obj.get("type") not in ("plain_text", "mrkdwn"):
        yield f"{where}: not a text object"
        return
    if plain_only and obj.get("type") != "plain_text":
        yield f"{where}: must be plain_text"
    if not _text(obj):
        yield f"{where}: empty text"
    yield from _long(where, _text(obj), limit)


def _confirm(where: str, confirm: Any) -> Iterator[str]:
    if not isinstance(confirm, Mapping):
        yield f"{where}: not a confirmation dialog"
        return
    yield from _text_object(f"{where}.title", confirm.get("title"), CONFIRM_TITLE, plain_only=True)
    yield from _text_object(f"{where}.text", confirm.get("text"), CONFIRM_TEXT)
    yield from _text_object(f"{where}.confirm", confirm.get("confirm"), CONFIRM_BUTTON, plain_only=True)
    yield from _text_object(f"{where}.deny", confirm.get("deny"), CONFIRM_BUTTON, plain_only=True)


def _options(where: str, options: Any) -> Iterator[str]:
    if not isinstance(options, Sequence) or not options:
        yield f"{where}: needs at least one option"
        return
    if len(options) > SELECT_OPTIONS:
        yield f"{where}: {len(options)} options, more than {SELECT_OPTIONS}"
    for i, option in enumerate(options):
        if not isinstance(option, Mapping):
            yield f"{where}[{i}]: not an option"
            continue
        yield from _text_object(f"{where}[{i}].text", option.get("text"), OPTION_TEXT)
        yield from _long(f"{where}[{i}].value", str(option.get("value", "")), OPTION_VALUE)
        if "description" in option:
            yield from _text_object(f"{where}[{i}].description", option["description"], OPTION_DESCRIPTION)


def _option_groups(where: str, groups: Any) -> Iterator[str]:
    if not isinstance(groups, Sequence) or not groups:
        yield f"{where}: needs at least one option group"
        return
    if len(groups) > OPTION_GROUPS:
        yield f"{where}: {len(groups)} option groups, more than {OPTION_GROUPS}"
    for i, group in enumerate(groups):
        if not isinstance(group, Mapping):
            yield f"{where}[{i}]: not an option group"
            continue
        yield from _text_object(f"{where}[{i}].label", group.get("label"), OPTION_GROUP_LABEL, plain_only=True)
        yield from _options(f"{where}[{i}].options", group.get("options"))


def _element(where: str, element: Any) -> Iterator[str]:
    if not isinstance(element, Mapping):
        yield f"{where}: not an element"
        return
    kind = element.get("type")
    yield from _long(f"{where}.action_id", str(element.get("action_id", "")), ACTION_ID)
    if "confirm" in element:
        yield from _confirm(f"{where}.confirm", element["confirm"])
    if kind == "button":
        yield from _text_object(f"{where}.text", element.get("text"), BUTTON_TEXT, plain_only=True)
        yield from _long(f"{where}.value", str(element.get("value", "")), BUTTON_VALUE)
        yield from _long(f"{where}.url", str(element.get("url", "")), BUTTON_URL)
        if element.get("style") not in (None, "primary", "danger"):
            yield f"{where}.style: {element.get('style')!r} is not primary or danger"
    elif kind in ("static_select", "multi_static_select"):
        if "option_groups" in element:
            if "options" in element:
                yield f"{where}: options and option_groups are exclusive"
            yield from _option_groups(f"{where}.option_groups", element.get("option_groups"))
        else:
            yield from _options(f"{where}.options", element.get("options"))
        if "placeholder" in element:
            yield from _text_object(f"{where}.placeholder", element["placeholder"], PLACEHOLDER, plain_only=True)
    elif kind == "plain_text_input":
        if int(element.get("max_length", 0) or 0) > TEXT_INPUT_MAX:
            yield f"{where}.max_length: more than {TEXT_INPUT_MAX}"
    elif kind not in ("image", "mrkdwn", "plain_text", "overflow", "datepicker", "checkboxes", "radio_buttons"):
        yield f"{where}: unknown element type {kind!r}"


def _block(where: str, block: Any) -> Iterator[str]:
    if not isinstance(block, Mapping):
        yield f"{where}: not a block"
        return
    kind = block.get("type")
    yield from _long(f"{where}.block_id", str(block.get("block_id", "")), BLOCK_ID)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            yield f"{where}: a section needs text or fields"
        if "text" in block:
            yield from _text_object(f"{where}.text", block["text"], SECTION_TEXT)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS:
            yield f"{where}.fields: {len(fields)} fields, more than {SECTION_FIELDS}"
        for i, item in enumerate(fields):
            yield from _text_object(f"{where}.fields[{i}]", item, FIELD_TEXT)
        if "accessory" in block:
            yield from _element(f"{where}.accessory", block["accessory"])
    elif kind == "header":
        yield from _text_object(f"{where}.text", block.get("text"), HEADER_TEXT, plain_only=True)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            yield f"{where}.elements: {len(elements)} elements, want 1 to {CONTEXT_ELEMENTS}"
        for i, item in enumerate(elements):
            if isinstance(item, Mapping) and item.get("type") in ("mrkdwn", "plain_text"):
                yield from _text_object(f"{where}.elements[{i}]", item, SECTION_TEXT)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            yield f"{where}.elements: {len(elements)} elements, want 1 to {ACTIONS_ELEMENTS}"
        for i, item in enumerate(elements):
            yield from _element(f"{where}.elements[{i}]", item)
    elif kind == "input":
        yield from _text_object(f"{where}.label", block.get("label"), INPUT_LABEL, plain_only=True)
        if "hint" in block:
            yield from _text_object(f"{where}.hint", block["hint"], INPUT_HINT, plain_only=True)
        yield from _element(f"{where}.element", block.get("element"))
    elif kind not in ("divider", "image"):
        yield f"{where}: unknown block type {kind!r}"


def violations(payload: Mapping[str, Any], surface: Surface = "message") -> list[str]:
    """Everything in ``payload`` (a message's fields, or a view) that Slack would refuse."""
    found: list[str] = []
    blocks = payload.get("blocks")
    if blocks is not None:
        if not isinstance(blocks, Sequence) or isinstance(blocks, str):
            return ["blocks: not a list"]
        limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
        if len(blocks) > limit:
            found.append(f"blocks: {len(blocks)} blocks, more than {limit} in a {surface}")
        for i, block in enumerate(blocks):
            found += _block(f"blocks[{i}]", block)
    if surface == "message":
        found += _long("text", str(payload.get("text", "")), MESSAGE_TEXT)
        if not payload.get("text") and not blocks and not payload.get("delete_original"):
            found.append("a message needs text or blocks")
    else:
        if surface == "modal":
            found += _text_object("title", payload.get("title"), VIEW_TITLE, plain_only=True)
            for button in ("submit", "close"):
                if button in payload:
                    found += _text_object(button, payload[button], VIEW_BUTTON, plain_only=True)
        found += _long("private_metadata", str(payload.get("private_metadata", "")), PRIVATE_METADATA)
        size = len(json.dumps(payload).encode())
        if size > VIEW_BYTES:
            found.append(f"view: {size} bytes of JSON, more than {VIEW_BYTES}")
        found += _long("callback_id", str(payload.get("callback_id", "")), CALLBACK_ID)
    return found
