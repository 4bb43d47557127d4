"""Cue behaviour from docs/show-file.md with exact times: fades, timing and continue
modes (the reference's own example), disarmed cues, groups, GO and the double-GO
guard, stop, PANIC and reset.
"""

from __future__ import annotations

import pytest

from cues.commands import (
    ClearNotice,
    CueState,
    Notice,
    PlayheadChanged,
    Report,
    ReportLevel,
    SendMidi,
    SetScene,
    SetVisualInput,
)
from cues.events import (
    Go,
    Panic,
    Pause,
    Reset,
    Resume,
    Sample,
    SetMinGoInterval,
    StartCue,
    Stop,
    StopCue,
)
from tests.cues.script import HEADER, Script, cid


def reports(s: Script, level: ReportLevel | None = None) -> list[tuple[float, str, str]]:
    return [
        (t, c.subject, c.message)  # type: ignore[attr-defined]
        for t, c in s.of_type(Report)
        if level is None or c.level is level  # type: ignore[attr-defined]
    ]


def values(s: Script, address: str) -> list[tuple[float, float]]:
    return [(t, a[0]) for t, a in s.osc(address)]  # type: ignore[misc]


# -- fades -------------------------------------------------------------------------------


def fades(*cues: str, extra: str = "") -> Script:
    body = "".join(f"[[cue_lists.cues]]\n{c}\n" for c in cues)
    return Script(f'{extra}\n[[cue_lists]]\nname = "Main"\n{body}')


def fade(number: str, fields: str, address: str = "/f") -> str:
    return (
        f'number = "{number}"\ntype = "fade"\n'
        f'target = {{ osc = "desk", address = "{address}" }}\n{fields}'
    )


def test_fade_steps_at_rate_hz_and_sends_to_exactly_at_the_end() -> None:
    s = fades(fade("1", "from = 0.0\nto = 0.7\nduration = 1.0\nrate_hz = 3"))
    s.at(1.0, Go())
    s.run_until(5.0)
    got = values(s, "/f")
    assert [t for t, _ in got] == pytest.approx([1.0, 1 + 1 / 3, 1 + 2 / 3, 2.0])
    assert [v for _, v in got] == pytest.approx([0.0, 0.7 / 3, 1.4 / 3, 0.7])
    assert got[-1][1] == 0.7


def test_fade_rate_defaults_to_thirty_steps_a_second() -> None:
    s = fades(fade("1", "from = 0.0\nto = 1.0\nduration = 1.0"))
    s.at(0.0, Go())
    s.run_until(2.0)
    assert len(s.osc("/f")) == 31


def test_fade_of_zero_duration_jumps_straight_to_its_end() -> None:
    s = fades(fade("1", "from = 0.2\nto = 0.9"))
    s.at(1.0, Go())
    s.run_until(2.0)
    assert values(s, "/f") == [(1.0, 0.9)]
    assert s.states("1") == [(1.0, "running"), (1.0, "idle")]


def test_fade_without_from_starts_where_the_last_fade_left_the_target() -> None:
    s = fades(
        fade("1", "from = 0.0\nto = 0.8\nduration = 1.0\nrate_hz = 2"),
        fade("2", "to = 0.2\nduration = 1.0\nrate_hz = 2"),
        fade("3", "to = 1.0\nduration = 1.0\nrate_hz = 2", address="/other"),
    )
    s.at(0.0, Go())
    s.at(5.0, Go())
    s.at(10.0, Go())
    s.run_until(20.0)
    # cue 2 starts from 0.8 without sending it first; cue 3's target was never set: 0
    assert values(s, "/f") == [(0.0, 0.0), (0.5, 0.4), (1.0, 0.8), (5.5, 0.5), (6.0, 0.2)]
    assert values(s, "/other") == [(10.5, 0.5), (11.0, 1.0)]


def test_fade_follows_its_curve() -> None:
    s = fades(fade("1", 'from = 0.0\nto = 1.0\nduration = 1.0\nrate_hz = 4\ncurve = "s-curve"'))
    s.at(0.0, Go())
    s.run_until(2.0)
    assert [v for _, v in values(s, "/f")] == pytest.approx([0.0, 0.15625, 0.5, 0.84375, 1.0])


