"""Parsing and formatting of human durations such as ``8h``, ``3d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["MAX_DURATION", "DurationError", "format_duration", "parse_duration"]

# No lifetime, extension or policy setting needs more than a year (and a leap day). The cap
# keeps every sum of durations and dates far from datetime's and timedelta's limits.
MAX_DURATION = timedelta(days=366)
_MAX_SECONDS = int(MAX_DURATION.total_seconds())
# More digits than this cannot be under the cap in any unit; refusing them before int()
# spares the conversion of a 5,000-digit number (which Python itself refuses).
_MAX_DIGITS = len(str(_MAX_SECONDS))

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([wdhms])")
_WHOLE = re.compile(r"(?:\d+[wdhms])+")


class DurationError(ValueError):
    """``reason``: ``format`` (not a duration), ``zero``, or ``too_long`` (over
    ``limit_seconds``, which is :data:`MAX_DURATION`)."""

    def __init__(self, text: str, reason: str, limit_seconds: int = 0) -> None:
        self.text = text
        self.reason = reason
        self.limit_seconds = limit_seconds
        explained = {
            "format": "is not a duration; use a number with a unit, like 30m, 8h, 3d or 1d12h",
            "zero": "is zero; a duration must be positive",
            "too_long": f"is too long; {format_duration(timedelta(seconds=limit_seconds))} at most",
        }
        super().__init__(f"'{text}' {explained[reason]}")


def parse_duration(text: str) -> timedelta:
    """Parse ``30m``, ``8h``, ``3d``, ``1w``, or combinations like ``1d12h``, up to :data:`MAX_DURATION`.

    Raises :class:`DurationError` for anything else, including zero.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(cleaned):
        raise DurationError(text, "format")
    seconds = 0
    for number, unit in _PART.findall(cleaned):
        if len(number.lstrip("0")) > _MAX_DIGITS:
            raise DurationError(text, "too_long", _MAX_SECONDS)
        seconds += int(number) * _UNITS[unit]
        if seconds > _MAX_SECONDS:
            raise DurationError(text, "too_long", _MAX_SECONDS)
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
