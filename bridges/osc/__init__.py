"""OSC bridge: pure wire format, multi-target output and a UDP/TCP server.

Modules:

* :mod:`bridges.osc.wire` — encode/decode messages and bundles (no I/O).
* :mod:`bridges.osc.framing` — SLIP and length-prefix stream framing (no I/O).
* :mod:`bridges.osc.output` — :class:`OscOutput` (asyncio) and its in-memory
  twin :class:`MemoryOscOutput`.
* :mod:`bridges.osc.server` — :class:`OscServer`, UDP + TCP listener.
* :mod:`bridges.osc.errors` — the exception tree rooted at :class:`OscError`.
"""

from bridges.osc.errors import (
    OscBindError,
    OscConfigError,
    OscDecodeError,
    OscEncodeError,
    OscError,
)
from bridges.osc.output import MemoryOscOutput, OscOutput, OscTargetConfig
from bridges.osc.server import OscPeer, OscServer, OscServerConfig
from bridges.osc.wire import (
    IMMEDIATE,
    IMPULSE,
    MidiPacket,
    OscArg,
    OscBundle,
    OscMessage,
    RgbaColor,
    TimeTag,
    decode_packet,
    encode_message,
    iter_messages,
)

__all__ = [
    "IMMEDIATE",
    "IMPULSE",
    "MemoryOscOutput",
    "MidiPacket",
    "OscArg",
    "OscBindError",
    "OscBundle",
    "OscConfigError",
    "OscDecodeError",
    "OscEncodeError",
    "OscError",
    "OscMessage",
    "OscOutput",
    "OscPeer",
    "OscServer",
    "OscServerConfig",
    "OscTargetConfig",
    "RgbaColor",
    "TimeTag",
    "decode_packet",
    "encode_message",
    "iter_messages",
]
