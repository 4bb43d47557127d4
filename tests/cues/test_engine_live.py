"""Fades, panic, triggers, conditional GO and mappings against telemetry."""

from __future__ import annotations

import itertools
import math

import pytest

from cues.commands import CueState, Health, Notice, SetScene, SignalHealthChanged, TriggerFired
from cues.events import Go, Panic, Pause, Resume, Sample, SourceHealth, StartCue
from tests.cues.script import Script, cid

FADE = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = {{ osc = "desk", address = "/fader" }}
from = 0.0
to = 1.0
duration = 1.0
curve = "{curve}"
rate_hz = 4
"""


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        ("linear", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("s-curve", [0.0, 0.15625, 0.5, 0.84375, 1.0]),
        (
            "exponential",
            [0.0] + [math.expm1(4 * x) / math.expm1(4) for x in (0.25, 0.5, 0.75)] + [1.0],
        ),
        (
            "logarithmic",
            [0.0] + [math.log1p(x * math.expm1(4)) / 4 for x in (0.25, 0.5, 0.75)] + [1.0],
        ),
    ],
)
def test_fade_moves_its_target_along_the_curve(curve: str, expected: list[float]) -> None:
    s = Script(FADE.format(curve=curve))
    s.at(2.0, Go())
    s.run_until(5.0)
    sent = s.osc("/fader")
    assert [t for t, _ in sent] == [2.0, 2.25, 2.5, 2.75, 3.0]
    assert [a[0] for _, a in sent] == pytest.approx(expected)
    assert s.states("1") == [(2.0, "running"), (3.0, "idle")]


def test_paused_fade_holds_its_value_and_resumes_where_it_was() -> None:
    s = Script(FADE.format(curve="linear"))
    s.at(0.0, Go())
    s.at(0.5, Pause())
    s.run_until(3.0)
    assert s.osc("/fader")[-1] == (0.5, (0.5,))
    s.at(3.0, Resume())
    s.run_until(10.0)
    sent = s.osc("/fader")
    assert sent[-1] == (3.5, (1.0,))
    assert [t for t, _ in sent] == [0.0, 0.25, 0.5, 3.25, 3.5]


MAPPED = """
[signals."stove.temp"]
stale_after = 2.0
lost_after = 5.0
[mappings.heat]
signal = "stove.temp"
to = { osc = "desk", address = "/heat" }
range = { in = [0, 100], out = [0, 10], clamp = true }
max_rate_hz = 10
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { mapping = "heat" }
to = 0.0
duration = 1.0
stop_target = true
rate_hz = 2
"""


def test_mapping_sends_newest_value_at_most_at_its_rate() -> None:
    s = Script(MAPPED)
    for i in range(100):  # 100 samples within 0.1 s: latest value wins
        s.at(i * 0.001, Sample("stove.temp", float(i)))
    s.run_until(0.2)
    sent = s.osc("/heat")
    assert sent[0] == (0.0, (0.0,))
    assert sent[1] == (0.1, (pytest.approx(9.9),))
    assert len(sent) == 2


def test_mapping_clamps_to_its_range() -> None:
    s = Script(MAPPED)
    s.at(0.0, Sample("stove.temp", 250.0))
    s.at(1.0, Sample("stove.temp", -40.0))
    assert s.osc("/heat") == [(0.0, (10.0,)), (1.0, (0.0,))]


def test_fading_a_mapping_level_then_stopping_it() -> None:
    s = Script(MAPPED)
    s.at(0.0, Sample("stove.temp", 50.0))
    s.at(1.0, Go())  # level 1 -> 0 over 1 s at 2 Hz, then the mapping is disabled
    s.run_until(3.0)
    assert s.osc("/heat") == [(0.0, (5.0,)), (1.5, (2.5,)), (2.0, (0.0,))]
    assert not s.engine.mappings["heat"].enabled
    s.at(3.0, Sample("stove.temp", 80.0))
    s.run_until(4.0)
    assert len(s.osc("/heat")) == 3


def test_nan_and_infinity_are_refused_and_counted() -> None:
    s = Script(MAPPED)
    s.at(0.0, Sample("stove.temp", math.nan))
    s.at(0.1, Sample("stove.temp", math.inf))
    s.at(0.2, Sample("unknown.signal", 1.0))
    s.run_until(1.0)
    assert s.osc("/heat") == []
    assert s.engine.signals.rejected == {"not a finite number": 2, "undeclared signal": 1}


def test_signal_goes_stale_then_lost_then_live_again() -> None:
    s = Script(MAPPED)
    s.at(0.0, Sample("stove.temp", 20.0))
    s.run_until(10.0)
    s.at(10.0, Sample("stove.temp", 21.0))
    changes = [(t, c.health) for t, c in s.of_type(SignalHealthChanged)]  # type: ignore[attr-defined]
    assert changes == [
        (0.0, Health.LIVE),
        (2.1, Health.STALE),
        (5.1, Health.LOST),
        (10.0, Health.LIVE),
    ]


def test_source_loss_marks_its_signals_lost_at_once() -> None:
    s = Script(MAPPED)
    s.at(0.0, Sample("stove.temp", 20.0, source="kitchen"))
    s.at(0.5, SourceHealth("kitchen", up=False))
    assert s.engine.signals.signals["stove.temp"].health is Health.LOST


STALE_FALLBACK = """
[signals.x]
stale_after = 1.0
[mappings.m]
signal = "x"
to = { visual = "projector", input = "heat" }
stale = "fallback"
fallback = 0.25
slew = 1.0
max_rate_hz = 4
"""


def test_stale_signal_glides_to_the_fallback_under_a_slew_limit() -> None:
    from cues.commands import SetVisualInput

    s = Script(STALE_FALLBACK + '[[cue_lists]]\nname = "Main"\n')
    s.at(0.0, Sample("x", 1.0))
    s.run_until(3.0)
    values = [(t, c.value) for t, c in s.of_type(SetVisualInput)]  # type: ignore[attr-defined]
    # stale at 1.1; slew 1.0/s from 1.0 towards 0.25, evaluated at 4 Hz
    assert values[0] == (0.0, 1.0)
    assert values[1][0] == pytest.approx(1.1)
    assert values[-1][1] == pytest.approx(0.25)
    steps = [b[1] - a[1] for a, b in itertools.pairwise(values[1:])]
    assert all(-0.2501 <= d < 0 for d in steps)


TRIGGERS = """
[signals."grid.balance"]
[signals."central.state"]
[signals."central.temp"]
history = 100
[[triggers]]
name = "low"
when = { signal = "grid.balance", below = 0.0, hysteresis = 1.0 }
start = "low"
[[triggers]]
name = "fault"
when = { signal = "central.state", equals = "fault" }
hold = 2.0
start = "fault"
[[triggers]]
name = "cooling"
when = { signal = "central.temp", rate_below = -5.0, window = 2.0 }
rearm = "once"
start = "cooling"
[[triggers]]
name = "gone"
when = { signal = "central.temp", health = "lost" }
start = "gone"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "low"
[[cue_lists.cues]]
number = "fault"
[[cue_lists.cues]]
number = "cooling"
[[cue_lists.cues]]
number = "gone"
"""


def _fired(s: Script) -> list[tuple[float, str]]:
    return [(t, c.trigger) for t, c in s.of_type(TriggerFired)]  # type: ignore[attr-defined]


def test_threshold_trigger_with_hysteresis_fires_once_per_crossing() -> None:
    s = Script(TRIGGERS)
    for t, v in [(0, 2.0), (1, -0.5), (2, 0.5), (3, -0.2), (4, 1.5), (5, -3.0)]:
        s.at(float(t), Sample("grid.balance", v))
    # below 0 at 1; 0.5 and -0.2 stay inside the 1.0 hysteresis band; 1.5 clears; -3 fires
    assert [x for x in _fired(s) if x[1] == "low"] == [(1.0, "low"), (5.0, "low")]
    assert s.states("low")[0] == (1.0, "running")


def test_equality_trigger_waits_for_its_hold_time() -> None:
    s = Script(TRIGGERS)
    s.at(0.0, Sample("central.state", "fault"))
    s.at(1.0, Sample("central.state", "on"))  # a blip shorter than the hold
    s.at(3.0, Sample("central.state", "fault"))
    s.run_until(10.0)
    assert [x for x in _fired(s) if x[1] == "fault"] == [(5.0, "fault")]


def test_rate_of_change_trigger_fires_once_with_rearm_once() -> None:
    s = Script(TRIGGERS)
    for i, v in enumerate([200, 199, 190, 180, 180, 180, 170, 150]):
        s.at(i * 1.0, Sample("central.temp", float(v)))
    # at t=2: (190-200)/2 = -5.0 (not below -5); at t=3: (180-199)/2 = -9.5: fires
    fired = [x for x in _fired(s) if x[1] == "cooling"]
    assert fired == [(3.0, "cooling")]


def test_health_trigger_fires_when_a_signal_is_lost() -> None:
    s = Script(TRIGGERS)
    s.at(0.0, Sample("central.temp", 100.0))
    s.run_until(40.0)
    assert [x for x in _fired(s) if x[1] == "gone"] == [(30.1, "gone")]


CONDITIONAL = """
[signals."grid.balance"]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/recovered"
wait_for = { signal = "grid.balance", above = 0.0 }
timeout = 10
fallback = "9"
[[cue_lists.cues]]
number = "9"
type = "osc"
target = "desk"
address = "/fallback"
"""


def test_conditional_go_stands_by_until_the_condition_holds() -> None:
    s = Script(CONDITIONAL)
    s.at(0.0, Sample("grid.balance", -2.0))
    s.at(1.0, Go())
    assert s.state("1") is CueState.WAITING
    s.at(4.0, Sample("grid.balance", 0.5))
    s.run_until(20.0)
    assert s.osc() == [(4.0, ())]
    assert s.states("1") == [(1.0, "waiting"), (4.0, "running"), (4.0, "idle")]


def test_conditional_go_fires_the_fallback_after_its_timeout() -> None:
    s = Script(CONDITIONAL)
    s.at(0.0, Sample("grid.balance", -2.0))
    s.at(1.0, Go())
    s.run_until(20.0)
    assert s.osc("/recovered") == []
    assert s.osc("/fallback") == [(11.0, ())]


PANIC = """
[signals.x]
stale_after = 100
lost_after = 100
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
max_rate_hz = 100
[show]
panic_time = 1.0
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
duration = 100
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/never"
prewait = 5
"""


def test_panic_fades_mappings_and_visuals_out_then_stops_everything() -> None:
    s = Script(PANIC)
    s.at(0.0, Sample("x", 1.0))
    s.at(1.0, Go())
    s.at(1.5, Go())  # cue 2 in pre-wait
    s.at(2.0, Panic())
    s.run_until(10.0)
    assert s.of_type(SetScene)[0] == (2.0, SetScene("projector", "", "crossfade", 1.0, "linear"))
    sent = [a[0] for t, a in s.osc("/m") if t >= 2.0]
    levels = [v for v in sent if isinstance(v, float)]
    assert levels == sent  # every level is a float
    assert len(levels) >= 20  # a fade, not a jump
    assert levels[0] == pytest.approx(1.0, abs=0.05)
    assert levels[-1] == pytest.approx(0.0)
    assert all(b <= a for a, b in itertools.pairwise(levels))
    assert s.osc("/never") == []
    assert s.engine.running_cues() == []
    assert not s.engine.mappings["m"].enabled
    assert s.states("1")[-1] == (3.0, "idle")


def test_second_panic_stops_at_once_and_go_is_refused_during_panic() -> None:
    s = Script(PANIC)
    s.at(1.0, Go())
    s.at(2.0, Panic())
    s.at(2.5, Go())
    assert s.engine.playhead() == cid("2")  # the GO was refused
    s.at(2.6, Panic())
    assert s.engine.running_cues() == []
    assert s.engine.panic_until is None
    s.at(3.0, Go())
    assert s.state("2") is CueState.PREWAIT


def test_trigger_start_of_notice() -> None:
    s = Script(
        """
