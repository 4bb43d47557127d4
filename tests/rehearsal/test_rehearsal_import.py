"""Import of CSV/JSONL telemetry and the record/export/import CLI registration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from rehearsal import cli
from rehearsal.errors import ImportMappingError
from rehearsal.importer import ImportMapping, import_file, parse_cell
from rehearsal.recording import Recording


def test_parse_cell() -> None:
    assert parse_cell(" 1.5 ") == 1.5
    assert parse_cell("TRUE") is True and parse_cell("false") is False
    assert parse_cell("on") == "on"
    assert parse_cell("") is None
    assert parse_cell("nan") == "nan"


def test_wide_csv_import(tmp_path: Path) -> None:
    src = tmp_path / "logger.csv"
    src.write_text(
        "timestamp,T1,P1,mode\n"
        "2025-11-27T08:00:01Z,180.5,1800,on\n"
        "2025-11-27T08:00:00Z,179.0,,off\n"
        "2025-11-27T08:00:02+00:00,181.0,0,true\n"
    )
    mapping = ImportMapping(
        time_column="timestamp",
        columns={"T1": "stove-07.temp_c", "P1": "stove-07.power_w", "mode": "stove-07.state"},
    )
    dst = tmp_path / "imported.sqlite"
    assert import_file(src, dst, mapping, show="import test") == 8
    with Recording.open(dst) as rec:
        samples = list(rec.samples())
        assert [(s.t_recv, s.signal, s.value) for s in samples] == [
            (0.0, "stove-07.temp_c", 179.0),
            (0.0, "stove-07.state", "off"),
            (1.0, "stove-07.temp_c", 180.5),
            (1.0, "stove-07.power_w", 1800.0),
            (1.0, "stove-07.state", "on"),
            (2.0, "stove-07.temp_c", 181.0),
            (2.0, "stove-07.power_w", 0.0),
            (2.0, "stove-07.state", True),
        ]
        assert samples[0].wall == 1764230400.0 and samples[0].source == "stove-07"
        assert rec.meta["show"] == "import test"
        assert float(rec.meta["started"]) == 1764230400.0


def test_long_jsonl_import(tmp_path: Path) -> None:
    src = tmp_path / "long.jsonl"
    rows = [
        {"ms": 1000, "dev": "grid", "key": "demand_kw", "v": 12.5},
        {"ms": 1500, "dev": "grid", "key": "ok", "v": True},
        {"ms": 2000, "dev": "x", "key": "central.state", "v": "fault"},
        {"ms": 2500, "dev": "grid", "key": "demand_kw", "v": None},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    mapping = ImportMapping(
        time_column="ms",
        long=True,
        source_column="dev",
        signal_column="key",
        value_column="v",
        time_unit=0.001,
    )
    dst = tmp_path / "long.sqlite"
    assert import_file(src, dst, mapping) == 3
    with Recording.open(dst) as rec:
        assert [(s.t_recv, s.source, s.signal, s.value) for s in rec.samples()] == [
            (0.0, "grid", "grid.demand_kw", 12.5),
            (0.5, "grid", "grid.ok", True),
            (1.0, "x", "central.state", "fault"),
        ]


def test_import_rejects_a_mapping_that_does_not_fit(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("time,a\n1,2\n")
    with pytest.raises(ImportMappingError, match="not found: b"):
        import_file(src, tmp_path / "x.sqlite", ImportMapping(columns={"b": "s.b"}))
    with pytest.raises(ImportMappingError, match="time column"):
        import_file(src, tmp_path / "y.sqlite", ImportMapping(time_column="t", columns={"a": "s"}))
    with pytest.raises(ImportMappingError):
        ImportMapping()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stovelight")
    cli.register(parser.add_subparsers())
    return parser


def test_cli_import_then_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text("time,t\n1764230400,20.5\n1764230401,21.5\n")
    rec_path = tmp_path / "rec.sqlite"
    args = _parser().parse_args(["import", str(src), "-o", str(rec_path), "--map", "t=a.temp_c"])
    assert args.func(args) == 0
    out = tmp_path / "out.jsonl"
    args = _parser().parse_args(["export", str(rec_path), "--format", "jsonl", "-o", str(out)])
    assert args.func(args) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["value"] for x in lines if x["type"] == "sample"] == [20.5, 21.5]
    args = _parser().parse_args(["export", str(src), "--format", "csv", "-o", str(out)])
    assert args.func(args) == 1
    assert "export:" in capsys.readouterr().out


def test_cli_record_arguments() -> None:
    args = _parser().parse_args(["record", "ws://127.0.0.1:1/a", "ws://h:2", "-o", "x.sqlite"])
    assert args.func is cli.cmd_record
    assert args.urls == ["ws://127.0.0.1:1/a", "ws://h:2"] and args.output == "x.sqlite"
