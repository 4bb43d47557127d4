"""Cue behaviour, written as scripts of a show with exact times."""

from __future__ import annotations

import pytest

from cues.commands import ClearNotice, CueState, Notice, PlayheadChanged, Report, SetScene
from cues.events import (
    Go,
    Pause,
    PlayheadNext,
    PlayheadPrevious,
    Reset,
    Resume,
    SetPlayhead,
    StartCue,
    Stop,
)
from tests.cues.script import Script, cid

THREE_OSC = """
[show]
min_go_interval = 0.5
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/one"
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/two"
args = [2, "x", 1.5, true]
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/three"
"""


def test_go_runs_the_standby_cue_and_moves_the_playhead() -> None:
    s = Script(THREE_OSC)
    assert s.engine.playhead() == cid("1")
    s.at(1.0, Go())
    s.at(2.0, Go())
    assert s.osc() == [(1.0, ()), (2.0, (2, "x", 1.5, True))]
    assert s.engine.playhead() == cid("3")
    heads = [c.cue for _, c in s.of_type(PlayheadChanged)]  # type: ignore[attr-defined]
    assert heads == [cid("2"), cid("3")]
    assert s.states("1") == [(1.0, "running"), (1.0, "idle")]


def test_double_go_guard_ignores_a_second_go_inside_the_interval() -> None:
    s = Script(THREE_OSC)
    s.at(1.0, Go())
    s.at(1.2, Go())  # 0.2 s later: refused
    s.at(1.6, Go())  # 0.6 s after the first: accepted
    assert [t for t, _ in s.osc()] == [1.0, 1.6]
    assert s.engine.stats.go_rejected == 1
    reports = [c for _, c in s.of_type(Report)]
    assert any("double-GO guard" in r.message for r in reports)  # type: ignore[attr-defined]


def test_playhead_moves_up_down_and_can_be_set() -> None:
    s = Script(THREE_OSC)
    s.at(0.0, PlayheadNext())
    s.at(0.0, PlayheadNext())
    assert s.engine.playhead() == cid("3")
    s.at(0.0, PlayheadNext())
    assert s.engine.playhead() is None  # past the end: GO does nothing
    s.at(0.0, PlayheadPrevious())
    assert s.engine.playhead() == cid("3")
    s.at(0.0, SetPlayhead(cid("1")))
    s.at(1.0, Go())
    assert s.osc() == [(1.0, ())]


