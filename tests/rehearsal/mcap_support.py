"""Checks of an MCAP file's structure with the ``mcap`` package's record reader."""

from __future__ import annotations

import io
import zlib
from typing import Any

from mcap.reader import make_reader
from mcap.records import (
    Chunk,
    ChunkIndex,
    DataEnd,
    Footer,
    Header,
    Message,
    MessageIndex,
    SummaryOffset,
)
from mcap.stream_reader import StreamReader, breakup_chunk

from rehearsal.mcap import MAGIC

__all__ = ["check_layout"]


def _record_at(data: bytes, offset: int) -> Any:
    """The record mcap's stream reader finds at byte ``offset`` of the file."""
    return next(StreamReader(io.BytesIO(data[offset:]), skip_magic=True, emit_chunks=True).records)


def _check_chunk(data: bytes, index: ChunkIndex) -> None:
    """A chunk index points at its chunk, whose message indexes point at its messages."""
    chunk = _record_at(data, index.chunk_start_offset)
    assert isinstance(chunk, Chunk)
    assert index.chunk_length == 1 + 8 + 8 + 8 + 8 + 4 + 4 + 8 + len(chunk.data)
    assert (index.compression, chunk.compression) == ("", "")
    assert index.compressed_size == index.uncompressed_size == chunk.uncompressed_size
    assert (index.message_start_time, index.message_end_time) == (
        chunk.message_start_time,
        chunk.message_end_time,
    )
    messages = [r for r in breakup_chunk(chunk, validate_crc=True) if isinstance(r, Message)]
    if messages:
        times = [m.log_time for m in messages]
        assert (chunk.message_start_time, chunk.message_end_time) == (min(times), max(times))
    indexed = 0
    for channel_id, offset in index.message_index_offsets.items():
        message_index = _record_at(data, offset)
        assert isinstance(message_index, MessageIndex)
        assert message_index.channel_id == channel_id
        for log_time, in_chunk in message_index.records:
            message = _record_at(chunk.data, in_chunk)
            assert isinstance(message, Message)
            assert (message.channel_id, message.log_time) == (channel_id, log_time)
            indexed += 1
    assert indexed == len(messages)
    assert index.message_index_length == sum(
        _record_length(data, offset) for offset in index.message_index_offsets.values()
    )


def _record_length(data: bytes, offset: int) -> int:
    """Opcode, uint64 length and content of the record at ``offset``."""
    return 1 + 8 + int.from_bytes(data[offset + 1 : offset + 9], "little")


def check_layout(data: bytes) -> None:
    """Magic, CRCs, chunk and message indexes, summary offsets and the footer."""
    assert data[:8] == MAGIC and data[-8:] == MAGIC
    records = list(StreamReader(io.BytesIO(data), validate_crcs=True).records)
    assert isinstance(records[0], Header)
    footer = records[-1]
    assert isinstance(footer, Footer)
    footer_at = len(data) - 8 - (1 + 8 + 20)
    assert footer.summary_crc == zlib.crc32(data[footer.summary_start : footer_at + 1 + 8 + 16])
    assert any(isinstance(r, DataEnd) for r in records)
    summary = make_reader(io.BytesIO(data)).get_summary()
    assert summary is not None
    chunk_offsets = [i.chunk_start_offset for i in summary.chunk_indexes]
    assert chunk_offsets == sorted(chunk_offsets)
    for index in summary.chunk_indexes:
        _check_chunk(data, index)
    offsets = [r for r in records if isinstance(r, SummaryOffset)]
    assert offsets, "no summary offsets"
    for group in offsets:
        pos = group.group_start
        while pos < group.group_start + group.group_length:
            assert _record_at(data, pos) is not None  # mcap parses it
            assert data[pos] == group.group_opcode
            pos += _record_length(data, pos)
        assert pos == group.group_start + group.group_length
