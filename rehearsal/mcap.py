"""A minimal MCAP writer (format version 0), written from the specification.

Reference: the MCAP format specification, https://mcap.dev/spec (``docs/specification`` in
foxglove/mcap). Facts used here:

* A file is ``<Magic><Header><Data section>[<Summary section>][<Summary Offset section>]
  <Footer><Magic>``, magic ``0x89 'M' 'C' 'A' 'P' '0' '\\r' '\\n'``.
* Every record is ``<opcode uint8><content length uint64><content>``; integers are
  little-endian; a String is a uint32 byte length plus UTF-8; a Map is a uint32 byte length
  plus its entries; an Array likewise; Timestamps are uint64 nanoseconds.
* Opcodes: Header 0x01, Footer 0x02, Schema 0x03, Channel 0x04, Message 0x05, Chunk 0x06,
  Message Index 0x07, Chunk Index 0x08, Statistics 0x0B, Summary Offset 0x0E, Data End 0x0F.
* Chunk ``uncompressed_crc`` is the CRC-32 of its records; Data End ``data_section_crc`` is the
  CRC-32 of every byte from the start of the file (magic included) up to the Data End record;
  Footer ``summary_crc`` covers the summary section start through the footer's
  ``summary_offset_start`` field. CRC-32 is the zlib/ISO-HDLC polynomial.

The writer emits uncompressed chunks, a Message Index per channel after each chunk, and a
summary (Schemas, Channels, Statistics, Chunk Indexes) with Summary Offsets, so indexed
readers can seek. It does no I/O of its own beyond ``write`` on the binary stream given.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from typing import BinaryIO

__all__ = [
    "MAGIC",
    "McapWriter",
    "Op",
    "encode_channel",
    "encode_chunk",
    "encode_header",
    "encode_map",
    "encode_message",
    "encode_record",
    "encode_schema",
    "encode_string",
]

MAGIC = b"\x89MCAP0\r\n"
"""Leading and trailing magic bytes."""


class Op:
    """Record opcodes."""

    HEADER = 0x01
    FOOTER = 0x02
    SCHEMA = 0x03
    CHANNEL = 0x04
    MESSAGE = 0x05
    CHUNK = 0x06
    MESSAGE_INDEX = 0x07
    CHUNK_INDEX = 0x08
    STATISTICS = 0x0B
    SUMMARY_OFFSET = 0x0E
    DATA_END = 0x0F


_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_RECORD_HEAD = struct.Struct("<BQ")
_MESSAGE_HEAD = struct.Struct("<HIQQ")


def encode_string(text: str) -> bytes:
    """String: uint32 byte length + UTF-8."""
    raw = text.encode()
    return _U32.pack(len(raw)) + raw


def encode_map(entries: Mapping[str, str]) -> bytes:
    """Map<string, string>: uint32 byte length + key/value strings."""
    body = b"".join(encode_string(k) + encode_string(v) for k, v in entries.items())
    return _U32.pack(len(body)) + body


def encode_record(op: int, content: bytes) -> bytes:
    """A record: opcode, uint64 content length, content."""
    return _RECORD_HEAD.pack(op, len(content)) + content


def encode_header(profile: str = "", library: str = "") -> bytes:
    """Header record."""
    return encode_record(Op.HEADER, encode_string(profile) + encode_string(library))


def encode_schema(schema_id: int, name: str, encoding: str, data: bytes) -> bytes:
    """Schema record (``data`` is uint32 length-prefixed)."""
    content = _U16.pack(schema_id) + encode_string(name) + encode_string(encoding)
    return encode_record(Op.SCHEMA, content + _U32.pack(len(data)) + data)


def encode_channel(
    channel_id: int,
    schema_id: int,
    topic: str,
    message_encoding: str,
    metadata: Mapping[str, str],
) -> bytes:
    """Channel record."""
    content = (
        _U16.pack(channel_id)
        + _U16.pack(schema_id)
        + encode_string(topic)
        + encode_string(message_encoding)
        + encode_map(metadata)
    )
    return encode_record(Op.CHANNEL, content)


def encode_message(
    channel_id: int, sequence: int, log_time: int, publish_time: int, data: bytes
) -> bytes:
    """Message record (``data`` runs to the end of the record)."""
    head = _MESSAGE_HEAD.pack(channel_id, sequence & 0xFFFFFFFF, log_time, publish_time)
    return encode_record(Op.MESSAGE, head + data)


def encode_chunk(start_time: int, end_time: int, records: bytes) -> bytes:
    """Uncompressed Chunk record holding ``records``, with their CRC-32."""
    content = (
        struct.pack("<QQQI", start_time, end_time, len(records), zlib.crc32(records))
        + encode_string("")
        + _U64.pack(len(records))
        + records
    )
    return encode_record(Op.CHUNK, content)


class _Crc32Stream:
    """Writes through to a binary stream, tracking offset and a running CRC-32."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.offset = 0
        self.crc = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)
        self.crc = zlib.crc32(data, self.crc)


