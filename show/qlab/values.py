"""Values that QLab remotes send, checked against the show file's bounds, and strict JSON out.

Pure functions: OSC arguments in, Python values out, or :class:`ControlValueError`
with a message the remote gets back as ``{"status": "error", "data": ...}``.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from show.errors import StovelightError

__all__ = [
    "MAX_COLOR_CHARS",
    "MAX_NAME_CHARS",
    "MAX_NOTES_CHARS",
    "ControlValueError",
    "flag",
    "integer_in",
    "number_in",
    "strict_dumps",
    "text",
    "time_value",
]

MAX_NAME_CHARS = 256
MAX_NOTES_CHARS = 4096
MAX_COLOR_CHARS = 32


class ControlValueError(StovelightError, ValueError):
    """A control value outside what the show file would accept."""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            raise ControlValueError(f"{what} must be a number, got {value[:32]!r}") from None
    else:
        raise ControlValueError(f"{what} must be a number")
    if not math.isfinite(number):
        raise ControlValueError(f"{what} must be a finite number")
    return number


def number_in(value: Any, what: str, lo: float, hi: float | None = None) -> float:
    """A finite number within ``[lo, hi]`` (``hi`` None: no upper bound)."""
    number = _number(value, what)
    if number < lo or (hi is not None and number > hi):
        bound = f"{lo:g} to {hi:g}" if hi is not None else f">= {lo:g}"
        raise ControlValueError(f"{what} must be {bound}, got {number:g}")
    return number


def integer_in(value: Any, what: str, lo: int, hi: int) -> int:
    """A whole number within ``[lo, hi]``."""
    number = _number(value, what)
    if number != int(number) or not lo <= number <= hi:
        raise ControlValueError(f"{what} must be a whole number from {lo} to {hi}")
    return int(number)


def flag(value: Any, what: str) -> bool:
    """QLab's booleans: 0/1, true/false (as numbers, OSC booleans or strings)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return bool(integer_in(value, what, 0, 1))


def text(value: Any, what: str, limit: int) -> str:
    """A string of at most ``limit`` characters without control characters."""
    if not isinstance(value, str):
        raise ControlValueError(f"{what} must be a string")
    if len(value) > limit:
        raise ControlValueError(f"{what} is longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ControlValueError(f"{what} contains control characters")
    return value


def time_value(args: list[Any], what: str) -> float:
    """Seconds from QLab's time arguments: ``s``, ``m s`` or ``h m s`` (any may be
    fractional); the total must be finite and >= 0, like every time in a show file."""
    if not 1 <= len(args) <= 3:
        raise ControlValueError(f"{what} takes seconds, minutes and seconds, or h m s")
    parts = [_number(a, what) for a in args]
    total = 0.0
    for part in parts:
        total = total * 60.0 + part
    if not math.isfinite(total) or total < 0:
        raise ControlValueError(f"{what} must be a time >= 0 s")
    return total


def strict_dumps(value: Any) -> str:
    """Compact JSON that strict parsers accept: NaN and infinities become null
    (orjson's rule, and it is several times faster than the standard library)."""
    return orjson.dumps(value).decode()
