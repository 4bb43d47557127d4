"""The MCAP writer read back by the ``mcap`` package, the format's reference reader.

Every schema, channel and message the writer is given must come back from
``mcap.reader.make_reader`` (indexed, through the summary and chunk indexes) and from
the non-seeking stream reader, with CRCs validated; the summary's statistics must
count what was written; chunk indexes, message indexes and summary offsets must
point at the records they name. (The export's own content is checked in
``test_rehearsal_export.py`` with the same reader.)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st
from mcap.reader import McapReader, NonSeekingReader, make_reader
from mcap.records import (
    Message,
    Statistics,
)

from rehearsal.mcap import McapWriter
from tests.rehearsal.mcap_support import check_layout


@dataclass
class Content:
    """What is handed to the writer, in the order it is handed over."""

    schemas: list[tuple[int, str, str, bytes]] = field(default_factory=list)
    channels: list[tuple[int, int, str, str, dict[str, str]]] = field(default_factory=list)
    messages: list[tuple[int, int, int, int, bytes]] = field(default_factory=list)
    chunk_size: int = 1 << 20


def write(content: Content) -> bytes:
    out = io.BytesIO()
    writer = McapWriter(out, chunk_size=content.chunk_size, profile="p", library="lib")
    writer.start()
    for schema in content.schemas:
        writer.add_schema(*schema)
    for channel in content.channels:
        writer.add_channel(*channel)
    for message in content.messages:
        writer.add_message(*message)
    writer.finish()
    return out.getvalue()


names = st.text(max_size=12)
times = st.integers(0, 2**64 - 1)


@st.composite
def contents(draw: st.DrawFn) -> Content:
    content = Content(chunk_size=draw(st.sampled_from([1, 100, 1 << 20])))
    for schema_id in range(1, draw(st.integers(0, 3)) + 1):
        encoding = draw(st.sampled_from(["jsonschema", "protobuf", ""]))
        content.schemas.append((schema_id, draw(names), encoding, draw(st.binary(max_size=40))))
    channel_ids = draw(st.lists(st.integers(0, 0xFFFF), max_size=4, unique=True))
    for channel_id in channel_ids:
        schema_id = draw(st.integers(0, len(content.schemas)))
        metadata = draw(st.dictionaries(names, names, max_size=2))
        encoding = draw(st.sampled_from(["json", "cdr", ""]))
        content.channels.append((channel_id, schema_id, draw(names), encoding, metadata))
    if channel_ids:
        for _ in range(draw(st.integers(0, 30))):
            channel_id = draw(st.sampled_from(channel_ids))
            sequence = draw(st.integers(0, 2**32 - 1))
            data = draw(st.binary(max_size=60))
            content.messages.append((channel_id, sequence, draw(times), draw(times), data))
    return content


def _message_fields(message: Message) -> tuple[int, int, int, int, bytes]:
    return (
        message.channel_id,
        message.sequence,
        message.log_time,
        message.publish_time,
        bytes(message.data),
    )


def _check_read_back(content: Content, data: bytes) -> None:
    """Both of mcap's readers return exactly what the writer was given."""
    schemas = {s[0]: s for s in content.schemas}
    channels = {c[0]: c for c in content.channels}
    readers: list[Callable[[], McapReader]] = [
        lambda: make_reader(io.BytesIO(data), validate_crcs=True),
        lambda: NonSeekingReader(io.BytesIO(data), validate_crcs=True),  # one query each
    ]
    for reader in readers:
        header = reader().get_header()
        assert (header.profile, header.library) == ("p", "lib")
        read = list(reader().iter_messages(log_time_order=False))
        assert [_message_fields(m) for _s, _c, m in read] == content.messages
        for schema, channel, _message in read:
            assert (
                channel.id,
                channel.schema_id,
                channel.topic,
                channel.message_encoding,
                channel.metadata,
            ) == channels[channel.id]
            if channel.schema_id == 0:
                assert schema is None
            else:
                assert schema is not None
                assert (schema.id, schema.name, schema.encoding, schema.data) == schemas[schema.id]


def _check_summary(content: Content, data: bytes) -> None:
    summary = make_reader(io.BytesIO(data)).get_summary()
    assert summary is not None
    assert {i: (s.id, s.name, s.encoding, s.data) for i, s in summary.schemas.items()} == {
        s[0]: s for s in content.schemas
    }
    assert {
        i: (c.id, c.schema_id, c.topic, c.message_encoding, c.metadata)
        for i, c in summary.channels.items()
    } == {c[0]: c for c in content.channels}
    stats = summary.statistics
    assert isinstance(stats, Statistics)
    log_times = [m[2] for m in content.messages]
    counts: dict[int, int] = {}
    for message in content.messages:
        counts[message[0]] = counts.get(message[0], 0) + 1
    assert (
        stats.message_count,
        stats.schema_count,
        stats.channel_count,
        stats.attachment_count,
        stats.metadata_count,
        stats.chunk_count,
        stats.message_start_time,
        stats.message_end_time,
        stats.channel_message_counts,
    ) == (
        len(content.messages),
        len(content.schemas),
        len(content.channels),
        0,
        0,
        len(summary.chunk_indexes),
        min(log_times, default=0),
        max(log_times, default=0),
        counts,
    )


@settings(max_examples=150, deadline=None)
@given(contents())
def test_everything_written_is_read_back_by_the_mcap_package(content: Content) -> None:
    data = write(content)
    _check_read_back(content, data)
    _check_summary(content, data)
    check_layout(data)


def test_definitions_declared_between_messages_and_many_chunks() -> None:
    """A schema and channel declared after messages were written go in a later chunk."""
    out = io.BytesIO()
    writer = McapWriter(out, chunk_size=64)
    writer.start()
    writer.add_schema(1, "a", "jsonschema", b"{}")
    writer.add_channel(1, 1, "/a", "json")
    expected = []
    for i in range(50):
        writer.add_message(1, i, 1_000 + i, 1_000 + i, b"%d" % i)
        expected.append(("/a", 1_000 + i))
    writer.add_schema(2, "b", "", b"")
    writer.add_channel(7, 2, "/b", "json", {"k": "v"})
    writer.add_message(7, 0, 5, 6, b"late")
    expected.append(("/b", 5))
    writer.finish()
    data = out.getvalue()
    reader = make_reader(io.BytesIO(data), validate_crcs=True)
    assert [(c.topic, m.log_time) for _s, c, m in reader.iter_messages(log_time_order=False)] == (
        expected
    )
    in_time_order = [m.log_time for _s, _c, m in reader.iter_messages()]
    assert in_time_order == sorted(t for _topic, t in expected)
    summary = reader.get_summary()
    assert summary is not None and summary.statistics is not None
    assert summary.statistics.chunk_count == len(summary.chunk_indexes) > 10
    assert (summary.statistics.message_start_time, summary.statistics.message_end_time) == (
        5,
        1_049,
    )
    check_layout(data)


def test_a_file_without_messages_is_valid() -> None:
    content = Content(schemas=[(1, "s", "jsonschema", b"{}")], channels=[(3, 1, "/t", "json", {})])
    data = write(content)
    _check_read_back(content, data)
    _check_summary(content, data)
    check_layout(data)
    assert write(Content()) == write(Content())
    assert list(make_reader(io.BytesIO(write(Content()))).iter_messages()) == []
