"""Signal flow: samples into signals, derived signals, health, triggers, and on to the
mappings and the cues waiting on a condition.

    sample -> signal (value, health) -> derived signals (recomputed once per advance)
                                     -> mappings (MappingScheduler.feed)
                                     -> triggers -> TriggerFired, then GO or a cue start
                                     -> conditional waits (CueWaits.recheck_waits)

The health sweep marks signals stale and lost on a grid of ``health_interval`` and runs
the triggers on sources.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Set
from typing import Protocol

from cues.commands import Outbox, ReportLevel, SignalHealthChanged, TriggerFired
from cues.conditions import TriggerState, evaluate
from cues.events import SourceHealth
from cues.mapping_scheduler import MappingScheduler
from cues.model import Condition, CueId, Health, ShowModel, TriggerDef, Value
from cues.signals import Signal, SignalStore

__all__ = ["CueWaits", "SignalFlow", "TriggerAction"]

# read once: an enum member read through its class costs about 70 ns on Python 3.11, and
# this one is read for every sample
_LIVE = Health.LIVE


class CueWaits(Protocol):
    """The cues waiting on a condition (``cues.lifecycle.CueLifecycle``)."""

    @property
    def waiting(self) -> Set[CueId]:
        """Cues in their conditional wait; empty means nothing to recheck."""
        ...

    def recheck_waits(self, signal: str | None, now: float) -> None:
        """Test again the waits on ``signal`` (None: on any signal or source)."""
        ...


TriggerAction = Callable[[TriggerDef, float], None]
"""What a trigger that fired does (GO, start a cue), given its definition and the time."""


def fresh_triggers(definitions: Iterable[TriggerDef]) -> dict[str, TriggerState]:
    """Trigger states as the show file defines them."""
    return {t.name: TriggerState(definition=t, enabled=t.enabled) for t in definitions}


class SignalFlow:
    """Owns the signal store and the triggers; moves samples through to their users.

    ``signals`` and ``triggers`` are for reading (the console shows them); a reload
    replaces them through :meth:`replace_signals` and :meth:`replace_triggers`.
    """

    def __init__(
        self,
        show: ShowModel,
        now: float,
        outbox: Outbox,
        mappings: MappingScheduler,
        waits: CueWaits,
        on_trigger: TriggerAction,
    ) -> None:
        self._outbox = outbox
        self._mappings = mappings
        self._waits = waits
        self._on_trigger = on_trigger
        self._health_interval = show.health_interval
        self.signals = SignalStore(show.signals, show.derived, show.max_dynamic_signals)
        self.triggers: dict[str, TriggerState] = fresh_triggers(show.triggers)
        self._triggers_by_signal: dict[str, list[str]] = {}
        self._source_triggers: list[str] = []
        self._index_triggers(show.triggers)
        self._dirty_derived: set[str] = set()
        self._next_sweep = now
        self.samples = 0

    def _index_triggers(self, definitions: Iterable[TriggerDef]) -> None:
        self._triggers_by_signal = {}
        self._source_triggers = []
        for t in definitions:
            if t.condition.signal:
                self._triggers_by_signal.setdefault(t.condition.signal, []).append(t.name)
            else:
                self._source_triggers.append(t.name)

    # -- samples and sources ---------------------------------------------------------

    def sample(self, signal: str, value: Value | None, source: str, now: float) -> None:
        """One sample of ``signal`` at ``now``."""
        self.samples += 1
        store = self.signals
        sig = store.update(signal, value, now, source)
        if sig is None:
            return
        # a fresh value from a source that is up keeps a live signal live
        if sig.health is not _LIVE or value is None or store.sources_up.get(sig.source) is False:
            self._recheck_health(sig, value is not None, now)
        # _changed, written out: this runs for every sample
        name = sig.name
        self._mappings.feed(sig)
        derived = store.derived_by_input.get(name)
        if derived:
            for d in derived:
                store.note_member(d, sig)
            self._dirty_derived.update(derived)
        triggers = self._triggers_by_signal.get(name)
        if triggers:
            self._update_triggers(triggers, sig, now)
        if self._waits.waiting:
            self._waits.recheck_waits(name, now)

    def _recheck_health(self, sig: Signal, fresh: bool, now: float) -> None:
        """A sample of ``sig`` (``fresh``: with a value) that may change its health."""
        # a live signal with a fresh value: its source is down
        live = sig.health is _LIVE and fresh
        health = Health.LOST if live else self.signals.health_of(sig, now)
        if health is not sig.health:
            sig.health = health
            self._outbox.emit(SignalHealthChanged(sig.name, health))

    def _update_triggers(self, names: list[str], sig: Signal, now: float) -> None:
        """Test the triggers on ``sig`` again; fire those that became true."""
        for tname in names:
            ts = self.triggers[tname]
            if ts.update(self.signals, now):
                self._fire(ts, sig.value, now)

    def _changed(self, sig: Signal, now: float) -> None:
        name = sig.name
        self._mappings.feed(sig)
        derived = self.signals.derived_by_input.get(name)
        if derived:
            for d in derived:
                self.signals.note_member(d, sig)
            self._dirty_derived.update(derived)
        triggers = self._triggers_by_signal.get(name)
        if triggers:
            self._update_triggers(triggers, sig, now)
        if self._waits.waiting:
            self._waits.recheck_waits(name, now)

    def source_health(self, event: SourceHealth, now: float) -> None:
        """A source connected or was lost: its signals' health follows at once."""
        self.signals.set_source(event.source, event.up)
        self._outbox.report(
            ReportLevel.INFO if event.up else ReportLevel.WARNING,
            event.source,
            "source connected" if event.up else "source lost: its signals are marked lost",
        )
        self._sweep(now)  # marks the source's signals and runs the source triggers
        if self._waits.waiting:
            self._waits.recheck_waits(None, now)

    def holds(self, cond: Condition, now: float, was_true: bool) -> bool:
        """Whether ``cond`` holds on the signals at ``now``."""
        return evaluate(cond, self.signals, now, was_true)

    # -- advancing -------------------------------------------------------------------

    def advance(self, now: float) -> None:
        """The health sweep when due, derived signals, then triggers whose hold ended."""
        if now >= self._next_sweep:
            self._sweep(now)
        if self._dirty_derived:
            self._recompute_derived(now)
        if self.triggers:
            self._check_trigger_deadlines(now)

    def _sweep(self, now: float) -> None:
        interval = self._health_interval
        # an integer count of intervals keeps the grid exact (4.3 / 0.1 is 42.999...)
        self._next_sweep = (math.floor(now / interval + 1e-9) + 1) * interval
        if self._next_sweep <= now:
            self._next_sweep = now + interval
        for sig in self.signals.sweep(now):
            self._outbox.emit(SignalHealthChanged(sig.name, sig.health))
            self._changed(sig, now)
        for tname in self._source_triggers:
            ts = self.triggers[tname]
            if ts.update(self.signals, now):
                self._fire(ts, None, now)

    def _recompute_derived(self, now: float) -> None:
        dirty = sorted(self._dirty_derived)
        self._dirty_derived.clear()
        for name in dirty:
            sig = self.signals.set_derived(name, now)
            if sig is None:
                continue
            health = self.signals.health_of(sig, now)
            if health is not sig.health:
                sig.health = health
                self._outbox.emit(SignalHealthChanged(name, health))
            self._changed(sig, now)

    def _check_trigger_deadlines(self, now: float) -> None:
        for ts in self.triggers.values():
            d = ts.deadline()
            if d is not None and d <= now and ts.update(self.signals, now):
                # a hold ends between samples: show the value that held
                sig = self.signals.signals.get(ts.definition.condition.signal)
                self._fire(ts, None if sig is None else sig.value, now)

    def next_deadline(self, now: float) -> float:
        """When :meth:`advance` has work (``inf``: none); ``now`` is the engine's time,
        due at once if a derived signal waits to be recomputed."""
        best = math.inf
        for ts in self.triggers.values():
            d = ts.deadline()
            if d is not None and d < best:
                best = d
        if self._dirty_derived and now < best:
            best = now
        if self.signals.any_not_lost() and self._next_sweep < best:
            best = self._next_sweep
        return best

    # -- triggers --------------------------------------------------------------------

    def _fire(self, ts: TriggerState, value: object, now: float) -> None:
        d = ts.definition
        shown = value if isinstance(value, float | int | str | bool) else None
        self._outbox.emit(TriggerFired(d.name, shown))
        self._outbox.report(ReportLevel.INFO, d.name, f"trigger fired ({d.condition.describe()})")
        self._on_trigger(d, now)

    def fire_external(self, name: str, now: float) -> bool:
        """An outside request fires trigger ``name`` (False: no such trigger)."""
        ts = self.triggers.get(name)
        if ts is None:
            return False
        self._fire(ts, None, now)
        return True

    def set_trigger_enabled(self, name: str, on: bool, now: float) -> None:
        """Arm or disarm a trigger (an arm or disarm cue)."""
        self.triggers[name].set_enabled(on, now)

    def reset(self) -> None:
        """Triggers back to their state at load (signals keep their values)."""
        for ts in self.triggers.values():
            ts.reset()

    def configure(self, show: ShowModel) -> None:
        """Sweep health on a reloaded show's interval from the next sweep on."""
        self._health_interval = show.health_interval

    def replace_triggers(
        self, states: dict[str, TriggerState], definitions: Iterable[TriggerDef]
    ) -> None:
        """Run ``states`` from now on (a reload)."""
        self.triggers = states
        self._index_triggers(definitions)

    def replace_signals(self, store: SignalStore, now: float) -> None:
        """Use ``store`` from now on (a reload that changed the signals): every derived
        signal is recomputed and health swept at the next advance."""
        self.signals = store
        self._dirty_derived.update(store.derived)
        self._next_sweep = min(self._next_sweep, now)
