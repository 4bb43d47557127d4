"""Stovelight telemetry protocol parser: good frames and every rejection reason."""

from __future__ import annotations

import json

import pytest

from bridges.telemetry.protocol import FrameLimits, StovelightProtocol, parse_frame
from bridges.telemetry.types import MAX_STRING_LENGTH, RejectReason, Sample

R = RejectReason


def test_single_object_becomes_named_samples() -> None:
    frame = (
        '{"source": "stove-07", "ts": 1764230400.25,'
        ' "values": {"temp_c": 182.5, "power_w": 1800, "state": "on", "lit": true, "door": null}}'
    )
    result = parse_frame(frame)
    assert result.rejections == []
    assert result.samples == [
        Sample("stove-07.temp_c", 182.5, 1764230400.25),
        Sample("stove-07.power_w", 1800.0, 1764230400.25),
        Sample("stove-07.state", "on", 1764230400.25),
        Sample("stove-07.lit", True, 1764230400.25),
        Sample("stove-07.door", None, 1764230400.25),
    ]
    assert isinstance(result.samples[1].value, float)
    assert result.samples[3].value is True


def test_ts_is_optional_and_integer_ts_is_float() -> None:
    assert parse_frame('{"source": "a", "values": {"x": 1}}').samples == [Sample("a.x", 1.0, None)]
    assert parse_frame('{"source": "a", "ts": null, "values": {"x": 1}}').samples[0].ts is None
    assert parse_frame('{"source": "a", "ts": 5, "values": {"x": 1}}').samples[0].ts == 5.0


def test_array_keeps_good_objects_around_bad_ones() -> None:
    frame = json.dumps(
        [
            {"source": "a", "values": {"x": 1}},
            {"source": "b", "values": "nope"},
            42,
            {"source": "c", "ts": "yesterday", "values": {"x": 3}},
            {"source": "d", "values": {"x": 4}},
        ]
    )
    result = parse_frame(frame)
    assert [s.signal for s in result.samples] == ["a.x", "d.x"]
    assert result.rejections == [R.WRONG_TYPE, R.WRONG_TYPE, R.WRONG_TYPE]


def test_bad_value_is_dropped_alone() -> None:
    frame = '{"source": "a", "values": {"x": 1, "y": [1, 2], "z": {"n": 1}, "w": "ok"}}'
    result = parse_frame(frame)
    assert result.samples == [Sample("a.x", 1.0, None), Sample("a.w", "ok", None)]
    assert result.rejections == [R.WRONG_TYPE, R.WRONG_TYPE]


def test_empty_array_and_empty_values_are_fine() -> None:
    assert parse_frame("[]").samples == []
    assert parse_frame("[]").rejections == []
    assert parse_frame('{"source": "a", "values": {}}').rejections == []


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "{",
        '{"source": "a", "values": {"x": 1}',
        "{'source': 'a'}",
        "[1, 2,]",
        "\x00",
        "[" * 50_000 + "]" * 50_000,
    ],
)
def test_malformed_json(frame: str) -> None:
    result = parse_frame(frame, FrameLimits(max_frame_bytes=1_000_000))
    assert result.samples == []
    assert result.rejections == [R.MALFORMED_JSON]


@pytest.mark.parametrize(
    "frame",
    [
        '"just a string"',
        "17",
        "null",
        '{"values": {"x": 1}}',
        '{"source": 7, "values": {"x": 1}}',
        '{"source": "a"}',
        '{"source": "a", "values": [1]}',
        '{"source": "a", "ts": true, "values": {"x": 1}}',
        '{"source": "a", "ts": "2025-01-01", "values": {"x": 1}}',
    ],
)
def test_wrong_type_rejects_the_object(frame: str) -> None:
    result = parse_frame(frame)
    assert result.samples == []
    assert result.rejections == [R.WRONG_TYPE]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_values_are_rejected(literal: str) -> None:
    result = parse_frame(f'{{"source": "a", "values": {{"bad": {literal}, "good": 2}}}}')
    assert result.samples == [Sample("a.good", 2.0, None)]
    assert result.rejections == [R.NON_FINITE]


