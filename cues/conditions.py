"""Evaluation of conditions on signals, shared by triggers and conditional GOs."""

from __future__ import annotations

from dataclasses import dataclass

from cues.model import Condition, Health, Rearm, TriggerDef
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
    if cond.source and not cond.signal:
        return _source_holds(cond, store)
    sig = store.signals.get(cond.signal)
    if sig is None:
        return cond.health is Health.LOST
    if cond.health is not None:
        return sig.health is cond.health
    if sig.health is Health.LOST:
        return False
    if cond.equals is not None:
        return _equal(sig.value, cond.equals)
    if cond.not_equals is not None:
        return sig.value is not None and not _equal(sig.value, cond.not_equals)
    return _number_holds(cond, sig, now, was_true)


def _source_holds(cond: Condition, store: SignalStore) -> bool:
    up = store.source_up(cond.source)
    if cond.health is Health.LOST:
        return up is False
    if cond.health is Health.LIVE:
        return up is True
    return False


def _number_holds(cond: Condition, sig: Signal, now: float, was_true: bool) -> bool:
    """Thresholds (with hysteresis) and rates of change."""
    v = sig.numeric()
    if v is None:
        return False
    if cond.above is not None:
        limit = cond.above - cond.hysteresis if was_true else cond.above
        return v > limit
    if cond.below is not None:
        limit = cond.below + cond.hysteresis if was_true else cond.below
        return v < limit
    then = sig.value_at(now - cond.window)
    if then is None:
        return False
    t0, v0 = then
    dt = sig.time - t0
    if dt <= 0:
        return False
    rate = (v - v0) / dt
    if cond.rate_above is not None:
        return rate > cond.rate_above
    if cond.rate_below is not None:
        return rate < cond.rate_below
    return False


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
