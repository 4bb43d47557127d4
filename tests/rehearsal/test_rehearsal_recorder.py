"""Recorder and reader: types, overload, reading while writing, seeking, SIGKILL safety."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rehearsal.errors import RecordingFormatError
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording, Sample

CHILD = Path(__file__).with_name("_kill_child.py")
ROOT = Path(__file__).resolve().parents[2]


def test_values_keep_their_types(tmp_path: Path) -> None:
    path = tmp_path / "types.sqlite"
    with Recorder(path, show="Cinderella") as rec:
        assert rec.add_sample(0.0, 100.0, "stove-07", "stove-07.temp_c", 182.5, 99.5)
        rec.add_sample(0.1, 100.1, "stove-07", "stove-07.power_w", 1800, 99.6)
        rec.add_sample(0.2, 100.2, "stove-07", "stove-07.lit", True, 99.7)
        rec.add_sample(0.3, 100.3, "stove-07", "stove-07.state", "on", None)
        rec.add_sample(0.4, 100.4, "stove-07", "stove-07.lit", False, 99.9)
        rec.add_event(0.25, "operator", {"action": "GO", "cue": "1"})
    with Recording.open(path) as recording:
        samples = list(recording.samples())
        assert [(s.signal, s.value) for s in samples] == [
            ("stove-07.temp_c", 182.5),
            ("stove-07.power_w", 1800.0),
            ("stove-07.lit", True),
            ("stove-07.state", "on"),
            ("stove-07.lit", False),
        ]
        assert [type(s.value) for s in samples] == [float, float, bool, str, bool]
        assert samples[0] == Sample(1, 0.0, 100.0, "stove-07", "stove-07.temp_c", 182.5, 99.5)
        assert recording.meta["show"] == "Cinderella"
        assert recording.meta["format_version"] == "1"
        assert recording.signals() == [
            "stove-07.lit",
            "stove-07.power_w",
            "stove-07.state",
            "stove-07.temp_c",
        ]
        events = list(recording.events())
        assert [(e.t, e.kind, e.data) for e in events] == [
            (0.25, "operator", {"action": "GO", "cue": "1"})
        ]
        merged = [type(r).__name__ for r in recording.records()]
        assert merged == ["Sample", "Sample", "Sample", "Event", "Sample", "Sample"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_event_kind_is_refused(tmp_path: Path) -> None:
    with Recorder(tmp_path / "e.sqlite") as rec, pytest.raises(ValueError):
        rec.add_event(0.0, "applause", {})


def test_overload_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "full.sqlite", max_pending=10, commit_interval=60.0).start()
    try:
        rows = [(i * 0.1, 0.0, "s", "s.v", float(i), None) for i in range(100)]
        assert rec.add_samples(rows) == 10
        assert rec.add_sample(11.0, 0.0, "s", "s.v", 1.0, None) is False
        assert rec.add_event(11.0, "note", {"text": "x"}) is False
        stats = rec.stats
        assert (stats.accepted, stats.dropped, stats.pending) == (10, 92, 10)
        assert rec.flush(10)
    finally:
        stats = rec.close()
    assert (stats.committed, stats.dropped) == (10, 92)
    with Recording.open(tmp_path / "full.sqlite") as recording:
        assert [s.value for s in recording.samples()] == [float(i) for i in range(10)]


def test_reading_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    with Recorder(path) as rec:
        for i in range(50):
            rec.add_sample(i * 0.1, 0.0, "g", "g.x", float(i), None)
        assert rec.flush(10)
        recording = Recording.open(path)
        try:
            first = list(recording.samples())
            assert len(first) == 50
            for i in range(50, 80):
                rec.add_sample(i * 0.1, 0.0, "g", "g.x", float(i), None)
            assert rec.flush(10)
            assert [s.value for s in recording.tail(first[-1].seq)] == [
                float(i) for i in range(50, 80)
            ]

            async def follow() -> list[float]:
                got: list[float] = []
                async with asyncio.timeout(10):
                    async for sample in recording.follow(after_seq=70, poll_s=0.01):
                        got.append(float(sample.value or 0))
                        if len(got) == 10:
                            rec.add_sample(99.0, 0.0, "g", "g.x", 999.0, None)
                        if len(got) == 11:
                            return got
                return got

            assert asyncio.run(follow()) == [float(i) for i in range(70, 80)] + [999.0]
        finally:
            recording.close()


def test_seek_by_time_and_by_cue(tmp_path: Path) -> None:
    path = tmp_path / "cues.sqlite"
    with Recorder(path) as rec:
        for i in range(100):
            rec.add_sample(i * 0.1, 0.0, "g", "g.x", float(i), None)
        rec.add_event(2.0, "cue_state", {"cue": "5", "state": "running"})
        rec.add_event(3.0, "cue_state", {"cue": "5", "state": "finished"})
        rec.add_event(4.05, "cue_state", {"cue": "5", "state": "running"})
    with Recording.open(path) as recording:
        assert recording.time_range() == pytest.approx((0.0, 9.9))
        position = recording.seek(2.5)
        assert next(recording.samples(from_seq=position)).t_recv == pytest.approx(2.5)
        assert recording.seek(-1.0) == 1
        assert recording.seek(100.0) == 101
        assert recording.cue_time("5") == 2.0
        assert recording.cue_time("5", occurrence=2) == 4.05
        assert recording.cue_time("5", "finished") == 3.0
        assert recording.cue_time("6") is None
        first = next(recording.samples(from_seq=recording.seek_cue("5", occurrence=2)))
        assert first.value == 41.0
        window = [s.value for s in recording.samples(start=1.0, end=1.5)]
        assert window == [10.0, 11.0, 12.0, 13.0, 14.0]
        with pytest.raises(KeyError):
            recording.seek_cue("42")


def test_not_a_recording_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RecordingFormatError):
        Recording.open(junk)
    with pytest.raises(RecordingFormatError):
        Recording.open(tmp_path / "missing.sqlite")


def _spawn(path: Path, mode: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _check_reopens_cleanly(path: Path) -> list[float]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Recording.open(path) as recording:
        values = [float(s.value or 0) for s in recording.samples()]
        seqs = [s.seq for s in recording.samples()]
    assert values == [float(i) for i in range(1, len(values) + 1)], "rows are not a gap-free prefix"
    assert seqs == list(range(1, len(values) + 1))
    # the file accepts appends after the crash
    with Recorder(path) as rec:
        rec.add_sample(1e6, 0.0, "counter", "counter.n", -1.0, None)
    with Recording.open(path) as recording:
        assert recording.last_seq() == len(values) + 1
    return values


def test_sigkill_loses_only_the_uncommitted_batch(tmp_path: Path) -> None:
    path = tmp_path / "paused.sqlite"
    child = _spawn(path, "paused")
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line == ["ready", "1000"]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        child.kill()
    assert child.returncode == -signal.SIGKILL
    values = _check_reopens_cleanly(path)
    assert len(values) == 1000  # every committed row, none of the 500 pending ones


def test_sigkill_mid_stream_leaves_a_gap_free_prefix(tmp_path: Path) -> None:
    path = tmp_path / "stream.sqlite"
    child = _spawn(path, "stream")
    reported_committed = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            submitted, committed = map(int, line.split())
            reported_committed = committed
            if committed >= 3000 and submitted > committed:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        last_submitted = submitted
        for line in child.stdout:  # whatever it printed before dying
            last_submitted, _ = map(int, line.split())
    finally:
        child.kill()
    values = _check_reopens_cleanly(path)
    assert len(values) >= reported_committed  # nothing acknowledged as committed was lost
    assert len(values) <= last_submitted + 100