def test_fade_to_a_visual_input_starts_from_a_visual_cue_value() -> None:
    s = fades(
        'number = "1"\ntype = "visual"\ninputs = { heat = 0.5 }',
        'number = "2"\ntype = "fade"\ntarget = { visual = "projector", input = "heat" }\n'
        "to = 1.0\nduration = 1.0\nrate_hz = 2",
    )
    s.at(0.0, Go())
    s.at(1.0, Go())
    s.run_until(3.0)
    got = [(t, c.value) for t, c in s.of_type(SetVisualInput)]  # type: ignore[attr-defined]
    assert got == [(0.0, 0.5), (1.5, 0.75), (2.0, 1.0)]


def test_fade_to_a_midi_controller_sends_rounded_values() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\n'
        'target = { midi = "synth", cc = 7, channel = 2 }\nfrom = 0\nto = 127\n'
        "duration = 1.0\nrate_hz = 3\n",
        header=HEADER + '[outputs.midi.synth]\nport = "Midi Through"\n',
    )
    s.at(0.0, Go())
    s.run_until(2.0)
    got = [c.message for _, c in s.of_type(SendMidi)]  # type: ignore[attr-defined]
    assert [(m.kind, m.channel, m.number, m.value) for m in got] == [
        ("cc", 2, 7, 0),
        ("cc", 2, 7, 42),
        ("cc", 2, 7, 85),
        ("cc", 2, 7, 127),
    ]


MAPPED = """
[signals.x]
stale_after = 100
lost_after = 300
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
level = 0.5
max_rate_hz = 100
"""


def test_fade_of_a_mapping_level_starts_from_its_current_level() -> None:
    s = fades(
        'number = "1"\ntype = "fade"\ntarget = { mapping = "m" }\nto = 1.0\n'
        "duration = 1.0\nrate_hz = 2",
        extra=MAPPED,
    )
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Go())
    s.run_until(3.0)
    assert values(s, "/m") == [(0.0, 2.0), (1.5, 3.0), (2.0, 4.0)]


def test_stop_target_sends_the_last_value_then_disables_the_mapping() -> None:
    s = fades(
        'number = "1"\ntype = "fade"\ntarget = { mapping = "m" }\nto = 0.0\n'
        "duration = 1.0\nrate_hz = 2\nstop_target = true",
        'number = "2"\ntype = "fade"\ntarget = { mapping = "m" }\nto = 0.0\n'
        "duration = 1.0\nrate_hz = 2",
        extra=MAPPED,
    )
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Go())
    s.run_until(3.0)
    assert values(s, "/m") == [(0.0, 2.0), (1.5, 1.0), (2.0, 0.0)]
    assert not s.engine.mappings["m"].enabled
    s.at(4.0, Sample("x", 8.0))
    assert len(s.osc("/m")) == 3


def test_without_stop_target_the_mapping_stays_on_at_level_zero() -> None:
    s = fades(
        'number = "1"\ntype = "fade"\ntarget = { mapping = "m" }\nto = 0.0\nduration = 0.5',
        extra=MAPPED,
    )
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Go())
    s.run_until(3.0)
    assert s.engine.mappings["m"].enabled
    assert s.engine.mappings["m"].level == 0.0


def test_a_paused_fade_sends_nothing_until_resumed() -> None:
    s = fades(fade("1", "from = 0.0\nto = 1.0\nduration = 1.0\nrate_hz = 4"))
    s.at(0.0, Go())
    s.at(0.5, Pause())
    s.run_until(5.0)
    assert len(s.osc("/f")) == 3
    s.at(5.0, Resume())
    s.run_until(10.0)
    assert values(s, "/f")[3:] == [(5.25, 0.75), (5.5, 1.0)]


# -- timing and continue modes -----------------------------------------------------------

