"""Everything that depends on a cue's kind: what its action does, how a fade steps and
ends, how a group runs its children, which cues a panic stops at once, what a cue
refers to (for a reload's checks), and the dashboard notices that notice cues put up.

The lifecycle (:mod:`cues.lifecycle`) runs every cue through the same phases and asks
this module at the points where kinds differ; a new kind of cue is added here.
"""

from __future__ import annotations

from typing import Protocol, assert_never

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
from cues.model import (
    ArmAction,
    CueAction,
    CueDef,
    CueId,
    CueRef,
    DisarmAction,
    FadeAction,
    FadeTarget,
    GroupAction,
    GroupMode,
    MappingRef,
    MappingTarget,
    MemoAction,
    MidiAction,
    NoticeAction,
    OscAction,
    StartAction,
    StopAction,
    TriggerRef,
    VisualAction,
    VisualTarget,
    WaitAction,
)
from cues.runtime import CueRun
from cues.timers import TimerKind, TimerQueue

__all__ = ["CueActions", "CueControl", "NoticeBoard", "TriggerSwitch", "targets_of"]


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
    mappings: set[str] = set()
    triggers: set[str] = set()
    cues = {c for c in (cue.continue_to,) if c is not None}
    if cue.wait is not None and cue.wait.fallback is not None:
        cues.add(cue.wait.fallback)
    match cue.action:
        case StartAction(target) | StopAction(target) | ArmAction(target) | DisarmAction(target):
            _control_target_uses(target, mappings, triggers, cues)
        case FadeAction(target=MappingTarget(name)):
            mappings.add(name)
        case GroupAction(children=children):
            cues.update(children)
        case (
            MemoAction()
            | WaitAction()
            | OscAction()
            | MidiAction()
            | VisualAction()
            | NoticeAction()
            | FadeAction()
        ):
            pass
        case _:
            assert_never(cue.action)
    return mappings, triggers, cues


