"""The engine's smaller parts, pinned by exact values: curves and their names, the
console's phase progress, frames of samples, live cue edits, condition descriptions,
derived signals, MIDI values, recorded events and bound scene inputs.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cues import events as ev
from cues.bindings import BoundInputs
from cues.commands import CueState, Health, Report, ReportLevel, SetVisualInput, TriggerFired
from cues.curves import CURVE_ALIASES, apply_curve, curve_named
from cues.eventcodec import decode_event, encode_event
from cues.model import (
    Above,
    Below,
    ChannelMessage,
    Condition,
    ContinueMode,
    CueId,
    CueRef,
    Curve,
    Equals,
    HealthIs,
    NotEquals,
    OnSignal,
    OnSource,
    RateAbove,
    RateBelow,
    SignalDef,
    StartAction,
)
from cues.signals import SignalStore
from tests.cues.script import Script, cid

# -- curves ------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", list(Curve))
def test_every_curve_keeps_its_ends_and_clamps_outside(curve: Curve) -> None:
    assert apply_curve(curve, 0.0) == 0.0
    assert apply_curve(curve, 1.0) == 1.0
    assert apply_curve(curve, -0.5) == 0.0
    assert apply_curve(curve, 1.5) == 1.0


@pytest.mark.parametrize(
    ("curve", "x", "y"),
    [
        (Curve.LINEAR, 0.3, 0.3),
        (Curve.S_CURVE, 0.25, 0.15625),  # smoothstep: 3x^2 - 2x^3
        (Curve.S_CURVE, 0.5, 0.5),
        (Curve.EXPONENTIAL, 0.5, (math.e**2 - 1) / (math.e**4 - 1)),
        (Curve.EXPONENTIAL, 0.25, (math.e - 1) / (math.e**4 - 1)),
        (Curve.LOGARITHMIC, 0.5, math.log(1 + 0.5 * (math.e**4 - 1)) / 4),
    ],
)
def test_curve_values(curve: Curve, x: float, y: float) -> None:
    assert apply_curve(curve, x) == pytest.approx(y, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(Curve)), st.floats(0, 1), st.floats(0, 1))
def test_curves_are_monotone_and_stay_within_0_1(curve: Curve, a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert 0.0 <= apply_curve(curve, lo) <= apply_curve(curve, hi) <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1))
def test_logarithmic_is_the_inverse_of_exponential(x: float) -> None:
    y = apply_curve(Curve.EXPONENTIAL, x)
    assert apply_curve(Curve.LOGARITHMIC, y) == pytest.approx(x, abs=1e-9)


def test_curve_names_and_the_smoothstep_alias() -> None:
    assert [curve_named(c.value) for c in Curve] == list(Curve)
    assert curve_named("smoothstep") is Curve.S_CURVE
    assert CURVE_ALIASES == {"smoothstep": Curve.S_CURVE}
    with pytest.raises(ValueError) as err:
        curve_named("wobbly")
    assert str(err.value) == (
        "unknown curve 'wobbly'; use one of linear, s-curve, exponential, logarithmic, smoothstep"
    )


# -- phases shown on the console ---------------------------------------------------------

PHASED = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
prewait = 2.0
duration = 4.0
postwait = 1.0
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "group"
  [[cue_lists.cues.children]]
  number = "2.1"
  type = "wait"
  duration = 3.0
"""


def phases(s: Script, cue: str, now: float) -> list[tuple[float, float | None]]:
    return [(p.elapsed, p.total) for p in s.engine.runs[cid(cue)].phases(now)]


def test_phases_follow_prewait_action_and_postwait() -> None:
    s = Script(PHASED)
    assert phases(s, "1", 0.0) == [(0.0, 2.0), (0.0, 4.0), (0.0, 1.0)]  # idle
    s.at(10.0, ev.Go())
    assert phases(s, "1", 11.5) == [(1.5, 2.0), (0.0, 4.0), (0.0, 1.0)]
    s.run_until(12.5)
    assert phases(s, "1", 12.5) == [(2.0, 2.0), (0.5, 4.0), (0.5, 1.0)]
    assert phases(s, "1", 15.0) == [(2.0, 2.0), (3.0, 4.0), (1.0, 1.0)]
    assert phases(s, "1", 30.0) == [(2.0, 2.0), (4.0, 4.0), (1.0, 1.0)]  # capped


def test_paused_phases_stand_still_and_a_group_has_no_action_total() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.SetPlayhead(cid("2")))
    s.at(0.0, ev.Go())
    s.at(1.0, ev.Pause())
    assert phases(s, "2", 5.0) == [(0.0, 0.0), (1.0, None), (0.0, 0.0)]
    assert phases(s, "2.1", 5.0) == [(0.0, 0.0), (1.0, 3.0), (0.0, 0.0)]