DOC_TIMING = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
prewait = 1
duration = 5
postwait = 2
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "wait"
duration = 3
continue = "auto-follow"
[[cue_lists.cues]]
number = "3"
[[cue_lists.cues]]
number = "4"
"""


def test_the_references_timing_example() -> None:
    # "GO at 0 s starts cue 1's action at 1 s, cue 2 at 3 s (1 + 2) and cue 3 at 6 s"
    s = Script(DOC_TIMING)
    s.at(0.0, Go())
    s.run_until(20.0)
    assert s.states("1") == [(0.0, "prewait"), (1.0, "running"), (6.0, "idle")]
    assert s.states("2") == [(3.0, "running"), (6.0, "idle")]
    assert s.states("3") == [(6.0, "running"), (6.0, "idle")]
    assert s.states("4") == []
    # the standby moved past the cues the continues started
    assert s.engine.playhead() == cid("4")


def test_auto_continue_with_no_postwait_starts_both_together() -> None:
    s = Script(DOC_TIMING.replace("postwait = 2", "postwait = 0"))
    s.at(0.0, Go())
    s.run_until(20.0)
    assert s.states("2")[0] == (1.0, "running")


def test_do_not_continue_waits_for_the_next_go() -> None:
    s = Script(DOC_TIMING.replace('continue = "auto-continue"', ""))
    s.at(0.0, Go())
    s.run_until(20.0)
    assert s.states("2") == []
    assert s.engine.playhead() == cid("2")


def test_a_disarmed_cue_keeps_its_timing_and_continues_without_acting() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "osc"\n'
        'target = "desk"\naddress = "/a"\narmed = false\nprewait = 1\npostwait = 1\n'
        'continue = "auto-continue"\n[[cue_lists.cues]]\nnumber = "2"\ntype = "osc"\n'
        'target = "desk"\naddress = "/b"\n'
    )
    s.at(0.0, Go())
    s.run_until(5.0)
    assert s.osc("/a") == []
    assert s.states("1") == [(0.0, "prewait"), (1.0, "running"), (2.0, "idle")]
    assert s.osc("/b") == [(2.0, ())]


def test_a_disarmed_group_starts_no_children_and_ends_at_once() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "G"\ntype = "group"\n'
        'armed = false\ncontinue = "auto-follow"\n  [[cue_lists.cues.children]]\n'
        '  number = "a"\n  type = "wait"\n  duration = 2\n[[cue_lists.cues]]\nnumber = "n"\n'
    )
    s.at(0.0, Go())
    s.run_until(5.0)
    assert s.states("a") == []
    assert s.states("G") == [(0.0, "running"), (0.0, "idle")]
    assert s.states("n") == [(0.0, "running"), (0.0, "idle")]


# -- groups ------------------------------------------------------------------------------

GROUP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
mode = "{mode}"
prewait = 1
  [[cue_lists.cues.children]]
  number = "a"
  type = "wait"
  duration = 2
  continue = "auto-follow"
  [[cue_lists.cues.children]]
  number = "b"
  type = "wait"
  duration = 1
  [[cue_lists.cues.children]]
  number = "c"
  type = "wait"
  duration = 1
"""


@pytest.mark.parametrize(
    ("mode", "starts", "end"),
    [
        # the group's pre-wait delays its children; its action ends with the last child
        ("timeline", {"a": 1.0, "b": 1.0, "c": 1.0}, 3.0),
        ("playlist", {"a": 1.0, "b": 3.0, "c": 4.0}, 5.0),
        # start-first: a's auto-follow starts b when a ends; b does not continue
        ("start-first", {"a": 1.0, "b": 3.0}, 4.0),
    ],
)
def test_group_modes(mode: str, starts: dict[str, float], end: float) -> None:
    s = Script(GROUP.format(mode=mode))
    s.at(0.0, Go())
    s.run_until(20.0)
    started = {n: s.states(n)[0][0] for n in "abc" if s.states(n)}
    assert started == starts
    assert s.states("G") == [(0.0, "prewait"), (1.0, "running"), (end, "idle")]


