"""Recording.instants: the dry run's lean read path groups by receive time."""

from __future__ import annotations

from pathlib import Path

from rehearsal.recorder import Recorder
from rehearsal.recording import Recording


def test_instants_group_by_time_keep_types_and_stop_at_end(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with Recorder(path, show="t") as rec:
        rec.add_sample(0.0, 100.0, "k", "k.temp", 20.5, None)
        rec.add_sample(0.0, 100.0, "k", "k.on", True, None)
        rec.add_sample(0.5, 100.5, "k", "k.state", "fault", None)
        rec.add_sample(1.0, 101.0, "k", "k.temp", 21.0, None)
    recording = Recording.open(path)
    got = list(recording.instants(batch=2))  # pages smaller than an instant
    assert got == [
        (0.0, [("k", "k.temp", 20.5), ("k", "k.on", True)]),
        (0.5, [("k", "k.state", "fault")]),
        (1.0, [("k", "k.temp", 21.0)]),
    ]
    assert type(got[0][1][1][2]) is bool
    assert list(recording.instants(start=0.5, end=1.0)) == [(0.5, [("k", "k.state", "fault")])]