def test_phases_of_a_waiting_cue_are_all_zero() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'
        'prewait = 1.0\nwait_for = { signal = "x", above = 0 }\n'
    )
    s.at(0.0, ev.Go())
    assert phases(s, "1", 5.0) == [(0.0, 1.0), (0.0, 0.0), (0.0, 0.0)]


def test_resume_shifts_every_pending_time_by_the_pause() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.Go())
    s.at(2.5, ev.Pause())
    run = s.engine.runs[cid("1")]
    before = (run.started_at, run.action_at, run.action_end, run.continue_at)
    s.at(7.5, ev.Resume())
    after = (run.started_at, run.action_at, run.action_end, run.continue_at)
    assert before == (0.0, 2.0, 6.0, 3.0)
    assert after == (5.0, 7.0, 11.0, 8.0)
    s.run_until(20.0)
    assert s.states("2")[0] == (8.0, "running")
    assert s.states("1")[-1] == (11.0, "idle")


# -- frames of samples -------------------------------------------------------------------

FRAMES = """
[signals.a]
[signals.b]
[[triggers]]
name = "t"
when = { signal = "b", above = 1 }
start = "1"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
duration = 1.0
"""


def test_a_frame_of_samples_is_the_same_as_one_sample_event_each() -> None:
    one, frame = Script(FRAMES), Script(FRAMES)
    for t, pairs in [(0.0, [("a", 1.0), ("b", 0.0)]), (0.5, [("b", 2.0), ("a", 3.0)])]:
        for name, v in pairs:
            one.engine.handle(ev.Sample(name, v, "src"), t)
        frame.engine.handle_samples(pairs, t, "src")
    one.run_until(3.0)
    frame.run_until(3.0)
    assert frame.log == one.log
    assert frame.log  # something happened
    assert frame.engine.stats.events == one.engine.stats.events == 4
    assert frame.engine.signals.signals["a"].source == "src"


def test_a_frame_runs_due_timers_first_and_starts_what_it_triggers() -> None:
    s = Script(FRAMES)
    s.at(0.0, ev.Go())  # cue 1 runs 0..1; nothing advances the engine until 2.0
    s.engine.handle_samples([("b", 5.0)], 2.0)
    s.log.extend((2.0, c) for c in s.engine.commands())
    assert s.states("1") == [(0.0, "running"), (2.0, "idle"), (2.0, "running")]
    assert [c for _, c in s.of_type(TriggerFired)] == [TriggerFired("t", 5.0)]


def test_a_bad_sample_in_a_frame_is_reported_and_the_rest_go_on() -> None:
    s = Script(FRAMES)
    s.engine.handle_samples([("a", 1.0), ("b", object()), ("b", 3.0)], 0.0)  # type: ignore[list-item]
    reports = [
        c for c in s.engine.commands() if isinstance(c, Report) and c.level is ReportLevel.ERROR
    ]
    assert len(reports) == 1
    assert reports[0].message.startswith("while handling a sample of 'b': ")
    assert reports[0].message.endswith("; show continues")
    assert s.engine.stats.errors == 1
    assert s.engine.signals.signals["b"].value == 3.0


# -- live cue edits ----------------------------------------------------------------------


def test_edit_cue_changes_timing_from_the_next_start() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.EditCue(cid("1"), name="Slow", prewait=0.5, duration=1.0, postwait=None))
    cue = s.engine.cues[cid("1")]
    assert (cue.name, cue.prewait, cue.duration, cue.postwait) == ("Slow", 0.5, 1.0, 1.0)
    assert s.engine.runs[cid("1")].cue is cue  # idle: takes the new definition at once
    s.at(1.0, ev.Go())
    s.run_until(2.0)
    assert s.states("1") == [(1.0, "prewait"), (1.5, "running")]
    s.run_until(3.0)
    assert s.states("1")[-1] == (2.5, "idle")  # action 1.0, post-wait still 1.0


def test_edit_cue_continue_mode_and_what_cannot_change() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.EditCue(cid("1"), continue_mode=ContinueMode.DO_NOT_CONTINUE))
    s.at(0.0, ev.Go())
    s.run_until(10.0)
    assert s.states("2") == []
    with pytest.raises(TypeError):
        s.engine.edit_cue(cid("1"), number="9")
    with pytest.raises(KeyError):
        s.engine.edit_cue(cid("nope"), name="x")


def test_arm_cue_event_disarms_until_reset() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "osc"\n'
        'target = "desk"\naddress = "/a"\n'
    )
    s.at(0.0, ev.ArmCue(cid("1"), armed=False))
    s.at(1.0, ev.Go())
    assert s.osc() == []
    assert s.states("1") == [(1.0, "running"), (1.0, "idle")]
    s.at(2.0, ev.Reset())
    s.at(3.0, ev.Go())
    assert s.osc() == [(3.0, ())]