def test_a_childs_continue_to_works_inside_a_timeline_group() -> None:
    s = Script(
        GROUP.format(mode="timeline").replace(
            'continue = "auto-follow"', 'continue = "auto-follow"\n  continue_to = "c"'
        )
    )
    s.at(0.0, Go())
    s.run_until(20.0)
    assert [t for t, st in s.states("c") if st == "running"] == [1.0, 3.0]


def test_a_group_of_groups_ends_when_the_inner_one_does() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "G"\ntype = "group"\n'
        '  [[cue_lists.cues.children]]\n  number = "H"\n  type = "group"\n  mode = "playlist"\n'
        '    [[cue_lists.cues.children.children]]\n    number = "x"\n    type = "wait"\n'
        "    duration = 1\n"
        '    [[cue_lists.cues.children.children]]\n    number = "y"\n    type = "wait"\n'
        "    duration = 2\n"
    )
    s.at(0.0, Go())
    s.run_until(10.0)
    assert s.states("G") == [(0.0, "running"), (3.0, "idle")]


# -- GO and the double-GO guard ----------------------------------------------------------

THREE = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
duration = 10
[[cue_lists.cues]]
number = "2"
[[cue_lists.cues]]
number = "3"
"""


def test_the_guard_message_and_the_default_interval() -> None:
    s = Script(THREE)
    s.at(1.0, Go())
    s.at(1.125, Go())
    s.at(1.25, Go())  # exactly 0.25 s after the accepted GO: accepted
    assert s.states("2") == [(1.25, "running"), (1.25, "idle")]
    assert reports(s, ReportLevel.WARNING) == [
        (
            1.125,
            "GO",
            "ignored by the double-GO guard (0.125 s after the last GO, minimum 0.25 s)",
        )
    ]
    assert s.engine.stats.go_rejected == 1


def test_a_refused_go_does_not_restart_the_guard() -> None:
    s = Script("[show]\nmin_go_interval = 1.0\n" + THREE)
    s.at(0.0, Go())
    s.at(0.5, Go())  # refused
    s.at(1.0, Go())  # 1 s after the last accepted GO
    assert s.states("2") == [(1.0, "running"), (1.0, "idle")]


def test_min_go_interval_zero_turns_the_guard_off_and_it_can_change_live() -> None:
    s = Script("[show]\nmin_go_interval = 0\n" + THREE)
    s.at(1.0, Go())
    s.at(1.0, Go())
    assert s.engine.playhead() == cid("3")
    s.at(2.0, SetMinGoInterval(5.0))
    s.at(3.0, Go())
    s.at(7.9, Go())  # 4.9 s later: refused
    assert s.engine.playhead() is None
    assert s.engine.stats.go_rejected == 1
    s.at(8.0, SetMinGoInterval(-1.0))  # below 0 means off
    assert s.engine.min_go_interval == 0.0


def test_starting_a_cue_directly_is_not_guarded() -> None:
    s = Script(THREE)
    s.at(1.0, Go())
    s.at(1.01, StartCue(cid("3")))
    assert s.states("3") == [(1.01, "running"), (1.01, "idle")]
    assert s.engine.stats.go_rejected == 0


def test_go_on_a_running_cue_restarts_it_and_go_past_the_end_does_nothing() -> None:
    s = Script(THREE)
    s.at(0.0, Go())
    s.at(1.0, Go())
    s.at(2.0, Go())
    assert s.engine.playhead() is None
    s.at(3.0, Go())
    assert reports(s, ReportLevel.INFO)[-1] == (3.0, "GO", "nothing on standby in list 'Main'")
    s.at(4.0, StartCue(cid("1")))  # restart while it runs: it ends 10 s from now
    s.run_until(30.0)
    assert s.states("1") == [(0.0, "running"), (4.0, "idle"), (4.0, "running"), (14.0, "idle")]


def test_go_for_an_unknown_list_is_refused() -> None:
    s = Script(THREE)
    s.at(0.0, Go("Sound"))
    assert reports(s, ReportLevel.WARNING) == [(0.0, "Sound", "GO for an unknown cue list ignored")]
    assert s.engine.playhead() == cid("1")


# -- stop --------------------------------------------------------------------------------


def test_stop_cancels_pending_waits_and_continues_and_keeps_mappings_running() -> None:
    s = Script(MAPPED + DOC_TIMING)
    s.at(0.0, Sample("x", 2.0))
    s.at(0.0, Go())
    s.at(0.5, Stop())
    s.run_until(20.0)
    assert s.states("1") == [(0.0, "prewait"), (0.5, "idle")]
    assert s.states("2") == []
    s.at(21.0, Sample("x", 6.0))
    assert values(s, "/m")[-1] == (21.0, 3.0)


def test_stop_one_cue_leaves_the_others() -> None:
    s = Script(THREE)
    s.at(0.0, Go())
    s.at(0.0, StartCue(cid("2")))
    s.at(1.0, StopCue(cid("1")))
    assert s.states("1") == [(0.0, "running"), (1.0, "idle")]
    assert s.engine.running_cues() == []


# -- PANIC -------------------------------------------------------------------------------

PANIC = (
    MAPPED.replace("level = 0.5", "level = 1.0")
    + """