WAITS = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/a"
prewait = 1.0
postwait = 2.0
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "wait"
duration = 4.0
prewait = 0.5
continue = "auto-follow"
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/c"
"""


def test_prewait_postwait_auto_continue_and_auto_follow_timing() -> None:
    s = Script(WAITS)
    s.at(10.0, Go())
    s.run_until(30.0)
    # cue 1: GO at 10, pre-wait 1 s -> action at 11, post-wait 2 s -> cue 2 at 13
    assert s.osc("/a") == [(11.0, ())]
    assert s.states("1") == [(10.0, "prewait"), (11.0, "running"), (13.0, "idle")]
    # cue 2: pre-wait 0.5 -> action 13.5..17.5, auto-follow -> cue 3 at 17.5
    assert s.states("2") == [(13.0, "prewait"), (13.5, "running"), (17.5, "idle")]
    assert s.osc("/c") == [(17.5, ())]
    # the playhead followed the chain past cues 2 and 3
    assert s.engine.playhead() is None


def test_pause_and_resume_shift_every_remaining_time() -> None:
    s = Script(WAITS)
    s.at(0.0, Go())
    s.at(0.5, Pause())  # during cue 1's pre-wait (0.5 s left)
    s.at(10.5, Resume())  # paused for 10 s
    s.run_until(40.0)
    assert s.osc("/a") == [(11.0, ())]
    assert s.states("1")[:3] == [(0.0, "prewait"), (0.5, "paused"), (10.5, "prewait")]
    assert s.osc("/c") == [(17.5, ())]


def test_pause_one_cue_leaves_others_running() -> None:
    s = Script(WAITS)
    s.at(0.0, StartCue(cid("2")))  # pre-wait 0.5, action 0.5..4.5, then auto-follow
    s.at(2.0, Pause(cid("2")))  # 2.5 s of action left
    s.at(3.0, StartCue(cid("3")))  # another cue runs while 2 is paused
    assert s.state("2") is CueState.PAUSED
    s.at(5.0, Resume(cid("2")))
    s.run_until(20.0)
    assert s.osc("/c") == [(3.0, ()), (7.5, ())]
    assert s.states("2") == [
        (0.0, "prewait"),
        (0.5, "running"),
        (2.0, "paused"),
        (5.0, "running"),
        (7.5, "idle"),
    ]


def test_stop_one_and_stop_all() -> None:
    s = Script(WAITS)
    s.at(0.0, Go())
    s.at(0.5, Stop(cid("1")))
    s.run_until(20.0)
    assert s.osc() == []
    assert s.state("1") is CueState.IDLE
    s.at(21.0, StartCue(cid("2")))
    s.at(22.0, Stop())
    s.run_until(40.0)
    assert s.osc() == []
    assert s.engine.running_cues() == []


def test_reset_stops_everything_and_returns_the_playhead() -> None:
    s = Script(WAITS)
    s.at(0.0, Go())
    s.at(0.2, Reset())
    assert s.engine.running_cues() == []
    assert s.engine.playhead() == cid("1")
    s.run_until(20.0)
    assert s.osc() == []


GROUPS = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
mode = "{mode}"
continue = "auto-follow"
  [[cue_lists.cues.children]]
  number = "a"
  type = "wait"
  duration = 2
  continue = "auto-continue"
  [[cue_lists.cues.children]]
  number = "b"
  type = "osc"
  target = "desk"
  address = "/b"
  prewait = 1
  [[cue_lists.cues.children]]
  number = "c"
  type = "osc"
  target = "desk"
  address = "/c"
[[cue_lists.cues]]
number = "after"
type = "osc"
target = "desk"
address = "/after"
"""


def test_timeline_group_starts_all_children_together() -> None:
    s = Script(GROUPS.format(mode="timeline"))
    s.at(0.0, Go())
    s.run_until(10.0)
    assert s.osc("/b") == [(1.0, ())]
    assert s.osc("/c") == [(0.0, ())]
    # the group ends when its longest child (a, 2 s) ends; auto-follow then fires "after"
    assert s.states("G") == [(0.0, "running"), (2.0, "idle")]
    assert s.osc("/after") == [(2.0, ())]


def test_playlist_group_runs_children_one_after_another() -> None:
    s = Script(GROUPS.format(mode="playlist"))
    s.at(0.0, Go())
    s.run_until(10.0)
    # a: 0..2, b: pre-wait 1 -> 3, c: 3
    assert s.osc("/b") == [(3.0, ())]
    assert s.osc("/c") == [(3.0, ())]
    assert s.osc("/after") == [(3.0, ())]


def test_start_first_group_follows_the_childrens_continue_modes() -> None:
    s = Script(GROUPS.format(mode="start-first"))
    s.at(0.0, Go())
    s.run_until(10.0)
    # a auto-continues into b at 0 (post-wait 0); b has pre-wait 1; b does not continue
    assert s.osc("/b") == [(1.0, ())]
    assert s.osc("/c") == []
    assert s.states("G") == [(0.0, "running"), (2.0, "idle")]


def test_stopping_a_group_stops_its_children() -> None:
    s = Script(GROUPS.format(mode="timeline"))
    s.at(0.0, Go())
    s.at(0.5, Stop(cid("G")))
    s.run_until(10.0)
    assert s.osc("/b") == []
    assert all(s.state(n) is CueState.IDLE for n in ("G", "a", "b", "c"))


CONTROL = """
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
[signals.x]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "disarm"
cue = "3"
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "start"
cue = "4"
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/three"
[[cue_lists.cues]]
number = "4"
type = "wait"
duration = 5
[[cue_lists.cues]]
number = "5"
type = "stop"
cue = "4"
[[cue_lists.cues]]
number = "6"
type = "arm"
cue = "3"
[[cue_lists.cues]]
number = "7"
type = "stop"
mapping = "m"
"""


