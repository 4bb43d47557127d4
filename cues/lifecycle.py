"""Cue lifecycles: how every cue goes through its phases, whatever its kind.

    start -> [conditional wait: until true (held), or timeout -> fallback]
          -> [pre-wait] -> action (cues.perform) -> [post-wait -> auto-continue]
          -> action ends -> [auto-follow] -> idle, and its group is told

Starts are queued and run after the current step (a chain of starts at one instant is
halted after ``MAX_STARTS_PER_STEP``). Stop, pause and resume reach a group's children.
A cue's timers carry its run's generation; stopping, pausing or restarting a cue moves
the generation on, which makes its pending timers stale.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any, Protocol

from cues.commands import CueState, CueStateChanged, Outbox, ReportLevel
from cues.cuelists import CueLists
from cues.mapping_scheduler import MappingScheduler
from cues.model import Condition, ContinueMode, CueDef, CueId
from cues.perform import CueActions, TriggerSwitch
from cues.runtime import CueRun
from cues.timers import TimerKind, TimerQueue

__all__ = ["CUE_TIMERS", "MAX_STARTS_PER_STEP", "CueLifecycle", "CueLinks"]

MAX_STARTS_PER_STEP = 10_000

CUE_TIMERS = (
    TimerKind.ACTION,
    TimerKind.END,
    TimerKind.CONTINUE,
    TimerKind.FADE,
    TimerKind.TIMEOUT,
    TimerKind.HOLD,
)
"""The timers a cue's run sets (all carry its generation)."""


class CueLinks(TriggerSwitch, Protocol):
    """What cues need from the signal flow: conditions for their waits, and triggers to
    arm or disarm."""

    def holds(self, cond: Condition, now: float, was_true: bool) -> bool:
        """Whether ``cond`` holds at ``now``."""
        ...