[signals.gate]
[show]
panic_time = 1.0
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { osc = "desk", address = "/f" }
from = 0.0
to = 1.0
duration = 10
rate_hz = 1
[[cue_lists.cues]]
number = "2"
type = "wait"
duration = 100
postwait = 5
continue = "auto-continue"
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/three"
prewait = 2
[[cue_lists.cues]]
number = "4"
wait_for = { signal = "gate", above = 0 }
[[cue_lists.cues]]
number = "5"
"""
)


def panicking() -> Script:
    s = Script(PANIC)
    s.at(0.0, Sample("x", 4.0))
    s.at(0.0, StartCue(cid("1")))  # a fade
    s.at(0.0, StartCue(cid("2")))  # running, with a continue pending at 5
    s.at(0.0, StartCue(cid("4")))  # waiting
    s.at(1.0, StartCue(cid("3")))  # in pre-wait until 3
    s.at(2.0, Panic())
    return s


def test_panic_stops_waiting_prewait_and_fading_cues_at_once() -> None:
    s = panicking()
    assert [s.state(n) for n in "1234"] == [
        CueState.IDLE,
        CueState.RUNNING,
        CueState.IDLE,
        CueState.IDLE,
    ]
    s.run_until(10.0)
    assert s.osc("/three") == []
    assert values(s, "/f") == [(0.0, 0.0), (1.0, 0.1), (2.0, 0.2)]  # left where it was
    assert s.states("2") == [(0.0, "running"), (3.0, "idle")]  # stopped when it completes
    assert s.states("3") == [(1.0, "prewait"), (2.0, "idle")]


def test_panic_fades_mapping_levels_to_zero_then_disables_the_mappings() -> None:
    s = panicking()
    s.run_until(5.0)
    got = values(s, "/m")
    assert got[0] == (0.0, 4.0)
    assert got[-1] == (3.0, 0.0)
    # linear over panic_time (1 s) from 2.0: the value 4 times a level of 1 - (t - 2)
    fading = got[1:]
    assert len(fading) >= 30
    for t, v in fading:
        assert v == pytest.approx(4.0 * (1.0 - (t - 2.0)), abs=1e-6)
    ms = s.engine.mappings["m"]
    assert (ms.enabled, ms.level) == (False, 1.0)  # level back to the show file's
    s.at(6.0, Sample("x", 8.0))
    assert len(s.osc("/m")) == len(got)


def test_panic_crossfades_visual_outputs_to_black() -> None:
    s = panicking()
    assert [c for _, c in s.of_type(SetScene)] == [
        SetScene("projector", "", "crossfade", 1.0, "linear")
    ]


def test_panic_refuses_go_and_starts_until_complete_and_keeps_the_standby() -> None:
    s = panicking()
    s.at(2.5, Go())
    s.at(2.6, StartCue(cid("5")))
    assert s.states("5") == []
    assert (2.5, "GO", "ignored: panic in progress") in reports(s, ReportLevel.WARNING)
    assert (2.6, "Main/5", "not started: panic in progress") in reports(s, ReportLevel.WARNING)
    s.run_until(3.0)
    assert reports(s, ReportLevel.WARNING)[-1] == (
        3.0,
        "PANIC",
        "complete: all cues stopped, mappings disabled",
    )
    assert s.engine.playhead() == cid("1")
    s.at(4.0, Go())
    assert s.states("1")[-1] == (4.0, "running")


def test_a_second_panic_completes_the_first_at_once() -> None:
    s = panicking()
    s.at(2.2, Panic())
    assert s.engine.running_cues() == []
    assert not s.engine.mappings["m"].enabled
    assert values(s, "/m")[-1] == (2.2, 0.0)
    assert reports(s, ReportLevel.WARNING)[-2] == (
        2.2,
        "PANIC",
        "second panic: everything stopped at once",
    )


def test_panic_with_zero_time_completes_at_once() -> None:
    s = Script(PANIC.replace("panic_time = 1.0", "panic_time = 0"))
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Panic())
    assert values(s, "/m") == [(0.0, 4.0), (1.0, 0.0)]
    assert not s.engine.mappings["m"].enabled
    s.at(1.0, Go())
    assert s.states("1")[0] == (1.0, "running")


def test_panic_duration_from_the_event_wins_over_panic_time() -> None:
    s = Script(PANIC)
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Panic(3.0))
    s.run_until(10.0)
    assert values(s, "/m")[-1] == (4.0, 0.0)
    assert reports(s, ReportLevel.WARNING)[0] == (1.0, "PANIC", "fading everything out over 3 s")


# -- reset -------------------------------------------------------------------------------

RESET = (
    MAPPED
    + """
