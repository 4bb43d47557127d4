"""What cues do when their action starts: send, show, fade, start and stop.

A mixin of :class:`cues.engine.Engine`, kept apart so each module stays small; it
shares the engine's state and, like it, does no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cues.commands import (
    ClearNotice,
    Command,
    CueState,
    Notice,
    SendMidi,
    SendOsc,
    SetScene,
    SetVisualInput,
)
from cues.curves import apply_curve
from cues.mappings import MappingState, target_command
from cues.model import CueDef, CueId, CueKind, FadeTarget, GroupMode
from cues.runtime import CueRun

if TYPE_CHECKING:
    from cues.conditions import TriggerState

__all__ = ["CueActions"]


class CueActions:
    """Cue actions; see :class:`cues.engine.Engine` for the state they use."""

    if TYPE_CHECKING:
        runs: dict[CueId, CueRun]
        mappings: dict[str, MappingState]
        triggers: dict[str, TriggerState]
        notices: dict[str, float | None]
        target_values: dict[str, float]

        def _emit(self, cmd: Command) -> None: ...
        def _push_timer(self, due: float, kind: str, key: str, gen: int) -> None: ...
        def _queue_start(self, cid: CueId, t: float, follow: bool) -> None: ...
        def _stop(self, run: CueRun, t: float, notify_parent: bool = True) -> None: ...
        def _mark_mapping(self, name: str) -> None: ...
        def _unmark_mapping(self, name: str) -> None: ...

    def _perform(self, run: CueRun, t: float) -> None:
        cue = run.cue
        kind = cue.kind
        if kind is CueKind.OSC:
            self._emit(SendOsc(cue.osc_target, cue.osc_address, cue.osc_args))
        elif kind is CueKind.MIDI and cue.midi is not None:
            self._emit(SendMidi(cue.midi_port, cue.midi))
        elif kind is CueKind.VISUAL:
            if cue.scene:
                self._emit(
                    SetScene(
                        cue.visual_output, cue.scene, cue.transition, cue.duration, cue.curve.value
                    )
                )
            for name, value in cue.visual_inputs:
                self._emit(SetVisualInput(cue.visual_output, name, value))
                self.target_values[FadeTarget(visual=cue.visual_output, visual_input=name).key] = (
                    value
                )
        elif kind is CueKind.NOTICE:
            nid = cue.notice_id or cue.id
            if cue.text:
                self._emit(Notice(nid, cue.text, cue.level))
                expires = t + cue.ttl if cue.ttl > 0 else None
                self.notices[nid] = expires
                if expires is not None:
                    self._push_timer(expires, "notice", nid, -1)
            elif nid in self.notices:
                del self.notices[nid]
                self._emit(ClearNotice(nid))
        elif kind is CueKind.FADE:
            self._fade_begin(run, t)
        elif kind is CueKind.GROUP:
            run.action_end = None
            children = cue.children
            if not children:
                run.action_end = t
            elif cue.group_mode is GroupMode.TIMELINE:
                for c in children:
                    self._queue_start(c, t, follow=False)
            else:
                self._queue_start(children[0], t, follow=False)
        elif kind in (CueKind.START, CueKind.STOP, CueKind.ARM, CueKind.DISARM):
            self._perform_control(cue, t)

    def _perform_control(self, cue: CueDef, t: float) -> None:
        kind = cue.kind
        on = kind in (CueKind.START, CueKind.ARM)
        if cue.target_cue is not None:
            target = self.runs[cue.target_cue]
            if kind is CueKind.START:
                self._queue_start(cue.target_cue, t, follow=False)
            elif kind is CueKind.STOP:
                self._stop(target, t)
            else:
                target.armed = on
        if cue.target_mapping:
            self._set_mapping_enabled(cue.target_mapping, on)
        if cue.target_trigger:
            self.triggers[cue.target_trigger].set_enabled(on, t)

    def _set_mapping_enabled(self, name: str, on: bool) -> None:
        self.mappings[name].set_enabled(on)
        if on:
            self._mark_mapping(name)
        else:
            self._unmark_mapping(name)

    def _fade_begin(self, run: CueRun, t: float) -> None:
        cue = run.cue
        target = cue.fade_target
        if target is None:
            return
        if cue.fade_from is not None:
            start = cue.fade_from
        elif target.mapping:
            start = self.mappings[target.mapping].level
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

    def _fade_step(self, run: CueRun, t: float) -> None:
        if run.action_done or run.state is not CueState.RUNNING:
            return
        if run.action_end is not None and t >= run.action_end:
            return
        run.fade_last = t
        self._fade_emit(run, self._fade_value(run, t))
        self._push_timer(self._next_fade_step(run), "fade", run.cue.id, run.gen)

    def _fade_emit(self, run: CueRun, value: float) -> None:
        target = run.cue.fade_target
        if target is None:
            return
        if target.mapping:
            ms = self.mappings[target.mapping]
            ms.level = value
            if ms.enabled:
                self._mark_mapping(target.mapping)
            return
        self.target_values[target.key] = value
        cmd = target_command(target, value)
        if cmd is not None:
            self._emit(cmd)
