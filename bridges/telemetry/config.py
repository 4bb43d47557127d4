"""Configuration of telemetry sources: plain frozen dataclasses, validated on creation.

The show-file loader builds these; nothing in this package reads files or the
environment. Invalid values raise :class:`~bridges.telemetry.exceptions.TelemetryConfigError`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .exceptions import TelemetryConfigError
from .homeassistant import DEFAULT_HA_MAX_FRAME_BYTES, HomeAssistantProtocol
from .jsonfeed import JsonFeedParser, PointerSpec, parse_pointer
from .protocol import DEFAULT_MAX_FRAME_BYTES, FrameLimits

__all__ = [
    "PROCESS_DECODER_BYTES",
    "BackoffPolicy",
    "ConnectionSettings",
    "Decoder",
    "HomeAssistantSourceConfig",
    "JsonFeedSourceConfig",
    "SourceConfig",
    "StovelightSourceConfig",
]


#: Sources whose frame limit is above this many bytes get a decoder process under
#: ``Decoder.AUTO``: the JSON decoder's one C call holds the interpreter lock about
#: 16 ms per MB, so a frame up to this size holds a thread-mode show loop ~4 ms at most.
PROCESS_DECODER_BYTES = 262_144


class Decoder(enum.Enum):
    """Where a websocket source receives and decodes its frames (``decoder`` in a show file).

    ``THREAD``: on the show loop, frames over 16 KiB decoded in the source's own
    thread. ``PROCESS``: everything in a decoder process of the source's own, which
    sends the show small batches. ``AUTO``: ``PROCESS`` when the source's frame limit
    is above :data:`PROCESS_DECODER_BYTES`, else ``THREAD``.
    """

    AUTO = "auto"
    THREAD = "thread"
    PROCESS = "process"

    def uses_process(self, max_frame_bytes: int) -> bool:
        """Whether a source with this frame limit gets a decoder process."""
        if self is Decoder.AUTO:
            return max_frame_bytes > PROCESS_DECODER_BYTES
        return self is Decoder.PROCESS


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Capped exponential backoff with full jitter between reconnection attempts.

    The n-th consecutive retry (n = 0, 1, …) waits ``uniform(0, min(cap, initial *
    multiplier**n))`` seconds. With the defaults a source is back at most ~1 s (plus
    the connect time) after its server returns.

    A connection closed for a violation (a frame too big to buffer) is penalised
    instead: the n-th consecutive one (n = 1, 2, …) waits between half and all of
    ``min(penalty_cap, cap * multiplier**n)``, so a producer that keeps breaking the
    limit is retried ever more slowly, never in a storm.

    Attributes:
        initial: Ceiling of the first delay, in seconds.
        cap: Largest ceiling, in seconds.
        multiplier: Growth of the ceiling per failed attempt.
        penalty_cap: Largest ceiling after repeated violations, in seconds.
    """

    initial: float = 0.25
    cap: float = 1.0
    multiplier: float = 2.0
    penalty_cap: float = 30.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap <= self.penalty_cap):
            raise TelemetryConfigError("backoff needs 0 < initial <= cap <= penalty_cap")
        if not math.isfinite(self.penalty_cap):
            raise TelemetryConfigError("backoff caps must be finite")
        if self.multiplier < 1:
            raise TelemetryConfigError("backoff multiplier must be >= 1")

    def ceiling(self, attempt: int) -> float:
        """Largest delay for the ``attempt``-th consecutive retry (0-based)."""
        return min(self.cap, self.initial * self.multiplier ** min(attempt, 64))

    def delay(self, attempt: int, rand: float) -> float:
        """Delay for ``attempt`` given a uniform random number ``rand`` in [0, 1)."""
        return self.ceiling(attempt) * min(max(rand, 0.0), 1.0)

    def penalty(self, violations: int, rand: float) -> float:
        """Delay after the ``violations``-th consecutive violation (1-based)."""
        ceiling = min(self.penalty_cap, self.cap * self.multiplier ** min(violations, 64))
        return ceiling * (1.0 + min(max(rand, 0.0), 1.0)) / 2.0


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Websocket timing shared by every source kind.

    Attributes:
        open_timeout: Seconds allowed for TCP + websocket (+ TLS) handshakes.
        ping_interval: Seconds between keepalive pings; None disables them.
        ping_timeout: Seconds to wait for a pong before declaring the link dead.
        close_timeout: Seconds to wait for the closing handshake.
        backoff: Reconnection backoff.
        stable_after: Seconds a connection must last to clear the backoff.
        max_size_floor: Smallest websocket ``max_size``; see :meth:`websocket_max_size`.
    """

    open_timeout: float = 2.0
    ping_interval: float | None = 5.0
    ping_timeout: float | None = 5.0
    close_timeout: float = 1.0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    stable_after: float = 5.0
    max_size_floor: int = 4 << 20

    def websocket_max_size(self, max_frame_bytes: int) -> int:
        """The websocket layer's ``max_size`` for an application frame limit.

        Well above the limit (16 times it, at least ``max_size_floor``), so that an
        ordinary oversize frame reaches the protocol and is dropped and counted while
        the connection stays up; only a frame beyond this closes it (code 1009). At
        most 64 MiB (or twice the limit, if that is more): websockets buffers a
        frame whole, and a few frames may queue.
        """
        ceiling = max(_MAX_SIZE_CEILING, 2 * max_frame_bytes)
        return min(max(self.max_size_floor, 16 * max_frame_bytes), ceiling)


_MAX_SIZE_CEILING = 64 << 20


def _check_common(name: str, url: str) -> None:
    if not name:
        raise TelemetryConfigError("a telemetry source needs a name")
    if not url.startswith(("ws://", "wss://")):
        raise TelemetryConfigError(f"source {name!r}: url {url!r} must start with ws:// or wss://")


@dataclass(frozen=True, slots=True)
class StovelightSourceConfig:
    """A websocket server speaking Stovelight's own telemetry protocol.

    Attributes:
        name: Source name shown on the health display.
        url: ``ws://`` or ``wss://`` URL.
        limits: Frame size and object-count limits.
        settings: Connection timing.
    """

    name: str
    url: str
    limits: FrameLimits = field(default_factory=FrameLimits)
    settings: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        _check_common(self.name, self.url)


@dataclass(frozen=True, slots=True)
class JsonFeedSourceConfig:
    """Any websocket JSON feed, with signals picked out by JSON pointers.

    Attributes:
        name: Source name shown on the health display.
        url: ``ws://`` or ``wss://`` URL.
        signals: Signal name → pointer, scale and offset.
        subscribe_message: Text frame sent after each (re)connection, if the feed
            needs one.
        timestamp_pointer: Pointer to the frame timestamp (epoch seconds or ISO 8601).
        max_frame_bytes: Largest accepted frame in bytes.
        settings: Connection timing.
    """

    name: str
    url: str
    signals: Mapping[str, PointerSpec]
    subscribe_message: str | None = None
    timestamp_pointer: str | None = None
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    settings: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        _check_common(self.name, self.url)
        if self.timestamp_pointer is not None:
            parse_pointer(self.timestamp_pointer)
        self.parser()

    def parser(self) -> JsonFeedParser:
        """Build the pure parser for this feed."""
        return JsonFeedParser(self.signals, self.timestamp_pointer, self.max_frame_bytes)


@dataclass(frozen=True, slots=True)
class HomeAssistantSourceConfig:
    """A Home Assistant instance, read through its WebSocket API.

    Attributes:
        name: Source name shown on the health display.
        url: e.g. ``ws://homeassistant.local:8123/api/websocket``.
        token: Long-lived access token (kept out of ``repr``).
        entities: entity_id → signal name.
        max_frame_bytes: Largest accepted frame in bytes.
        settings: Connection timing.
    """

    name: str
    url: str
    token: str = field(repr=False)
    entities: Mapping[str, str]
    max_frame_bytes: int = DEFAULT_HA_MAX_FRAME_BYTES
    settings: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        _check_common(self.name, self.url)
        if not self.token:
            raise TelemetryConfigError(f"source {self.name!r}: an access token is required")
        self.protocol()

    def protocol(self) -> HomeAssistantProtocol:
        """Build a fresh protocol object for one connection."""
        return HomeAssistantProtocol(self.token, self.entities, self.max_frame_bytes)


SourceConfig = StovelightSourceConfig | JsonFeedSourceConfig | HomeAssistantSourceConfig
