"""Parsing and formatting of human durations such as ``8h``, ``3d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DurationError", "format_duration", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")


class DurationError(ValueError):
    """``reason``: ``format`` (not a duration) or ``zero``."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        explained = {
            "format": "is not a duration; use a number with a unit, like 30m, 8h, 3d or 1d12h",
            "zero": "is zero; a duration must be positive",
        }
        super().__init__(f"'{text}' {explained[reason]}")


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``, ``8h``, ``3d``, ``1w``, or combinations like ``1d12h``.

    Raises :class:`DurationError` for anything else, including zero.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(cleaned):
        raise DurationError(text, "format")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise DurationError(text, "zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Short, human form: ``2d 3h``, ``45m``, ``10s``. Negative values format as ``0s``."""
    total = max(int(value.total_seconds()), 0)
    parts: list[str] = []
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    if total or not parts:
        parts.append(f"{total}s")
    return " ".join(parts[:2])