[show]
min_go_interval = 5
[[triggers]]
name = "t"
when = { signal = "x", above = 100 }
rearm = "once"
start = "n"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "disarm"
cue = "o"
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "fade"
target = { mapping = "m" }
to = 0.1
[[cue_lists.cues]]
number = "n"
type = "notice"
text = "Hot!"
[[cue_lists.cues]]
number = "o"
type = "osc"
target = "desk"
address = "/o"
armed = true
"""
)


def test_reset_puts_the_show_back_as_loaded() -> None:
    s = Script(RESET)
    s.at(0.0, Go())  # disarms o, auto-continues into 2: level 0.1
    s.at(0.1, Sample("x", 200.0))  # trigger t fires once: notice n
    s.at(0.2, Sample("x", 0.0))
    s.at(0.3, Sample("x", 200.0))
    assert [t for t, _ in s.of_type(Notice)] == [0.1]
    s.engine.mappings["m"].set_enabled(False)
    s.at(1.0, Reset())
    assert [c for _, c in s.of_type(ClearNotice)] == [ClearNotice("Main/n")]
    ms = s.engine.mappings["m"]
    assert (ms.enabled, ms.level) == (True, 0.5)
    assert values(s, "/m")[-1] == (1.0, 100.0)  # sent again at the show file's level
    assert s.engine.playhead() == cid("1")
    assert (1.0, "RESET", "show reset: playheads on the first cue") in reports(s, ReportLevel.INFO)
    heads = [c for _, c in s.of_type(PlayheadChanged)]
    assert heads[-1] == PlayheadChanged("Main", cid("1"))
    # the guard is cleared: GO at once; cue o is armed again; the trigger fires again
    s.at(1.1, StartCue(cid("o")))
    assert s.osc("/o") == [(1.1, ())]
    s.at(1.2, Sample("x", 0.0))
    s.at(1.3, Sample("x", 200.0))
    assert [t for t, _ in s.of_type(Notice)] == [0.1, 1.3]
    s.at(1.4, Go())
    assert [st for t, st in s.states("1") if t == 1.4] == ["running", "idle"]  # GO obeyed
    assert s.engine.stats.go_rejected == 0


def test_reset_sends_the_mapping_value_again() -> None:
    s = Script(MAPPED + '[[cue_lists]]\nname = "Main"\n')
    s.at(0.0, Sample("x", 4.0))
    s.at(1.0, Reset())
    assert values(s, "/m") == [(0.0, 2.0), (1.0, 2.0)]


# -- pause, resume and PANIC corner cases ------------------------------------------------


def test_a_paused_wait_for_keeps_its_timeout_shifted_by_the_pause() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'
        'wait_for = { signal = "x", above = 0 }\ntimeout = 5\nfallback = "9"\n'
        '[[cue_lists.cues]]\nnumber = "9"\n'
    )
    s.at(0.0, Go())
    s.at(2.0, Pause())
    s.at(10.0, Resume())  # 3 s of the wait were left
    s.run_until(20.0)
    assert s.states("1") == [(0.0, "waiting"), (2.0, "paused"), (10.0, "waiting"), (13.0, "idle")]
    assert s.states("9") == [(13.0, "running"), (13.0, "idle")]


def test_a_paused_cue_ignores_the_timers_set_before_its_pause() -> None:
    s = Script(THREE)
    s.at(0.0, Go())  # cue 1 would end at 10
    s.at(2.0, Pause(cid("1")))
    s.at(5.0, Resume(cid("1")))  # 3 s later: it ends at 13, not at 10
    s.run_until(30.0)
    assert s.states("1") == [(0.0, "running"), (2.0, "paused"), (5.0, "running"), (13.0, "idle")]
    # the same without asking for deadlines in between (which drops stale timers)
    e = Script(THREE).engine
    e.handle(Go(), 0.0)
    e.handle(Pause(cid("1")), 2.0)
    e.handle(Resume(cid("1")), 5.0)
    e.advance(10.0)
    assert e.state_of(cid("1")) is CueState.RUNNING
    e.advance(13.0)
    assert e.state_of(cid("1")) is CueState.IDLE


def test_panic_lets_a_running_cue_finish_its_action_but_cancels_its_continue() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "wait"\n'
        'duration = 3\npostwait = 5\ncontinue = "auto-continue"\n[[cue_lists.cues]]\n'
        'number = "2"\n'
    )
    s.at(0.0, Go())
    s.at(1.0, Panic(10.0))
    s.run_until(20.0)
    assert s.states("1") == [(0.0, "running"), (3.0, "idle")]
    assert s.states("2") == []


def test_panic_end_zeroes_a_held_mapping_but_not_a_disabled_one() -> None:
    s = Script(
        """