# -- descriptions in the log ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "text"),
    [
        (Condition(OnSignal("t"), Above(180.5)), "t > 180.5"),
        (Condition(OnSignal("t"), Below(-4.0, hysteresis=1.0)), "t < -4"),
        (Condition(OnSignal("s"), Equals("fault")), "s == 'fault'"),
        (Condition(OnSignal("s"), NotEquals(True)), "s != True"),
        (Condition(OnSignal("s"), HealthIs(Health.LOST)), "s is lost"),
        (Condition(OnSource("kitchen"), HealthIs(Health.LIVE)), "source kitchen is live"),
        (Condition(OnSignal("t"), RateAbove(0.5)), "t rising faster than 0.5/s"),
        (Condition(OnSignal("t"), RateBelow(-0.4, window=2.0)), "t changing slower than -0.4/s"),
    ],
)
def test_condition_descriptions(cond: Condition, text: str) -> None:
    assert cond.describe() == text


# -- derived signals ---------------------------------------------------------------------

DERIVED = """
[signals."h*.t"]
[derived.total]
op = "{op}"
inputs = ["h1.t", "h*.t"]
[[cue_lists]]
name = "Main"
"""


@pytest.mark.parametrize(
    ("op", "expected"),
    [("sum", 6.0), ("mean", 2.0), ("min", -1.0), ("max", 5.0), ("difference", -8.0)],
)
def test_derived_operations(op: str, expected: float) -> None:
    s = Script(DERIVED.format(op=op))
    s.engine.handle_samples([("h1.t", -1.0), ("h2.t", 5.0), ("h3.t", 2.0)], 0.0)
    s.run_until(0.0)
    sig = s.engine.signals.signals["total"]
    assert sig.value == expected
    assert sig.health is Health.LIVE


def test_derived_without_values_has_none_and_unchanged_results_are_not_recorded() -> None:
    s = Script(DERIVED.format(op="max"))
    s.run_until(0.0)
    assert s.engine.signals.signals["total"].value is None
    s.engine.handle_samples([("h1.t", 1.0), ("h2.t", 5.0)], 0.0)
    s.run_until(0.0)
    s.engine.handle_samples([("h1.t", 2.0)], 1.0)  # the max is still 5
    s.run_until(1.0)
    sig = s.engine.signals.signals["total"]
    assert (sig.value, sig.samples, sig.time) == (5.0, 1, 0.0)


def test_signal_store_source_and_refusals() -> None:
    store = SignalStore([SignalDef("a"), SignalDef("long")])
    assert store.source_up("kitchen") is None
    store.set_source("kitchen", False)
    assert store.source_up("kitchen") is False
    assert store.update("a", "x" * 64, 0.0) is not None
    assert store.update("a", "x" * 65, 0.0) is None
    assert store.update("b", 1.0, 0.0) is None
    assert store.rejected == {"string too long": 1, "undeclared signal": 1}
    assert store.rejected_names == {"a": 1, "b": 1}


# -- MIDI values -------------------------------------------------------------------------


def test_with_value_keeps_every_other_field() -> None:
    spec = ChannelMessage("cc14", 3, 4, 5)
    assert spec.with_value(77) == ChannelMessage("cc14", 3, 4, 77)


# -- recorded events ---------------------------------------------------------------------

EVENTS: list[ev.Event] = [
    ev.Go(),
    ev.Go("Events"),
    ev.Stop(),
    ev.Stop(CueId("Main/1")),
    ev.Pause(CueId("Main/2")),
    ev.Resume(),
    ev.Panic(),
    ev.Panic(2.5),
    ev.Reset(),
    ev.StartCue(CueId("Main/3")),
    ev.StopCue(CueId("Main/3")),
    ev.SetPlayhead(CueId("Main/4")),
    ev.PlayheadNext("Main"),
    ev.PlayheadPrevious(),
    ev.SetMinGoInterval(0.5),
    ev.EditCue(CueId("Main/1"), name="n", prewait=1.0, continue_mode=ContinueMode.AUTO_FOLLOW),
    ev.ArmCue(CueId("Main/1"), armed=False),
    ev.Sample("x", 1.5, "src"),
    ev.Sample("x", None),
    ev.SourceHealth("kitchen", up=True),
    ev.ExternalTrigger(trigger="t"),
    ev.ExternalTrigger(cue=CueId("Main/1")),
]


@pytest.mark.parametrize("event", EVENTS, ids=[type(e).__name__ for e in EVENTS])
def test_every_event_survives_encoding(event: ev.Event) -> None:
    data = encode_event(event)
    assert data["type"] == type(event).__name__
    assert decode_event(data) == event


