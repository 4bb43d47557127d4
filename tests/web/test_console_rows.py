"""The console's cue rows: idle rows are built once and follow every change."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from orjson import Fragment

from cues.events import ArmCue, Go
from cues.model import CueId
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show
from show.web import snapshots
from show.web.protocol import encode_message_bytes
from show.web.snapshots import Snapshots
from tests.clocks import FakeClock

SHOW = """
[show]
min_go_interval = 0
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
duration = 5
[[cue_lists.cues]]
number = "2"
type = "memo"
[[cue_lists.cues]]
number = "3"
type = "group"
[[cue_lists.cues.children]]
number = "3.1"
type = "memo"
"""


def rows(snaps: Snapshots) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["number"]: r for r in snaps.console()["cue_lists"][0]["cues"]}


def test_idle_rows_are_reused_and_follow_state_edits_and_arming() -> None:
    clock = FakeClock()
    runner = ShowRunner(parse_show(SHOW, "rows.toml"), RunnerParts(), clock=clock)
    snaps = Snapshots(runner)
    first = rows(snaps)
    again = rows(snaps)
    assert all(again[n] is first[n] for n in first)  # idle rows built once
    assert [first[n]["depth"] for n in ("1", "2", "3", "3.1")] == [0, 0, 0, 1]

    runner.engine.handle(Go("Main"), 0.0)
    clock.now = 2.0
    running = rows(snaps)
    assert running["1"]["state"] == "running"
    assert running["1"]["action"] == {"elapsed": 2.0, "total": 5.0}
    assert running["2"] is first["2"]

    runner.engine.handle(ArmCue(CueId("Main/2"), False), 2.0)
    disarmed = rows(snaps)
    assert disarmed["2"]["state"] == "disarmed" and disarmed["2"] is not first["2"]
    clock.now = 6.0
    runner.engine.advance(6.0)
    assert rows(snaps)["1"]["state"] == "idle"
    assert rows(snaps)["1"]["action"]["elapsed"] == 0.0


def test_the_broadcasters_snapshot_says_the_same_with_idle_rows_encoded_once() -> None:
    clock = FakeClock()
    runner = ShowRunner(parse_show(SHOW, "rows.toml"), RunnerParts(), clock=clock)
    snaps = Snapshots(runner)
    runner.engine.handle(Go("Main"), 0.0)
    clock.now = 1.5

    def wire_rows() -> list[Any]:
        return list(snaps.console(wire=True)["cue_lists"][0]["cues"])

    assert [type(r) for r in wire_rows()] == [dict] * 4  # built this tick: not encoded yet
    first = wire_rows()
    assert [type(r) for r in first] == [dict, Fragment, Fragment, Fragment]  # 1 runs
    assert all(a is b for a, b in zip(first[1:], wire_rows()[1:], strict=True))  # encoded once
    as_dicts = orjson.loads(encode_message_bytes(snaps.console()))
    as_wire = orjson.loads(encode_message_bytes(snaps.console(wire=True)))
    assert as_wire == as_dicts
    # what orjson refuses (an integer beyond 64 bits) is written exactly, beside the rows
    big = json.loads(encode_message_bytes({**snaps.console(wire=True), "big": 2**70}))
    assert big == {**as_dicts, "big": 2**70}

    runner.engine.handle(ArmCue(CueId("Main/2"), False), 1.5)
    assert wire_rows()[1]["state"] == "disarmed"  # rebuilt, then encoded next tick
    row = wire_rows()[1]
    assert row is not first[1] and orjson.loads(orjson.dumps(row))["state"] == "disarmed"


def test_a_tick_encodes_a_bounded_number_of_idle_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large show just loaded spreads the encoding over ticks, never holding the loop
    for all of it in one."""
    monkeypatch.setattr(snapshots, "FRAGMENTS_PER_TICK", 2)
    runner = ShowRunner(parse_show(SHOW, "rows.toml"), RunnerParts(), clock=FakeClock())
    snaps = Snapshots(runner)

    def encoded() -> int:
        rows = snaps.console(wire=True)["cue_lists"][0]["cues"]
        return sum(isinstance(r, Fragment) for r in rows)

    assert [encoded() for _ in range(4)] == [0, 2, 4, 4]