[signals.x]
stale_after = 1
lost_after = 2
[signals.y]
stale_after = 100
lost_after = 300
[mappings.held]
signal = "x"
to = { osc = "desk", address = "/held" }
[mappings.off]
signal = "y"
to = { osc = "desk", address = "/off" }
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "stop"
mapping = "off"
"""
    )
    s.at(0.0, Sample("x", 1.0))
    s.at(0.0, Sample("y", 0.5))
    s.at(1.0, Go())  # "off" keeps 0.5 on its target
    s.at(5.0, Panic(1.0))  # x is lost: "held" sent nothing while its level faded
    s.run_until(10.0)
    assert values(s, "/held") == [(0.0, 1.0), (6.0, 0.0)]
    assert values(s, "/off") == [(0.0, 0.5)]


def test_a_mapping_stopped_by_a_fade_sends_at_once_when_started_again() -> None:
    s = fades(
        'number = "1"\ntype = "fade"\ntarget = { mapping = "m" }\nto = 0.0\n'
        "duration = 1.0\nrate_hz = 2\nstop_target = true",
        'number = "2"\ntype = "start"\nmapping = "m"',
        extra=MAPPED,
    )
    s.at(0.0, Sample("x", 0.0))  # 0 at any level: the fade changes nothing that is sent
    s.at(1.0, Go())
    s.run_until(3.0)
    assert values(s, "/m") == [(0.0, 0.0)]
    assert not s.engine.mappings["m"].enabled
    s.at(4.0, Go())
    assert values(s, "/m") == [(0.0, 0.0), (4.0, 0.0)]
