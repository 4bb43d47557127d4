"""Panic alone: mapping levels fade on their own grid, scenes go black, cues are halted
and released, a second panic ends the first."""

from __future__ import annotations

import pytest

from cues.commands import Outbox, Report, ReportLevel, SendOsc, SetScene
from cues.mapping_scheduler import MappingScheduler
from cues.model import MappingDef, OscTarget, ShowModel
from cues.panic import LEVEL_FADE_RATE, PanicFade
from cues.timers import TimerKind, TimerQueue


class Cues:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def halt(self, now: float) -> None:
        self.calls.append(("halt", now))

    def release(self, t: float) -> None:
        self.calls.append(("release", t))


def _rig() -> tuple[PanicFade, Outbox, TimerQueue, Cues, MappingScheduler]:
    show = ShowModel("t", (), {}, panic_time=1.0, visual_outputs=("v",))
    out, cues = Outbox(), Cues()
    sched = MappingScheduler([MappingDef("m", "x", OscTarget("d", "/m"))], out)
    timers = TimerQueue()
    panic = PanicFade(show, out, timers, cues, sched)
    return panic, out, timers, cues, sched


def test_a_panic_fades_levels_on_its_grid_and_ends_on_its_timer() -> None:
    panic, out, timers, cues, sched = _rig()
    panic.begin(None, 10.0)
    assert panic.active and panic.until == 11.0
    assert cues.calls == [("halt", 10.0)]
    assert out.take() == [
        Report(ReportLevel.WARNING, "PANIC", "fading everything out over 1 s"),
        SetScene("v", "", "crossfade", 1.0, "linear"),
    ]
    panic.step(10.0)
    assert sched.states["m"].level == 1.0
    assert panic.next_step() == pytest.approx(10.0 + 1 / LEVEL_FADE_RATE)
    panic.step(10.5)  # a late wake-up sets what the grid says at 10.5
    assert sched.states["m"].level == pytest.approx(0.5)
    assert timers.pop_due(11.0) == (11.0, TimerKind.PANIC, "")
    panic.end(11.0)
    assert not panic.active
    assert cues.calls[-1] == ("release", 11.0)
    assert not sched.states["m"].enabled
    assert sched.states["m"].level == 1.0  # back to its file level, off
    assert out.take()[-1] == Report(
        ReportLevel.WARNING, "PANIC", "complete: all cues stopped, mappings disabled"
    )


def test_a_second_panic_ends_the_first_at_once() -> None:
    panic, out, timers, cues, _ = _rig()
    panic.begin(5.0, 0.0)
    panic.begin(5.0, 1.0)
    assert not panic.active
    assert cues.calls == [("halt", 0.0), ("release", 1.0)]
    assert Report(ReportLevel.WARNING, "PANIC", "second panic: everything stopped at once") in (
        out.take()
    )
    assert timers.next_due() is None  # the first panic's timer is stale


def test_a_zero_time_panic_ends_at_once_and_a_mapping_sent_goes_to_zero() -> None:
    panic, out, _, cues, sched = _rig()
    sched.states["m"].last_sent = 0.5
    panic.begin(0.0, 2.0)
    assert cues.calls == [("halt", 2.0), ("release", 2.0)]
    assert SendOsc("d", "/m", (0.0,), continuous=True) in out.take()
    assert panic.next_step() == float("inf")


def test_reset_and_forget() -> None:
    panic, _, _, _, _ = _rig()
    panic.begin(None, 0.0)
    panic.forget("m")
    assert panic.next_step() == float("inf")
    panic.reset()
    assert not panic.active
    assert not panic.timer_valid("", 1)
