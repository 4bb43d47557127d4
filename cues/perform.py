"""Everything that depends on a cue's kind: what its action does, how a fade steps and
ends, how a group runs its children, which cues a panic stops at once, what a cue
refers to (for a reload's checks), and the dashboard notices that notice cues put up.

The lifecycle (:mod:`cues.lifecycle`) runs every cue through the same phases and asks
this module at the points where kinds differ; a new kind of cue is added here.
"""

from __future__ import annotations

from typing import Protocol

from cues.commands import (
    ClearNotice,
    CueState,
    Notice,
    Outbox,
    SendMidi,
    SendOsc,
    SetScene,
    SetVisualInput,
)
from cues.curves import apply_curve
from cues.mapping_scheduler import MappingScheduler
from cues.mappings import target_command
from cues.model import CueDef, CueId, CueKind, FadeTarget, GroupMode
from cues.runtime import CueRun
from cues.timers import TimerKind, TimerQueue

__all__ = ["CueActions", "CueControl", "NoticeBoard", "TriggerSwitch", "targets_of"]

_CONTROL_KINDS = (CueKind.START, CueKind.STOP, CueKind.ARM, CueKind.DISARM)


class CueControl(Protocol):
    """What cue actions may do to other cues (``cues.lifecycle.CueLifecycle``)."""

    def run_of(self, cid: CueId) -> CueRun:
        """A cue's run (KeyError for an unknown cue)."""
        ...

    def queue_start(self, cid: CueId, t: float, follow: bool = False) -> None:
        """Start a cue once the current step is done."""
        ...

    def stop_run(self, run: CueRun, t: float) -> None:
        """Stop a cue (and tell its group)."""
        ...

    def is_busy(self, cid: CueId) -> bool:
        """Whether a cue is active or about to start."""
        ...

    def end_action(self, run: CueRun, t: float) -> None:
        """End a cue's action at ``t``."""
        ...


class TriggerSwitch(Protocol):
    """Arms and disarms triggers (``cues.flow.SignalFlow``)."""

    def set_trigger_enabled(self, name: str, on: bool, now: float) -> None:
        """Arm (``on``) or disarm trigger ``name``."""
        ...


def targets_of(cue: CueDef) -> tuple[set[str], set[str], set[CueId]]:
    """The mappings, triggers and cues a cue uses (a reload may not remove them while
    it runs)."""
    mappings = {cue.target_mapping} if cue.target_mapping else set()
    if cue.fade_target is not None and cue.fade_target.mapping:
        mappings.add(cue.fade_target.mapping)
    triggers = {cue.target_trigger} if cue.target_trigger else set()
    cues = {c for c in (cue.target_cue, cue.fallback, cue.continue_to) if c is not None}
    cues.update(cue.children)
    return mappings, triggers, cues


class NoticeBoard:
    """The dashboard notices up now and when each expires (None: until taken down)."""

    def __init__(self, outbox: Outbox, timers: TimerQueue) -> None:
        self._outbox = outbox
        self._timers = timers
        self.expiry: dict[str, float | None] = {}
        timers.own((TimerKind.NOTICE,), self.timer_valid, self._on_timer)

    def put_up(self, nid: str, text: str, level: str, expires: float | None) -> None:
        """Show a notice (replacing one of the same id)."""
        self._outbox.emit(Notice(nid, text, level))
        self.expiry[nid] = expires
        if expires is not None:
            self._timers.push(expires, TimerKind.NOTICE, nid, -1)

    def take_down(self, nid: str) -> None:
        """Remove a notice, if it is up."""
        if nid in self.expiry:
            del self.expiry[nid]
            self._outbox.emit(ClearNotice(nid))

    def timer_valid(self, nid: str, gen: int) -> bool:
        """Whether an expiry timer may still matter."""
        return self.expiry.get(nid) is not None and gen == -1

    def _on_timer(self, _: TimerKind, nid: str, due: float) -> None:
        self.expire(nid, due)

    def expire(self, nid: str, due: float) -> None:
        """An expiry timer ran: take the notice down if that is still its expiry."""
        if self.expiry.get(nid) == due:
            del self.expiry[nid]
            self._outbox.emit(ClearNotice(nid))

    def clear(self) -> None:
        """Take every notice down."""
        for nid in list(self.expiry):
            self._outbox.emit(ClearNotice(nid))
        self.expiry.clear()


