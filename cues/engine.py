"""The cue engine: a pure state machine fed events and the time.

    engine.handle(event, now)   # an operator action, a sample, a source change
    engine.advance(now)         # let timers, fades, health and mappings run
    engine.commands()           # what to send, in order
    engine.next_deadline()      # when to call advance() again (None: idle)

It imports no I/O and reads no clock, so the live runner (event-loop time) and
the dry run (a virtual clock) drive exactly the same code. ``handle`` and
``advance`` never raise: a failure is reported as a ``Report`` command.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cues.actions import CueActions
from cues.commands import (
    ClearNotice,
    Command,
    CueState,
    CueStateChanged,
    PlayheadChanged,
    Report,
    SetScene,
)
from cues.conditions import TriggerState
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
from cues.live import TelemetryFlow
from cues.mappings import MappingState, target_command
from cues.model import (
    ContinueMode,
    CueDef,
    CueId,
    CueKind,
    Curve,
    GroupMode,
    ShowModel,
    Value,
)
from cues.reload import ReloadPlan, ReloadResult, reload_model
from cues.runtime import CueRun
from cues.sequence import CueOrder
from cues.signals import SignalStore

__all__ = ["Engine", "EngineStats"]

_MAX_STARTS_PER_STEP = 10_000
_LEVEL_FADE_RATE = 30.0


@dataclass(slots=True)
class EngineStats:
    """Counters for health displays and benchmarks."""

    events: int = 0
    samples: int = 0
    commands: int = 0
    errors: int = 0
    go_rejected: int = 0


@dataclass(slots=True)
class _LevelFade:
    """A panic's linear fade of one mapping's level to zero."""

    start: float
    t0: float
    duration: float
    next_step: float


class Engine(CueActions, TelemetryFlow):
    """Runs one show. See the module docstring for the calling pattern.

    Cue actions live in :mod:`cues.actions` and telemetry in :mod:`cues.live`.
    """

    def __init__(self, show: ShowModel, now: float = 0.0) -> None:
        self.show = show
        self.stats = EngineStats()
        self.signals = SignalStore(show.signals, show.derived, show.max_dynamic_signals)
        self.cues: dict[CueId, CueDef] = dict(show.cues)
        self.runs: dict[CueId, CueRun] = {
            cid: CueRun(cue=c, armed=c.armed) for cid, c in show.cues.items()
        }
        self.mappings: dict[str, MappingState] = {
            m.name: MappingState(definition=m, enabled=m.enabled, level=m.level)
            for m in show.mappings
        }
        self.triggers: dict[str, TriggerState] = {
            t.name: TriggerState(definition=t, enabled=t.enabled) for t in show.triggers
        }
        self.playheads: dict[str, int | None] = {}
        self.min_go_interval = show.min_go_interval
        self.last_go = -math.inf
        self.panic_until: float | None = None
        self._panic_gen = 0
        self.notices: dict[str, float | None] = {}
        self.target_values: dict[str, float] = {}
        self._out: list[Command] = []
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._seq = 0
        self._starts: deque[tuple[CueId, float, bool]] = deque()
        self._queued: set[CueId] = set()
        # mappings waiting to send: a heap of (due time, name); entries whose time no
        # longer matches ``_mapping_due`` are stale and skipped
        self._mapping_heap: list[tuple[float, str]] = []
        self._mapping_due: dict[str, float] = {}
        self._dirty_derived: set[str] = set()
        self._level_fades: dict[str, _LevelFade] = {}
        self._waiting: set[CueId] = set()
        self._next_sweep = now
        self._now = now
        self._mapping_states_by_signal: dict[str, list[tuple[str, MappingState]]] = {}
        for m in show.mappings:
            self._mapping_states_by_signal.setdefault(m.signal, []).append(
                (m.name, self.mappings[m.name])
            )
        self._triggers_by_signal: dict[str, list[str]] = {}
        self._source_triggers: list[str] = []
        for t in show.triggers:
            if t.condition.signal:
                self._triggers_by_signal.setdefault(t.condition.signal, []).append(t.name)
            else:
                self._source_triggers.append(t.name)
        self._list_of: dict[CueId, str] = {}
        self._order = CueOrder(self.cues, show.cue_lists)
        for cl in show.cue_lists:
            for cid in cl.cues:
                self._list_of[cid] = cl.name
            self.playheads[cl.name] = self._order.standby_index(cl.cues, 0, 1)
        self._lists = {cl.name: cl for cl in show.cue_lists}

    # -- public API ------------------------------------------------------------

    def handle(self, event: Event, now: float) -> None:
        """Apply one event that happened at ``now``. Never raises.

        Everything due by ``now`` happens first (as :meth:`advance` would), so an event
        handed in by a loop that woke up late finds the show where its schedule put it,
        as a dry run on the virtual clock does.
        """
        if type(event) is not Sample:
            self.advance(now)
        self.stats.events += 1
        self._now = now
        try:
            timers = self._timers
            if timers and timers[0][0] <= now:
                self._run_timers(now)
            if type(event) is Sample:
                self._sample(event.signal, event.value, event.source, now)
            else:
                self._dispatch(event, now)
            if self._starts:
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
        timers = self._timers
        if timers and timers[0][0] <= now:
            try:
                self._run_timers(now)
            except Exception as exc:
                self._fail("while running timers", exc)
        count = 0
        sample = self._sample
        for signal, value in samples:
            count += 1
            try:
                sample(signal, value, source, now)
            except Exception as exc:
                self._fail(f"while handling a sample of {signal!r}", exc)
        self.stats.events += count
        if self._starts:
            try:
                self._drain_starts()
            except Exception as exc:
                self._fail("while starting cues", exc)

    def advance(self, now: float) -> None:
        """Run everything due at or before ``now``. Never raises."""
        self._now = now
        try:
            self._run_timers(now)
            if now >= self._next_sweep:
                self._sweep(now)
            self._recompute_derived(now)
            self._check_trigger_deadlines(now)
            self._step_level_fades(now)
            self._run_mappings(now)
            self._drain_starts()
        except Exception as exc:
            self._fail("while advancing", exc)

    def commands(self) -> list[Command]:
        """Take the commands produced since the last call, oldest first."""
        out = self._out
        self._out = []
        self.stats.commands += len(out)
        return out

    def next_deadline(self) -> float | None:
        """When ``advance`` next has work to do, or None if only events can wake it."""
        best = math.inf
        timers = self._timers
        while timers:
            due, _, kind, key, gen = timers[0]
            if self._timer_valid(kind, key, gen):
                best = due
                break
            heapq.heappop(timers)
        heap, due_of = self._mapping_heap, self._mapping_due
        while heap and due_of.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)
        if heap:
            best = min(best, heap[0][0])
        for ts in self.triggers.values():
            d = ts.deadline()
            if d is not None:
                best = min(best, d)
        for lf in self._level_fades.values():
            best = min(best, lf.next_step)
        if self._dirty_derived:
            best = min(best, self._now)
        if self._sweep_needed():
            best = min(best, self._next_sweep)
        return None if best == math.inf else best

    def playhead(self, cue_list: str = "") -> CueId | None:
        """The standby cue of a list (the first list by default)."""
        name = cue_list or self.show.cue_lists[0].name
        idx = self.playheads.get(name)
        cues = self._lists[name].cues
        return cues[idx] if idx is not None and idx < len(cues) else None

    def edit_cue(self, cue: CueId, **changes: Any) -> CueDef:
        """Change a cue's timing, name or continue mode while the show runs.

        Takes effect from the cue's next start. Raises KeyError for an unknown
        cue and TypeError for a field that cannot change (its id or number).
        """
        if {"id", "number", "parent", "children", "kind"} & changes.keys():
            raise TypeError("a cue's id, number, kind and group membership cannot change")
        new = dataclasses.replace(self.cues[cue], **changes)
        self.cues[cue] = new
        if not self.runs[cue].active:
            self.runs[cue].cue = new
        return new

    def reload(self, show: ShowModel, now: float, plan: ReloadPlan | None = None) -> ReloadResult:
        """Apply an edited show while it runs (the rules are in :mod:`cues.reload`):
        nothing running stops; a reload that would remove something running is refused
        whole. ``plan`` (``cues.reload.plan_reload``, made off the show loop) saves
        comparing the models here. Never raises."""
        self._now = now
        try:
            result = reload_model(self, show, now, plan)
        except Exception as exc:  # the show must go on
            self._fail("while reloading the show", exc)
            return ReloadResult(refused=[f"{type(exc).__name__}: {exc}"])
        self._report("info" if result.ok else "warning", "RELOAD", result.summary())
        if result.ok:
            for cl in show.cue_lists:
                self._emit(PlayheadChanged(cl.name, self.playhead(cl.name)))
        return result

    def set_armed(self, cue: CueId, armed: bool) -> None:
        """Arm or disarm a cue (as an arm/disarm cue would), until the show is reset."""
        self.runs[cue].armed = armed

    def state_of(self, cue: CueId) -> CueState:
        """A cue's current state."""
        return self.runs[cue].state

    def running_cues(self) -> list[CueId]:
        """Cues that are waiting, in pre-wait, running or paused."""
        return [cid for cid, r in self.runs.items() if r.active]

    # -- plumbing --------------------------------------------------------------

    def _emit(self, cmd: Command) -> None:
        self._out.append(cmd)

    def _report(self, level: str, subject: str, message: str) -> None:
        self._out.append(Report(level, subject, message))

    def _fail(self, where: str, exc: Exception) -> None:
        self.stats.errors += 1
        self._report("error", "engine", f"{where}: {type(exc).__name__}: {exc}; show continues")

    def _push_timer(self, due: float, kind: str, key: str, gen: int) -> None:
        self._seq += 1
        heapq.heappush(self._timers, (due, self._seq, kind, key, gen))

    def _timer_valid(self, kind: str, key: str, gen: int) -> bool:
        if kind == "notice":
            return self.notices.get(key) is not None and gen == -1
        if kind == "panic":
            return self.panic_until is not None and gen == self._panic_gen
        run = self.runs.get(CueId(key))
        return run is not None and run.gen == gen

    def _run_timers(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            due, _, kind, key, gen = heapq.heappop(timers)
            if not self._timer_valid(kind, key, gen):
                continue
            if kind == "notice":
                if self.notices.get(key) == due:
                    del self.notices[key]
                    self._emit(ClearNotice(key))
            elif kind == "panic":
                self._end_panic(due)
            else:
                self._on_cue_timer(self.runs[CueId(key)], kind, due)
            self._drain_starts()

    def _set_state(self, run: CueRun, state: CueState) -> None:
        if run.state is not state:
            run.state = state
            self._emit(CueStateChanged(run.cue.id, state))

    # -- events ----------------------------------------------------------------

    def _dispatch(self, event: Event, now: float) -> None:
        if isinstance(event, Go):
            self._go(event.cue_list, now)
        elif isinstance(event, StartCue):
            self._queue_start(self._known(event.cue), now, follow=False)
        elif isinstance(event, Stop | StopCue):
            if event.cue is None:
                for run in self.runs.values():
                    if run.active:
                        self._stop(run, now)
            else:
                self._stop(self.runs[self._known(event.cue)], now)
        elif isinstance(event, Pause):
            targets = [self._known(event.cue)] if event.cue else list(self.runs)
            for cid in targets:
                self._pause(self.runs[cid], now)
        elif isinstance(event, Resume):
            targets = [self._known(event.cue)] if event.cue else list(self.runs)
            for cid in targets:
                self._resume(self.runs[cid], now)
        elif isinstance(event, Panic):
            self._panic(event.duration, now)
        elif isinstance(event, Reset):
            self._reset(now)
        elif isinstance(event, SetPlayhead):
            cid = self._known(event.cue)
            lst = self._list_of.get(cid)
            if lst is None:
                self._report("warning", cid, "only top-level cues can be on standby")
            else:
                self._set_playhead(lst, self._order.position(cid))
        elif isinstance(event, PlayheadNext | PlayheadPrevious):
            name = event.cue_list or self.show.cue_lists[0].name
            cues = self._lists[name].cues
            idx = self.playheads[name]
            step = 1 if isinstance(event, PlayheadNext) else -1
            pos = min(max((len(cues) if idx is None else idx) + step, 0), len(cues))
            found = self._order.standby_index(cues, pos, step)
            if found is not None or step > 0:
                self._set_playhead(name, found)
        elif isinstance(event, SetMinGoInterval):
            self.min_go_interval = max(0.0, float(event.seconds))
        elif isinstance(event, EditCue):
            fields = ("name", "prewait", "duration", "postwait", "continue_mode")
            changes = {f: getattr(event, f) for f in fields if getattr(event, f) is not None}
            self.edit_cue(self._known(event.cue), **changes)
        elif isinstance(event, ArmCue):
            self.set_armed(self._known(event.cue), event.armed)
        elif isinstance(event, SourceHealth):
            self._on_source(event, now)
        elif isinstance(event, ExternalTrigger):
            if event.cue is not None:
                self._queue_start(self._known(event.cue), now, follow=False)
            elif event.trigger in self.triggers:
                self._act_trigger(self.triggers[event.trigger], None, now)
            else:
                self._report("warning", event.trigger, "external trigger names no trigger")

    def _known(self, cue: CueId) -> CueId:
        if cue not in self.runs:
            raise KeyError(f"no cue {cue!r} in this show")
        return cue

    def _set_playhead(self, cue_list: str, idx: int | None) -> None:
        cues = self._lists[cue_list].cues
        if idx is not None and idx >= len(cues):
            idx = None
        if self.playheads[cue_list] != idx:
            self.playheads[cue_list] = idx
            self._emit(PlayheadChanged(cue_list, cues[idx] if idx is not None else None))

    def _go(self, cue_list: str, now: float) -> None:
        name = cue_list or self.show.cue_lists[0].name
        if name not in self._lists:
            self._report("warning", name, "GO for an unknown cue list ignored")
            return
        if self.panic_until is not None:
            self.stats.go_rejected += 1
            self._report("warning", "GO", "ignored: panic in progress")
            return
        if now - self.last_go < self.min_go_interval:
            self.stats.go_rejected += 1
            self._report(
                "warning",
                "GO",
                f"ignored by the double-GO guard ({now - self.last_go:.3f} s after the last GO,"
                f" minimum {self.min_go_interval:g} s)",
            )
            return
        cid = self.playhead(name)
        if cid is None:
            self._report("info", "GO", f"nothing on standby in list {name!r}")
            return
        self.last_go = now
        self._standby_after(name)
        self._queue_start(cid, now, follow=False)

    def _standby_after(self, cue_list: str) -> None:
        """Move a list's standby past its current cue (and past any fallback cues)."""
        idx = self.playheads[cue_list]
        if idx is not None:
            idx = self._order.standby_index(self._lists[cue_list].cues, idx + 1, 1)
        self._set_playhead(cue_list, idx)

    # -- starting and stopping cues ---------------------------------------------

    def _queue_start(self, cid: CueId, t: float, follow: bool) -> None:
        self._starts.append((cid, t, follow))
        self._queued.add(cid)

    def _drain_starts(self) -> None:
        count = 0
        while self._starts:
            cid, t, follow = self._starts.popleft()
            self._queued.discard(cid)
            count += 1
            if count > _MAX_STARTS_PER_STEP:
                self._starts.clear()
                self._queued.clear()
                self._report("error", cid, "too many cue starts at one instant; chain halted")
                return
            self._start(self.runs[cid], t, follow)

    def _start(self, run: CueRun, t: float, follow: bool) -> None:
        cue = run.cue
        if self.panic_until is not None:
            self._report("warning", cue.id, "not started: panic in progress")
            return
        if run.active:
            self._stop(run, t, notify_parent=False)
        run.cue = cue = self.cues[cue.id]  # edits take effect from this start
        if follow:
            lst = self._list_of.get(cue.id)
            if lst is not None and self.playhead(lst) == cue.id:
                self._standby_after(lst)
        run.gen += 1
        run.starts += 1
        run.clear()
        run.started_at = t
        if cue.wait_for is not None:
            self._set_state(run, CueState.WAITING)
            self._waiting.add(cue.id)
            if cue.wait_timeout is not None:
                run.wait_deadline = t + cue.wait_timeout
                self._push_timer(run.wait_deadline, "timeout", cue.id, run.gen)
            self._recheck_wait(run, t)
            return
        self._proceed(run, t)

    def _proceed(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.wait_deadline = None
        run.started_at = t
        if cue.prewait > 0:
            self._set_state(run, CueState.PREWAIT)
            self._push_timer(t + cue.prewait, "action", cue.id, run.gen)
        else:
            self._begin_action(run, t)

    def _begin_action(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.action_at = t
        self._set_state(run, CueState.RUNNING)
        if cue.continue_mode is ContinueMode.AUTO_CONTINUE and self._order.continue_applies(cue):
            run.continue_at = t + cue.postwait
        run.action_end = t + cue.duration
        if run.armed:
            self._perform(run, t)
        elif cue.kind is CueKind.GROUP:
            run.action_end = t
        if run.continue_at is not None:
            if run.continue_at <= t:
                self._fire_continue(run, t)
            else:
                self._push_timer(run.continue_at, "continue", cue.id, run.gen)
        if run.action_end is not None:
            if run.action_end <= t:
                self._end_action(run, t)
            else:
                self._push_timer(run.action_end, "end", cue.id, run.gen)
                if cue.kind is CueKind.FADE and run.armed:
                    self._push_timer(self._next_fade_step(run), "fade", cue.id, run.gen)

    def _fire_continue(self, run: CueRun, t: float) -> None:
        run.continue_at = None
        nxt = self._order.next_of(run.cue)
        if nxt is not None:
            self._queue_start(nxt, t, follow=True)

    def _end_action(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.action_done = True
        run.action_end = t
        if cue.kind is CueKind.FADE and run.armed:
            self._fade_emit(run, cue.fade_to)
            if cue.stop_target and cue.fade_target is not None and cue.fade_target.mapping:
                self._flush_mapping(cue.fade_target.mapping, t)
                self._set_mapping_enabled(cue.fade_target.mapping, False)
        if cue.continue_mode is ContinueMode.AUTO_FOLLOW and self._order.continue_applies(cue):
            nxt = self._order.next_of(cue)
            if nxt is not None:
                self._queue_start(nxt, t, follow=True)
        self._maybe_finish(run, t)

    def _maybe_finish(self, run: CueRun, t: float) -> None:
        if run.state is CueState.RUNNING and run.action_done and run.continue_at is None:
            self._set_state(run, CueState.IDLE)
            if run.cue.parent is not None:
                self._child_finished(self.runs[run.cue.parent], run, t)

    def _child_finished(self, group: CueRun, child: CueRun, t: float) -> None:
        if group.state is not CueState.RUNNING or group.action_done:
            return
        cue = group.cue
        if cue.group_mode is GroupMode.PLAYLIST and cue.children[group.child_index] != child.cue.id:
            return  # a playlist moves on only when its current child finishes
        self._recheck_group(group, t)

    def _on_cue_timer(self, run: CueRun, kind: str, due: float) -> None:
        if kind == "action":
            self._begin_action(run, due)
        elif kind == "end":
            if not run.action_done:
                self._end_action(run, due)
        elif kind == "continue":
            self._fire_continue(run, due)
            self._maybe_finish(run, due)
        elif kind == "fade":
            self._fade_step(run, due)
        elif kind == "timeout":
            self._wait_timeout(run, due)
        elif kind == "hold" and run.state is CueState.WAITING:
            self._recheck_wait(run, due)

    def _stop(self, run: CueRun, t: float, notify_parent: bool = True) -> None:
        if not run.active:
            return
        run.gen += 1
        was_group = run.cue.kind is CueKind.GROUP
        run.continue_at = None
        run.action_done = True
        self._waiting.discard(run.cue.id)
        if was_group:
            for c in run.cue.children:
                self._stop(self.runs[c], t)
        self._set_state(run, CueState.IDLE)
        if notify_parent and run.cue.parent is not None:
            self._child_finished(self.runs[run.cue.parent], run, t)

    def _pause(self, run: CueRun, t: float) -> None:
        if run.state not in (CueState.WAITING, CueState.PREWAIT, CueState.RUNNING):
            return
        run.paused_from = run.state
        run.paused_at = t
        run.gen += 1
        self._set_state(run, CueState.PAUSED)
        if run.cue.kind is CueKind.GROUP:
            for c in run.cue.children:
                self._pause(self.runs[c], t)

    def _resume(self, run: CueRun, t: float) -> None:
        if run.state is not CueState.PAUSED or run.paused_at is None:
            return
        state = run.paused_from or CueState.RUNNING
        run.shift(t - run.paused_at)
        run.paused_at = None
        run.gen += 1
        self._set_state(run, state)
        cid = run.cue.id
        if state is CueState.WAITING and run.wait_deadline is not None:
            self._push_timer(run.wait_deadline, "timeout", cid, run.gen)
        elif state is CueState.PREWAIT:
            self._push_timer(run.started_at + run.cue.prewait, "action", cid, run.gen)
        elif state is CueState.RUNNING:
            if run.continue_at is not None:
                self._push_timer(run.continue_at, "continue", cid, run.gen)
            if not run.action_done and run.action_end is not None:
                self._push_timer(run.action_end, "end", cid, run.gen)
                if run.cue.kind is CueKind.FADE and run.armed:
                    self._push_timer(self._next_fade_step(run), "fade", cid, run.gen)
        if run.cue.kind is CueKind.GROUP:
            for c in run.cue.children:
                self._resume(self.runs[c], t)
            if state is CueState.RUNNING and not run.action_done:
                self._recheck_group(run, t)
        if state is CueState.WAITING:
            run.wait_since = None  # a hold counts again from the resume
            self._recheck_wait(run, t)

    def _recheck_group(self, group: CueRun, t: float) -> None:
        """Move a playlist to its next child, or end a group whose children are done."""
        cue = group.cue
        if cue.group_mode is GroupMode.PLAYLIST:
            if group.child_index < len(cue.children):
                current = cue.children[group.child_index]
                if self.runs[current].active or current in self._queued:
                    return
                group.child_index += 1
                if group.child_index < len(cue.children):
                    self._queue_start(cue.children[group.child_index], t, follow=False)
                    return
        elif any(self.runs[c].active or c in self._queued for c in cue.children):
            return
        self._end_action(group, t)

    def _wait_timeout(self, run: CueRun, t: float) -> None:
        cue = run.cue
        if run.state is not CueState.WAITING:
            return
        self._waiting.discard(cue.id)
        run.gen += 1
        self._set_state(run, CueState.IDLE)
        cond = cue.wait_for.describe() if cue.wait_for else "condition"
        if cue.fallback is not None:
            self._report(
                "warning",
                cue.id,
                f"waited {cue.wait_timeout:g} s for {cond}; starting fallback {cue.fallback}",
            )
            self._queue_start(cue.fallback, t, follow=False)
        else:
            self._report("warning", cue.id, f"waited {cue.wait_timeout:g} s for {cond}; gave up")
        if cue.parent is not None:
            self._child_finished(self.runs[cue.parent], run, t)

    # -- panic and reset -------------------------------------------------------------

    def _panic(self, duration: float | None, now: float) -> None:
        if self.panic_until is not None:
            self._report("warning", "PANIC", "second panic: everything stopped at once")
            self._end_panic(now)
            return
        d = self.show.panic_time if duration is None else max(0.0, duration)
        self._report("warning", "PANIC", f"fading everything out over {d:g} s")
        self._starts.clear()
        self._queued.clear()
        for run in self.runs.values():
            pending = (CueState.WAITING, CueState.PREWAIT)
            paused_early = run.state is CueState.PAUSED and run.paused_from in pending
            if (
                run.state in pending
                or paused_early
                or (run.active and run.cue.kind is CueKind.FADE)
            ):
                self._stop(run, now)
            elif run.continue_at is not None:
                run.continue_at = None
                run.gen += 1
                if not run.action_done and run.action_end is not None:
                    self._push_timer(run.action_end, "end", run.cue.id, run.gen)
                else:
                    self._maybe_finish(run, now)
        for name, ms in self.mappings.items():
            if ms.enabled:
                self._level_fades[name] = _LevelFade(ms.level, now, d, now)
        for output in self.show.visual_outputs:
            self._emit(SetScene(output, "", "crossfade", d, Curve.LINEAR.value))
        if d <= 0:
            self._end_panic(now)
            return
        self.panic_until = now + d
        self._panic_gen += 1
        self._push_timer(self.panic_until, "panic", "", self._panic_gen)

    def _end_panic(self, t: float) -> None:
        for ms in self.mappings.values():
            if ms.enabled and ms.last_sent is not None and ms.last_sent != 0.0:
                cmd = target_command(ms.definition.target, 0.0)
                if cmd is not None:
                    self._emit(cmd)
                ms.last_sent = 0.0
        self._mapping_due.clear()
        self.panic_until = None
        self._level_fades.clear()
        self._starts.clear()
        self._queued.clear()
        for run in self.runs.values():
            self._stop(run, t)
        for name, ms in self.mappings.items():
            ms.enabled = False
            ms.level = ms.definition.level
            self._unmark_mapping(name)
        self._report("warning", "PANIC", "complete: all cues stopped, mappings disabled")

    def _reset(self, now: float) -> None:
        self.panic_until = None
        self._level_fades.clear()
        self._starts.clear()
        self._queued.clear()
        for run in self.runs.values():
            self._stop(run, now)
        for run in self.runs.values():
            run.armed = run.cue.armed
        for nid in list(self.notices):
            self._emit(ClearNotice(nid))
        self.notices.clear()
        for ms in self.mappings.values():
            ms.reset()
            if ms.enabled:
                self._mark_mapping(ms.definition.name)
        for ts in self.triggers.values():
            ts.reset()
        for cl in self.show.cue_lists:
            self._set_playhead(cl.name, self._order.standby_index(cl.cues, 0, 1))
        self.last_go = -math.inf
        self._report("info", "RESET", "show reset: playheads on the first cue")

    def _step_level_fades(self, now: float) -> None:
        for name, lf in list(self._level_fades.items()):
            if now < lf.next_step:
                continue
            # steps sit on the fade's own grid (t0 + k / rate): a late wake-up sets the
            # level the schedule says, as a dry run on the virtual clock does
            k = math.floor((now - lf.t0) * _LEVEL_FADE_RATE + 1e-9)
            elapsed = k / _LEVEL_FADE_RATE
            x = elapsed / lf.duration if lf.duration > 0 and now < lf.t0 + lf.duration else 1.0
            ms = self.mappings[name]
            ms.level = lf.start * (1.0 - min(x, 1.0))
            ms.last_send_time = -math.inf
            self._mark_mapping(name)
            if x >= 1.0:
                del self._level_fades[name]
            else:
                lf.next_step = lf.t0 + (k + 1) / _LEVEL_FADE_RATE
