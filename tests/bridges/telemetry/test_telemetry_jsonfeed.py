"""JSON pointers (RFC 6901 examples) and the generic JSON feed parser."""

from __future__ import annotations

import json

import pytest

from bridges.telemetry.exceptions import PointerSyntaxError, TelemetryConfigError
from bridges.telemetry.jsonfeed import (
    JsonFeedParser,
    JsonFeedProtocol,
    PointerNotFound,
    PointerSpec,
    parse_pointer,
    resolve_pointer,
)
from bridges.telemetry.types import RejectReason, Sample

# RFC 6901 §5, verbatim document.
RFC_DOCUMENT = json.loads(
    r"""{
      "foo": ["bar", "baz"],
      "": 0,
      "a/b": 1,
      "c%d": 2,
      "e^f": 3,
      "g|h": 4,
      "i\\j": 5,
      "k\"l": 6,
      " ": 7,
      "m~n": 8
   }"""
)


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("", RFC_DOCUMENT),
        ("/foo", ["bar", "baz"]),
        ("/foo/0", "bar"),
        ("/", 0),
        ("/a~1b", 1),
        ("/c%d", 2),
        ("/e^f", 3),
        ("/g|h", 4),
        ("/i\\j", 5),
        ('/k"l', 6),
        ("/ ", 7),
        ("/m~0n", 8),
    ],
)
def test_rfc6901_examples(pointer: str, expected: object) -> None:
    assert resolve_pointer(RFC_DOCUMENT, pointer) == expected


def test_escapes_decode_tilde_one_before_tilde_zero() -> None:
    # "~01" must become "~1", not "/".
    assert parse_pointer("/~01") == ("~1",)
    assert resolve_pointer({"~1": "right", "/": "wrong"}, "/~01") == "right"


@pytest.mark.parametrize("pointer", ["foo", "/a~2b", "/trailing~", "/~x"])
def test_bad_pointer_syntax(pointer: str) -> None:
    with pytest.raises(PointerSyntaxError):
        parse_pointer(pointer)


@pytest.mark.parametrize("pointer", ["/foo/2", "/foo/-", "/foo/01", "/foo/x", "/nope", "/foo/0/x"])
def test_pointer_not_found(pointer: str) -> None:
    with pytest.raises(PointerNotFound):
        resolve_pointer(RFC_DOCUMENT, pointer)


def test_feed_extracts_scales_and_offsets() -> None:
    parser = JsonFeedParser(
        {
            "kitchen.temp": PointerSpec("/data/sensors/0/t", scale=0.1),
            "kitchen.temp_f": PointerSpec("/data/sensors/0/t", scale=0.18, offset=32),
            "grid.on": PointerSpec("/data/grid/on"),
            "grid.mode": PointerSpec("/data/grid/mode", scale=10),
        },
        timestamp_pointer="/time",
    )
    frame = json.dumps(
        {
            "time": 1764230400,
            "data": {"sensors": [{"t": 1825}], "grid": {"on": True, "mode": "eco"}},
        }
    )
    result = parser.parse(frame)
    assert result.rejections == []
    first = result.samples[0]
    assert (first.signal, first.ts) == ("kitchen.temp", 1764230400.0)
    assert first.value == pytest.approx(182.5)
    assert result.samples[1].value == pytest.approx(360.5)
    assert result.samples[2] == Sample("grid.on", True, 1764230400.0)
    assert result.samples[3] == Sample("grid.mode", "eco", 1764230400.0)


def test_feed_iso_timestamp_and_missing_pointer() -> None:
    parser = JsonFeedParser(
        {"a": PointerSpec("/a"), "b": PointerSpec("/b")}, timestamp_pointer="/at"
    )
    result = parser.parse('{"at": "2025-11-27T08:00:00+00:00", "a": 1}')
    assert result.samples == [Sample("a", 1.0, 1764230400.0)]
    assert result.rejections == [RejectReason.POINTER_NOT_FOUND]
    naive = parser.parse('{"at": "2025-11-27T08:00:00", "a": 1, "b": 2}')
    assert naive.samples[0].ts == 1764230400.0


def test_feed_rejections() -> None:
    parser = JsonFeedParser({"a": PointerSpec("/a", scale=1e308)}, max_frame_bytes=40)
    assert parser.parse("not json").rejections == [RejectReason.MALFORMED_JSON]
    assert parser.parse('{"a": "' + "x" * 40 + '"}').rejections == [RejectReason.OVERSIZE]
    assert parser.parse('{"a": 10}').rejections == [RejectReason.NON_FINITE]
    assert parser.parse('{"a": NaN}').rejections == [RejectReason.NON_FINITE]
    assert parser.parse('{"a": {"b": 1}}').rejections == [RejectReason.WRONG_TYPE]
    bad_ts = JsonFeedParser({"a": PointerSpec("/a")}, timestamp_pointer="/t")
    result = bad_ts.parse('{"t": "soon", "a": 1}')
    assert result.samples == [Sample("a", 1.0, None)]
    assert result.rejections == [RejectReason.WRONG_TYPE]


def test_feed_config_errors() -> None:
    with pytest.raises(TelemetryConfigError):
        JsonFeedParser({})
    with pytest.raises(PointerSyntaxError):
        PointerSpec("no-slash")
    with pytest.raises(TelemetryConfigError):
        PointerSpec("/a", scale=float("nan"))


def test_feed_protocol_sends_subscribe_once_and_decodes_binary() -> None:
    protocol = JsonFeedProtocol(JsonFeedParser({"a": PointerSpec("/a")}), '{"op": "sub"}')
    assert protocol.data_to_send() == ['{"op": "sub"}']
    assert protocol.data_to_send() == []
    protocol.receive_bytes(b'{"a": 3}')
    protocol.receive_bytes(b"\xff\xfe")
    assert protocol.samples_received() == [Sample("a", 3.0, None)]
    assert protocol.rejections_received() == [RejectReason.MALFORMED_JSON]
