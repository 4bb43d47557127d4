"""Signals: latest value, health and a bounded history per telemetry value."""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import translate
from typing import Any

import numpy as np
import numpy.typing as npt

from cues.commands import Health
from cues.model import DerivedDef, DerivedOp, SignalDef, Value

__all__ = ["Signal", "SignalStore"]

_MAX_STRING = 64
# members looked up once: an enum member read through its class costs about 70 ns on
# Python 3.11, and health is read for every sample and every signal of a sweep
_LIVE, _STALE, _LOST = Health.LIVE, Health.STALE, Health.LOST
_INF, _NEG_INF = math.inf, -math.inf


def _is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _doubles(array: npt.NDArray[np.float64]) -> memoryview[float]:
    """A memoryview of ``array``'s doubles (it writes through to the array)."""
    return array.data.cast("B").cast("d")


@dataclass(slots=True)
class Signal:
    """One signal's live state. ``history`` is a ring of (time, numeric value)."""

    name: str
    definition: SignalDef
    source: str
    value: Value | None = None
    time: float = -math.inf
    health: Health = Health.LOST
    samples: int = 0
    times: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    values: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    head: int = 0
    count: int = 0
    capacity: int = 0
    # the history arrays as memoryviews: a scalar store through one costs less than
    # through the array, and a store happens on every sample
    _time_ring: memoryview[float] = field(init=False, repr=False, compare=False)
    _value_ring: memoryview[Any] = field(init=False, repr=False, compare=False)  # bool, int too

    def __post_init__(self) -> None:
        self.capacity = int(self.times.shape[0])
        self._time_ring = _doubles(self.times)
        self._value_ring = _doubles(self.values)

    def numeric(self) -> float | None:
        """The value as a number (booleans as 0/1), or None for strings and gaps."""
        v = self.value
        if type(v) is float:
            return v
        if v is None or isinstance(v, str):
            return None
        return float(v)

    def record(self, value: Value | None, now: float) -> None:
        """Store a new value at ``now`` and append it to the history ring."""
        self.value = value
        self.time = now
        self.samples += 1
        cap = self.capacity
        if cap:
            h = self.head
            self._time_ring[h] = now
            try:
                self._value_ring[h] = math.nan if value is None or type(value) is str else value
            except ValueError:  # not a double (an int too large): the array says why
                self.values[h] = value
            self.head = h + 1 if h + 1 < cap else 0
            if self.count < cap:
                self.count += 1

    def history(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Times and values in chronological order (copies)."""
        cap = self.times.shape[0]
        if self.count < cap:
            return self.times[: self.count].copy(), self.values[: self.count].copy()
        order = np.r_[self.head : cap, 0 : self.head]
        return self.times[order], self.values[order]

    def value_at(self, t: float) -> tuple[float, float] | None:
        """The newest recorded (time, value) at or before ``t``, if any.

        Searches the ring where it lies (two sorted runs once it has wrapped), so a
        rate condition checked on every sample copies nothing."""
        n, head, times = self.count, self.head, self._time_ring
        if n == 0:
            return None
        if n < self.capacity:  # not wrapped yet: one run, oldest first
            i = bisect_right(times, t, 0, n) - 1
        elif head and times[0] <= t:  # in the newer run, at the start of the array
            i = bisect_right(times, t, 0, head) - 1
        else:  # in the older run, from head to the end
            i = bisect_right(times, t, head, n) - 1
            if i < head:
                return None
        if i < 0:
            return None
        return times[i], self._value_ring[i]


class SignalStore:
    """All signals of a show: declared ones, pattern-matched ones and derived ones.

    Samples for names no declaration matches are refused and counted, so a
    misnamed producer shows up in health instead of growing memory.
    """

    def __init__(
        self,
        definitions: Iterable[SignalDef],
        derived: Iterable[DerivedDef] = (),
        max_dynamic: int = 10_000,
    ) -> None:
        self.signals: dict[str, Signal] = {}
        self.rejected: dict[str, int] = {}
        self.rejected_names: dict[str, int] = {}
        self._patterns: list[tuple[re.Pattern[str], SignalDef]] = []
        self._unmatched: set[str] = set()
        self._max_dynamic = max_dynamic
        self._dynamic = 0
        self._source_up: dict[str, bool] = {}
        # for reading: whether each source that reported is up (``source_up`` without
        # the call, for the per-sample path)
        self.sources_up: Mapping[str, bool] = self._source_up
        self.derived: dict[str, DerivedDef] = {}
        self._derived_members: dict[str, list[str]] = {}
        self._derived_patterns: list[tuple[str, re.Pattern[str]]] = []
        self.derived_by_input: dict[str, list[str]] = {}
        self._member_values: dict[str, dict[str, float]] = {}
        for d in definitions:
            if _is_pattern(d.name):
                self._patterns.append((re.compile(translate(d.name)), d))
            else:
                self._create(d.name, d)
        for dd in derived:
            self.derived[dd.name] = dd
            self._derived_members[dd.name] = []
            self._create(dd.name, SignalDef(name=dd.name, unit=dd.unit))
            for pattern in dd.inputs:
                self._derived_patterns.append((dd.name, re.compile(translate(pattern))))
        for name in list(self.signals):
            self._join_derived(name)

    # -- lookup ---------------------------------------------------------------

    def get(self, name: str) -> Signal | None:
        """The signal called ``name``, creating it if a declared pattern matches."""
        sig = self.signals.get(name)
        if sig is not None or name in self._unmatched:
            return sig
        for regex, d in self._patterns:
            if regex.fullmatch(name):
                if self._dynamic >= self._max_dynamic:
                    break
                self._dynamic += 1
                sig = self._create(name, d)
                self._join_derived(name)
                return sig
        if len(self._unmatched) < self._max_dynamic:
            self._unmatched.add(name)
        return None

    def _create(self, name: str, d: SignalDef) -> Signal:
        n = max(0, d.history)
        sig = Signal(
            name=name,
            definition=d,
            source=d.source,
            times=np.zeros(n),
            values=np.full(n, math.nan),
        )
        self.signals[name] = sig
        return sig

    def _join_derived(self, name: str) -> None:
        if name in self.derived:  # a derived signal never feeds another one
            return
        for derived_name, regex in self._derived_patterns:
            if regex.fullmatch(name):
                members = self._derived_members[derived_name]
                if name not in members:
                    members.append(name)
                    self.derived_by_input.setdefault(name, []).append(derived_name)

    # -- updates --------------------------------------------------------------

    def _reject(self, reason: str, name: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        if name in self.rejected_names or len(self.rejected_names) < 1000:
            self.rejected_names[name] = self.rejected_names.get(name, 0) + 1

    def update(self, name: str, value: Value | None, now: float, source: str = "") -> Signal | None:
        """Record a sample. Returns the signal, or None if the sample was refused
        (unknown name, NaN or infinity, over-long string) and counted."""
        sig = self.signals.get(name) or self.get(name)
        if sig is None:
            self._reject("undeclared signal", name)
            return None
        kind = type(value)
        if kind is float:
            if not _NEG_INF < value < _INF:  # type: ignore[operator]  # not finite
                self._reject("not a finite number", name)
                return None
        elif kind is str:
            if len(value) > _MAX_STRING:  # type: ignore[arg-type]
                self._reject("string too long", name)
                return None
        elif isinstance(value, float) and not math.isfinite(value):  # float subclasses
            self._reject("not a finite number", name)
            return None
        if name in self.derived:
            self._reject("derived signals cannot be sent", name)
            return None
        if source and not sig.source:
            sig.source = source
        sig.record(value, now)
        return sig

    def note_member(self, derived: str, sig: Signal) -> None:
        """Remember a member's usable value (kept per derived signal, so a
        recompute never walks every member's state)."""
        values = self._member_values.setdefault(derived, {})
        v = sig.numeric() if sig.health is not _LOST else None
        if v is None:
            values.pop(sig.name, None)
        else:
            values[sig.name] = v

    def set_derived(self, name: str, now: float) -> Signal | None:
        """Recompute a derived signal from its members' current values."""
        dd = self.derived[name]
        sig = self.signals[name]
        by_member = self._member_values.get(name, {})
        result: float | None
        if dd.op is DerivedOp.DIFFERENCE:
            first_name = dd.inputs[0] if dd.inputs else ""
            first = by_member.get(first_name)
            rest = [v for m, v in by_member.items() if m != first_name]
            result = None if first is None else first - math.fsum(rest)
        elif not by_member:
            result = None
        elif dd.op is DerivedOp.SUM:
            result = math.fsum(by_member.values())
        elif dd.op is DerivedOp.MEAN:
            result = math.fsum(by_member.values()) / len(by_member)
        elif dd.op is DerivedOp.MIN:
            result = min(by_member.values())
        else:
            result = max(by_member.values())
        if result == sig.value and sig.health is _LIVE:
            return None
        sig.record(result, now)
        return sig

    # -- health ---------------------------------------------------------------

    def set_source(self, source: str, up: bool) -> None:
        """Remember whether a source is connected."""
        self._source_up[source] = up

    def source_up(self, source: str) -> bool | None:
        """True/False once a source reported, None if it never did."""
        return self._source_up.get(source)

    def health_of(self, sig: Signal, now: float) -> Health:
        """What ``sig``'s health should be at ``now``."""
        if sig.name in self.derived:
            members = self._derived_members[sig.name]
            if not members:
                return _LOST
            result = _LOST
            for m in members:
                h = self.signals[m].health
                if h is _LIVE:
                    return h
                if h is _STALE:
                    result = h
            return result
        if sig.value is None or self._source_up.get(sig.source) is False:
            return _LOST
        age = now - sig.time
        d = sig.definition
        if age > d.lost_after:
            return _LOST
        if age > d.stale_after:
            return _STALE
        return _LIVE

    def sweep(self, now: float) -> list[Signal]:
        """Recompute every signal's health; returns those whose health changed."""
        changed: list[Signal] = []
        derived, up = self.derived, self._source_up
        all_up = False not in up.values()
        for sig in self.signals.values():
            # a live signal with a recent sample stays live (a source going down is
            # handled when it happens, by set_source and an immediate sweep)
            if (
                sig.health is _LIVE
                and now - sig.time <= sig.definition.stale_after
                and (all_up or up.get(sig.source) is not False)
            ) or sig.name in derived:
                continue  # derived signals follow below
            h = self.health_of(sig, now)
            if h is not sig.health:
                sig.health = h
                changed.append(sig)
        for name in derived:
            sig = self.signals[name]
            h = self.health_of(sig, now)
            if h is not sig.health:
                sig.health = h
                changed.append(sig)
        return changed

    def any_not_lost(self) -> bool:
        """Whether a sweep could still change something."""
        # a loop, not any(): the generator would cost more than finding the usual
        # answer at the first signal, and this is asked at every step
        for s in self.signals.values():  # noqa: SIM110
            if s.health is not _LOST:
                return True
        return False
