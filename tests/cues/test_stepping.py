"""The one deadline-stepping rule (cues.stepping), on a virtual clock with toy engines."""

from __future__ import annotations

from cues.stepping import MAX_STEPS_AT_ONE_INSTANT, NUDGE_S, Stepper


class Timers:
    """Fires each of its deadlines once the engine is advanced to it."""

    def __init__(self, *deadlines: float) -> None:
        self.pending = sorted(deadlines)
        self.advanced: list[float] = []
        self.fired: list[float] = []

    def advance(self, now: float) -> None:
        self.advanced.append(now)
        while self.pending and self.pending[0] <= now:
            self.fired.append(self.pending.pop(0))

    def next_deadline(self) -> float | None:
        return self.pending[0] if self.pending else None


class Hold:
    """A condition held for ``hold`` seconds since ``since``, tested as the engine tests it
    (``now - since >= hold``), while its deadline is ``since + hold``: for some values the
    sum rounds down and an advance at the deadline is a hair too early."""

    def __init__(self, since: float, hold: float) -> None:
        self.since, self.hold = since, hold
        self.fired_at: float | None = None
        self.advanced: list[float] = []

    def advance(self, now: float) -> None:
        self.advanced.append(now)
        if self.fired_at is None and now - self.since >= self.hold:
            self.fired_at = now

    def next_deadline(self) -> float | None:
        return None if self.fired_at is not None else self.since + self.hold


class Stuck:
    """Always asks for the same time, whatever it is advanced to."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.calls = 0

    def advance(self, now: float) -> None:
        self.calls += 1

    def next_deadline(self) -> float | None:
        return self.at


def test_every_deadline_up_to_the_time_in_order_and_not_beyond() -> None:
    engine = Timers(0.5, 0.25, 2.0, 1.0)
    seen: list[float] = []
    steps = Stepper(engine, 0.0, seen.append)
    assert steps.run_until(1.0) is True
    assert seen == [0.25, 0.5, 1.0]
    assert engine.fired == [0.25, 0.5, 1.0]
    assert steps.now == 1.0
    assert steps.next_step() == 2.0


def test_run_until_does_not_advance_to_the_time_itself() -> None:
    engine = Timers(3.0)
    steps = Stepper(engine, 0.0)
    steps.run_until(2.0)
    assert engine.advanced == []
    steps.advance(2.0)
    assert engine.advanced == [2.0]
    assert steps.now == 2.0 and steps.advanced


def test_a_deadline_before_the_start_is_taken_at_the_start() -> None:
    engine = Timers(1.0)
    steps = Stepper(engine, 5.0)
    assert steps.next_step() == 5.0
    steps.run_until(6.0)
    assert engine.advanced == [5.0]
    assert engine.fired == [1.0]


def test_a_hold_that_misses_by_rounding_is_retried_a_nudge_later() -> None:
    since, hold = 0.7, 0.1
    assert (since + hold) - since < hold  # the case: advancing at the deadline is too early
    engine = Hold(since, hold)
    seen: list[float] = []
    steps = Stepper(engine, 0.0, seen.append)
    assert steps.run_until(1.0) is True
    assert engine.advanced == [since + hold, since + hold + NUDGE_S]
    assert engine.fired_at == since + hold + NUDGE_S
    assert seen == engine.advanced
    assert steps.next_step() is None


def test_the_nudge_waits_when_it_would_pass_the_time() -> None:
    since, hold = 0.7, 0.1
    engine = Hold(since, hold)
    steps = Stepper(engine, 0.0)
    steps.run_until(since + hold)
    assert engine.advanced == [since + hold] and engine.fired_at is None
    # live: the next wake-up is a nudge after the advance, not the past deadline again
    assert steps.next_step() == since + hold + NUDGE_S
    steps.advance(0.9)
    assert engine.fired_at == 0.9


def test_a_stuck_engine_is_given_up_on_after_the_limit() -> None:
    engine = Stuck(1.0)
    steps = Stepper(engine, 0.0)
    assert steps.run_until(1.0 + MAX_STEPS_AT_ONE_INSTANT * NUDGE_S * 2) is False
    assert engine.calls == MAX_STEPS_AT_ONE_INSTANT + 1  # 1.0, then the nudges


def test_advancing_to_an_earlier_time_does_not_move_now_back() -> None:
    engine = Timers(4.0)
    steps = Stepper(engine, 0.0)
    steps.advance(3.0)
    steps.advance(2.0)
    assert engine.advanced == [3.0, 2.0]
    assert steps.now == 3.0
    assert not steps.advanced  # not advanced at 3.0 last: an overdue deadline is taken at 3.0