class CueActions:
    """The kind-specific half of running a cue.

    Owns the last value sent to each fade target (``target_values``, a fade without
    ``from`` starts there) and the notice board.
    """

    def __init__(
        self,
        control: CueControl,
        outbox: Outbox,
        timers: TimerQueue,
        mappings: MappingScheduler,
        triggers: TriggerSwitch,
    ) -> None:
        self._control = control
        self._outbox = outbox
        self._timers = timers
        self._mappings = mappings
        self._triggers = triggers
        self.target_values: dict[str, float] = {}
        self.notices = NoticeBoard(outbox, timers)

    # -- questions the lifecycle asks ------------------------------------------------

    @staticmethod
    def is_group(cue: CueDef) -> bool:
        """Whether the cue runs children."""
        return cue.kind is CueKind.GROUP

    @staticmethod
    def children(cue: CueDef) -> tuple[CueId, ...]:
        """The cues a stop, pause or resume of ``cue`` passes on to."""
        return cue.children if cue.kind is CueKind.GROUP else ()

    @staticmethod
    def stops_on_panic(run: CueRun) -> bool:
        """Whether a panic stops this running cue at once (a fade would fight it)."""
        return run.active and run.cue.kind is CueKind.FADE

    # -- the action ------------------------------------------------------------------

    def begin(self, run: CueRun, t: float) -> bool:
        """The action begins at ``t`` (``run.action_end`` is start + duration): an armed
        cue acts; a disarmed one only takes its time, and a disarmed group none. True
        when the action steps until its end (call :meth:`schedule_steps` once the end
        is scheduled)."""
        if run.armed:
            self._perform(run, t)
            return run.cue.kind is CueKind.FADE
        if run.cue.kind is CueKind.GROUP:
            run.action_end = t
        return False

    def schedule_steps(self, run: CueRun) -> None:
        """The action's end is scheduled: an armed fade schedules its first step."""
        if run.cue.kind is CueKind.FADE and run.armed:
            self._timers.push(self._next_fade_step(run), TimerKind.FADE, run.cue.id, run.gen)

    def end(self, run: CueRun, t: float) -> None:
        """The action ended at ``t``: an armed fade sends its final value (and may switch
        its mapping off)."""
        cue = run.cue
        if cue.kind is CueKind.FADE and run.armed:
            self._fade_emit(run, cue.fade_to)
            if cue.stop_target and cue.fade_target is not None and cue.fade_target.mapping:
                self._mappings.flush(cue.fade_target.mapping, t)
                self._mappings.set_enabled(cue.fade_target.mapping, False)

    def _perform(self, run: CueRun, t: float) -> None:
        cue = run.cue
        kind = cue.kind
        if kind is CueKind.OSC:
            self._outbox.items.append(SendOsc(cue.osc_target, cue.osc_address, cue.osc_args))
        elif kind is CueKind.MIDI and cue.midi is not None:
            self._outbox.emit(SendMidi(cue.midi_port, cue.midi))
        elif kind is CueKind.VISUAL:
            self._perform_visual(cue)
        elif kind is CueKind.NOTICE:
            self._perform_notice(cue, t)
        elif kind is CueKind.FADE:
            self._fade_begin(run, t)
        elif kind is CueKind.GROUP:
            self._group_begin(run, t)
        elif kind in _CONTROL_KINDS:
            self._perform_control(cue, t)

    def _perform_visual(self, cue: CueDef) -> None:
        if cue.scene:
            self._outbox.emit(
                SetScene(
                    cue.visual_output, cue.scene, cue.transition, cue.duration, cue.curve.value
                )
            )
        for name, value in cue.visual_inputs:
            self._outbox.emit(SetVisualInput(cue.visual_output, name, value))
            self.target_values[FadeTarget(visual=cue.visual_output, visual_input=name).key] = value

    def _perform_notice(self, cue: CueDef, t: float) -> None:
        nid = cue.notice_id or cue.id
        if cue.text:
            self.notices.put_up(nid, cue.text, cue.level, t + cue.ttl if cue.ttl > 0 else None)
        else:
            self.notices.take_down(nid)

    def _perform_control(self, cue: CueDef, t: float) -> None:
        kind = cue.kind
        on = kind in (CueKind.START, CueKind.ARM)
        if cue.target_cue is not None:
            target = self._control.run_of(cue.target_cue)
            if kind is CueKind.START:
                self._control.queue_start(cue.target_cue, t)
            elif kind is CueKind.STOP:
                self._control.stop_run(target, t)
            else:
                target.armed = on
        if cue.target_mapping:
            self._mappings.set_enabled(cue.target_mapping, on)
        if cue.target_trigger:
            self._triggers.set_trigger_enabled(cue.target_trigger, on, t)

    # -- fades -----------------------------------------------------------------------

    def _fade_begin(self, run: CueRun, t: float) -> None:
        cue = run.cue
        target = cue.fade_target
        if target is None:
            return
        if cue.fade_from is not None:
            start = cue.fade_from
        elif target.mapping:
            start = self._mappings.states[target.mapping].level
        else:
            start = self.target_values.get(target.key, 0.0)
        run.fade_from = start
        run.fade_last = t
        if cue.duration > 0 and cue.fade_from is not None:
            self._fade_emit(run, start)

    def _fade_value(self, run: CueRun, t: float) -> float:
        cue = run.cue
        start = run.action_at if run.action_at is not None else t
        x = (t - start) / cue.duration if cue.duration > 0 else 1.0
        return run.fade_from + (cue.fade_to - run.fade_from) * apply_curve(cue.curve, x)

    def _next_fade_step(self, run: CueRun) -> float:
        step = 1.0 / run.cue.rate_hz if run.cue.rate_hz > 0 else run.cue.duration
        end = run.action_end if run.action_end is not None else run.fade_last + step
        nxt = run.fade_last + step
        # a step a hair before the end (a sum of 1 / rate_hz) is the end: no extra send
        return end if nxt >= end - 1e-9 else nxt

    def step(self, run: CueRun, t: float) -> None:
        """A fade's step timer ran: send the value for ``t`` and schedule the next."""
        if run.action_done or run.state is not CueState.RUNNING:
            return
        if run.action_end is not None and t >= run.action_end:
            return
        run.fade_last = t
        self._fade_emit(run, self._fade_value(run, t))
        self._timers.push(self._next_fade_step(run), TimerKind.FADE, run.cue.id, run.gen)

    def _fade_emit(self, run: CueRun, value: float) -> None:
        target = run.cue.fade_target
        if target is None:
            return
        if target.mapping:
            self._mappings.set_level(target.mapping, value)
            return
        self.target_values[target.key] = value
        cmd = target_command(target, value)
        if cmd is not None:
            self._outbox.items.append(cmd)

    # -- groups ----------------------------------------------------------------------

    def _group_begin(self, run: CueRun, t: float) -> None:
        cue = run.cue
        run.action_end = None  # a group's action lasts until its children are done
        children = cue.children
        if not children:
            run.action_end = t
        elif cue.group_mode is GroupMode.TIMELINE:
            for c in children:
                self._control.queue_start(c, t)
        else:
            self._control.queue_start(children[0], t)

    def child_finished(self, group: CueRun, child: CueRun, t: float) -> None:
        """One of a group's children went idle."""
        if group.state is not CueState.RUNNING or group.action_done:
            return
        cue = group.cue
        if cue.group_mode is GroupMode.PLAYLIST and cue.children[group.child_index] != child.cue.id:
            return  # a playlist moves on only when its current child finishes
        self.recheck_group(group, t)

    def recheck_group(self, group: CueRun, t: float) -> None:
        """Move a playlist to its next child, or end a group whose children are done."""
        cue = group.cue
        busy = self._control.is_busy
        if cue.group_mode is GroupMode.PLAYLIST:
            if group.child_index < len(cue.children):
                if busy(cue.children[group.child_index]):
                    return
                group.child_index += 1
                if group.child_index < len(cue.children):
                    self._control.queue_start(cue.children[group.child_index], t)
                    return
        elif any(busy(c) for c in cue.children):
            return
        self._control.end_action(group, t)

    def reset(self) -> None:
        """Back to the state at load: every notice down (last sent values stay)."""
        self.notices.clear()
