"""Exports parse back: JSONL, CSV and MCAP (read with the mcap package's reader)."""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from mcap.reader import make_reader

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
from tests.rehearsal.mcap_support import check_layout

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


# --- MCAP, read back with the mcap package's reader ------------------------------------------


def _read_mcap(data: bytes) -> dict[str, Any]:
    """Topics, schemas and messages of an exported file, read by ``mcap.reader.make_reader``
    (CRCs validated) after its structure passes :func:`check_layout`."""
    check_layout(data)
    reader = make_reader(io.BytesIO(data), validate_crcs=True)
    summary = reader.get_summary()
    assert summary is not None and summary.statistics is not None
    for schema in summary.schemas.values():
        assert schema.encoding == "jsonschema"
    for channel in summary.channels.values():
        assert channel.message_encoding == "json" and channel.schema_id in summary.schemas
    messages = [
        (channel.topic, message.log_time, json.loads(message.data))
        for _schema, channel, message in reader.iter_messages(log_time_order=False)
    ]
    return {
        "messages": messages,
        "schemas": {i: json.loads(s.data) for i, s in summary.schemas.items()},
        "channels": {i: c.topic for i, c in summary.channels.items()},
        "count": summary.statistics.message_count,
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
