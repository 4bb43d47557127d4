"""Reloading an edited show into a running engine, on the virtual clock."""

from __future__ import annotations

from cues.commands import CueState, Report
from cues.events import Go, Sample, StartCue, StopCue
from cues.model import CueId, OscAction
from show.showfile.load import parse_show
from tests.cues.script import HEADER, Script, cid

SHOW = """
[signals.x]
stale_after = 100
lost_after = 100
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
range = { in = [0, 10] }
max_rate_hz = 100
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { osc = "desk", address = "/fade" }
from = 0.0
to = 1.0
duration = 10
rate_hz = 1
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/two"
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/three"
"""


def model(text: str):  # type: ignore[no-untyped-def]
    return parse_show(HEADER + text, "edited.toml").model


def address(s: Script, number: str) -> str:
    """The OSC address cue ``number`` sends to."""
    action = s.engine.cues[cid(number)].action
    assert isinstance(action, OscAction)
    return action.address


def reload(s: Script, text: str, t: float) -> list[str]:
    s.run_until(t)
    result = s.engine.reload(model(text), t)
    s.engine.advance(t)
    s.log.extend((t, c) for c in s.engine.commands())
    return result.refused


def test_a_running_fade_carries_on_and_its_edit_applies_from_its_next_start() -> None:
    s = Script(SHOW)
    s.at(0.0, Go())
    assert reload(s, SHOW.replace("duration = 10", "duration = 2"), 3.0) == []
    s.run_until(12.0)
    fade = s.osc("/fade")
    assert fade[0] == (0.0, (0.0,)) and fade[-1] == (10.0, (1.0,))  # the old 10 s, no gap
    assert [t for t, _ in fade] == [float(t) for t in range(11)]
    s.at(20.0, StartCue(cid("1")))
    s.run_until(30.0)
    assert s.osc("/fade")[-1] == (22.0, (1.0,))  # now 2 s


def test_the_standby_stays_on_its_cue_and_new_cues_can_run() -> None:
    s = Script(SHOW)
    s.at(0.0, Go())  # standby on 2
    edited = SHOW.replace(
        'number = "2"', 'number = "1.5"\ntype = "memo"\n[[cue_lists.cues]]\nnumber = "2"', 1
    )
    assert reload(s, edited, 1.0) == []
    assert s.engine.playhead() == cid("2")
    s.at(2.0, StartCue(cid("1.5")))
    assert s.state("1.5") is CueState.IDLE and s.engine.runs[cid("1.5")].starts == 1


def test_removing_a_running_cue_is_refused_and_the_show_runs_on() -> None:
    s = Script(SHOW)
    s.at(0.0, Go())
    edited = (
        SHOW.split('[[cue_lists.cues]]\nnumber = "1"')[0]
        + '[[cue_lists.cues]]\nnumber = "2"\ntype = "memo"\n'
    )
    refused = reload(s, edited, 3.0)
    assert refused == ["cue Main/1 is running and the new file removes it"]
    reports = [c.message for _, c in s.of_type(Report) if c.subject == "RELOAD"]  # type: ignore[attr-defined]
    assert reports and reports[-1].startswith("reload refused, the show runs on unchanged")
    s.run_until(12.0)
    assert s.osc("/fade")[-1] == (10.0, (1.0,))
    assert CueId("Main/3") in s.engine.cues


def test_removing_an_idle_cue_applies_and_the_standby_moves_to_where_it_was() -> None:
    s = Script(SHOW)
    s.at(0.0, Go())
    s.run_until(11.0)
    edited = SHOW.replace(
        'number = "2"\ntype = "osc"\ntarget = "desk"\naddress = "/two"\n[[cue_lists.cues]]\n', ""
    )
    assert reload(s, edited, 12.0) == []
    assert CueId("Main/2") not in s.engine.runs
    assert s.engine.playhead() == cid("3")
    s.at(13.0, Go())
    assert s.osc("/three") == [(13.0, ())]


