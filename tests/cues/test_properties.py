"""Random operator actions and telemetry never raise or leave impossible states."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cues.commands import CueState
from cues.events import Go, Panic, Pause, Reset, Resume, Sample, SourceHealth, StartCue, Stop
from cues.model import CueId
from tests.cues.script import Script

SHOW = """
[show]
min_go_interval = 0.1
panic_time = 0.5
[signals.x]
stale_after = 0.5
lost_after = 1.0
[signals.s]
[mappings.m]
signal = "x"
to = { osc = "desk", address = "/m" }
smooth = { ema = 0.3 }
slew = 2.0
[[triggers]]
name = "t"
when = { signal = "x", above = 0.5, hysteresis = 0.1 }
start = "G"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { mapping = "m" }
to = 0.2
duration = 0.7
continue = "auto-continue"
postwait = 0.3
[[cue_lists.cues]]
number = "G"
type = "group"
mode = "playlist"
continue = "auto-follow"
  [[cue_lists.cues.children]]
  number = "G1"
  type = "wait"
  duration = 0.4
  [[cue_lists.cues.children]]
  number = "G2"
  type = "osc"
  target = "desk"
  address = "/g2"
  prewait = 0.2
[[cue_lists.cues]]
number = "3"
type = "notice"
text = "hi"
ttl = 0.5
wait_for = { signal = "s", equals = "go" }
timeout = 1.0
fallback = "1"
[[cue_lists.cues]]
number = "4"
type = "start"
cue = "1"
prewait = 0.25
"""

CUES = ["Main/1", "Main/G", "Main/G1", "Main/G2", "Main/3", "Main/4"]
cue_ids = st.sampled_from(CUES).map(CueId)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["go", "stop", "x" * 80]),
    st.none(),
)
events = st.one_of(
    st.just(Go()),
    st.builds(Stop, st.one_of(st.none(), cue_ids)),
    st.builds(Pause, st.one_of(st.none(), cue_ids)),
    st.builds(Resume, st.one_of(st.none(), cue_ids)),
    st.builds(Panic, st.one_of(st.none(), st.floats(0, 1))),
    st.just(Reset()),
    st.builds(StartCue, cue_ids),
    st.builds(Sample, st.sampled_from(["x", "s", "nope"]), values),
    st.builds(SourceHealth, st.just("src"), st.booleans()),
)
steps = st.lists(st.tuples(st.floats(0.0, 0.6), events), max_size=40)


def _consistent(s: Script) -> None:
    e = s.engine
    for cid, run in e.runs.items():
        assert isinstance(run.state, CueState)
        if run.state is CueState.PAUSED:
            assert run.paused_at is not None, cid
        if run.state is CueState.IDLE:
            assert cid not in e._lifecycle.waiting
        if run.state is CueState.WAITING:
            assert run.cue.wait is not None
    for ms in e.mappings.values():
        assert math.isfinite(ms.level)
    assert e.stats.errors == 0
    # the cues the engine keeps as active are exactly the ones not idle, in show order
    assert e.running_cues() == [cid for cid, run in e.runs.items() if run.active]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_random_sequences_never_raise_or_break_invariants(seq: list[tuple[float, object]]) -> None:
    s = Script(SHOW)
    t = 0.0
    for dt, event in seq:
        t += dt
        s.at(t, event)  # type: ignore[arg-type]
        _consistent(s)
    s.run_until(t + 5.0)
    _consistent(s)
    d = s.engine.next_deadline()
    assert d is None or d > t + 5.0 or s.engine.signals.any_not_lost()


@settings(max_examples=50, deadline=None)
@given(steps)
def test_extra_wakeups_do_not_change_the_result(seq: list[tuple[float, object]]) -> None:
    """A runner that wakes more often (real time) produces the same commands."""
    a, b = Script(SHOW), Script(SHOW)
    t = 0.0
    for dt, event in seq:
        t += dt
        a.at(t, event)  # type: ignore[arg-type]
        b.run_until(t - dt / 2)  # an extra wake-up in between
        b.at(t, event)  # type: ignore[arg-type]
    a.run_until(t + 3.0)
    b.run_until(t + 3.0)
    assert a.log == b.log
