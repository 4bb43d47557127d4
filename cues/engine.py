"""The cue engine: a pure state machine fed events and the time.

    engine.handle(event, now)   # an operator action, a sample, a source change
    engine.advance(now)         # let timers, fades, health and mappings run
    engine.commands()           # what to send, in order
    engine.next_deadline()      # when to call advance() again (None: idle)

It imports no I/O and reads no clock, so the live runner (event-loop time) and
the dry run (a virtual clock) drive exactly the same code. ``handle`` and
``advance`` never raise: a failure is reported as a ``Report`` command.

The engine is a facade over parts that each own their state; it wires them, turns
events into calls on them and keeps the order in which they run. Where each behaviour
happens:

=========================================================  ==========================
behaviour                                                  file
=========================================================  ==========================
public API, event dispatch, the order of a step, stats     cues/engine.py
timers: typed kinds, one heap, stale timers dropped        cues/timers.py
when each mapping runs: rate limits, settling, schedule    cues/mapping_scheduler.py
a mapping's chain (range, curve, smoothing, slew, level)   cues/mappings.py
samples -> signals -> derived -> health -> triggers        cues/flow.py
signal store, history, health rules, derived values        cues/signals.py
conditions (triggers and conditional waits) and triggers   cues/conditions.py
cue phases: wait, pre-wait, action, post-wait, continue,   cues/lifecycle.py
  follow, stop, pause, resume, fallbacks, start queue
what each kind of cue does; fades; groups; notices         cues/perform.py
standby per list, GO and the double-GO guard               cues/cuelists.py
which cue a continue starts, fallbacks outside GO order    cues/sequence.py
panic: fade-out, refusals, the end                         cues/panic.py
reload while running: refusals, what carries over          cues/reload.py
commands out, report levels, the outbox                    cues/commands.py
=========================================================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cues.commands import Command, CueState, Outbox, ReportLevel
from cues.conditions import TriggerState
from cues.cuelists import CueLists
from cues.events import (
    ArmCue,
    EditCue,
    Event,
    ExternalTrigger,
    Go,
    Panic,
    Pause,
    PlayheadNext,
    PlayheadPrevious,
    Reset,
    Resume,
    Sample,
    SetMinGoInterval,
    SetPlayhead,
    SourceHealth,
    StartCue,
    Stop,
    StopCue,
)
from cues.flow import SignalFlow
from cues.lifecycle import CueLifecycle
from cues.mapping_scheduler import MappingScheduler
from cues.mappings import MappingState
from cues.model import Condition, CueDef, CueId, ShowModel, TriggerDef, Value
from cues.panic import PanicFade
from cues.reload import EngineParts, ReloadPlan, ReloadResult, reload_model
from cues.runtime import CueRun
from cues.signals import SignalStore
from cues.timers import TimerQueue

__all__ = ["Engine", "EngineStats"]

_EDITABLE = ("name", "prewait", "duration", "postwait", "continue_mode")


@dataclass(slots=True)
class EngineStats:
    """Counters for health displays and benchmarks."""

    events: int = 0
    samples: int = 0
    commands: int = 0
    errors: int = 0
    go_rejected: int = 0


class Engine:
    """Runs one show. See the module docstring for the calling pattern and the parts.

    ``show``, ``cues``, ``runs``, ``signals``, ``mappings``, ``triggers``, ``last_go``,
    ``min_go_interval``, ``panic_until`` and ``stats`` are for reading (the console, the
    QLab control and the dry run show them); everything changes through events.
    """

    def __init__(self, show: ShowModel, now: float = 0.0) -> None:
        self.show = show
        self._now = now
        self._events = 0
        self._commands = 0
        self._errors = 0
        self._out = Outbox()
        self._timers = TimerQueue()
        self._mappings = MappingScheduler(show.mappings, self._out)
        cues = dict(show.cues)
        self._lists = CueLists(show, cues, self._out)
        self._lifecycle = CueLifecycle(
            cues, self._out, self._timers, self._lists, self._mappings, self
        )
        self._flow = SignalFlow(
            show, now, self._out, self._mappings, self._lifecycle, self._trigger_acts
        )
        self._panic = PanicFade(show, self._out, self._timers, self._lifecycle, self._mappings)
        self._handlers: dict[type[Any], Callable[[Any, float], None]] = {
            Go: self._on_go,
            StartCue: self._on_start,
            Stop: self._on_stop,
            StopCue: self._on_stop,
            Pause: self._on_pause,
            Resume: self._on_resume,
            Panic: self._on_panic,
            Reset: self._on_reset,
            SetPlayhead: self._on_set_playhead,
            PlayheadNext: self._on_playhead_step,
            PlayheadPrevious: self._on_playhead_step,
            SetMinGoInterval: self._on_min_go_interval,
            EditCue: self._on_edit,
            ArmCue: self._on_arm,
            SourceHealth: self._flow.source_health,
            ExternalTrigger: self._on_external_trigger,
        }

    # -- what the rest of the show reads ----------------------------------------------

    @property
    def cues(self) -> dict[CueId, CueDef]:
        """Every cue's definition as edited live (a start takes the latest)."""
        return self._lifecycle.cues

    @property
    def runs(self) -> dict[CueId, CueRun]:
        """What every cue is doing now."""
        return self._lifecycle.runs

    @property
    def signals(self) -> SignalStore:
        """The signals' values, health and history."""
        return self._flow.signals

    @property
    def mappings(self) -> dict[str, MappingState]:
        """The mappings' running states."""
        return self._mappings.states

    @property
    def triggers(self) -> dict[str, TriggerState]:
        """The triggers' states."""
        return self._flow.triggers

    @property
    def last_go(self) -> float:
        """When the last accepted GO came (``-inf``: none since the start or a reset)."""
        return self._lists.last_go

    @property
    def min_go_interval(self) -> float:
        """The double-GO guard's minimum interval between GOs."""
        return self._lists.min_go_interval

    @property
    def panic_until(self) -> float | None:
        """When the panic in progress ends (None: no panic)."""
        return self._panic.until

    @property
    def stats(self) -> EngineStats:
        """The counters now (a new object each time)."""
        return EngineStats(
            events=self._events,
            samples=self._flow.samples,
            commands=self._commands,
            errors=self._errors,
            go_rejected=self._lists.go_rejected,
        )

    # -- public API ------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> None:
        """Apply one event that happened at ``now``. Never raises.

        Everything due by ``now`` happens first (as :meth:`advance` would), so an event
        handed in by a loop that woke up late finds the show where its schedule put it,
        as a dry run on the virtual clock does.
        """
        if type(event) is not Sample:
            self.advance(now)
        self._events += 1
        self._now = now
        try:
            if self._timers.head <= now:
                self._run_timers(now)
            if type(event) is Sample:
                self._flow.sample(event.signal, event.value, event.source, now)
            else:
                self._dispatch(event, now)
            if self._lifecycle.starting:
                self._drain_starts()
        except Exception as exc:  # the show must go on: report, never raise
            self._fail(f"while handling {type(event).__name__}", exc)

    def handle_samples(
        self, samples: Iterable[tuple[str, Value | None]], now: float, source: str = ""
    ) -> None:
        """Apply samples that arrived together (one telemetry frame) at ``now``.

        The same as handing each in as a ``Sample`` event, without the per-event
        overhead. Never raises; a failing sample is reported and the rest go on.
        """
        self._now = now
        if self._timers.head <= now:
            try:
                self._run_timers(now)
            except Exception as exc:
                self._fail("while running timers", exc)
        count = 0
        sample = self._flow.sample
        for signal, value in samples:
            count += 1
            try:
                sample(signal, value, source, now)
            except Exception as exc:
                self._fail(f"while handling a sample of {signal!r}", exc)
        self._events += count
        if self._lifecycle.starting:
            try:
                self._drain_starts()
            except Exception as exc:
                self._fail("while starting cues", exc)

    def advance(self, now: float) -> None:
        """Run everything due at or before ``now``. Never raises."""
        self._now = now
        try:
            self._run_timers(now)
            self._flow.advance(now)
            self._panic.step(now)
            self._mappings.run(now)
            if self._lifecycle.starting:
                self._drain_starts()
        except Exception as exc:
            self._fail("while advancing", exc)

    def commands(self) -> list[Command]:
        """Take the commands produced since the last call, oldest first."""
        out = self._out.take()
        self._commands += len(out)
        return out

    def next_deadline(self) -> float | None:
        """When ``advance`` next has work to do, or None if only events can wake it."""
        best = self._flow.next_deadline(self._now)
        due = self._timers.next_due()
        if due is not None and due < best:
            best = due
        due = self._mappings.next_due()
        if due is not None and due < best:
            best = due
        due = self._panic.next_step()
        if due < best:
            best = due
        return None if best == math.inf else best

    def playhead(self, cue_list: str = "") -> CueId | None:
        """The standby cue of a list (the first list by default)."""
        return self._lists.playhead(cue_list)

    def edit_cue(self, cue: CueId, **changes: Any) -> CueDef:
        """Change a cue's timing, name or continue mode while the show runs.

        Takes effect from the cue's next start. Raises KeyError for an unknown
        cue and TypeError for a field that cannot change (its id or number).
        """
        return self._lifecycle.edit_cue(cue, **changes)

    def reload(self, show: ShowModel, now: float, plan: ReloadPlan | None = None) -> ReloadResult:
        """Apply an edited show while it runs (the rules are in :mod:`cues.reload`):
        nothing running stops; a reload that would remove something running is refused
        whole. ``plan`` (``cues.reload.plan_reload``, made off the show loop) saves
        comparing the models here. Never raises."""
        self._now = now
        parts = EngineParts(
            self._lifecycle, self._lists, self._mappings, self._flow, self._panic, self._timers
        )
        try:
            result = reload_model(parts, self.show, show, now, plan)
        except Exception as exc:  # the show must go on
            self._fail("while reloading the show", exc)
            return ReloadResult(refused=[f"{type(exc).__name__}: {exc}"])
        if result.ok:
            self.show = show
        level = ReportLevel.INFO if result.ok else ReportLevel.WARNING
        self._out.report(level, "RELOAD", result.summary())
        if result.ok:
            self._lists.announce()
        return result

    def set_armed(self, cue: CueId, armed: bool) -> None:
        """Arm or disarm a cue (as an arm/disarm cue would), until the show is reset."""
        self._lifecycle.set_armed(cue, armed)

    def state_of(self, cue: CueId) -> CueState:
        """A cue's current state."""
        return self._lifecycle.runs[cue].state

    def running_cues(self) -> list[CueId]:
        """Cues that are waiting, in pre-wait, running or paused, in show order (found
        without looking at the idle ones)."""
        return self._lifecycle.active_in_order()

    # -- links between the parts -------------------------------------------------------

    def holds(self, cond: Condition, now: float, was_true: bool) -> bool:
        """Whether a condition holds (for the cues' conditional waits)."""
        return self._flow.holds(cond, now, was_true)

    def set_trigger_enabled(self, name: str, on: bool, now: float) -> None:
        """Arm or disarm a trigger (for arm and disarm cues)."""
        self._flow.set_trigger_enabled(name, on, now)

    def _trigger_acts(self, trigger: TriggerDef, now: float) -> None:
        if trigger.go:
            self._go("", now)
        if trigger.start_cue is not None:
            self._lifecycle.queue_start(trigger.start_cue, now)

    def _go(self, cue_list: str, now: float) -> None:
        cid = self._lists.go(cue_list, now, panicking=self._panic.active)
        if cid is not None:
            self._lifecycle.queue_start(cid, now)

    # -- plumbing ----------------------------------------------------------------------

    def _fail(self, where: str, exc: Exception) -> None:
        self._errors += 1
        self._out.report(
            ReportLevel.ERROR, "engine", f"{where}: {type(exc).__name__}: {exc}; show continues"
        )

    def _run_timers(self, now: float) -> None:
        """Run every valid timer due by ``now`` in order, starting the cues each one
        queues before the next."""
        self._timers.run_due(now, self._lifecycle.drain_starts)

    def _drain_starts(self) -> None:
        self._lifecycle.drain_starts()

    def _known(self, cue: CueId) -> CueId:
        if cue not in self._lifecycle.runs:
            raise KeyError(f"no cue {cue!r} in this show")
        return cue

    # -- events ------------------------------------------------------------------------

    def _dispatch(self, event: Event, now: float) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event, now)

    def _on_go(self, event: Go, now: float) -> None:
        self._go(event.cue_list, now)

    def _on_start(self, event: StartCue, now: float) -> None:
        self._lifecycle.queue_start(self._known(event.cue), now)

    def _on_stop(self, event: Stop | StopCue, now: float) -> None:
        self._lifecycle.stop(None if event.cue is None else self._known(event.cue), now)

    def _on_pause(self, event: Pause, now: float) -> None:
        self._lifecycle.pause(self._known(event.cue) if event.cue else None, now)

    def _on_resume(self, event: Resume, now: float) -> None:
        self._lifecycle.resume(self._known(event.cue) if event.cue else None, now)

    def _on_panic(self, event: Panic, now: float) -> None:
        self._panic.begin(event.duration, now)

    def _on_reset(self, _: Reset, now: float) -> None:
        self._panic.reset()
        self._lifecycle.reset(now)
        self._mappings.reset()
        self._flow.reset()
        self._lists.reset()
        self._out.report(ReportLevel.INFO, "RESET", "show reset: playheads on the first cue")

    def _on_set_playhead(self, event: SetPlayhead, _: float) -> None:
        self._lists.stand_by(self._known(event.cue))

    def _on_playhead_step(self, event: PlayheadNext | PlayheadPrevious, _: float) -> None:
        self._lists.move(event.cue_list, 1 if isinstance(event, PlayheadNext) else -1)

    def _on_min_go_interval(self, event: SetMinGoInterval, _: float) -> None:
        self._lists.set_min_go_interval(event.seconds)

    def _on_edit(self, event: EditCue, _: float) -> None:
        changes = {f: getattr(event, f) for f in _EDITABLE if getattr(event, f) is not None}
        self.edit_cue(self._known(event.cue), **changes)

    def _on_arm(self, event: ArmCue, _: float) -> None:
        self.set_armed(self._known(event.cue), event.armed)

    def _on_external_trigger(self, event: ExternalTrigger, now: float) -> None:
        if event.cue is not None:
            self._lifecycle.queue_start(self._known(event.cue), now)
        elif not self._flow.fire_external(event.trigger, now):
            self._out.report(
                ReportLevel.WARNING, event.trigger, "external trigger names no trigger"
            )