def test_huge_integer_is_non_finite() -> None:
    result = parse_frame('{"source": "a", "values": {"big": 1' + "0" * 400 + "}}")
    assert result.samples == []
    assert result.rejections == [R.NON_FINITE]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999"])
def test_non_finite_ts_rejects_the_object(literal: str) -> None:
    result = parse_frame(f'{{"source": "a", "ts": {literal}, "values": {{"x": 1}}}}')
    assert result.samples == []
    assert result.rejections == [R.NON_FINITE]


def test_string_length_limit() -> None:
    ok = "x" * MAX_STRING_LENGTH
    frame = json.dumps({"source": "a", "values": {"ok": ok, "long": ok + "y"}})
    result = parse_frame(frame)
    assert result.samples == [Sample("a.ok", ok, None)]
    assert result.rejections == [R.STRING_TOO_LONG]


def test_oversize_frame_is_rejected_whole() -> None:
    limits = FrameLimits(max_frame_bytes=100)
    body = '{"source": "a", "values": {"s": "%s"}}'
    fits = body % ("x" * (100 - len(body) + 2))
    assert len(fits.encode()) == 100
    assert parse_frame(fits, limits).rejections == []
    too_big = body % ("x" * (101 - len(body) + 2))
    assert parse_frame(too_big, limits).rejections == [R.OVERSIZE]


def test_oversize_counts_utf8_bytes_not_characters() -> None:
    limits = FrameLimits(max_frame_bytes=60)
    frame = json.dumps({"source": "a", "values": {"s": "é" * 20}}, ensure_ascii=False)
    assert len(frame) <= 60 < len(frame.encode())
    assert parse_frame(frame, limits).rejections == [R.OVERSIZE]


def test_too_many_objects() -> None:
    limits = FrameLimits(max_objects=3)
    three = json.dumps([{"source": "a", "values": {"x": i}} for i in range(3)])
    four = json.dumps([{"source": "a", "values": {"x": i}} for i in range(4)])
    assert len(parse_frame(three, limits).samples) == 3
    result = parse_frame(four, limits)
    assert result.samples == []
    assert result.rejections == [R.TOO_MANY_OBJECTS]


@pytest.mark.parametrize("source", ["", "has.dot", "has space", "-lead", "x" * 65, "ünï"])
def test_bad_source_name(source: str) -> None:
    result = parse_frame(json.dumps({"source": source, "values": {"x": 1}}))
    assert result.samples == []
    assert result.rejections == [R.BAD_NAME]


def test_bad_key_dropped_alone_and_dotted_key_allowed() -> None:
    frame = json.dumps({"source": "a", "values": {"burner.1": 1, "": 2, "b c": 3}})
    result = parse_frame(frame)
    assert result.samples == [Sample("a.burner.1", 1.0, None)]
    assert result.rejections == [R.BAD_NAME, R.BAD_NAME]


def test_unknown_top_level_fields_are_ignored() -> None:
    result = parse_frame('{"source": "a", "seq": 99, "extra": NaN, "values": {"x": 1}}')
    assert result.samples == [Sample("a.x", 1.0, None)]
    assert result.rejections == []


def test_protocol_object_buffers_and_rejects_binary() -> None:
    protocol = StovelightProtocol()
    assert protocol.ready
    assert protocol.data_to_send() == []
    protocol.receive_text('{"source": "a", "values": {"x": 1}}')
    protocol.receive_text("garbage")
    protocol.receive_bytes(b'{"source": "a", "values": {"x": 2}}')
    assert protocol.samples_received() == [Sample("a.x", 1.0, None)]
    assert protocol.rejections_received() == [R.MALFORMED_JSON, R.BINARY_FRAME]
    assert protocol.samples_received() == []
    assert protocol.rejections_received() == []
    assert protocol.failure is None