class McapWriter:
    """Stream writer producing a chunked, indexed MCAP file.

    Usage: :meth:`start`, then :meth:`add_schema` / :meth:`add_channel` / :meth:`add_message`
    in any order that declares before use, then :meth:`finish`.

    Args:
        out: binary stream opened for writing.
        chunk_size: close a chunk once its records exceed this many bytes.
        profile: Header profile (empty: none).
        library: Header library string.
    """

    def __init__(
        self,
        out: BinaryIO,
        *,
        chunk_size: int = 1 << 20,
        profile: str = "",
        library: str = "stovelight.rehearsal",
    ) -> None:
        self._out = _Crc32Stream(out)
        self._chunk_size = chunk_size
        self._profile = profile
        self._library = library
        self._schemas: dict[int, bytes] = {}
        self._channels: dict[int, bytes] = {}
        self._chunk = bytearray()
        self._chunk_index: dict[int, list[tuple[int, int]]] = {}
        self._chunk_start = 0
        self._chunk_end = 0
        self._chunk_indexes: list[bytes] = []
        self._message_count = 0
        self._channel_counts: dict[int, int] = {}
        self._start_time: int | None = None
        self._end_time = 0
        self._chunk_count = 0
        self._pending_definitions: list[bytes] = []

    def start(self) -> None:
        """Write the magic and the Header."""
        self._out.write(MAGIC)
        self._out.write(encode_header(self._profile, self._library))

    def add_schema(self, schema_id: int, name: str, encoding: str, data: bytes) -> None:
        """Declare a schema (id 1 to 65535)."""
        if not 0 < schema_id <= 0xFFFF:
            raise ValueError(f"schema id {schema_id} out of range")
        record = encode_schema(schema_id, name, encoding, data)
        self._schemas[schema_id] = record
        self._pending_definitions.append(record)

    def add_channel(
        self,
        channel_id: int,
        schema_id: int,
        topic: str,
        message_encoding: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Declare a channel (id 0 to 65535) using a declared schema (or 0 for none)."""
        if not 0 <= channel_id <= 0xFFFF:
            raise ValueError(f"channel id {channel_id} out of range")
        if schema_id and schema_id not in self._schemas:
            raise ValueError(f"channel {channel_id} refers to undeclared schema {schema_id}")
        record = encode_channel(channel_id, schema_id, topic, message_encoding, metadata or {})
        self._channels[channel_id] = record
        self._pending_definitions.append(record)

    def add_message(
        self, channel_id: int, sequence: int, log_time: int, publish_time: int, data: bytes
    ) -> None:
        """Append a message (times in nanoseconds) to the current chunk."""
        if channel_id not in self._channels:
            raise ValueError(f"message on undeclared channel {channel_id}")
        if self._pending_definitions:
            for record in self._pending_definitions:
                self._chunk += record
            self._pending_definitions.clear()
        if not self._chunk_index:
            self._chunk_start = log_time
            self._chunk_end = log_time
        self._chunk_index.setdefault(channel_id, []).append((log_time, len(self._chunk)))
        self._chunk += encode_message(channel_id, sequence, log_time, publish_time, data)
        self._chunk_start = min(self._chunk_start, log_time)
        self._chunk_end = max(self._chunk_end, log_time)
        self._message_count += 1
        self._channel_counts[channel_id] = self._channel_counts.get(channel_id, 0) + 1
        if len(self._chunk) >= self._chunk_size:
            self._flush_chunk()

    def _flush_chunk(self) -> None:
        if self._pending_definitions:
            for record in self._pending_definitions:
                self._chunk += record
            self._pending_definitions.clear()
        if not self._chunk:
            return
        records = bytes(self._chunk)
        start, end = (self._chunk_start, self._chunk_end) if self._chunk_index else (0, 0)
        chunk = encode_chunk(start, end, records)
        chunk_offset = self._out.offset
        self._out.write(chunk)
        index_start = self._out.offset
        index_offsets: list[tuple[int, int]] = []
        for channel_id, entries in self._chunk_index.items():
            index_offsets.append((channel_id, self._out.offset))
            body = b"".join(struct.pack("<QQ", t, off) for t, off in entries)
            content = _U16.pack(channel_id) + _U32.pack(len(body)) + body
            self._out.write(encode_record(Op.MESSAGE_INDEX, content))
        index_length = self._out.offset - index_start
        offsets = b"".join(struct.pack("<HQ", cid, off) for cid, off in index_offsets)
        self._chunk_indexes.append(
            encode_record(
                Op.CHUNK_INDEX,
                struct.pack("<QQQQ", start, end, chunk_offset, len(chunk))
                + _U32.pack(len(offsets))
                + offsets
                + _U64.pack(index_length)
                + encode_string("")
                + struct.pack("<QQ", len(records), len(records)),
            )
        )
        if self._chunk_index:
            self._start_time = start if self._start_time is None else min(self._start_time, start)
            self._end_time = max(self._end_time, end)
        self._chunk_count += 1
        self._chunk.clear()
        self._chunk_index = {}

    def finish(self) -> None:
        """Flush the last chunk and write Data End, the summary, Summary Offsets and Footer."""
        self._flush_chunk()
        out = self._out
        out.write(encode_record(Op.DATA_END, _U32.pack(out.crc)))
        summary_start = out.offset
        out.crc = 0
        groups: list[tuple[int, int, int]] = []

        def group(op: int, records: list[bytes]) -> None:
            if not records:
                return
            start = out.offset
            for record in records:
                out.write(record)
            groups.append((op, start, out.offset - start))

        group(Op.SCHEMA, list(self._schemas.values()))
        group(Op.CHANNEL, list(self._channels.values()))
        counts = b"".join(struct.pack("<HQ", c, n) for c, n in sorted(self._channel_counts.items()))
        statistics = (
            struct.pack(
                "<QHIIII",
                self._message_count,
                len(self._schemas),
                len(self._channels),
                0,
                0,
                self._chunk_count,
            )
            + struct.pack("<QQ", self._start_time or 0, self._end_time)
            + _U32.pack(len(counts))
            + counts
        )
        group(Op.STATISTICS, [encode_record(Op.STATISTICS, statistics)])
        group(Op.CHUNK_INDEX, self._chunk_indexes)
        summary_offset_start = out.offset
        for op, start, length in groups:
            out.write(encode_record(Op.SUMMARY_OFFSET, struct.pack("<BQQ", op, start, length)))
        footer_head = _RECORD_HEAD.pack(Op.FOOTER, 20) + struct.pack(
            "<QQ", summary_start, summary_offset_start
        )
        out.write(footer_head)
        out.write(_U32.pack(out.crc))
        out.write(MAGIC)
