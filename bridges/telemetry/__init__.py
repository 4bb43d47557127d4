"""Telemetry sources over websockets: Stovelight protocol, JSON feeds, Home Assistant.

Pure parsers and protocol objects live in :mod:`.protocol`, :mod:`.jsonfeed` and
:mod:`.homeassistant`; the I/O layer in :mod:`.connection`; sources with a decoder
process of their own in :mod:`.decoder_process` (child: :mod:`.decoder_child`, link:
:mod:`.decoder_wire`); in-memory twins in :mod:`.memory`. See ``docs/telemetry-protocol.md``.
"""

from __future__ import annotations

from .config import (
    PROCESS_DECODER_BYTES,
    BackoffPolicy,
    ConnectionSettings,
    Decoder,
    HomeAssistantSourceConfig,
    JsonFeedSourceConfig,
    SourceConfig,
    StovelightSourceConfig,
)
from .connection import (
    HomeAssistantSource,
    JsonFeedSource,
    StovelightSource,
    TelemetrySource,
    WebSocketSource,
    create_source,
)
from .decoder_process import ProcessSource, open_source
from .exceptions import (
    HomeAssistantAuthError,
    HomeAssistantCommandError,
    PointerSyntaxError,
    TelemetryConfigError,
    TelemetryError,
    TelemetryProtocolError,
)
from .homeassistant import EntityHealth, HomeAssistantProtocol
from .jsonfeed import JsonFeedParser, JsonFeedProtocol, PointerSpec, parse_pointer, resolve_pointer
from .memory import MemorySource, RecordingSink
from .protocol import FrameLimits, StovelightProtocol, parse_frame
from .types import ParseResult, RejectReason, Sample, SourceCounters, SourceStatus, TelemetrySink

__all__ = [
    "PROCESS_DECODER_BYTES",
    "BackoffPolicy",
    "ConnectionSettings",
    "Decoder",
    "EntityHealth",
    "FrameLimits",
    "HomeAssistantAuthError",
    "HomeAssistantCommandError",
    "HomeAssistantProtocol",
    "HomeAssistantSource",
    "HomeAssistantSourceConfig",
    "JsonFeedParser",
    "JsonFeedProtocol",
    "JsonFeedSource",
    "JsonFeedSourceConfig",
    "MemorySource",
    "ParseResult",
    "PointerSpec",
    "PointerSyntaxError",
    "ProcessSource",
    "RecordingSink",
    "RejectReason",
    "Sample",
    "SourceConfig",
    "SourceCounters",
    "SourceStatus",
    "StovelightProtocol",
    "StovelightSource",
    "StovelightSourceConfig",
    "TelemetryConfigError",
    "TelemetryError",
    "TelemetryProtocolError",
    "TelemetrySink",
    "TelemetrySource",
    "WebSocketSource",
    "create_source",
    "open_source",
    "parse_frame",
    "parse_pointer",
    "resolve_pointer",
]