def _control_target_uses(
    target: CueRef | MappingRef | TriggerRef,
    mappings: set[str],
    triggers: set[str],
    cues: set[CueId],
) -> None:
    match target:
        case CueRef(cid):
            cues.add(cid)
        case MappingRef(name):
            mappings.add(name)
        case TriggerRef(name):
            triggers.add(name)
        case _:
            assert_never(target)


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
        return isinstance(cue.action, GroupAction)

    @staticmethod
    def children(cue: CueDef) -> tuple[CueId, ...]:
        """The cues a stop, pause or resume of ``cue`` passes on to."""
        action = cue.action
        return action.children if isinstance(action, GroupAction) else ()

    @staticmethod
    def stops_on_panic(run: CueRun) -> bool:
        """Whether a panic stops this running cue at once (a fade would fight it)."""
        return run.active and isinstance(run.cue.action, FadeAction)

    # -- the action ------------------------------------------------------------------

    def begin(self, run: CueRun, t: float) -> bool:
        """The action begins at ``t`` (``run.action_end`` is start + duration): an armed
        cue acts; a disarmed one only takes its time, and a disarmed group none. True
        when the action steps until its end (call :meth:`schedule_steps` once the end
        is scheduled)."""
        action = run.cue.action
        if run.armed:
            self._perform(run, action, t)
            return isinstance(action, FadeAction)
        if isinstance(action, GroupAction):
            run.action_end = t
        return False

    def schedule_steps(self, run: CueRun) -> None:
        """The action's end is scheduled: an armed fade schedules its first step."""
        action = run.cue.action
        if isinstance(action, FadeAction) and run.armed:
            self._timers.push(
                self._next_fade_step(run, action), TimerKind.FADE, run.cue.id, run.gen
            )

    def end(self, run: CueRun, t: float) -> None:
        """The action ended at ``t``: an armed fade sends its final value (and may switch
        its mapping off)."""
        action = run.cue.action
        if isinstance(action, FadeAction) and run.armed:
            self._fade_emit(action.target, action.to)
            target = action.target
            if action.stop_target and isinstance(target, MappingTarget):
                self._mappings.flush(target.mapping, t)
                self._mappings.set_enabled(target.mapping, False)

    def _perform(self, run: CueRun, action: CueAction, t: float) -> None:
        # class patterns without captures: a capture costs a look-up through __match_args__
        match action:
            case OscAction():
                self._outbox.items.append(SendOsc(action.target, action.address, action.args))
            case MidiAction():
                self._outbox.emit(SendMidi(action.port, action.message))
            case VisualAction():
                self._perform_visual(action, run.cue.duration)
            case NoticeAction():
                self._perform_notice(run.cue.id, action, t)
            case FadeAction():
                self._fade_begin(run, action, t)
            case GroupAction():
                self._group_begin(run, action, t)
            case StartAction() | StopAction() | ArmAction() | DisarmAction():
                self._perform_control(action, action.target, t)
            case MemoAction() | WaitAction():
                pass
            case _:
                assert_never(action)

    def _perform_visual(self, action: VisualAction, duration: float) -> None:
        output = action.output
        if action.scene:
            self._outbox.emit(
                SetScene(output, action.scene, action.transition, duration, action.curve.value)
            )
        for name, value in action.inputs:
            self._outbox.emit(SetVisualInput(output, name, value))
            self.target_values[VisualTarget(output, name).key] = value

    def _perform_notice(self, cid: CueId, action: NoticeAction, t: float) -> None:
        nid = action.notice_id or cid
        if action.text:
            ttl = action.ttl
            self.notices.put_up(nid, action.text, action.level, t + ttl if ttl > 0 else None)
        else:
            self.notices.take_down(nid)

    def _perform_control(
        self,
        action: StartAction | StopAction | ArmAction | DisarmAction,
        target: CueRef | MappingRef | TriggerRef,
        t: float,
    ) -> None:
        on = isinstance(action, StartAction | ArmAction)
        match target:
            case CueRef(cid):
                run = self._control.run_of(cid)
                if isinstance(action, StartAction):
                    self._control.queue_start(cid, t)
                elif isinstance(action, StopAction):
                    self._control.stop_run(run, t)
                else:
                    run.armed = on
            case MappingRef(name):
                self._mappings.set_enabled(name, on)
            case TriggerRef(name):
                self._triggers.set_trigger_enabled(name, on, t)
            case _:
                assert_never(target)

    # -- fades -----------------------------------------------------------------------

    def _fade_begin(self, run: CueRun, action: FadeAction, t: float) -> None:
        target = action.target
        if action.start is not None:
            start = action.start
        elif isinstance(target, MappingTarget):
            start = self._mappings.states[target.mapping].level
        else:
            start = self.target_values.get(target.key, 0.0)
        run.fade_from = start
        run.fade_last = t
        if run.cue.duration > 0 and action.start is not None:
            self._fade_emit(target, start)

    @staticmethod
    def _fade_value(run: CueRun, action: FadeAction, t: float) -> float:
        start = run.action_at if run.action_at is not None else t
        duration = run.cue.duration
        x = (t - start) / duration if duration > 0 else 1.0
        return run.fade_from + (action.to - run.fade_from) * apply_curve(action.curve, x)

    @staticmethod
    def _next_fade_step(run: CueRun, action: FadeAction) -> float:
        step = 1.0 / action.rate_hz if action.rate_hz > 0 else run.cue.duration
        end = run.action_end if run.action_end is not None else run.fade_last + step
        nxt = run.fade_last + step
        # a step a hair before the end (a sum of 1 / rate_hz) is the end: no extra send
        return end if nxt >= end - 1e-9 else nxt

    def step(self, run: CueRun, t: float) -> None:
        """A fade's step timer ran: send the value for ``t`` and schedule the next."""
        action = run.cue.action
        if run.action_done or run.state is not CueState.RUNNING:
            return
        if not isinstance(action, FadeAction):
            return
        if run.action_end is not None and t >= run.action_end:
            return
        run.fade_last = t
        self._fade_emit(action.target, self._fade_value(run, action, t))
        self._timers.push(self._next_fade_step(run, action), TimerKind.FADE, run.cue.id, run.gen)

    def _fade_emit(self, target: FadeTarget, value: float) -> None:
        if isinstance(target, MappingTarget):
            self._mappings.set_level(target.mapping, value)
            return
        self.target_values[target.key] = value
        cmd = target_command(target, value)
        if cmd is not None:
            self._outbox.items.append(cmd)

    # -- groups ----------------------------------------------------------------------

    def _group_begin(self, run: CueRun, action: GroupAction, t: float) -> None:
        run.action_end = None  # a group's action lasts until its children are done
        children = action.children
        if not children:
            run.action_end = t
        elif action.mode is GroupMode.TIMELINE:
            for c in children:
                self._control.queue_start(c, t)
        else:
            self._control.queue_start(children[0], t)

    def child_finished(self, group: CueRun, child: CueRun, t: float) -> None:
        """One of a group's children went idle."""
        action = group.cue.action
        if group.state is not CueState.RUNNING or group.action_done:
            return
        if not isinstance(action, GroupAction):
            return
        if action.mode is GroupMode.PLAYLIST and action.children[group.child_index] != child.cue.id:
            return  # a playlist moves on only when its current child finishes
        self.recheck_group(group, t)

    def recheck_group(self, group: CueRun, t: float) -> None:
        """Move a playlist to its next child, or end a group whose children are done."""
        action = group.cue.action
        children = action.children if isinstance(action, GroupAction) else ()
        busy = self._control.is_busy
        if isinstance(action, GroupAction) and action.mode is GroupMode.PLAYLIST:
            if group.child_index < len(children):
                if busy(children[group.child_index]):
                    return
                group.child_index += 1
                if group.child_index < len(children):
                    self._control.queue_start(children[group.child_index], t)
                    return
        elif any(busy(c) for c in children):
            return
        self._control.end_action(group, t)

    def reset(self) -> None:
        """Back to the state at load: every notice down (last sent values stay)."""
        self.notices.clear()