def test_an_unchanged_mapping_keeps_its_state_and_a_changed_one_uses_its_new_range() -> None:
    s = Script(SHOW)
    s.at(0.0, Sample("x", 5.0))
    s.run_until(1.0)
    assert s.osc("/m") == [(0.0, (0.5,))]
    assert reload(s, SHOW, 2.0) == []
    before = s.engine.mappings["m"]
    assert reload(s, SHOW + "\n", 2.5) == [] and s.engine.mappings["m"] is before
    assert reload(s, SHOW.replace("in = [0, 10]", "in = [0, 20]"), 3.0) == []
    s.run_until(5.0)
    assert s.osc("/m")[-1] == (3.0, (0.25,))  # the new range, at once, on the last value


def test_a_disarmed_mapping_stays_disarmed_unless_the_file_changes_armed() -> None:
    armed_off = SHOW.replace("max_rate_hz = 100", "max_rate_hz = 100\narmed = false")
    s = Script(armed_off)
    assert reload(s, armed_off.replace("in = [0, 10]", "in = [0, 20]"), 1.0) == []
    s.at(2.0, Sample("x", 5.0))
    assert s.osc("/m") == []
    assert reload(s, SHOW.replace("in = [0, 10]", "in = [0, 20]"), 3.0) == []  # armed = true
    s.at(4.0, Sample("x", 5.0))
    s.run_until(5.0)
    assert s.osc("/m")[-1][1] == (0.25,)


def test_signal_values_survive_a_change_of_signals() -> None:
    s = Script(SHOW)
    s.at(0.0, Sample("x", 5.0))
    edited = SHOW.replace("[signals.x]", '[signals.y]\n[signals.x]\nunit = "kW"')
    assert reload(s, edited, 1.0) == []
    assert s.engine.signals.signals["x"].value == 5.0
    s.at(2.0, Sample("y", 1.0))
    assert s.engine.signals.signals["y"].value == 1.0


def test_a_reload_that_removes_what_a_running_cue_targets_is_refused() -> None:
    show = (
        SHOW
        + '[[cue_lists.cues]]\nnumber = "4"\ntype = "fade"\n'
        + 'target = { mapping = "m" }\nto = 0.0\nduration = 5\n'
    )
    s = Script(show)
    s.at(0.0, StartCue(cid("4")))
    edited = show.replace(
        '[mappings.m]\nsignal = "x"\nto = { osc = "desk", address = "/m" }\n'
        + "range = { in = [0, 10] }\nmax_rate_hz = 100\n",
        "",
    )
    edited = edited.replace(
        'target = { mapping = "m" }', 'target = { osc = "desk", address = "/x" }'
    )
    refused = reload(s, edited, 1.0)
    assert refused == ["running cue Main/4 uses mapping 'm', which the new file removes"]


def test_a_live_edit_survives_a_reload_that_leaves_its_cue_alone() -> None:
    s = Script(SHOW)
    s.engine.edit_cue(cid("2"), prewait=1.0)  # as QLab's /cue/2/preWait would
    edited = SHOW.replace('address = "/three"', 'address = "/three-b"')
    assert reload(s, edited, 1.0) == []
    assert s.engine.cues[cid("2")].prewait == 1.0  # the file did not touch cue 2
    assert address(s, "3") == "/three-b"
    edited2 = edited.replace('address = "/two"', 'address = "/two-b"')
    assert reload(s, edited2, 2.0) == []
    assert s.engine.cues[cid("2")].prewait == 0.0  # the file changed cue 2: the file wins


def test_a_plan_made_for_another_model_is_not_trusted() -> None:
    from cues.reload import plan_reload

    s = Script(SHOW)
    stale = plan_reload(model(SHOW), model(SHOW))  # compares the wrong models
    edited = model(SHOW.replace('address = "/three"', 'address = "/three-b"'))
    result = s.engine.reload(edited, 1.0, stale)
    assert result.ok and address(s, "3") == "/three-b"


FOUR = (
    SHOW
    + """
[[cue_lists.cues]]
number = "4"
type = "osc"
target = "desk"
address = "/four"
"""
)