class CueLifecycle:
    """Owns every cue's definition as edited live (``cues``), its run (``runs``), the
    queue of cues about to start and the set of cues in a conditional wait."""

    def __init__(
        self,
        cues: dict[CueId, CueDef],
        outbox: Outbox,
        timers: TimerQueue,
        lists: CueLists,
        mappings: MappingScheduler,
        links: CueLinks,
    ) -> None:
        self.cues = cues
        self.runs: dict[CueId, CueRun] = {
            cid: CueRun(cue=c, armed=c.armed) for cid, c in cues.items()
        }
        self.waiting: set[CueId] = set()
        self.active: dict[CueId, None] = {}
        """The cues that are not idle (kept by :meth:`_set_state`, the one place a cue's
        state changes), so what is running is known without looking at every cue."""
        self._order: dict[CueId, int] | None = None  # position in show order; see active_in_order
        self.starting: deque[tuple[CueId, float, bool]] = deque()
        self._queued: set[CueId] = set()
        self._halted = False
        self._outbox = outbox
        self._timers = timers
        self._lists = lists
        self._links = links
        self.actions = CueActions(self, outbox, timers, mappings, links)
        timers.own(CUE_TIMERS, self.timer_valid, self.on_timer)

    # -- reading ---------------------------------------------------------------------

    def run_of(self, cid: CueId) -> CueRun:
        """A cue's run (KeyError for an unknown cue)."""
        return self.runs[cid]

    def is_busy(self, cid: CueId) -> bool:
        """Whether a cue is active or queued to start."""
        return self.runs[cid].active or cid in self._queued

    def busy(self) -> set[CueId]:
        """Every cue that is active or queued to start."""
        return {cid for cid, r in self.runs.items() if r.active} | self._queued

    # -- starting --------------------------------------------------------------------

    def queue_start(self, cid: CueId, t: float, follow: bool = False) -> None:
        """Start ``cid`` at ``t`` once the current step is done; ``follow``: started by a
        continue (the standby moves past it)."""
        self.starting.append((cid, t, follow))
        self._queued.add(cid)

    def drain_starts(self) -> None:
        """Start the queued cues, and those their starts queue, in order."""
        count = 0
        starting = self.starting
        while starting:
            cid, t, follow = starting.popleft()
            self._queued.discard(cid)
            count += 1
            if count > MAX_STARTS_PER_STEP:
                self._drop_queue()
                self._outbox.report(
                    ReportLevel.ERROR, cid, "too many cue starts at one instant; chain halted"
                )
                return
            self._start(self.runs[cid], t, follow)

    def _drop_queue(self) -> None:
        self.starting.clear()
        self._queued.clear()

    def _start(self, run: CueRun, t: float, follow: bool) -> None:
        cue = run.cue
        if self._halted:
            self._outbox.report(ReportLevel.WARNING, cue.id, "not started: panic in progress")
            return
        if run.active:
            self._stop(run, t, notify_parent=False)
        run.cue = cue = self.cues[cue.id]  # edits take effect from this start
        if follow:
            self._lists.step_past(cue.id)
        run.gen += 1
        run.starts += 1
        run.clear()
        run.started_at = t
        if cue.wait is not None:
            self._set_state(run, CueState.WAITING)
            self.waiting.add(cue.id)
            if cue.wait.timeout is not None:
                run.wait_deadline = t + cue.wait.timeout
                self._timers.push(run.wait_deadline, TimerKind.TIMEOUT, cue.id, run.gen)
            self._recheck_wait(run, t)
            return
        self._proceed(run, t)

    def _proceed(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.wait_deadline = None
        run.started_at = t
        if cue.prewait > 0:
            self._set_state(run, CueState.PREWAIT)
            self._timers.push(t + cue.prewait, TimerKind.ACTION, cue.id, run.gen)
        else:
            self._begin_action(run, t)

    def _begin_action(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.action_at = t
        self._set_state(run, CueState.RUNNING)
        if cue.continue_mode is ContinueMode.AUTO_CONTINUE and self._lists.continue_applies(cue):
            run.continue_at = t + cue.postwait
        run.action_end = t + cue.duration
        steps = self.actions.begin(run, t)
        if run.continue_at is not None:
            if run.continue_at <= t:
                self._fire_continue(run, t)
            else:
                self._timers.push(run.continue_at, TimerKind.CONTINUE, cue.id, run.gen)
        if run.action_end is not None:
            if run.action_end <= t:
                self.end_action(run, t)
            else:
                self._timers.push(run.action_end, TimerKind.END, cue.id, run.gen)
                if steps:
                    self.actions.schedule_steps(run)

    def _fire_continue(self, run: CueRun, t: float) -> None:
        run.continue_at = None
        nxt = self._lists.next_of(run.cue)
        if nxt is not None:
            self.queue_start(nxt, t, follow=True)

    def end_action(self, run: CueRun, t: float) -> None:
        """End a cue's action at ``t``; auto-follow starts the next cue."""
        cue = run.cue
        run.action_done = True
        run.action_end = t
        self.actions.end(run, t)
        if cue.continue_mode is ContinueMode.AUTO_FOLLOW and self._lists.continue_applies(cue):
            nxt = self._lists.next_of(cue)
            if nxt is not None:
                self.queue_start(nxt, t, follow=True)
        self._maybe_finish(run, t)

    def _maybe_finish(self, run: CueRun, t: float) -> None:
        if run.state is CueState.RUNNING and run.action_done and run.continue_at is None:
            self._set_state(run, CueState.IDLE)
            if run.cue.parent is not None:
                self.actions.child_finished(self.runs[run.cue.parent], run, t)

    def _set_state(self, run: CueRun, state: CueState) -> None:
        if run.state is not state:
            run.state = state
            cid = run.cue.id
            if state is CueState.IDLE:
                self.active.pop(cid, None)
            else:
                self.active[cid] = None
            self._outbox.items.append(CueStateChanged(cid, state))

    # -- timers ----------------------------------------------------------------------

    def timer_valid(self, key: str, gen: int) -> bool:
        """Whether a cue's timer still matters: the cue exists and has not been stopped,
        paused or restarted since it was set."""
        run = self.runs.get(CueId(key))
        return run is not None and run.gen == gen

    def on_timer(self, kind: TimerKind, key: str, due: float) -> None:
        """A valid timer of a cue is due."""
        run = self.runs[CueId(key)]
        if kind is TimerKind.ACTION:
            self._begin_action(run, due)
        elif kind is TimerKind.END:
            if not run.action_done:
                self.end_action(run, due)
        elif kind is TimerKind.CONTINUE:
            self._fire_continue(run, due)
            self._maybe_finish(run, due)
        elif kind is TimerKind.FADE:
            self.actions.step(run, due)
        elif kind is TimerKind.TIMEOUT:
            self._wait_timeout(run, due)
        elif kind is TimerKind.HOLD and run.state is CueState.WAITING:
            self._recheck_wait(run, due)

    # -- conditional waits -----------------------------------------------------------

    def recheck_waits(self, signal: str | None, now: float) -> None:
        """Test again the waits whose condition is on ``signal`` (None: every wait)."""

        def concerned(cid: CueId) -> bool:
            wait = self.runs[cid].cue.wait
            return wait is not None and (signal is None or wait.condition.signal in ("", signal))

        for cid in sorted(filter(concerned, self.waiting)):
            run = self.runs[cid]
            if run.state is CueState.WAITING:
                self._recheck_wait(run, now)

    def _recheck_wait(self, run: CueRun, now: float) -> None:
        """Test a waiting cue's condition at ``now``: go on once it is true (and, with
        ``hold``, has stayed true that long); a false reading restarts the hold."""
        cue = run.cue
        wait = cue.wait
        if wait is None:
            return
        if not self._links.holds(wait.condition, now, run.wait_since is not None):
            run.wait_since = None
            return
        if wait.hold > 0:
            if run.wait_since is None:
                run.wait_since = now
                self._timers.push(now + wait.hold, TimerKind.HOLD, cue.id, run.gen)
                return
            if now < run.wait_since + wait.hold:  # the same sum the timer was set to
                return
        self.waiting.discard(cue.id)
        self._proceed(run, now)

    def _wait_timeout(self, run: CueRun, t: float) -> None:
        cue = run.cue
        if run.state is not CueState.WAITING:
            return
        self.waiting.discard(cue.id)
        run.gen += 1
        self._set_state(run, CueState.IDLE)
        wait = cue.wait
        if wait is None:
            return
        cond = wait.condition.describe()
        if wait.fallback is not None:
            self._outbox.report(
                ReportLevel.WARNING,
                cue.id,
                f"waited {wait.timeout:g} s for {cond}; starting fallback {wait.fallback}",
            )
            self.queue_start(wait.fallback, t)
        else:
            self._outbox.report(
                ReportLevel.WARNING, cue.id, f"waited {wait.timeout:g} s for {cond}; gave up"
            )
        if cue.parent is not None:
            self.actions.child_finished(self.runs[cue.parent], run, t)

    # -- stop, pause, resume ---------------------------------------------------------

    def stop(self, cid: CueId | None, t: float) -> None:
        """Stop one cue, or every active cue (None)."""
        if cid is None:
            for run in self.runs.values():
                if run.active:
                    self._stop(run, t)
        else:
            self._stop(self.runs[cid], t)

    def stop_run(self, run: CueRun, t: float) -> None:
        """Stop a cue and tell its group."""
        self._stop(run, t)

    def _stop(self, run: CueRun, t: float, notify_parent: bool = True) -> None:
        if not run.active:
            return
        run.gen += 1
        run.continue_at = None
        run.action_done = True
        self.waiting.discard(run.cue.id)
        for c in self.actions.children(run.cue):
            self._stop(self.runs[c], t)
        self._set_state(run, CueState.IDLE)
        if notify_parent and run.cue.parent is not None:
            self.actions.child_finished(self.runs[run.cue.parent], run, t)

    def pause(self, cid: CueId | None, t: float) -> None:
        """Pause one cue, or every cue (None)."""
        for c in [cid] if cid else list(self.runs):
            self._pause(self.runs[c], t)

    def _pause(self, run: CueRun, t: float) -> None:
        if run.state not in (CueState.WAITING, CueState.PREWAIT, CueState.RUNNING):
            return
        run.paused_from = run.state
        run.paused_at = t
        run.gen += 1
        self._set_state(run, CueState.PAUSED)
        for c in self.actions.children(run.cue):
            self._pause(self.runs[c], t)

    def resume(self, cid: CueId | None, t: float) -> None:
        """Resume one cue, or every cue (None)."""
        for c in [cid] if cid else list(self.runs):
            self._resume(self.runs[c], t)

    def _resume(self, run: CueRun, t: float) -> None:
        if run.state is not CueState.PAUSED or run.paused_at is None:
            return
        state = run.paused_from or CueState.RUNNING
        run.shift(t - run.paused_at)
        run.paused_at = None
        run.gen += 1
        self._set_state(run, state)
        self._rearm_timers(run, state)
        if self.actions.is_group(run.cue):
            for c in self.actions.children(run.cue):
                self._resume(self.runs[c], t)
            if state is CueState.RUNNING and not run.action_done:
                self.actions.recheck_group(run, t)
        if state is CueState.WAITING:
            run.wait_since = None  # a hold counts again from the resume
            self._recheck_wait(run, t)

    def _rearm_timers(self, run: CueRun, state: CueState) -> None:
        """Set again the timers a resumed cue has pending in ``state``."""
        cid, gen, timers = run.cue.id, run.gen, self._timers
        if state is CueState.WAITING and run.wait_deadline is not None:
            timers.push(run.wait_deadline, TimerKind.TIMEOUT, cid, gen)
        elif state is CueState.PREWAIT:
            timers.push(run.started_at + run.cue.prewait, TimerKind.ACTION, cid, gen)
        elif state is CueState.RUNNING:
            if run.continue_at is not None:
                timers.push(run.continue_at, TimerKind.CONTINUE, cid, gen)
            if not run.action_done and run.action_end is not None:
                timers.push(run.action_end, TimerKind.END, cid, gen)
                self.actions.schedule_steps(run)

    # -- panic and reset -------------------------------------------------------------

    def halt(self, now: float) -> None:
        """A panic: queued starts are dropped and no cue starts until :meth:`release`;
        cues still waiting or in pre-wait stop, and so do fades; running cues lose their
        auto-continue and end by themselves."""
        self._drop_queue()
        self._halted = True
        pending = (CueState.WAITING, CueState.PREWAIT)
        for run in self.runs.values():
            paused_early = run.state is CueState.PAUSED and run.paused_from in pending
            if run.state in pending or paused_early or self.actions.stops_on_panic(run):
                self._stop(run, now)
            elif run.continue_at is not None:
                run.continue_at = None
                run.gen += 1
                if not run.action_done and run.action_end is not None:
                    self._timers.push(run.action_end, TimerKind.END, run.cue.id, run.gen)
                else:
                    self._maybe_finish(run, now)

    def release(self, t: float) -> None:
        """A panic is over: queued starts are dropped, every cue stops, and cues may
        start again."""
        self._halted = False
        self._drop_queue()
        for run in self.runs.values():
            self._stop(run, t)

    def reset(self, now: float) -> None:
        """Back to the state at load: every cue stopped and armed as the file says, every
        notice down."""
        self._halted = False
        self._drop_queue()
        for run in self.runs.values():
            self._stop(run, now)
        for run in self.runs.values():
            run.armed = run.cue.armed
        self.actions.reset()

    # -- live edits and reload -------------------------------------------------------

    def edit_cue(self, cue: CueId, **changes: Any) -> CueDef:
        """Change a cue's fields while the show runs, from its next start (see
        ``Engine.edit_cue``)."""
        if {"id", "number", "parent", "children", "kind"} & changes.keys():
            raise TypeError("a cue's id, number, kind and group membership cannot change")
        new = dataclasses.replace(self.cues[cue], **changes)
        self.cues[cue] = new
        if not self.runs[cue].active:
            self.runs[cue].cue = new
        return new

    def set_armed(self, cue: CueId, armed: bool) -> None:
        """Arm or disarm a cue until the show is reset."""
        self.runs[cue].armed = armed

    def active_in_order(self) -> list[CueId]:
        """The cues that are not idle, in show order."""
        active = self.active
        if len(active) < 2:
            return list(active)
        if self._order is None:
            self._order = {cid: i for i, cid in enumerate(self.runs)}
        return sorted(active, key=self._order.__getitem__)

    def remove_cue(self, cid: CueId) -> None:
        """A reload removed an idle cue (its timers are dropped too)."""
        self._order = None
        self.active.pop(cid, None)
        del self.runs[cid]
        del self.cues[cid]
        self.waiting.discard(cid)

    def add_cue(self, cue: CueDef) -> None:
        """A reload added a cue."""
        self._order = None
        self.runs[cue.id] = CueRun(cue=cue, armed=cue.armed)
        self.cues[cue.id] = cue

    def change_cue(self, cue: CueDef, rearm: bool) -> bool:
        """A reload changed a cue (``rearm``: its ``armed`` too). True when it is active
        and the change waits for its next start."""
        run = self.runs[cue.id]
        if rearm:
            run.armed = cue.armed
        self.cues[cue.id] = cue
        if run.active:
            return True  # run.cue keeps its definition until then
        run.cue = cue
        return False
