"""The console snapshot's top of page, built from a real runner on a frozen clock:
GO's state and reason, what the standby fires, waiting cues' stories, mappings after
PANIC, triggers, and the health chips."""

from __future__ import annotations

import asyncio
from typing import Any

from bridges.telemetry import Sample, SourceStatus
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show
from show.web.healthline import source_chip
from show.web.snapshots import Snapshots
from tests.clocks import FakeClock

SHOW = """
[show]
title = "Console view"
min_go_interval = 0.5
panic_time = 2.0
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:1/"
[signals."kitchen.temp_c"]
source = "kitchen"
unit = "°C"
[outputs.osc.desk]
port = 9
[mappings.glow]
signal = "kitchen.temp_c"
to = { osc = "desk", address = "/glow" }
range = { in = [0, 100], out = [0.0, 1.0] }
[[triggers]]
name = "hot"
when = { signal = "kitchen.temp_c", above = 150 }
hold = 2
start = "Events/9"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
name = "Doors"
type = "osc"
target = "desk"
address = "/doors"
args = [1, "open"]
notes = "Wait for the house manager"
[[cue_lists.cues]]
number = "2"
name = "When hot"
type = "memo"
wait_for = { signal = "kitchen.temp_c", above = 200 }
timeout = 10
fallback = "Events/9"
[[cue_lists.cues]]
number = "3"
name = "Bows"
type = "memo"
[[cue_lists]]
name = "Events"
[[cue_lists.cues]]
number = "9"
name = "Carry on"
type = "memo"
"""


def _run(body: Any) -> None:
    async def main() -> None:
        clock = FakeClock()
        runner = ShowRunner(parse_show(SHOW), RunnerParts(), clock=clock)
        snaps = Snapshots(runner)
        snaps.view.wall = lambda: 1_700_000_000.0 + clock.now

        def at(t: float, temp: float | None = None) -> dict[str, Any]:
            clock.now = t
            if temp is not None:
                runner.on_samples("kitchen", [Sample("kitchen.temp_c", temp, None)])
            runner._drain(t)
            return snaps.console()

        await body(runner, at)

    asyncio.run(main())


def _row(snap: dict[str, Any], number: str) -> dict[str, Any]:
    return next(c for c in snap["cue_lists"][0]["cues"] if c["number"] == number)


def test_standby_says_what_go_fires_and_go_says_why_it_is_refused() -> None:
    async def body(runner: ShowRunner, at: Any) -> None:
        snap = at(1.0, 20.0)
        standby = snap["standby"][0]
        assert (standby["number"], standby["name"]) == ("1", "Doors")
        assert standby["fires"] == "OSC desk /doors 1 open"
        assert standby["notes"] == "Wait for the house manager"
        assert snap["go"]["state"] == "ready"
        assert runner.control("go")["ok"] is True
        snap = at(1.2)
        assert snap["go"]["state"] == "guard" and snap["go"]["remaining"] == 0.3
        assert snap["standby"][0]["waits_for"] == (
            "kitchen.temp_c > 200, at most 10 s then fallback 9"
        )
        runner.control("panic")
        snap = at(2.0)
        assert snap["go"] == {
            "state": "panic",
            "allowed": False,
            "reason": "PANIC: fading out, GO refused for 1.2 s",
            "remaining": 1.2,
        }
        refused = runner.control("go")
        assert refused["refused"] == "panic" and refused["remaining"] == 1.2

    _run(body)


