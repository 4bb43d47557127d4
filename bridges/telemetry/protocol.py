"""Stovelight's own telemetry protocol: pure decoding of websocket text frames.

Each text frame holds one JSON object, or a JSON array of objects::

    {"source": "stove-07", "ts": 1764230400.25,
     "values": {"temp_c": 182.5, "power_w": 1800, "state": "on"}}

Every value becomes a :class:`~bridges.telemetry.types.Sample` named
``<source>.<key>`` (``stove-07.temp_c``). The full specification, with limits and
rejection rules, is ``docs/telemetry-protocol.md``; the frame schema is
``docs/telemetry.schema.json``.

Nothing here raises for bad input: a frame, an object or a value that breaks the rules
is dropped and its :class:`~bridges.telemetry.types.RejectReason` is returned, while
the good objects and values of the same frame are kept.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import orjson

from .exceptions import TelemetryConfigError, TelemetryProtocolError
from .types import ParseResult, RejectReason, Sample, check_value

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_MAX_OBJECTS",
    "DEFAULT_MAX_VALUES",
    "KEY_PATTERN",
    "MAX_DEPTH",
    "SOURCE_PATTERN",
    "FrameLimits",
    "StovelightProtocol",
    "decode_json_frame",
    "parse_frame",
]

#: Largest accepted frame, in bytes of UTF-8.
DEFAULT_MAX_FRAME_BYTES = 65_536
#: Most objects accepted in one array frame.
DEFAULT_MAX_OBJECTS = 256
#: Most values accepted in one object's ``values``.
DEFAULT_MAX_VALUES = 1024
#: Deepest nesting the JSON decoder accepts (orjson's fixed recursion limit); deeper
#: frames are ``malformed_json``.
MAX_DEPTH = 1024

#: Source names: letters, digits, ``_`` and ``-``; no dots (the dot separates the key).
SOURCE_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
#: Value keys: like source names, but dots are allowed after the first character.
KEY_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True, slots=True)
class FrameLimits:
    """Size limits applied to every frame.

    Attributes:
        max_frame_bytes: Largest frame in UTF-8 bytes; larger frames are rejected whole,
            before any decoding.
        max_objects: Most objects in an array frame; larger arrays are rejected whole.
        max_values: Most values in one object; a larger object is rejected whole, before
            any of its values is looked at.
    """

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_objects: int = DEFAULT_MAX_OBJECTS
    max_values: int = DEFAULT_MAX_VALUES

    def __post_init__(self) -> None:
        if min(self.max_frame_bytes, self.max_objects, self.max_values) < 1:
            raise TelemetryConfigError("frame limits must be positive")


def _utf8_length_exceeds(text: str, limit: int) -> bool:
    """Tell whether ``text`` is longer than ``limit`` bytes of UTF-8, cheaply if possible."""
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


def decode_json_frame(text: str, max_frame_bytes: int) -> tuple[object, RejectReason | None]:
    """Size-check and decode one JSON text frame.

    Args:
        text: The frame.
        max_frame_bytes: Largest accepted size in UTF-8 bytes.

    Returns:
        ``(document, None)`` or ``(None, reason)`` with ``oversize`` or
        ``malformed_json`` (nesting deeper than :data:`MAX_DEPTH` included).

    orjson decodes strict JSON several times faster than the standard library; a frame
    it refuses is tried once more with :func:`json.loads`, which also reads the
    non-standard ``NaN``/``Infinity`` literals and numbers beyond a double (``1e999``)
    so that only those values are rejected later (``non_finite``), not the frame.
    """
    if _utf8_length_exceeds(text, max_frame_bytes):
        return None, RejectReason.OVERSIZE
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as err:
        if "depth limit" in str(err):
            return None, RejectReason.MALFORMED_JSON
    try:
        return json.loads(text), None
    except (ValueError, RecursionError):
        return None, RejectReason.MALFORMED_JSON


def _timestamp(raw_ts: object) -> tuple[float | None, RejectReason | None]:
    """An object's ``ts``: absent/null, or a finite number (not a bool)."""
    if raw_ts is None:
        return None, None
    if isinstance(raw_ts, bool) or not isinstance(raw_ts, int | float):
        return None, RejectReason.WRONG_TYPE
    try:
        ts = float(raw_ts)
    except OverflowError:
        ts = math.inf
    if not math.isfinite(ts):
        return None, RejectReason.NON_FINITE
    return ts, None


