"""Evaluation of conditions on signals, shared by triggers and conditional GOs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from cues.model import (
    Above,
    Below,
    Condition,
    ConditionTest,
    Equals,
    Health,
    HealthIs,
    NotEquals,
    OnSource,
    RateAbove,
    RateBelow,
    Rearm,
    TriggerDef,
)
from cues.signals import Signal, SignalStore

__all__ = ["TriggerState", "evaluate"]


def _equal(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return a == b


def evaluate(cond: Condition, store: SignalStore, now: float, was_true: bool) -> bool:
    """Whether ``cond`` holds at ``now``; ``was_true`` drives the hysteresis."""
    subject = cond.subject
    test = cond.test
    if isinstance(subject, OnSource):
        return _source_holds(subject.name, test, store)
    sig = store.signals.get(subject.name)
    if sig is None:
        return isinstance(test, HealthIs) and test.health is Health.LOST
    if isinstance(test, HealthIs):
        return sig.health is test.health
    if sig.health is Health.LOST:
        return False
    return _value_holds(test, sig, now, was_true)


def _source_holds(source: str, test: ConditionTest, store: SignalStore) -> bool:
    """A source's health: live while connected, lost while not (other tests never hold)."""
    if not isinstance(test, HealthIs):
        return False
    up = store.source_up(source)
    if test.health is Health.LOST:
        return up is False
    if test.health is Health.LIVE:
        return up is True
    return False


def _value_holds(test: ConditionTest, sig: Signal, now: float, was_true: bool) -> bool:
    """A test on a signal that is not lost: equality, thresholds (with hysteresis) and
    rates of change."""
    match test:  # no captures in the patterns: each would cost a look-up
        case Above():
            v = sig.numeric()
            limit = test.threshold - test.hysteresis if was_true else test.threshold
            return v is not None and v > limit
        case Below():
            v = sig.numeric()
            limit = test.threshold + test.hysteresis if was_true else test.threshold
            return v is not None and v < limit
        case Equals():
            return _equal(sig.value, test.value)
        case NotEquals():
            return sig.value is not None and not _equal(sig.value, test.value)
        case RateAbove():
            rate = _rate(sig, now, test.window)
            return rate is not None and rate > test.rate
        case RateBelow():
            rate = _rate(sig, now, test.window)
            return rate is not None and rate < test.rate
        case HealthIs():
            return sig.health is test.health
        case _:
            assert_never(test)


def _rate(sig: Signal, now: float, window: float) -> float | None:
    """The signal's rate of change over the last ``window`` seconds (None: unknown)."""
    v = sig.numeric()
    if v is None:
        return None
    then = sig.value_at(now - window)
    if then is None:
        return None
    t0, v0 = then
    dt = sig.time - t0
    if dt <= 0:
        return None
    return (v - v0) / dt


@dataclass(slots=True)
class TriggerState:
    """A trigger's memory: whether its condition holds, since when, whether it fired."""

    definition: TriggerDef
    enabled: bool = True
    holding: bool = False
    since: float = 0.0
    fired: bool = False
    last_fired: float = float("-inf")
    fire_count: int = 0

    def reset(self) -> None:
        """Back to the state at load."""
        self.enabled = self.definition.enabled
        self.holding = False
        self.fired = False
        self.last_fired = float("-inf")

    def set_enabled(self, on: bool, now: float) -> None:
        """Arm or disarm; an armed trigger fires afresh and its hold counts from now."""
        self.enabled = on
        if on:
            self.fired = False
            self.since = now

    def update(self, store: SignalStore, now: float) -> bool:
        """Re-evaluate; True when the trigger should act now."""
        d = self.definition
        holds = evaluate(d.condition, store, now, self.holding)
        if holds and not self.holding:
            self.since = now
        self.holding = holds
        if not holds:
            if self.fired and d.rearm is Rearm.ON_CLEAR:
                self.fired = False
            return False
        if not self.enabled or self.fired:
            return False
        # the same sum as deadline(): now - since < hold can stay true at since + hold
        if now < self.since + d.hold or now < self.last_fired + d.cooldown:
            return False
        self.fired = True
        self.last_fired = now
        self.fire_count += 1
        return True

    def deadline(self) -> float | None:
        """When a held condition will have been held long enough."""
        if not self.holding or self.fired or not self.enabled:
            return None
        d = self.definition
        return max(self.since + d.hold, self.last_fired + d.cooldown)
