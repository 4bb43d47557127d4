"""MQTT topics to signal names and payloads to values: pure, no I/O, no clock.

A *route* names which topics carry which signal::

    MqttRoute("tele/{home}/SENSOR", "{home}.power_w", pointer="/ENERGY/Power")

``{name}`` in the topic pattern matches one whole topic level, like MQTT's ``+``, and
captures it for the signal template; ``+`` matches one level without a name and
``#`` (last level only) any number of levels, as in the MQTT 5.0 specification,
section 4.7 (topic names and filters). The broker subscription is the pattern with
every ``{name}`` written as ``+``.

Payloads are JSON documents read through an RFC 6901 pointer (Tasmota's
``{"ENERGY": {"Power": 12.5}}``, Shelly's ``{"apower": 12.5}``) or, without a
pointer, plain text as Home Assistant's MQTT statestream and OpenEnergyMonitor
publish it (``"21.5"``, ``"on"``, ``"true"``). Numbers become ``raw * scale + offset``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bridges.telemetry.exceptions import TelemetryConfigError
from bridges.telemetry.jsonfeed import PointerNotFound, parse_pointer, resolve_pointer
from bridges.telemetry.protocol import KEY_PATTERN
from bridges.telemetry.types import ParseResult, RejectReason, Sample, SampleValue, check_value

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "MqttRoute",
    "MqttTelemetryParser",
    "TopicPattern",
]

#: Largest payload accepted by default, in bytes (a Tasmota SENSOR message is ~300).
DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024

_CAPTURE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A topic filter whose ``{name}`` levels are captured.

    Raises:
        TelemetryConfigError: The pattern is not a valid MQTT filter once ``{name}``
            levels are read as ``+`` (e.g. ``#`` not last, ``+`` inside a level).
    """

    pattern: str
    levels: tuple[str, ...] = field(init=False, repr=False)
    names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.pattern:
            raise TelemetryConfigError("an MQTT topic pattern cannot be empty")
        levels = tuple(self.pattern.split("/"))
        names: list[str] = []
        for i, level in enumerate(levels):
            capture = _CAPTURE.fullmatch(level)
            if capture is not None:
                if capture.group(1) in names:
                    raise TelemetryConfigError(
                        f"topic {self.pattern!r}: {{{capture.group(1)}}} appears twice"
                    )
                names.append(capture.group(1))
            elif level == "#" and i != len(levels) - 1:
                raise TelemetryConfigError(f"topic {self.pattern!r}: '#' must be the last level")
            elif level not in ("+", "#") and any(c in level for c in "+#{}"):
                raise TelemetryConfigError(
                    f"topic {self.pattern!r}: level {level!r} mixes a wildcard with text; "
                    "a wildcard or {name} must be a whole level"
                )
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "names", tuple(names))

    @property
    def subscription(self) -> str:
        """The filter to subscribe to at the broker."""
        return "/".join("+" if _CAPTURE.fullmatch(lv) else lv for lv in self.levels)

    def match(self, topic: str) -> dict[str, str] | None:
        """The captured levels if ``topic`` matches, else None."""
        parts = topic.split("/")
        captures: dict[str, str] = {}
        for i, level in enumerate(self.levels):
            if level == "#":
                # MQTT: '#' also matches the parent level; topics starting with '$'
                # are never matched by a leading wildcard (section 4.7.2).
                return None if i == 0 and topic.startswith("$") else captures
            if i >= len(parts):
                return None
            part = parts[i]
            capture = _CAPTURE.fullmatch(level)
            if capture is not None or level == "+":
                if i == 0 and part.startswith("$"):
                    return None
                if capture is not None:
                    captures[capture.group(1)] = part
            elif level != part:
                return None
        return captures if len(parts) == len(self.levels) else None