def _parse_object(obj: object, result: ParseResult, max_values: int) -> None:
    """Decode one telemetry object into ``result``."""
    if not isinstance(obj, dict):
        result.rejections.append(RejectReason.WRONG_TYPE)
        return
    source = obj.get("source")
    values = obj.get("values")
    raw_ts = obj.get("ts")
    if not isinstance(source, str) or not isinstance(values, dict):
        result.rejections.append(RejectReason.WRONG_TYPE)
        return
    if SOURCE_PATTERN.fullmatch(source) is None:
        result.rejections.append(RejectReason.BAD_NAME)
        return
    if len(values) > max_values:
        result.rejections.append(RejectReason.TOO_MANY_VALUES)
        return
    ts, reason = _timestamp(raw_ts)
    if reason is not None:
        result.rejections.append(reason)
        return
    for key, raw in values.items():
        if KEY_PATTERN.fullmatch(key) is None:
            result.rejections.append(RejectReason.BAD_NAME)
            continue
        value, reason = check_value(raw)
        if reason is not None:
            result.rejections.append(reason)
            continue
        result.samples.append(Sample(f"{source}.{key}", value, ts))


def parse_frame(text: str, limits: FrameLimits | None = None) -> ParseResult:
    """Decode one Stovelight telemetry frame.

    Args:
        text: The websocket text frame.
        limits: Size limits; the defaults when None.

    Returns:
        The accepted samples, in frame order, and one rejection reason per rejected
        frame, object or value. Never raises for bad input.
    """
    limits = limits or FrameLimits()
    result = ParseResult()
    document, reason = decode_json_frame(text, limits.max_frame_bytes)
    if reason is not None:
        result.rejections.append(reason)
        return result
    if isinstance(document, list):
        if len(document) > limits.max_objects:
            result.rejections.append(RejectReason.TOO_MANY_OBJECTS)
            return result
        for obj in document:
            _parse_object(obj, result, limits.max_values)
    else:
        _parse_object(document, result, limits.max_values)
    return result


class StovelightProtocol:
    """Sans-I/O protocol object for one connection speaking the Stovelight protocol.

    The protocol is receive-only: nothing is sent, and it is ready as soon as the
    websocket is open.

    Args:
        limits: Size limits for each frame.
    """

    def __init__(self, limits: FrameLimits | None = None) -> None:
        self._limits = limits or FrameLimits()
        self._samples: list[Sample] = []
        self._rejections: list[RejectReason] = []

    @property
    def ready(self) -> bool:
        """Always True: there is no handshake beyond the websocket one."""
        return True

    @property
    def failure(self) -> TelemetryProtocolError | None:
        """Always None: bad frames are counted, never fatal."""
        return None

    def receive_text(self, text: str) -> None:
        """Decode one text frame."""
        result = parse_frame(text, self._limits)
        self._samples.extend(result.samples)
        self._rejections.extend(result.rejections)

    def receive_bytes(self, data: bytes) -> None:
        """Reject a binary frame: the protocol uses text frames only."""
        self._rejections.append(RejectReason.BINARY_FRAME)

    def data_to_send(self) -> list[str]:
        """Nothing to send, ever."""
        return []

    def samples_received(self) -> list[Sample]:
        """Return and clear the decoded samples."""
        samples, self._samples = self._samples, []
        return samples

    def rejections_received(self) -> list[RejectReason]:
        """Return and clear the rejection reasons."""
        rejections, self._rejections = self._rejections, []
        return rejections
