"""Telemetry sources over websockets: Stovelight protocol, JSON feeds, Home Assistant.

Pure parsers and protocol objects live in :mod:`.protocol`, :mod:`.jsonfeed` and
:mod:`.homeassistant`; the I/O layer in :mod:`.connection`; sources with a decoder
process of their own in :mod:`.decoder_process` (child: :mod:`.decoder_child`, link:
:mod:`.decoder_wire`); in-memory twins in :mod:`.memory`. See ``docs/telemetry-protocol.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridges.lazy import lazy_attributes

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
from .protocol import FrameLimits, StovelightProtocol, parse_frame
from .types import ParseResult, RejectReason, Sample, SourceCounters, SourceStatus, TelemetrySink

if TYPE_CHECKING:
    from .connection import (
        HomeAssistantSource,
        JsonFeedSource,
        StovelightSource,
        TelemetrySource,
        WebSocketSource,
        create_source,
    )
    from .decoder_process import ProcessSource, open_source
    from .memory import MemorySource, RecordingSink

# The sources themselves (websockets, processes) load on first use, so that reading a show
# file or testing the parsers does not import the network stack.
_LAZY = {
    "HomeAssistantSource": ".connection",
    "JsonFeedSource": ".connection",
    "StovelightSource": ".connection",
    "TelemetrySource": ".connection",
    "WebSocketSource": ".connection",
    "create_source": ".connection",
    "ProcessSource": ".decoder_process",
    "open_source": ".decoder_process",
    "MemorySource": ".memory",
    "RecordingSink": ".memory",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


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