@dataclass(frozen=True, slots=True)
class MqttRoute:
    """Which topics feed which signal, and how to read the payload.

    Attributes:
        topic: Topic pattern, e.g. ``"tele/{home}/SENSOR"``.
        signal: Signal name or template, e.g. ``"{home}.power_w"``.
        pointer: RFC 6901 pointer into a JSON payload; empty for a plain payload.
        scale: Multiplier for numbers (e.g. 0.001 for W → kW).
        offset: Added to numbers after scaling.
    """

    topic: str
    signal: str
    pointer: str = ""
    scale: float = 1.0
    offset: float = 0.0
    pattern: TopicPattern = field(init=False, repr=False, compare=False)
    tokens: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = TopicPattern(self.topic)
        for name in _PLACEHOLDER.findall(self.signal):
            if name not in pattern.names:
                known = ", ".join("{" + n + "}" for n in pattern.names) or "none"
                raise TelemetryConfigError(
                    f"signal {self.signal!r}: {{{name}}} is not a level of topic "
                    f"{self.topic!r} (its named levels: {known})"
                )
        if not pattern.names and not KEY_PATTERN.fullmatch(self.signal):
            raise TelemetryConfigError(f"signal name {self.signal!r} is not a valid name")
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)):
            raise TelemetryConfigError(f"signal {self.signal!r}: scale and offset must be finite")
        object.__setattr__(self, "pattern", pattern)
        object.__setattr__(self, "tokens", parse_pointer(self.pointer) if self.pointer else ())

    def signal_for(self, captures: dict[str, str]) -> str:
        """The signal name for one matched topic."""
        if not captures:
            return self.signal
        return _PLACEHOLDER.sub(lambda m: captures[m.group(1)], self.signal)


class MqttTelemetryParser:
    """Turns one MQTT message into samples for every route its topic matches.

    Args:
        routes: The routes, tried in order; every matching route yields a sample.
        max_payload_bytes: Larger payloads are refused as ``oversize``.
    """

    def __init__(
        self, routes: Iterable[MqttRoute], max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    ) -> None:
        self.routes = tuple(routes)
        if not self.routes:
            raise TelemetryConfigError("an MQTT source needs at least one topic route")
        self.max_payload_bytes = max_payload_bytes

    def subscriptions(self) -> list[str]:
        """Distinct broker filters, in route order."""
        return list(dict.fromkeys(route.pattern.subscription for route in self.routes))

    def parse(self, topic: str, payload: bytes) -> ParseResult:
        """Samples and rejection reasons for one message; never raises for bad input."""
        result = ParseResult()
        if len(payload) > self.max_payload_bytes:
            result.rejections.append(RejectReason.OVERSIZE)
            return result
        if not payload:
            return result  # an empty retained message clears the topic: nothing to read
        document: object = _UNREAD
        for route in self.routes:
            captures = route.pattern.match(topic)
            if captures is None:
                continue
            signal = route.signal_for(captures)
            if not KEY_PATTERN.fullmatch(signal):
                result.rejections.append(RejectReason.BAD_NAME)
                continue
            if route.pointer and document is _UNREAD:
                document = _decode_json(payload)
            if route.pointer and document is _MALFORMED:
                result.rejections.append(RejectReason.MALFORMED_JSON)
                return result
            value, reason = _route_value(route, document, payload)
            if reason is not None:
                result.rejections.append(reason)
                continue
            result.samples.append(Sample(signal, value, None))
        return result


def _route_value(
    route: MqttRoute, document: object, payload: bytes
) -> tuple[SampleValue, RejectReason | None]:
    """One route's value from the decoded document (pointer routes) or the plain payload."""
    if route.pointer:
        try:
            raw = resolve_pointer(document, route.tokens)
        except PointerNotFound:
            return None, RejectReason.POINTER_NOT_FOUND
        value, reason = check_value(raw)
    else:
        value, reason = _plain_value(payload)
    if reason is None:
        value, reason = _scaled(value, route)
    return value, reason


_UNREAD = object()
_MALFORMED = object()


def _decode_json(payload: bytes) -> object:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return _MALFORMED


def _plain_value(payload: bytes) -> tuple[SampleValue, RejectReason | None]:
    """A plain-text payload: a number, true/false, or a short string (``on`` and
    ``off`` stay strings, as the Home Assistant source keeps them)."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, RejectReason.WRONG_TYPE
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        text = text[1:-1]
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return (number, None) if math.isfinite(number) else (None, RejectReason.NON_FINITE)
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true", None
    if lowered in ("null", "unavailable", "unknown", ""):
        return None, None
    return check_value(text)


def _scaled(value: SampleValue, route: MqttRoute) -> tuple[SampleValue, RejectReason | None]:
    if isinstance(value, float) and (route.scale != 1.0 or route.offset != 0.0):
        value = value * route.scale + route.offset
        if not math.isfinite(value):  # 1e308 x 10
            return None, RejectReason.NON_FINITE
    return value, None
