"""Conditional GO: a fallback runs only when its waiting cue times out, and never
becomes the standby, on the virtual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from cues.commands import CueState, Notice, PlayheadChanged
from cues.engine import Engine
from cues.events import Go, Pause, PlayheadNext, PlayheadPrevious, Resume, Sample, SetPlayhead
from cues.model import CueId
from show.showfile.load import load_show, parse_show
from tests.cues.script import Script, cid

ROOT = Path(__file__).resolve().parents[2]

DOCUMENTED = """
[signals."grid.exchange_kw"]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "4"
type = "osc"
target = "desk"
address = "/recovered"
wait_for = { signal = "grid.exchange_kw", above = 0.5 }
timeout = 10
fallback = "4.9"
[[cue_lists.cues]]
number = "4.9"
type = "osc"
target = "desk"
address = "/fallback"
[[cue_lists.cues]]
number = "5"
type = "osc"
target = "desk"
address = "/five"
"""


def _addresses(s: Script) -> list[tuple[float, str]]:
    return [(t, c.address) for t, c in s.log if hasattr(c, "address") and hasattr(c, "target")]


def test_after_a_success_the_next_go_fires_the_next_cue_not_the_fallback() -> None:
    s = Script(DOCUMENTED)
    s.at(0.0, Sample("grid.exchange_kw", 0.0))
    s.at(1.0, Go())
    assert s.engine.playhead() == cid("5")  # straight past the fallback
    s.at(3.0, Sample("grid.exchange_kw", 1.0))
    s.at(5.0, Go())
    s.run_until(30.0)
    assert _addresses(s) == [(3.0, "/recovered"), (5.0, "/five")]
    assert s.states("4.9") == []


def test_after_a_timeout_the_fallback_fires_once_and_the_next_go_fires_the_next_cue() -> None:
    s = Script(DOCUMENTED)
    s.at(0.0, Sample("grid.exchange_kw", 0.0))
    s.at(1.0, Go())
    s.run_until(12.0)
    assert s.engine.playhead() == cid("5")
    s.at(13.0, Go())
    s.run_until(30.0)
    assert _addresses(s) == [(11.0, "/fallback"), (13.0, "/five")]
    assert s.state("4") is CueState.IDLE


def test_the_standby_never_lands_on_a_fallback() -> None:
    s = Script(DOCUMENTED)
    e = s.engine
    s.at(1.0, PlayheadNext())
    assert e.playhead() == cid("5")
    s.at(2.0, PlayheadPrevious())
    assert e.playhead() == cid("4")
    s.at(3.0, PlayheadPrevious())  # nothing before 4: the standby stays
    assert e.playhead() == cid("4")
    s.at(4.0, SetPlayhead(cid("4.9")))  # by hand, on purpose: allowed
    assert e.playhead() == cid("4.9")
    changes = [c.cue for _, c in s.of_type(PlayheadChanged)]  # type: ignore[attr-defined]
    assert changes == [cid("5"), cid("4"), cid("4.9")]


def test_a_fallback_first_in_its_list_is_not_the_first_standby() -> None:
    text = """
