"""Pure encode/decode of Stovelight's telemetry protocol.

A websocket text message holds one frame object or a JSON array of frames::

    {"source": "stove-07", "ts": 1764230400.25,
     "values": {"temp_c": 182.5, "power_w": 1800, "state": "on"}}

``source`` is a string id, ``ts`` the sample time in Unix seconds, ``values`` maps a key to a
number, a boolean or a short string. Receivers name each signal ``<source>.<key>``. These
functions do no I/O and read no clock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypedDict

from rehearsal.errors import TelemetryDecodeError

__all__ = [
    "MAX_STRING_LEN",
    "Frame",
    "TelemetrySample",
    "Value",
    "decode_message",
    "encode_frames",
    "signal_name",
]

#: Longest string value accepted in a frame ("a short string").
MAX_STRING_LEN = 256

Value = float | bool | str
"""A telemetry value: a number, a boolean or a short string."""


class Frame(TypedDict):
    """One protocol frame: a source's values at one instant."""

    source: str
    ts: float
    values: dict[str, Value]


class TelemetrySample(NamedTuple):
    """One decoded value of one frame."""

    source: str
    signal: str
    value: Value
    ts: float


def signal_name(source: str, key: str) -> str:
    """Return the signal name ``<source>.<key>`` used throughout Stovelight."""
    return f"{source}.{key}"


def encode_frames(frames: Iterable[Frame]) -> str:
    """Encode frames as one compact JSON array text message.

    Args:
        frames: frames to send together.

    Returns:
        The message text.

    Raises:
        ValueError: a value is NaN or infinite (JSON cannot carry it).
    """
    return json.dumps(list(frames), separators=(",", ":"), allow_nan=False)


def _check_value(source: str, key: object, value: object) -> Value:
    if not isinstance(key, str) or not key:
        raise TelemetryDecodeError(f"frame from {source!r}: value key {key!r} is not a string")
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise TelemetryDecodeError(f"{source}.{key}: value is not finite")
        return number
    if isinstance(value, str):
        if len(value) > MAX_STRING_LEN:
            raise TelemetryDecodeError(f"{source}.{key}: string value longer than {MAX_STRING_LEN}")
        return value
    raise TelemetryDecodeError(f"{source}.{key}: value of type {type(value).__name__} not allowed")


def _decode_frame(obj: object) -> list[TelemetrySample]:
    if not isinstance(obj, Mapping):
        raise TelemetryDecodeError(f"frame is a {type(obj).__name__}, not an object")
    source = obj.get("source")
    ts = obj.get("ts")
    values = obj.get("values")
    if not isinstance(source, str) or not source:
        raise TelemetryDecodeError(f"frame has no string 'source': {source!r}")
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
        raise TelemetryDecodeError(f"frame from {source!r} has no numeric 'ts'")
    if not isinstance(values, Mapping):
        raise TelemetryDecodeError(f"frame from {source!r} has no 'values' object")
    stamp = float(ts)
    return [
        TelemetrySample(source, f"{source}.{key}", _check_value(source, key, value), stamp)
        for key, value in values.items()
    ]


def decode_message(text: str | bytes) -> list[TelemetrySample]:
    """Decode one websocket message into samples, in frame and key order.

    Args:
        text: the message (a frame object or an array of frames).

    Returns:
        One sample per value.

    Raises:
        TelemetryDecodeError: the message is not JSON or a frame breaks the layout; nothing of
            the message is returned in that case.
    """
    try:
        doc: Any = json.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise TelemetryDecodeError(f"message is not JSON: {err}") from err
    if isinstance(doc, list):
        samples: list[TelemetrySample] = []
        for obj in doc:
            samples.extend(_decode_frame(obj))
        return samples
    return _decode_frame(doc)