def _without(text: str, number: str) -> str:
    block = f'[[cue_lists.cues]]\nnumber = "{number}"\n'
    start = text.index(block)
    end = text.find("[[cue_lists.cues]]", start + len(block))
    return text[:start] + (text[end:] if end >= 0 else "")


def test_a_removed_standby_stands_by_on_the_next_cue_that_is_left() -> None:
    s = Script(FOUR)
    s.at(0.0, Go())  # cue 1 runs, 2 on standby
    s.at(1.0, Go())  # cue 2 fires, 3 on standby
    assert s.engine.playhead() == cid("3")
    assert reload(s, _without(_without(FOUR, "2"), "3"), 2.0) == []
    assert s.engine.playhead() == cid("4")  # not the end of the list, nor cue 1 again


WAITING = """
[signals.x]
stale_after = 1000
lost_after = 1000
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { osc = "desk", address = "/fade" }
from = 0.0
to = 1.0
duration = 200
rate_hz = 1
"""
WAIT_CUE = """[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/two"
wait_for = { signal = "x", above = 5 }
timeout = 60
fallback = "3"
"""
FALLBACK = """[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/fb"
"""


def test_a_cue_removed_and_added_back_does_not_meet_its_old_timers() -> None:
    full = WAITING + WAIT_CUE + FALLBACK
    s = Script(full)
    s.at(0.0, StartCue(cid("1")))  # its fade steps keep the timer heap busy
    s.at(0.0, StartCue(cid("2")))  # waits; would time out at 60
    s.at(5.0, StopCue(cid("2")))
    assert reload(s, WAITING + FALLBACK, 6.0) == []
    assert reload(s, full, 8.0) == []
    s.at(30.0, StartCue(cid("2")))  # times out at 90, not at the old 60
    s.run_until(100.0)
    assert [t for t, _ in s.osc("/fb")] == [90.0]


def _groups(b_in: str) -> str:
    child_b = '  [[cue_lists.cues.children]]\n  number = "b"\n  type = "wait"\n  duration = 1\n'
    text = (
        '[[cue_lists]]\nname = "Main"\n'
        '[[cue_lists.cues]]\nnumber = "G"\ntype = "group"\nmode = "playlist"\n'
        '  [[cue_lists.cues.children]]\n  number = "a"\n  type = "wait"\n  duration = 5\n'
    )
    text += child_b if b_in == "G" else ""
    text += (
        '[[cue_lists.cues]]\nnumber = "H"\ntype = "group"\nmode = "playlist"\n'
        '  [[cue_lists.cues.children]]\n  number = "z"\n  type = "wait"\n  duration = 1\n'
    )
    return text + (child_b if b_in == "H" else "")


def test_a_running_group_keeps_the_children_it_has_not_reached_yet() -> None:
    s = Script(_groups("G"))
    s.at(0.0, Go())  # G runs a (5 s), then b
    assert reload(s, _groups("H"), 1.0) == [
        "group Main/G is running and the new file moves its cue Main/b to another group"
    ]
    s.run_until(30.0)
    assert s.states("G") == [(0.0, "running"), (6.0, "idle")]


def test_the_running_cues_follow_a_reload_that_adds_and_removes_cues() -> None:
    s = Script(SHOW)
    s.at(0.0, Go())  # 1 fades for 10 s
    edited = SHOW.replace(
        'number = "2"\ntype = "osc"\ntarget = "desk"\naddress = "/two"',
        'number = "4"\ntype = "wait"\nduration = 5',
    )
    assert reload(s, edited, 1.0) == []
    assert cid("2") not in s.engine.runs
    s.at(2.0, StartCue(cid("4")))
    scan = [c for c, run in s.engine.runs.items() if run.active]
    assert s.engine.running_cues() == scan == [cid("1"), cid("4")]
    again = edited + '[[cue_lists.cues]]\nnumber = "5"\ntype = "wait"\nduration = 5\n'
    assert reload(s, again, 3.0) == []
    s.at(3.5, StartCue(cid("5")))
    assert s.engine.running_cues() == [cid("1"), cid("4"), cid("5")]
    s.run_until(7.5)
    assert s.engine.running_cues() == [cid("1"), cid("5")]
