"""Stream framing for OSC over TCP: SLIP (OSC 1.1) and length prefix (OSC 1.0).

Pure functions and incremental decoders; no sockets.

SLIP is RFC 1055: the frame delimiter END (0xC0) is escaped as ESC ESC_END
(0xDB 0xDC) and ESC itself as ESC ESC_ESC (0xDB 0xDD). OSC 1.1 recommends the
"double-END" convention: an END byte both before and after each packet, so a
receiver can resynchronise after line noise. Empty frames between two END
bytes are ignored.

OSC 1.0 framed stream packets with a big-endian ``int32`` size before each
packet; liblo's ``oscsend osc.tcp://`` still sends that, so the server accepts
both (see :mod:`bridges.osc.server`).

Both decoders bound their memory: a packet longer than ``max_packet_size`` is
dropped (and counted in ``oversize``) without being buffered.
"""

from __future__ import annotations

import struct

from bridges.osc.errors import OscDecodeError

__all__ = [
    "END",
    "ESC",
    "ESC_END",
    "ESC_ESC",
    "LengthPrefixDecoder",
    "SlipDecoder",
    "length_prefix_encode",
    "slip_encode",
]

# RFC 1055 special characters.
END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD

_END_B = bytes([END])
_ESC_B = bytes([ESC])
_ESC_END_SEQ = bytes([ESC, ESC_END])
_ESC_ESC_SEQ = bytes([ESC, ESC_ESC])
_SIZE = struct.Struct(">i")

DEFAULT_MAX_PACKET_SIZE = 65536


def slip_encode(packet: bytes) -> bytes:
    """Return ``packet`` SLIP-escaped between two END bytes (OSC 1.1 double-END)."""
    escaped = packet.replace(_ESC_B, _ESC_ESC_SEQ).replace(_END_B, _ESC_END_SEQ)
    return _END_B + escaped + _END_B


class SlipDecoder:
    """Incremental SLIP decoder: feed it bytes, get back complete packets.

    Attributes:
        oversize: Frames dropped because they exceeded ``max_packet_size``.
        errors: Frames dropped because of an invalid escape sequence.
    """

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        """Create a decoder.

        Args:
            max_packet_size: Largest decoded packet accepted, in bytes.
        """
        if max_packet_size <= 0:
            raise ValueError("max_packet_size must be positive")
        self.max_packet_size = max_packet_size
        self.oversize = 0
        self.errors = 0
        self._buffer = bytearray()
        self._skipping = False  # inside an oversize frame: discard until END

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Consume ``data`` and return the packets completed by it, in order."""
        packets: list[bytes] = []
        view = bytes(data)
        start = 0
        # An escaped frame is at most twice the decoded size.
        raw_limit = 2 * self.max_packet_size
        while True:
            end = view.find(_END_B, start)
            chunk = view[start:] if end < 0 else view[start:end]
            if not self._skipping:
                self._buffer += chunk
                if len(self._buffer) > raw_limit:
                    self._buffer.clear()
                    self._skipping = True
                    self.oversize += 1
            if end < 0:
                return packets
            if self._skipping:
                self._skipping = False
            elif self._buffer:
                packet = self._unescape(bytes(self._buffer))
                self._buffer.clear()
                if packet is not None:
                    packets.append(packet)
            start = end + 1

    def _unescape(self, frame: bytes) -> bytes | None:
        if _ESC_B in frame:
            valid = frame.count(_ESC_B) == frame.count(_ESC_END_SEQ) + frame.count(_ESC_ESC_SEQ)
            if not valid:
                self.errors += 1
                return None
            frame = frame.replace(_ESC_END_SEQ, _END_B).replace(_ESC_ESC_SEQ, _ESC_B)
        if len(frame) > self.max_packet_size:
            self.oversize += 1
            return None
        return frame


def length_prefix_encode(packet: bytes) -> bytes:
    """Return ``packet`` preceded by its size as a big-endian int32 (OSC 1.0 streams)."""
    return _SIZE.pack(len(packet)) + packet


class LengthPrefixDecoder:
    """Incremental decoder for OSC 1.0 int32-size-prefixed stream packets.

    Oversize packets are skipped byte-exactly and counted in ``oversize``. A
    negative size means the stream is corrupt and cannot be resynchronised:
    :meth:`feed` then raises :class:`OscDecodeError` and the connection should
    be closed.
    """

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        """Create a decoder accepting packets up to ``max_packet_size`` bytes."""
        if max_packet_size <= 0:
            raise ValueError("max_packet_size must be positive")
        self.max_packet_size = max_packet_size
        self.oversize = 0
        self.errors = 0
        self._buffer = bytearray()
        self._skip = 0

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Consume ``data`` and return the packets completed by it.

        Raises:
            OscDecodeError: If a size prefix is negative (corrupt stream).
        """
        buf = self._buffer
        buf += data
        packets: list[bytes] = []
        while True:
            if self._skip:
                dropped = min(self._skip, len(buf))
                del buf[:dropped]
                self._skip -= dropped
                if self._skip:
                    return packets
            if len(buf) < 4:
                return packets
            size = _SIZE.unpack_from(buf, 0)[0]
            if size < 0:
                self.errors += 1
                buf.clear()
                raise OscDecodeError(f"stream packet size {size} is negative", 0)
            if size > self.max_packet_size:
                self.oversize += 1
                del buf[:4]
                self._skip = size
                continue
            if len(buf) < 4 + size:
                return packets
            if size:
                packets.append(bytes(buf[4 : 4 + size]))
            del buf[: 4 + size]