def test_start_stop_arm_disarm_cues() -> None:
    s = Script(CONTROL)
    s.at(0.0, Go())  # 1 disarms 3, auto-continues into 2 which starts 4
    assert s.state("4") is CueState.RUNNING
    s.at(1.0, StartCue(cid("3")))  # disarmed: runs but sends nothing
    assert s.osc("/three") == []
    s.at(2.0, StartCue(cid("5")))
    assert s.state("4") is CueState.IDLE
    s.at(3.0, StartCue(cid("6")))
    s.at(4.0, StartCue(cid("3")))
    assert s.osc("/three") == [(4.0, ())]
    assert s.engine.mappings["m"].enabled
    s.at(5.0, StartCue(cid("7")))
    assert not s.engine.mappings["m"].enabled


NOTICES = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "notice"
text = "Dinner is served"
level = "announcement"
ttl = 10
[[cue_lists.cues]]
number = "2"
type = "notice"
id = "alert"
text = "Fault!"
level = "alert"
[[cue_lists.cues]]
number = "3"
type = "notice"
id = "alert"
[[cue_lists.cues]]
number = "4"
type = "visual"
scene = "energy_flow"
duration = 3
curve = "s-curve"
inputs = { heat = 0.5 }
"""


def test_notices_expire_and_can_be_cleared_and_visual_cues_change_scene() -> None:
    s = Script(NOTICES)
    s.at(0.0, Go())
    s.at(1.0, Go())
    s.at(2.0, Go())
    s.at(3.0, Go())
    s.run_until(20.0)
    notices = [(t, c.id, c.text) for t, c in s.of_type(Notice)]  # type: ignore[attr-defined]
    assert notices == [(0.0, "Main/1", "Dinner is served"), (1.0, "alert", "Fault!")]
    clears = [(t, c.id) for t, c in s.of_type(ClearNotice)]  # type: ignore[attr-defined]
    assert clears == [(2.0, "alert"), (10.0, "Main/1")]
    scenes = [c for _, c in s.of_type(SetScene)]
    assert scenes == [SetScene("projector", "energy_flow", "crossfade", 3.0, "s-curve")]
    assert s.states("4") == [(3.0, "running"), (6.0, "idle")]


LISTS = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/main"
[[cue_lists]]
name = "Sound"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/sound"
[[cue_lists.cues]]
number = "2"
type = "start"
cue = "Main/1"
"""


def test_several_cue_lists_each_with_a_playhead() -> None:
    s = Script(LISTS)
    s.at(0.0, Go("Sound"))
    s.at(1.0, Go("Sound"))
    assert s.osc() == [(0.0, ()), (1.0, ())]
    assert [a for a, _ in [(c.address, 0) for _, c in s.log if hasattr(c, "address")]] == [
        "/sound",
        "/main",
    ]
    assert s.engine.playhead("Main") == cid("1")


LOOP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/tick"
postwait = 2
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "start"
cue = "1"
"""


def test_a_loop_that_takes_time_repeats() -> None:
    s = Script(LOOP)
    s.at(0.0, Go())
    s.run_until(9.0)
    assert [t for t, _ in s.osc("/tick")] == [0.0, 2.0, 4.0, 6.0, 8.0]
    s.at(9.0, Stop())
    s.run_until(20.0)
    assert len(s.osc("/tick")) == 5


@pytest.mark.parametrize("event", [Go(), Pause(), Resume(), Stop(), Reset()])
def test_operator_events_on_an_empty_moment_do_not_raise(event: object) -> None:
    s = Script(THREE_OSC)
    s.at(0.0, event)  # type: ignore[arg-type]
    s.at(0.1, event)  # type: ignore[arg-type]
    assert s.engine.stats.errors == 0


def test_unknown_cue_is_reported_not_raised() -> None:
    s = Script(THREE_OSC)
    s.at(0.0, StartCue(cid("nope")))
    reports = [c for _, c in s.of_type(Report)]
    assert reports and "nope" in reports[0].message  # type: ignore[attr-defined]
    assert s.engine.stats.errors == 1
