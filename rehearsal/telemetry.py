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
from collections.abc import Iterable
from typing import TypedDict

__all__ = [
    "Frame",
    "Value",
    "encode_frames",
    "signal_name",
]

Value = float | bool | str
"""A telemetry value: a number, a boolean or a short string."""


class Frame(TypedDict):
    """One protocol frame: a source's values at one instant."""

    source: str
    ts: float
    values: dict[str, Value]


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