def test_a_waiting_cue_counts_down_then_times_out_into_its_fallback() -> None:
    async def body(runner: ShowRunner, at: Any) -> None:
        at(0.0, 20.0)
        runner.control("go")
        at(1.0)
        runner.control("go")
        snap = at(4.0, 30.0)
        wait = _row(snap, "2")["wait"]
        assert _row(snap, "2")["state"] == "waiting"
        assert wait["condition"] == "kitchen.temp_c > 200"
        assert (wait["value"], wait["unit"], wait["remaining"]) == (30.0, "°C", 7.0)
        assert snap["go"]["state"] == "waiting" and snap["go"]["allowed"] is True
        assert [r["number"] for r in snap["running"]] == ["2"]
        assert snap["running"][0]["remaining"] == 7.0
        snap = at(11.5)  # the loop turn that ran the timeout (due at 11.0) is when it is seen
        outcome = _row(snap, "2")["wait"]["outcome"]
        assert outcome == {"result": "timed out", "at": 1_700_000_011.5, "fallback": "9"}

    _run(body)


def test_a_waiting_cue_that_succeeds_says_when() -> None:
    async def body(runner: ShowRunner, at: Any) -> None:
        at(0.0, 20.0)
        runner.control("go")
        at(1.0)
        runner.control("go")
        at(2.0, 30.0)
        snap = at(3.0, 250.0)
        outcome = _row(snap, "2")["wait"]["outcome"]
        assert outcome["result"] == "succeeded" and outcome["at"] == 1_700_000_003.0

    _run(body)


def test_mappings_show_what_they_send_and_that_panic_turned_them_off() -> None:
    async def body(runner: ShowRunner, at: Any) -> None:
        snap = at(1.0, 50.0)
        glow = snap["mappings"]["rows"][0]
        assert (glow["state"], glow["input"], glow["output"]) == ("on", 50.0, 0.5)
        assert glow["plot"][-1] == 0.5 and len(glow["plot"]) == 60
        snap = at(2.0, 400.0)
        assert snap["mappings"]["rows"][0]["pinned"] == "above its input range"
        trig = snap["triggers"][0]
        assert (trig["name"], trig["state"], trig["value"]) == ("hot", "holding", 400.0)
        runner.control("panic")
        assert at(2.5)["mappings"]["rows"][0]["state"] == "fading (PANIC)"
        snap = at(5.0)
        assert snap["mappings"]["rows"][0]["state"] == "off (PANIC)"
        assert snap["mappings"]["all_off"] is True
        assert snap["mappings"]["panic_off_at"] == 1_700_000_005.0
        runner.control("reset")
        assert at(6.0)["mappings"]["panic_off_at"] is None

    _run(body)


def test_health_chips_for_sources_refusals_and_outputs() -> None:
    async def body(runner: ShowRunner, at: Any) -> None:
        runner.on_status("kitchen", SourceStatus.CONNECTED, "connected")
        runner.on_samples("kitchen", [Sample("kitchen.typo", 1.0, None)] * 3)
        snap = at(1.0, 20.0)
        chips = {c["id"]: c for c in snap["health"]}
        assert chips["source:kitchen"]["state"] == "ok"
        assert chips["refused"]["state"] == "info"  # refused before anyone watched
        runner.on_samples("kitchen", [Sample("kitchen.typo", 1.0, None)] * 3)
        chips = {c["id"]: c for c in at(2.0)["health"]}
        assert chips["refused"]["state"] == "warn"
        assert chips["refused"]["text"] == "6 total · 180/min"
        assert "kitchen.typo: 6" in chips["refused"]["details"]
        runner.on_status("kitchen", SourceStatus.DISCONNECTED, "connection refused")
        snap = at(3.0)
        chip = next(c for c in snap["health"] if c["id"] == "source:kitchen")
        assert chip["state"] == "down"
        assert chip["details"][0] == "status: disconnected (connection refused)"

    _run(body)


def test_home_assistant_entities_show_on_the_source_chip() -> None:
    signals = [{"name": "ha.temp", "health": "live"}]
    stats = {"entities": {"sensor.temp": "ok", "sensor.gone": "removed", "sensor.typo": "missing"}}
    chip = source_chip("ha", "connected", "", 1.0, signals, stats, 0.0)
    assert chip["state"] == "warn"
    assert "2 entities bad" in chip["text"]
    assert "entity sensor.gone: removed" in chip["details"]
    assert "entity sensor.typo: missing" in chip["details"]