[signals.s]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "0"
type = "memo"
[[cue_lists]]
name = "B"
[[cue_lists.cues]]
number = "1"
type = "memo"
[[cue_lists.cues]]
number = "2"
type = "memo"
wait_for = { signal = "s", above = 0 }
timeout = 1
fallback = "B/1"
"""
    e = Engine(parse_show("[outputs.osc.desk]\nport = 9000\n" + text).model)
    assert e.playhead("B") == CueId("B/2")


def test_a_waiting_cue_that_continues_skips_its_fallback() -> None:
    s = Script(DOCUMENTED.replace('fallback = "4.9"', 'fallback = "4.9"\ncontinue = "auto-follow"'))
    s.at(0.0, Sample("grid.exchange_kw", 1.0))
    s.at(1.0, Go())
    s.run_until(30.0)
    assert _addresses(s) == [(1.0, "/recovered"), (1.0, "/five")]


HOLD = DOCUMENTED.replace("timeout = 10", "timeout = 10\nhold = 2")


def test_hold_needs_the_condition_true_without_a_break() -> None:
    s = Script(HOLD)
    s.at(0.0, Sample("grid.exchange_kw", 0.0))
    s.at(1.0, Go())
    s.at(2.0, Sample("grid.exchange_kw", 1.0))  # true from 2 ...
    s.at(3.0, Sample("grid.exchange_kw", 0.0))  # ... broken at 3
    s.at(4.0, Sample("grid.exchange_kw", 1.0))  # true again from 4
    s.at(5.0, Sample("grid.exchange_kw", 1.2))
    s.run_until(30.0)
    assert _addresses(s) == [(6.0, "/recovered")]


def test_hold_already_true_at_start_counts_from_the_start() -> None:
    s = Script(HOLD)
    s.at(0.0, Sample("grid.exchange_kw", 1.0))
    s.at(1.0, Go())
    s.run_until(30.0)
    assert _addresses(s) == [(3.0, "/recovered")]


def test_hold_not_reached_before_the_timeout_runs_the_fallback() -> None:
    s = Script(HOLD)
    s.at(0.0, Sample("grid.exchange_kw", 0.0))
    s.at(1.0, Go())
    for t in range(2, 12):  # true for one second in every two: never held for 2 s
        s.at(float(t), Sample("grid.exchange_kw", 1.0 if t % 2 else 0.0))
    s.run_until(30.0)
    assert _addresses(s) == [(11.0, "/fallback")]


def test_hold_counts_again_after_a_resume() -> None:
    s = Script(HOLD)
    s.at(0.0, Sample("grid.exchange_kw", 1.0))
    s.at(1.0, Go())
    s.at(2.0, Pause())
    s.at(4.0, Resume())
    s.run_until(30.0)
    assert _addresses(s) == [(6.0, "/recovered")]


def _walk(engine: Engine, events: list[tuple[float, object]], until: float) -> list[Notice]:
    """Run the engine through timed events until ``until``; the notices it put up."""
    now = 0.0
    out: list[object] = []
    for t, ev in sorted(events, key=lambda x: x[0]):
        while (d := engine.next_deadline()) is not None and d <= t:
            now = max(d, now)
            engine.advance(now)
            out.extend(engine.commands())
        now = t
        engine.handle(ev, t)  # type: ignore[arg-type]
        engine.advance(t)
        out.extend(engine.commands())
    while (d := engine.next_deadline()) is not None and d <= until:
        now = max(d, now)
        engine.advance(now)
        out.extend(engine.commands())
    return [c for c in out if isinstance(c, Notice)]


@pytest.mark.parametrize("outcome", ["success", "timeout"])
def test_the_example_show_conditional_go_does_what_it_says(outcome: str) -> None:
    model = load_show(ROOT / "examples" / "kitchen.toml").model
    e = Engine(model)
    e.handle(SetPlayhead(CueId("Main/4")), 0.0)
    events: list[tuple[float, object]] = [(0.5, Sample("grid.balance_kw", -3.0)), (1.0, Go())]
    if outcome == "success":
        events += [(5.0, Sample("grid.balance_kw", 1.0)), (9.0, Sample("grid.balance_kw", 1.5))]
    events += [(70.0, Go())]
    texts = [n.text for n in _walk(e, events, 100.0)]
    if outcome == "success":
        assert texts == [
            "The neighbourhood is sharing energy again",
            "Thank you for cooking with us",
        ]
    else:
        assert texts == ["We carry on; the kitchen will catch up", "Thank you for cooking with us"]


@pytest.mark.parametrize("outcome", ["success", "timeout"])
def test_the_demo_show_conditional_go_does_what_it_says(outcome: str) -> None:
    demo = Path(__file__).resolve().parents[2] / "show" / "demo" / "demo.toml"
    model = parse_show(demo.read_text(encoding="utf-8"), "demo.toml").model
    e = Engine(model)
    e.handle(SetPlayhead(CueId("Main/4")), 0.0)
    events: list[tuple[float, object]] = [(0.5, Sample("grid.exchange_kw", 0.0)), (1.0, Go())]
    if outcome == "success":
        events += [(20.0, Sample("grid.exchange_kw", 2.0))]
    notices = _walk(e, events, 200.0)
    assert e.playhead() == CueId("Main/5")
    ids = [n.id for n in notices]
    assert ids == (["recovery"] if outcome == "success" else ["carry-on"])
    e.handle(Go(), 300.0)
    e.advance(300.0)
    assert e.state_of(CueId("Main/5")) is not CueState.IDLE
    assert e.state_of(CueId("Events/4.9")) is CueState.IDLE