[signals.s]
[[triggers]]
name = "t"
when = { signal = "s", equals = true }
start = "n"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "n"
type = "notice"
text = "hello"
"""
    )
    s.at(0.0, Sample("s", False))
    s.at(1.0, Sample("s", True))
    assert [(t, c.text) for t, c in s.of_type(Notice)] == [(1.0, "hello")]  # type: ignore[attr-defined]


def test_derived_mean_follows_members_and_drops_lost_ones() -> None:
    s = Script(
        """
[signals."home-*.t"]
stale_after = 1
lost_after = 2
[derived.mean]
op = "mean"
inputs = ["home-*.t"]
[derived.total]
op = "sum"
inputs = ["home-*.t"]
[[cue_lists]]
name = "Main"
"""
    )
    s.at(0.0, Sample("home-1.t", 10.0))
    s.at(0.0, Sample("home-2.t", 20.0))
    s.run_until(0.05)
    sig = s.engine.signals.signals
    assert sig["mean"].value == 15.0
    assert sig["total"].value == 30.0
    s.at(1.5, Sample("home-2.t", 40.0))
    s.run_until(2.5)  # home-1 is lost after 2 s
    assert sig["mean"].value == 40.0


def test_start_cue_via_trigger_then_pause_resume_all_keeps_mappings_running() -> None:
    s = Script(PANIC)
    s.at(0.0, StartCue(cid("1")))
    s.at(0.0, Pause())
    s.at(0.5, Sample("x", 0.5))
    s.run_until(1.0)
    assert s.osc("/m") == [(0.5, (0.5,))]
    s.at(1.0, Resume())
    assert s.state("1") is CueState.RUNNING


def test_difference_takes_its_first_declared_input_first() -> None:
    s = Script(
        """
[signals."grid.demand"]
[signals."grid.supply"]
[derived.shortfall]
op = "difference"
inputs = ["grid.demand", "grid.supply"]
[[cue_lists]]
name = "Main"
"""
    )
    s.at(0.0, Sample("grid.supply", 10.0))  # seen first, but declared second
    s.at(0.1, Sample("grid.demand", 3.0))
    s.run_until(0.2)
    assert s.engine.signals.signals["shortfall"].value == -7.0
