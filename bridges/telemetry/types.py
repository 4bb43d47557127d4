"""Common types of the telemetry bridge: samples, statuses, counters and the sink.

A *sample* is one reading of one named signal. Parsers produce samples and a list of
rejection reasons; the connection layer counts both and hands the samples to a
:class:`TelemetrySink` that the show runner implements.
"""

from __future__ import annotations

import enum
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from .exceptions import TelemetryProtocolError

__all__ = [
    "MAX_STRING_LENGTH",
    "ParseResult",
    "RejectReason",
    "Sample",
    "SampleValue",
    "SourceCounters",
    "SourceStatus",
    "TelemetryProtocol",
    "TelemetrySink",
    "check_value",
]

#: A sample value: a finite number, a boolean, a short string, or None for "missing".
SampleValue: TypeAlias = float | bool | str | None

#: Longest string value accepted, in characters.
MAX_STRING_LENGTH = 64


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one signal.

    Attributes:
        signal: Signal name, e.g. ``"stove-07.temp_c"``.
        value: Finite float, bool, string (≤ 64 chars), or None when the producer says
            the reading is unavailable or missing.
        ts: Producer timestamp in seconds since the Unix epoch, or None if not given.
    """

    signal: str
    value: SampleValue
    ts: float | None


class SourceStatus(enum.Enum):
    """Connection status of a telemetry source, as shown on the health display."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    #: Stopped for good; retrying cannot help (e.g. Home Assistant rejected the token).
    FAILED = "failed"


class RejectReason(enum.StrEnum):
    """Why a frame, object or value was rejected. The value is the counter key."""

    MALFORMED_JSON = "malformed_json"
    WRONG_TYPE = "wrong_type"
    NON_FINITE = "non_finite"
    OVERSIZE = "oversize"
    TOO_MANY_OBJECTS = "too_many_objects"
    TOO_MANY_VALUES = "too_many_values"
    STRING_TOO_LONG = "string_too_long"
    BAD_NAME = "bad_name"
    BINARY_FRAME = "binary_frame"
    POINTER_NOT_FOUND = "pointer_not_found"
    UNKNOWN_ENTITY = "unknown_entity"
    PROTOCOL_ERROR = "protocol_error"
    PARSER_ERROR = "parser_error"
    SINK_ERROR = "sink_error"


@dataclass(slots=True)
class ParseResult:
    """What a pure parser made of one frame: good samples plus rejection reasons."""

    samples: list[Sample] = field(default_factory=list)
    rejections: list[RejectReason] = field(default_factory=list)


@dataclass(slots=True)
class SourceCounters:
    """Per-source counters for the health display.

    Attributes:
        frames: Websocket messages received.
        samples: Samples handed to the sink.
        rejected: Rejections by reason (a frame, an object or a single value each).
        connects: Successful connections (the first one included).
        connect_failures: Connection attempts that failed or timed out.
        violation_closes: Connections closed because a frame was too big to buffer.
        off_loop_frames: Frames decoded in the source's decoder thread.
        retry_delay: Seconds waited before the latest reconnection attempt.
        last_frame_at: Wall-clock time (epoch seconds) of the last frame, or None.
    """

    frames: int = 0
    samples: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    connect_failures: int = 0
    violation_closes: int = 0
    off_loop_frames: int = 0
    retry_delay: float = 0.0
    last_frame_at: float | None = None

    def reject(self, reasons: list[RejectReason] | tuple[RejectReason, ...]) -> None:
        """Count each reason once."""
        for reason in reasons:
            self.rejected[reason.value] += 1

    @property
    def reconnects(self) -> int:
        """Successful connections after the first one."""
        return max(0, self.connects - 1)

    def as_dict(self) -> dict[str, object]:
        """Plain, JSON-serialisable snapshot."""
        return {
            "frames": self.frames,
            "samples": self.samples,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "connects": self.connects,
            "reconnects": self.reconnects,
            "connect_failures": self.connect_failures,
            "violation_closes": self.violation_closes,
            "off_loop_frames": self.off_loop_frames,
            "retry_delay": self.retry_delay,
            "last_frame_at": self.last_frame_at,
        }


class TelemetrySink(Protocol):
    """What a telemetry source reports to; implemented by the show runner.

    Both methods are called on the event loop thread and must not block.
    """

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        """Receive samples decoded from one frame, in order (never an empty list).

        A frame with many samples arrives in several calls of at most
        ``bridges.telemetry.connection.DELIVERY_CHUNK`` samples.
        """

    def on_status(self, source_name: str, status: SourceStatus, detail: str) -> None:
        """Receive a status change with a short operator-readable detail."""


class TelemetryProtocol(Protocol):
    """Sans-I/O protocol object for one websocket connection (a fresh one per connection).

    The connection layer feeds received frames in and writes ``data_to_send()`` out;
    no method does I/O, reads a clock or raises for bad input.
    """

    @property
    def ready(self) -> bool:
        """True once the protocol is streaming telemetry (e.g. subscribed)."""

    @property
    def failure(self) -> TelemetryProtocolError | None:
        """Set when the connection must be closed; ``failure.permanent`` stops retries."""

    def receive_text(self, text: str) -> None:
        """Feed one received text frame."""

    def receive_bytes(self, data: bytes) -> None:
        """Feed one received binary frame."""

    def data_to_send(self) -> list[str]:
        """Return and clear the text frames to send."""

    def samples_received(self) -> list[Sample]:
        """Return and clear the samples decoded so far."""

    def rejections_received(self) -> list[RejectReason]:
        """Return and clear the rejection reasons recorded so far."""


def check_value(raw: object) -> tuple[SampleValue, RejectReason | None]:
    """Validate and normalise one JSON value into a sample value.

    Args:
        raw: A value as produced by :func:`json.loads`.

    Returns:
        ``(value, None)`` when accepted (ints become floats), otherwise
        ``(None, reason)``.
    """
    if raw is None or isinstance(raw, bool):
        return raw, None
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:
            return None, RejectReason.NON_FINITE
        if not math.isfinite(number):
            return None, RejectReason.NON_FINITE
        return number, None
    if isinstance(raw, str):
        if len(raw) > MAX_STRING_LENGTH:
            return None, RejectReason.STRING_TOO_LONG
        return raw, None
    return None, RejectReason.WRONG_TYPE
