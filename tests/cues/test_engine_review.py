"""Regressions found in review: stop/reset reach every cue, groups end when they
should, pause interacts correctly with waiting cues and panic, panic zeroes outputs,
edits take effect from the next start, derived signals never feed each other."""

from __future__ import annotations

import pytest

from cues.commands import CueState, SetVisualInput
from cues.events import Go, Panic, Pause, Reset, Resume, Sample, StartCue, Stop, StopCue
from tests.cues.script import Script, cid

CHILD_FADE = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
  [[cue_lists.cues.children]]
  number = "fade"
  type = "fade"
  target = { osc = "desk", address = "/f" }
  from = 0
  to = 10
  duration = 10
  rate_hz = 1
"""


@pytest.mark.parametrize("event", [Stop(), Reset(), Panic(0.0)])
def test_stop_all_reset_and_panic_reach_a_child_started_on_its_own(event: object) -> None:
    s = Script(CHILD_FADE)
    s.at(0.0, StartCue(cid("fade")))
    s.at(2.5, event)  # type: ignore[arg-type]
    before = len(s.osc())
    s.run_until(12.0)
    assert s.osc()[before:] == []
    assert s.state("fade") is CueState.IDLE


LOOP_IN_GROUP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
mode = "start-first"
  [[cue_lists.cues.children]]
  number = "a"
  type = "osc"
  target = "desk"
  address = "/a"
  continue = "auto-continue"
  postwait = 1
  [[cue_lists.cues.children]]
  number = "b"
  type = "wait"
  duration = 3
  continue = "auto-continue"
  postwait = 1
  continue_to = "a"
"""


def test_a_loop_inside_a_group_keeps_the_group_running_until_stopped() -> None:
    s = Script(LOOP_IN_GROUP)
    s.at(0.0, Go())
    s.run_until(8.0)
    assert s.state("G") is CueState.RUNNING  # restarting a child does not end its group
    s.at(8.5, Stop())
    before = len(s.osc())
    s.run_until(20.0)
    assert s.osc()[before:] == []


PAUSED_GROUP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
continue = "auto-follow"
  [[cue_lists.cues.children]]
  number = "a"
  type = "wait"
  duration = 1
[[cue_lists.cues]]
number = "next"
type = "osc"
target = "desk"
address = "/next"
"""


@pytest.mark.parametrize("child_event", [Resume(cid("a")), StopCue(cid("a"))])
def test_a_paused_group_whose_child_finished_ends_on_resume(child_event: object) -> None:
    s = Script(PAUSED_GROUP)
    s.at(0.0, Go())
    s.at(0.5, Pause(cid("G")))
    s.at(1.0, child_event)  # type: ignore[arg-type]
    s.run_until(2.5)
    s.at(3.0, Resume(cid("G")))
    s.run_until(10.0)
    assert s.state("G") is CueState.IDLE
    assert len(s.osc("/next")) == 1


WAITING = """
[signals.door]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/open"
wait_for = { signal = "door", equals = "open" }
timeout = 10
fallback = "2"
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/fallback"
"""


def test_a_waiting_cue_resumed_after_its_condition_came_true_fires() -> None:
    s = Script(WAITING)
    s.at(1.0, Go())
    s.at(2.0, Pause())
    s.at(3.0, Sample("door", "open"))
    s.at(4.0, Resume())
    s.run_until(15.0)
    assert s.osc("/open") == [(4.0, ())]
    assert s.osc("/fallback") == []


PANIC_MAPPINGS = """
[signals.x]
stale_after = 0.5
lost_after = 1.0
[mappings.hold]
signal = "x"
to = { visual = "projector", input = "heat" }
stale = "hold"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/one"
prewait = 2
"""


def test_panic_zeroes_mapping_outputs_even_when_their_signal_is_lost() -> None:
    s = Script(PANIC_MAPPINGS)
    s.at(0.0, Sample("x", 0.8))
    s.run_until(3.0)  # x is lost: the mapping holds 0.8
    s.at(3.0, Panic(1.0))
    s.run_until(6.0)
    values = [c.value for _, c in s.of_type(SetVisualInput)]  # type: ignore[attr-defined]
    assert values[0] == 0.8 and values[-1] == 0.0


def test_a_cue_paused_in_its_prewait_does_not_fire_during_a_panic() -> None:
    s = Script(PANIC_MAPPINGS)
    s.at(0.0, Go())
    s.at(1.0, Pause())
    s.at(2.0, Panic(3.0))
    s.at(2.5, Resume())
    s.run_until(10.0)
    assert s.osc("/one") == []


def test_editing_a_running_fade_takes_effect_from_its_next_start() -> None:
    s = Script(CHILD_FADE)
    s.at(0.0, StartCue(cid("fade")))
    s.engine.edit_cue(cid("fade"), duration=20.0)
    s.run_until(30.0)
    assert s.osc("/f")[-1] == (10.0, (10.0,))  # the run in progress keeps its 10 s
    s.at(40.0, StartCue(cid("fade")))
    s.run_until(70.0)
    assert s.osc("/f")[-1] == (60.0, (10.0,))  # the next run takes 20 s


def test_an_old_panic_timer_does_not_cut_a_later_panic_short() -> None:
    s = Script(
        """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "notice"
text = "x"
ttl = 4.5
"""
    )
    s.at(0.0, Go())
    s.at(1.0, Panic(4.0))
    s.at(1.5, Panic())  # a second panic completes the first at once
    s.at(3.0, Panic(4.0))
    s.run_until(5.5)
    assert s.engine.panic_until == 7.0
    s.run_until(7.5)
    assert s.engine.panic_until is None


def test_derived_signals_never_feed_each_other() -> None:
    s = Script(
        """
[signals."*.power_w"]
[derived."total.power_w"]
op = "sum"
inputs = ["*.power_w"]
[derived."peak.power_w"]
op = "max"
inputs = ["*.power_w"]
[[cue_lists]]
name = "Main"
"""
    )
    s.at(0.0, Sample("a.power_w", 100.0))
    s.at(0.0, Sample("b.power_w", 350.0))
    s.run_until(1.0)
    signals = s.engine.signals.signals
    assert signals["total.power_w"].value == 450.0
    assert signals["peak.power_w"].value == 350.0
    d = s.engine.next_deadline()
    assert d is None or d > 1.0  # nothing left to spin on