def test_encoded_events_are_plain_json_values() -> None:
    assert encode_event(ev.EditCue(CueId("Main/1"), continue_mode=ContinueMode.AUTO_FOLLOW)) == {
        "type": "EditCue",
        "cue": "Main/1",
        "name": None,
        "prewait": None,
        "duration": None,
        "postwait": None,
        "continue_mode": "auto-follow",
    }


def test_decoding_converts_field_types() -> None:
    assert decode_event({"type": "SetMinGoInterval", "seconds": 1}) == ev.SetMinGoInterval(1.0)
    assert isinstance(decode_event({"type": "Panic", "duration": 2}).duration, float)  # type: ignore[union-attr]
    assert decode_event({"type": "Go", "cue_list": 5}) == ev.Go("5")
    assert decode_event({"type": "StartCue", "cue": 7}) == ev.StartCue(CueId("7"))
    assert decode_event({"type": "ArmCue", "cue": "Main/1", "armed": 0}) == ev.ArmCue(
        CueId("Main/1"), armed=False
    )
    assert decode_event({"type": "SourceHealth", "source": "k", "up": 1}) == ev.SourceHealth(
        "k", True
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Jump"}, "unknown engine event 'Jump'"),
        ({}, "unknown engine event None"),
        ({"type": "Panic", "duration": "soon"}, "duration must be a number, not 'soon'"),
        ({"type": "SetMinGoInterval", "seconds": True}, "seconds must be a number, not True"),
        ({"type": "StartCue"}, "StartCue: "),
    ],
)
def test_decoding_refuses_what_it_cannot_read(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as err:
        decode_event(data)
    assert str(err.value).startswith(message)


# -- bound scene inputs ------------------------------------------------------------------


def test_bound_inputs_send_each_new_numeric_value_once_per_binding() -> None:
    store = SignalStore([SignalDef("a"), SignalDef("b")])
    bound = BoundInputs([("p", "heat", "a"), ("q", "heat", "a"), ("p", "flow", "b")])
    assert bool(bound) is True
    assert bool(BoundInputs([])) is False
    assert bound.poll(store.signals) == []  # nothing received yet
    store.update("a", 0.5, 1.0)
    store.update("b", "on", 1.0)
    assert bound.poll(store.signals) == [
        SetVisualInput("p", "heat", 0.5),
        SetVisualInput("q", "heat", 0.5),
    ]
    assert bound.poll(store.signals) == []  # unchanged since the last poll
    store.update("a", 0.5, 2.0)  # the same value again is a new sample
    store.update("b", True, 2.0)
    assert bound.poll(store.signals) == [
        SetVisualInput("p", "heat", 0.5),
        SetVisualInput("q", "heat", 0.5),
        SetVisualInput("p", "flow", 1.0),
    ]
    assert bound.poll({}) == []


# -- failures are reported, never raised -------------------------------------------------


def _boom(*_: object) -> None:
    raise RuntimeError("boom")


def test_a_frame_reports_failing_timers_and_starts_and_still_records_its_samples(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Script(FRAMES)
    s.engine.handle(ev.Go(), 0.0)  # cue 1 ends at 1.0: a timer is due at 2.0
    s.engine.commands()
    monkeypatch.setattr(s.engine, "_run_timers", _boom)
    monkeypatch.setattr(s.engine, "_drain_starts", _boom)
    s.engine.handle_samples([("b", 5.0)], 2.0)  # the trigger queues a start
    errors = [
        c for c in s.engine.commands() if isinstance(c, Report) and c.level is ReportLevel.ERROR
    ]
    assert errors == [
        Report(
            ReportLevel.ERROR, "engine", "while running timers: RuntimeError: boom; show continues"
        ),
        Report(
            ReportLevel.ERROR, "engine", "while starting cues: RuntimeError: boom; show continues"
        ),
    ]
    assert s.engine.stats.errors == 2
    assert s.engine.signals.signals["b"].value == 5.0


def test_a_frame_without_a_source_leaves_the_signals_source_unset() -> None:
    s = Script(FRAMES)
    s.engine.handle_samples([("a", 1.0)], 0.0)
    assert s.engine.signals.signals["a"].source == ""


def test_a_frame_at_the_moment_a_timer_is_due_runs_the_timer_first() -> None:
    s = Script(FRAMES.replace("duration = 1.0", "duration = 2.0"))
    s.at(0.0, ev.Go())  # cue 1 ends at exactly 2.0
    s.engine.handle_samples([("b", 5.0)], 2.0)  # and the trigger restarts it then
    s.log.extend((2.0, c) for c in s.engine.commands())
    assert s.states("1") == [(0.0, "running"), (2.0, "idle"), (2.0, "running")]


def test_a_trigger_firing_is_logged_with_its_condition() -> None:
    s = Script(FRAMES)
    s.at(0.0, ev.Sample("b", 5.0))
    assert (0.0, Report(ReportLevel.INFO, "t", "trigger fired (b > 1)")) in s.log


def test_a_trigger_start_leaves_the_standby_where_it_is() -> None:
    s = Script(FRAMES)
    s.at(0.0, ev.Sample("b", 5.0))  # starts cue 1, the standby
    assert s.states("1")[0] == (0.0, "running")
    assert s.engine.playhead() == cid("1")


@pytest.mark.parametrize("field", ["id", "number", "parent", "children", "kind"])
def test_edit_cue_refuses_fields_that_cannot_change(field: str) -> None:
    s = Script(PHASED)
    with pytest.raises(TypeError) as err:
        s.engine.edit_cue(cid("1"), **{field: None})
    assert str(err.value) == "a cue's id, number, kind and group membership cannot change"


def test_derived_results_without_a_first_input_or_any_input_are_no_value() -> None:
    diff = Script(DERIVED.format(op="difference"))
    diff.engine.handle_samples([("h1.t", 1.0), ("h2.t", 5.0)], 0.0)
    diff.run_until(0.0)
    diff.engine.handle_samples([("h1.t", None)], 1.0)  # the first input goes lost
    diff.run_until(1.0)
    assert diff.engine.signals.signals["total"].value is None
    top = Script(DERIVED.format(op="max"))
    top.engine.handle_samples([("h1.t", 1.0)], 0.0)
    top.run_until(0.0)
    top.engine.handle_samples([("h1.t", None)], 1.0)
    top.run_until(1.0)
    assert top.engine.signals.signals["total"].value is None
    assert top.engine.signals.signals["total"].health is Health.LOST


def test_prewait_progress_below_one_second() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.Go())
    assert phases(s, "1", 0.25)[0] == (0.25, 2.0)


def test_decoded_flags_are_booleans() -> None:
    up = decode_event({"type": "SourceHealth", "source": "k", "up": 1})
    armed = decode_event({"type": "ArmCue", "cue": "Main/1", "armed": 0})
    assert up.up is True  # type: ignore[union-attr]
    assert armed.armed is False  # type: ignore[union-attr]


GROUP_STOP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "G"
type = "group"
continue = "auto-follow"
  [[cue_lists.cues.children]]
  number = "a"
  type = "wait"
  duration = 10
[[cue_lists.cues]]
number = "after"
[[cue_lists.cues]]
number = "S"
type = "stop"
cue = "a"
"""


def test_a_stop_cue_on_the_last_running_child_ends_its_group_then() -> None:
    s = Script(GROUP_STOP)
    s.at(0.0, ev.Go())
    s.at(1.0, ev.StartCue(cid("S")))
    s.run_until(20.0)
    assert s.states("G") == [(0.0, "running"), (1.0, "idle")]
    assert s.states("after") == [(1.0, "running"), (1.0, "idle")]
    assert s.engine.stats.errors == 0


MAPPING_ONOFF = """
[signals.x]
stale_after = 100
lost_after = 300
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
slew = 1.0
max_rate_hz = 10
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "on"
type = "start"
mapping = "m"
[[cue_lists.cues]]
number = "off"
type = "stop"
mapping = "m"
"""


def test_a_mapping_switched_back_on_glides_from_where_it_stopped() -> None:
    s = Script(MAPPING_ONOFF)
    s.at(0.0, ev.Sample("x", 0.0))
    s.at(0.1, ev.Sample("x", 10.0))  # gliding up at 1 per second
    s.at(0.45, ev.StartCue(cid("off")))
    s.at(5.0, ev.StartCue(cid("on")))
    got = [(t, a[0]) for t, a in s.osc("/m")]
    assert got[-2] == pytest.approx((0.4, 0.4))
    assert got[-1] == pytest.approx((5.0, 0.5))  # one step on, not a jump to 10


def test_derived_values_survive_a_reload_that_changes_the_signals() -> None:
    from show.showfile.load import parse_show
    from tests.cues.script import HEADER

    s = Script(DERIVED.format(op="sum"))
    s.engine.handle_samples([("h1.t", 1.0), ("h2.t", 5.0)], 0.0)
    s.run_until(0.0)
    edited = DERIVED.format(op="sum").replace('[signals."h*.t"]', '[signals."h*.t"]\nunit = "C"')
    result = s.engine.reload(parse_show(HEADER + edited, "edited.toml").model, 1.0)
    assert result.changed == ["signals"]
    s.run_until(1.0)
    assert s.engine.signals.signals["total"].value == 6.0
    s.engine.handle_samples([("h1.t", 2.0)], 2.0)
    s.run_until(2.0)
    assert s.engine.signals.signals["total"].value == 7.0


# -- reset forgets filters; source reports; refused names -----------------------------

SMOOTHED = """
[signals.x]
stale_after = 100
lost_after = 300
[mappings.m]
signal = "x"
to = {{ osc = "desk", address = "/m" }}
smooth = {smooth}
max_rate_hz = 10
[[cue_lists]]
name = "Main"
"""


@pytest.mark.parametrize(
    "smooth", ["{ ema = 1.0 }", "{ one_euro = { min_cutoff = 0.5, beta = 0.5 } }"]
)
def test_after_a_reset_a_mapping_filters_as_if_the_show_had_just_loaded(smooth: str) -> None:
    later = [(5.0, 3.0), (5.1, 8.0), (5.2, 8.0), (5.3, 1.0)]
    fresh = Script(SMOOTHED.format(smooth=smooth))
    fresh.at(0.35, ev.Sample("x", 50.0))
    for t, x in later:
        fresh.at(t, ev.Sample("x", x))
    used = Script(SMOOTHED.format(smooth=smooth))
    used.at(0.0, ev.Sample("x", 0.0))
    used.at(0.1, ev.Sample("x", 50.0))  # gliding, with a speed, when the reset comes
    used.at(0.35, ev.Reset())
    n = len(used.osc("/m"))
    for t, x in later:
        used.at(t, ev.Sample("x", x))
    assert used.osc("/m")[n - 1] == (0.35, (50.0,))  # the current value, unfiltered
    assert used.osc("/m")[n - 1 :] == fresh.osc("/m")
    assert used.engine.stats.errors == 0


def test_source_connects_and_losses_are_reported() -> None:
    s = Script(FRAMES)
    s.at(1.0, ev.SourceHealth("kitchen", up=True))
    s.at(2.0, ev.SourceHealth("kitchen", up=False))
    assert [c for _, c in s.of_type(Report)] == [
        Report(ReportLevel.INFO, "kitchen", "source connected"),
        Report(ReportLevel.WARNING, "kitchen", "source lost: its signals are marked lost"),
    ]


def test_refused_names_are_counted_for_at_most_a_thousand_names() -> None:
    store = SignalStore([SignalDef("a")])
    for i in range(1000):
        store.update(f"n{i}", 1.0, 0.0)
    store.update("n0", 1.0, 0.0)  # known: still counted
    store.update("one-too-many", 1.0, 0.0)  # not remembered by name
    assert len(store.rejected_names) == 1000
    assert store.rejected_names["n0"] == 2
    assert "one-too-many" not in store.rejected_names
    assert store.rejected == {"undeclared signal": 1002}


def test_pattern_signals_are_created_up_to_the_limit() -> None:
    store = SignalStore([SignalDef("h*")], max_dynamic=2)
    assert store.update("h1", 1.0, 0.0) is not None
    assert store.update("h2", 1.0, 0.0) is not None
    assert store.update("h3", 1.0, 0.0) is None
    assert store.update("h1", 2.0, 1.0) is not None  # known ones still update
    assert sorted(store.signals) == ["h1", "h2"]
    assert store.rejected == {"undeclared signal": 1}


# -- more that mutants showed unpinned ---------------------------------------------------


def test_a_midi_cue_sends_its_message_to_its_port() -> None:
    from cues.commands import SendMidi
    from tests.cues.script import HEADER

    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "midi"\n'
        'port = "synth"\nmessage = { type = "note_on", channel = 2, note = 48, velocity = 90 }\n',
        header=HEADER + '[outputs.midi.synth]\nport = "Midi Through"\n',
    )
    s.at(0.0, ev.Go())
    ((_, cmd),) = s.of_type(SendMidi)
    assert cmd == SendMidi("synth", ChannelMessage("note_on", 2, 48, 90))


def test_only_top_level_cues_can_be_on_standby() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.SetPlayhead(cid("2.1")))
    assert (
        0.0,
        Report(ReportLevel.WARNING, "Main/2.1", "only top-level cues can be on standby"),
    ) in s.log
    assert s.engine.playhead() == cid("1")


def test_external_triggers_fire_a_trigger_start_a_cue_or_are_refused() -> None:
    s = Script(FRAMES)
    s.at(0.0, ev.ExternalTrigger(trigger="nope"))
    assert (0.0, Report(ReportLevel.WARNING, "nope", "external trigger names no trigger")) in s.log
    s.at(1.0, ev.ExternalTrigger(trigger="t"))
    assert [(t, c) for t, c in s.of_type(TriggerFired)] == [(1.0, TriggerFired("t", None))]
    assert s.states("1")[0] == (1.0, "running")
    s.at(5.0, ev.ExternalTrigger(cue=cid("1")))
    assert s.states("1")[-1] == (5.0, "running")


def test_pause_and_resume_of_one_cue_leave_the_others() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.StartCue(cid("1")))
    s.at(0.0, ev.StartCue(cid("2.1")))
    s.at(1.0, ev.Pause())
    s.at(2.0, ev.Resume(cid("2.1")))
    assert s.engine.state_of(cid("1")).value == "paused"
    assert s.engine.state_of(cid("2.1")).value == "running"


def test_numpy_floats_are_checked_like_floats() -> None:
    import numpy as np

    store = SignalStore([SignalDef("a")])
    assert store.update("a", np.float64("nan"), 0.0) is None
    assert store.update("a", np.float64(1.5), 0.0) is not None
    assert store.rejected == {"not a finite number": 1}


def test_derived_signals_cannot_be_sent_and_samples_are_counted() -> None:
    s = Script(DERIVED.format(op="sum"))
    s.engine.handle_samples([("h1.t", 1.0), ("total", 5.0), ("h2.t", math.inf)], 0.0)
    assert s.engine.signals.rejected == {
        "derived signals cannot be sent": 1,
        "not a finite number": 1,
    }
    assert s.engine.stats.samples == 3


def test_a_late_sample_from_a_disconnected_source_leaves_its_signal_lost() -> None:
    s = Script(FRAMES)
    s.at(0.0, ev.Sample("a", 1.0, source="kitchen"))
    s.at(1.0, ev.SourceHealth("kitchen", up=False))
    s.at(1.5, ev.Sample("a", 2.0, source="kitchen"))
    healths = [s.engine.signals.signals["a"].health]
    s.at(2.0, ev.SourceHealth("kitchen", up=True))
    s.at(2.5, ev.Sample("a", 3.0, source="kitchen"))
    healths.append(s.engine.signals.signals["a"].health)
    assert healths == [Health.LOST, Health.LIVE]


def test_a_derived_signals_health_changes_are_reported() -> None:
    from cues.commands import SignalHealthChanged

    s = Script(DERIVED.format(op="sum"))
    s.at(0.0, ev.Sample("h1.t", 1.0))
    assert (0.0, SignalHealthChanged("total", Health.LIVE)) in s.log


def test_a_trigger_hold_off_the_health_grid_fires_at_its_exact_end() -> None:
    s = Script(FRAMES.replace('start = "1"', 'start = "1"\nhold = 1.234'))
    s.at(0.0, ev.Sample("b", 5.0))
    s.run_until(3.0)
    assert [t for t, _ in s.of_type(TriggerFired)] == [1.234]


def test_the_standby_past_the_last_cue_is_announced_as_none() -> None:
    from cues.commands import PlayheadChanged

    s = Script(PHASED)
    s.at(0.0, ev.SetPlayhead(cid("2")))
    s.at(1.0, ev.Go())
    assert (1.0, PlayheadChanged("Main", None)) in s.log


def test_a_waiting_child_that_times_out_lets_its_group_end() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "G"\n'
        'type = "group"\n  [[cue_lists.cues.children]]\n  number = "a"\n'
        '  wait_for = { signal = "x", above = 0 }\n  timeout = 2\n'
    )
    s.at(0.0, ev.Go())
    s.run_until(5.0)
    assert s.states("G") == [(0.0, "running"), (2.0, "idle")]
    assert s.engine.stats.errors == 0


def test_a_fade_to_osc_sends_continuous_values() -> None:
    from cues.commands import SendOsc

    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\n'
        'target = { osc = "desk", address = "/f" }\nto = 0.5\n'
    )
    s.at(0.0, ev.Go())
    assert s.of_type(SendOsc) == [(0.0, SendOsc("desk", "/f", (0.5,), continuous=True))]


def test_a_wait_timing_out_at_the_instant_of_a_frame_times_out_first() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'
        'wait_for = { signal = "x", above = 0 }\ntimeout = 0.5\nfallback = "9"\n'
        '[[cue_lists.cues]]\nnumber = "9"\n'
    )
    s.at(0.0, ev.Go())
    s.engine.handle_samples([("x", 1.0)], 0.5)  # due at 0.5: the timeout runs first
    s.log.extend((0.5, c) for c in s.engine.commands())
    assert s.states("1") == [(0.0, "waiting"), (0.5, "idle")]
    assert s.states("9")[0] == (0.5, "running")


def test_a_chain_of_starts_at_one_instant_is_halted_after_ten_thousand() -> None:
    from cues.engine import Engine
    from cues.model import CueDef, CueListDef, ShowModel

    me = CueId("Main/1")  # starts itself: the show-file check refuses this, the engine copes
    show = ShowModel(
        title="loop",
        cue_lists=(CueListDef("Main", (me,)),),
        cues={me: CueDef(me, "1", "", StartAction(CueRef(me)))},
    )
    engine = Engine(show)
    engine.handle(ev.Go(), 0.0)
    errors = [
        c for c in engine.commands() if isinstance(c, Report) and c.level is ReportLevel.ERROR
    ]
    assert errors == [
        Report(ReportLevel.ERROR, "Main/1", "too many cue starts at one instant; chain halted")
    ]
    assert engine.runs[me].starts == 10_000


def test_a_large_target_settles_within_a_millionth_of_itself() -> None:
    s = Script(SMOOTHED.format(smooth="{ ema = 0.1 }"))
    s.at(0.0, ev.Sample("x", 0.0))
    s.at(0.1, ev.Sample("x", 10_000.0))
    s.run_until(10.0)
    # each 0.1 s step leaves e^-1 of the way: within 0.01 (10,000 x 1e-6) after 14 steps
    assert len(s.osc("/m")) == 1 + 14


def test_ten_thousand_pattern_signals_by_default() -> None:
    store = SignalStore([SignalDef("h*", history=0)])
    for i in range(10_000):
        assert store.update(f"h{i}", 1.0, 0.0) is not None
    assert store.update("h-one-more", 1.0, 0.0) is None


def test_a_derived_signal_is_defined_under_its_own_name() -> None:
    s = Script(DERIVED.format(op="sum"))
    assert s.engine.signals.signals["total"].definition.name == "total"


def test_a_notice_ttl_below_a_second_takes_it_down_then() -> None:
    from cues.commands import ClearNotice

    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "notice"\n'
        'text = "hi"\nttl = 0.5\n'
    )
    s.at(0.0, ev.Go())
    s.run_until(2.0)
    assert s.of_type(ClearNotice) == [(0.5, ClearNotice("Main/1"))]


def test_a_disarmed_wait_still_takes_its_time() -> None:
    s = Script(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "wait"\n'
        'duration = 3\narmed = false\ncontinue = "auto-follow"\n[[cue_lists.cues]]\nnumber = "2"\n'
    )
    s.at(0.0, ev.Go())
    s.run_until(5.0)
    assert s.states("1") == [(0.0, "running"), (3.0, "idle")]
    assert s.states("2")[0] == (3.0, "running")


def test_a_go_during_panic_is_counted_as_refused() -> None:
    s = Script(PHASED)
    s.at(0.0, ev.Panic(5.0))
    s.at(1.0, ev.Go())
    assert s.engine.stats.go_rejected == 1


def test_one_advance_runs_every_timer_due_even_after_a_stale_one() -> None:
    e = Script(PHASED).engine
    e.handle(ev.StartCue(cid("2.1")), 0.0)  # ends at 3
    e.handle(ev.StartCue(cid("1")), 0.0)  # its pre-wait ends at 2
    e.handle(ev.Stop(cid("1")), 0.5)  # that timer is stale now
    e.advance(5.0)  # no deadline asked for in between
    assert e.state_of(cid("2.1")) is CueState.IDLE


def test_a_timed_out_wait_is_logged_with_its_condition_and_fallback() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'
        'wait_for = { signal = "x", above = 0 }\ntimeout = 2\nfallback = "9"\n'
        '[[cue_lists.cues]]\nnumber = "9"\n'
    )
    s.at(0.0, ev.Go())
    s.run_until(3.0)
    assert (
        2.0,
        Report(ReportLevel.WARNING, "Main/1", "waited 2 s for x > 0; starting fallback Main/9"),
    ) in s.log


def test_an_event_at_the_instant_a_timer_is_due_runs_the_timer_first() -> None:
    s = Script(
        '[signals.x]\n[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'
        'wait_for = { signal = "x", above = 0 }\ntimeout = 0.5\n'
    )
    s.engine.handle(ev.Go(), 0.0)
    s.engine.handle(ev.Sample("x", 1.0), 0.5)  # the timeout, due at 0.5, comes first
    assert s.engine.state_of(cid("1")) is CueState.IDLE
    assert s.engine.runs[cid("1")].action_at is None
    assert s.engine.stats.errors == 0


def test_a_failing_event_is_reported_by_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    e = Script(PHASED).engine
    monkeypatch.setattr(e, "_dispatch", _boom)
    e.handle(ev.Go(), 0.0)
    assert e.commands() == [
        Report(ReportLevel.ERROR, "engine", "while handling Go: RuntimeError: boom; show continues")
    ]


def test_a_derived_signals_health_is_reported_once_and_its_unit_kept() -> None:
    from cues.commands import SignalHealthChanged

    s = Script(
        DERIVED.format(op="sum").replace(
            'inputs = ["h1.t", "h*.t"]', 'inputs = ["h*.t"]\nunit = "kW"'
        )
    )
    s.at(0.0, ev.Sample("h1.t", 1.0))
    s.at(1.0, ev.Sample("h1.t", 2.0))
    changes = [c for _, c in s.of_type(SignalHealthChanged) if c.signal == "total"]  # type: ignore[attr-defined]
    assert changes == [SignalHealthChanged("total", Health.LIVE)]
    assert s.engine.signals.signals["total"].definition.unit == "kW"
