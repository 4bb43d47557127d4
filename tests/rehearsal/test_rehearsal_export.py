"""Exports parse back: JSONL, CSV and MCAP (checked with a tiny reader written from the spec)."""

from __future__ import annotations

import csv
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from rehearsal.export import export
from rehearsal.mcap import (
    MAGIC,
    Op,
    encode_channel,
    encode_chunk,
    encode_header,
    encode_message,
    encode_record,
    encode_schema,
)
from rehearsal.recorder import Recorder

STARTED = 1_764_230_400.0


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "show.sqlite"
    with Recorder(path, show="demo", started=STARTED) as rec:
        for i in range(40):
            t = i * 0.25
            rec.add_sample(t, STARTED + t, "central", "central.temp_c", 150.0 + i, STARTED + t)
            rec.add_sample(t, STARTED + t, "central", "central.state", "on", STARTED + t)
            rec.add_sample(t, STARTED + t, "grid", "grid.ok", i % 2 == 0, None)
        rec.add_event(5.0, "cue_state", {"cue": "5", "state": "running"})
    return path


def test_jsonl_export_parses_back(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert export(recording, out, "jsonl") == 121
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["type"] == "meta" and lines[0]["show"] == "demo"
    samples = [x for x in lines if x["type"] == "sample"]
    events = [x for x in lines if x["type"] == "event"]
    assert len(samples) == 120
    assert events == [
        {"type": "event", "seq": 1, "t": 5.0, "kind": "cue_state",
         "data": {"cue": "5", "state": "running"}},
    ]  # fmt: skip
    assert samples[2] == {
        "type": "sample", "seq": 3, "t": 0.0, "wall": STARTED, "source": "grid",
        "signal": "grid.ok", "value": True, "ts": None,
    }  # fmt: skip
    times = [x["t"] for x in lines[1:]]
    assert times == sorted(times)


def test_csv_export_parses_back(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert export(recording, out, "csv") == 120
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 120
    assert rows[0]["signal"] == "central.temp_c" and float(rows[0]["value"]) == 150.0
    assert (rows[1]["value"], rows[1]["value_type"]) == ("on", "string")
    assert (rows[2]["value"], rows[2]["value_type"]) == ("true", "bool")
    assert (rows[5]["value"], rows[5]["value_type"]) == ("false", "bool")
    assert rows[2]["ts"] == ""


# --- a tiny MCAP reader following the spec's record layout -----------------------------------


def _string(buf: bytes, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<I", buf, pos)
    return buf[pos + 4 : pos + 4 + n].decode(), pos + 4 + n


def _records(buf: bytes, pos: int, end: int) -> list[tuple[int, int, bytes]]:
    out = []
    while pos < end:
        op, length = struct.unpack_from("<BQ", buf, pos)
        out.append((op, pos, buf[pos + 9 : pos + 9 + length]))
        pos += 9 + length
    assert pos == end
    return out


def _read_mcap(data: bytes) -> dict[str, Any]:
    assert data[:8] == MAGIC and data[-8:] == MAGIC
    footer_at = len(data) - 8 - 29
    op, length = struct.unpack_from("<BQ", data, footer_at)
    assert (op, length) == (Op.FOOTER, 20)
    summary_start, offsets_start, summary_crc = struct.unpack_from("<QQI", data, footer_at + 9)
    assert summary_crc == zlib.crc32(data[summary_start : footer_at + 9 + 16])
    records = _records(data, 8, summary_start)
    assert records[0][0] == Op.HEADER
    data_end_op, data_end_pos, data_end = records[-1]
    assert data_end_op == Op.DATA_END
    assert struct.unpack("<I", data_end)[0] == zlib.crc32(data[:data_end_pos])
    channels: dict[int, str] = {}
    schemas: dict[int, dict[str, Any]] = {}
    messages: list[tuple[str, int, dict[str, Any]]] = []
    chunk_offsets = []
    for op, pos, body in records[1:-1]:
        if op == Op.CHUNK:
            chunk_offsets.append(pos)
            start, end, size, crc = struct.unpack_from("<QQQI", body, 0)
            compression, p = _string(body, 28)
            (records_len,) = struct.unpack_from("<Q", body, p)
            inner = body[p + 8 : p + 8 + records_len]
            assert compression == "" and size == records_len and crc == zlib.crc32(inner)
            for iop, _ipos, ibody in _records(inner, 0, len(inner)):
                if iop == Op.SCHEMA:
                    (sid,) = struct.unpack_from("<H", ibody, 0)
                    _name, q = _string(ibody, 2)
                    encoding, q = _string(ibody, q)
                    (n,) = struct.unpack_from("<I", ibody, q)
                    assert encoding == "jsonschema"
                    schemas[sid] = json.loads(ibody[q + 4 : q + 4 + n])
                elif iop == Op.CHANNEL:
                    cid, sid = struct.unpack_from("<HH", ibody, 0)
                    topic, q = _string(ibody, 4)
                    encoding, q = _string(ibody, q)
                    assert encoding == "json" and sid in schemas
                    channels[cid] = topic
                elif iop == Op.MESSAGE:
                    cid, _seq, log_time, _pub = struct.unpack_from("<HIQQ", ibody, 0)
                    assert start <= log_time <= end
                    messages.append((channels[cid], log_time, json.loads(ibody[22:])))
        else:
            assert op == Op.MESSAGE_INDEX
    summary = _records(data, summary_start, offsets_start)
    offsets = _records(data, offsets_start, footer_at)
    for op, _pos, body in offsets:
        assert op == Op.SUMMARY_OFFSET
        group_op, group_start, group_length = struct.unpack("<BQQ", body)
        group = [r for r in summary if group_start <= r[1] < group_start + group_length]
        assert group and all(r[0] == group_op for r in group)
    stats = [body for op, _pos, body in summary if op == Op.STATISTICS]
    (message_count,) = struct.unpack_from("<Q", stats[0], 0)
    chunk_index = [body for op, _pos, body in summary if op == Op.CHUNK_INDEX]
    assert [struct.unpack_from("<Q", b, 16)[0] for b in chunk_index] == chunk_offsets
    return {
        "messages": messages,
        "schemas": schemas,
        "channels": channels,
        "count": message_count,
    }


def test_mcap_export_parses_back(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mcap"
    assert export(recording, out, "mcap") == 121
    parsed = _read_mcap(out.read_bytes())
    assert parsed["count"] == 121
    topics = sorted(parsed["channels"].values())
    assert topics == ["central.state", "central.temp_c", "events/cue_state", "grid.ok"]
    schema_types = {
        parsed["channels"][cid]: schema["properties"]["value"]["type"]
        for cid, schema in parsed["schemas"].items()
        if "value" in schema["properties"]
    }
    assert schema_types == {
        "central.state": "string",
        "central.temp_c": "number",
        "grid.ok": "boolean",
    }
    temps = [(t, m["value"]) for topic, t, m in parsed["messages"] if topic == "central.temp_c"]
    assert temps[0] == (int(STARTED * 1e9), 150.0)
    assert [v for _t, v in temps] == [150.0 + i for i in range(40)]
    cue = [m for topic, _t, m in parsed["messages"] if topic == "events/cue_state"]
    assert cue == [{"t": 5.0, "kind": "cue_state", "data": {"cue": "5", "state": "running"}}]


def test_mcap_with_many_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite"
    with Recorder(path, started=STARTED) as rec:
        for i in range(30_000):
            rec.add_sample(i * 0.01, 0.0, "s", f"s.v{i % 7}", float(i), None)
    out = tmp_path / "big.mcap"
    export(path, out, "mcap")
    parsed = _read_mcap(out.read_bytes())
    assert parsed["count"] == 30_000 and len(parsed["channels"]) == 7
    assert [m["value"] for _c, _t, m in parsed["messages"]] == [float(i) for i in range(30_000)]


def test_mcap_encoders_match_the_spec_conformance_vector() -> None:
    """Rebuild the spec's OneMessage-ch-rsh-sum conformance file and check its CRCs/offsets."""
    schema = encode_schema(1, "Example", "c", bytes([4, 5, 6]))
    channel = encode_channel(1, 1, "example", "a", {"foo": "bar"})
    message = encode_message(1, 10, 2, 1, bytes([1, 2, 3]))
    data = MAGIC + encode_header("", "") + encode_chunk(2, 2, schema + channel + message)
    assert zlib.crc32(data) == 2475508533  # data_section_crc in the conformance JSON
    summary_start = len(data) + len(encode_record(Op.DATA_END, b"\0\0\0\0"))
    assert summary_start == 202
    offsets_start = summary_start + len(schema)
    assert offsets_start == 236
    summary_offset = encode_record(Op.SUMMARY_OFFSET, struct.pack("<BQQ", 3, 202, 34))
    footer_head = encode_record(Op.FOOTER, struct.pack("<QQI", 202, 236, 0))[:-4]
    assert zlib.crc32(schema + summary_offset + footer_head) == 1380728824


def test_export_command_writes_mcap(recording: Path, tmp_path: Path) -> None:
    from show.cli import main as stovelight

    out = tmp_path / "cli.mcap"
    assert stovelight(["export", str(recording), "--format", "mcap", "-o", str(out)]) == 0
    assert _read_mcap(out.read_bytes())["count"] == 121
