"""Telemetry through the engine: samples, health, derived signals, triggers,
conditional GOs and the mapping schedule.

A mixin of :class:`cues.engine.Engine`, kept apart so each module stays small; it
shares the engine's state and, like it, does no I/O and reads no clock.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING

from cues.commands import Command, CueState, Health, SignalHealthChanged, TriggerFired
from cues.conditions import TriggerState, evaluate
from cues.events import SourceHealth
from cues.mappings import MappingState
from cues.model import CueId, ShowModel, Value
from cues.runtime import CueRun
from cues.signals import Signal, SignalStore

if TYPE_CHECKING:
    from cues.engine import EngineStats

__all__ = ["TelemetryFlow"]


class TelemetryFlow:
    """Telemetry handling; see :class:`cues.engine.Engine` for the state it uses."""

    if TYPE_CHECKING:
        show: ShowModel
        stats: EngineStats
        signals: SignalStore
        runs: dict[CueId, CueRun]
        mappings: dict[str, MappingState]
        triggers: dict[str, TriggerState]
        _out: list[Command]
        _mapping_heap: list[tuple[float, str]]
        _mapping_due: dict[str, float]
        _mapping_states_by_signal: dict[str, list[tuple[str, MappingState]]]
        _triggers_by_signal: dict[str, list[str]]
        _source_triggers: list[str]
        _dirty_derived: set[str]
        _waiting: set[CueId]
        _next_sweep: float

        def _emit(self, cmd: Command) -> None: ...
        def _report(self, level: str, subject: str, message: str) -> None: ...
        def _go(self, cue_list: str, now: float) -> None: ...
        def _queue_start(self, cid: CueId, t: float, follow: bool) -> None: ...
        def _proceed(self, run: CueRun, t: float) -> None: ...
        def _push_timer(self, due: float, kind: str, key: str, gen: int) -> None: ...

    def _sample(self, signal: str, value: Value | None, source: str, now: float) -> None:
        self.stats.samples += 1
        store = self.signals
        sig = store.update(signal, value, now, source)
        if sig is None:
            return
        # a fresh value from a source that is up keeps a live signal live
        if sig.health is Health.LIVE and value is not None:
            health = Health.LIVE if store.source_up(sig.source) is not False else Health.LOST
        else:
            health = store.health_of(sig, now)
        if health is not sig.health:
            sig.health = health
            self._emit(SignalHealthChanged(sig.name, health))
        self._signal_changed(sig, now)

    def _signal_changed(self, sig: Signal, now: float) -> None:
        name = sig.name
        fed = self._mapping_states_by_signal.get(name)
        if fed:
            value, queued = sig.numeric(), self._mapping_due
            stale = sig.health is not Health.LIVE
            for mname, ms in fed:
                ms.stale = stale
                if value is not None:
                    ms.raw = value
                # already queued: a new sample never makes a mapping due sooner
                if ms.enabled and mname not in queued:
                    due = ms.due()
                    queued[mname] = due
                    heapq.heappush(self._mapping_heap, (due, mname))
        derived = self.signals.derived_by_input.get(name)
        if derived:
            for d in derived:
                self.signals.note_member(d, sig)
            self._dirty_derived.update(derived)
        for tname in self._triggers_by_signal.get(name, ()):
            ts = self.triggers[tname]
            if ts.update(self.signals, now):
                self._act_trigger(ts, sig.value, now)
        if self._waiting:
            self._check_waiting(now, name)

    def _check_waiting(self, now: float, signal: str | None) -> None:
        def concerned(cid: CueId) -> bool:
            cond = self.runs[cid].cue.wait_for
            return cond is not None and (signal is None or cond.signal in ("", signal))

        for cid in sorted(filter(concerned, self._waiting)):
            run = self.runs[cid]
            if run.state is CueState.WAITING:
                self._recheck_wait(run, now)

    def _recheck_wait(self, run: CueRun, now: float) -> None:
        """Test a waiting cue's condition at ``now``: go on once it is true (and, with
        ``hold``, has stayed true that long); a false reading restarts the hold."""
        cue = run.cue
        cond = cue.wait_for
        if cond is None:
            return
        if not evaluate(cond, self.signals, now, run.wait_since is not None):
            run.wait_since = None
            return
        if cue.wait_hold > 0:
            if run.wait_since is None:
                run.wait_since = now
                self._push_timer(now + cue.wait_hold, "hold", cue.id, run.gen)
                return
            if now < run.wait_since + cue.wait_hold:  # the same sum the timer was set to
                return
        self._waiting.discard(cue.id)
        self._proceed(run, now)

    def _on_source(self, event: SourceHealth, now: float) -> None:
        self.signals.set_source(event.source, event.up)
        self._report(
            "info" if event.up else "warning",
            event.source,
            "source connected" if event.up else "source lost: its signals are marked lost",
        )
        self._sweep(now)  # marks the source's signals and runs the source triggers
        if self._waiting:
            self._check_waiting(now, None)

    def _sweep(self, now: float) -> None:
        interval = self.show.health_interval
        # an integer count of intervals keeps the grid exact (4.3 / 0.1 is 42.999...)
        self._next_sweep = (math.floor(now / interval + 1e-9) + 1) * interval
        if self._next_sweep <= now:
            self._next_sweep = now + interval
        for sig in self.signals.sweep(now):
            self._emit(SignalHealthChanged(sig.name, sig.health))
            self._signal_changed(sig, now)
        if self._source_triggers:
            for tname in self._source_triggers:
                ts = self.triggers[tname]
                if ts.update(self.signals, now):
                    self._act_trigger(ts, None, now)

    def _sweep_needed(self) -> bool:
        return self.signals.any_not_lost()

    def _recompute_derived(self, now: float) -> None:
        if not self._dirty_derived:
            return
        dirty = sorted(self._dirty_derived)
        self._dirty_derived.clear()
        for name in dirty:
            sig = self.signals.set_derived(name, now)
            if sig is None:
                continue
            health = self.signals.health_of(sig, now)
            if health is not sig.health:
                sig.health = health
                self._emit(SignalHealthChanged(name, health))
            self._signal_changed(sig, now)

    def _check_trigger_deadlines(self, now: float) -> None:
        for ts in self.triggers.values():
            d = ts.deadline()
            if d is not None and d <= now and ts.update(self.signals, now):
                # a hold ends between samples: show the value that held
                sig = self.signals.signals.get(ts.definition.condition.signal)
                self._act_trigger(ts, None if sig is None else sig.value, now)

    def _act_trigger(self, ts: TriggerState, value: object, now: float) -> None:
        d = ts.definition
        shown = value if isinstance(value, float | int | str | bool) else None
        self._emit(TriggerFired(d.name, shown))
        self._report("info", d.name, f"trigger fired ({d.condition.describe()})")
        if d.go:
            self._go("", now)
        if d.start_cue is not None:
            self._queue_start(d.start_cue, now, follow=False)

    def _flush_mapping(self, name: str, now: float) -> None:
        """Send a mapping's current value now, whatever its rate limit says."""
        ms = self.mappings[name]
        if not ms.enabled:
            return
        ms.last_send_time = -math.inf
        cmd, _ = ms.step(now)
        if cmd is not None:
            self._emit(cmd)

    def _mark_mapping(self, name: str) -> None:
        """Schedule a mapping to run when its rate limit allows."""
        due = self.mappings[name].due()
        current = self._mapping_due.get(name)
        if current is None or due < current:
            self._mapping_due[name] = due
            heapq.heappush(self._mapping_heap, (due, name))

    def _unmark_mapping(self, name: str) -> None:
        self._mapping_due.pop(name, None)

    def _run_mappings(self, now: float) -> None:
        heap, due_of = self._mapping_heap, self._mapping_due
        mappings, out = self.mappings, self._out
        pop, push = heapq.heappop, heapq.heappush
        while heap and heap[0][0] <= now:
            due, name = pop(heap)
            if due_of.get(name) != due:
                continue
            del due_of[name]
            ms = mappings[name]
            if not ms.enabled:
                continue
            if now < ms.due():
                self._mark_mapping(name)
                continue
            cmd, settling = ms.step(now)
            if cmd is not None:
                out.append(cmd)
            if settling:
                if ms.last_send_time < now:
                    ms.last_send_time = now
                again = ms.due()
                due_of[name] = again
                push(heap, (again, name))
