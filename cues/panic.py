"""Panic: fade every mapping and visual output to nothing over ``panic_time``, stop what
cannot fade, refuse GO and cue starts meanwhile; at the end stop every cue and switch
every mapping off. A second panic ends the first at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from cues.commands import Outbox, ReportLevel, SetScene
from cues.mapping_scheduler import MappingScheduler
from cues.model import Curve, ShowModel
from cues.timers import TimerKind, TimerQueue

__all__ = ["LEVEL_FADE_RATE", "CueHalt", "PanicFade"]

LEVEL_FADE_RATE = 30.0
"""Steps per second of a panic's fade of mapping levels."""


class CueHalt(Protocol):
    """What a panic does to cues (``cues.lifecycle.CueLifecycle``)."""

    def halt(self, now: float) -> None:
        """Refuse starts; stop cues that have not acted yet and fades."""
        ...

    def release(self, t: float) -> None:
        """Stop every cue and accept starts again."""
        ...


@dataclass(slots=True)
class _LevelFade:
    """A panic's linear fade of one mapping's level to zero."""

    start: float
    t0: float
    duration: float
    next_step: float


class PanicFade:
    """Owns the panic in progress (``until``: when it ends; None: no panic) and its
    fades of mapping levels."""

    def __init__(
        self,
        show: ShowModel,
        outbox: Outbox,
        timers: TimerQueue,
        cues: CueHalt,
        mappings: MappingScheduler,
    ) -> None:
        self._outbox = outbox
        self._timers = timers
        self._cues = cues
        self._mappings = mappings
        self._panic_time = show.panic_time
        self._outputs = show.visual_outputs
        self.until: float | None = None
        self._gen = 0
        self._fades: dict[str, _LevelFade] = {}
        timers.own((TimerKind.PANIC,), self.timer_valid, self._on_timer)

    @property
    def active(self) -> bool:
        """Whether a panic is in progress."""
        return self.until is not None

    def configure(self, show: ShowModel) -> None:
        """Use a reloaded show's panic time and visual outputs from the next panic."""
        self._panic_time = show.panic_time
        self._outputs = show.visual_outputs

    def begin(self, duration: float | None, now: float) -> None:
        """Panic at ``now`` over ``duration`` seconds (None: the show's panic time)."""
        if self.until is not None:
            self._outbox.report(
                ReportLevel.WARNING, "PANIC", "second panic: everything stopped at once"
            )
            self.end(now)
            return
        d = self._panic_time if duration is None else max(0.0, duration)
        self._outbox.report(ReportLevel.WARNING, "PANIC", f"fading everything out over {d:g} s")
        self._cues.halt(now)
        for name, level in self._mappings.enabled_levels().items():
            self._fades[name] = _LevelFade(level, now, d, now)
        for output in self._outputs:
            self._outbox.emit(SetScene(output, "", "crossfade", d, Curve.LINEAR.value))
        if d <= 0:
            self.end(now)
            return
        self.until = now + d
        self._gen += 1
        self._timers.push(self.until, TimerKind.PANIC, "", self._gen)

    def timer_valid(self, _: str, gen: int) -> bool:
        """Whether a panic timer is the current panic's."""
        return self.until is not None and gen == self._gen

    def _on_timer(self, _: TimerKind, __: str, due: float) -> None:
        self.end(due)

    def end(self, t: float) -> None:
        """The panic is over: targets at zero, every cue stopped, every mapping off."""
        self._mappings.silence()
        self.until = None
        self._fades.clear()
        self._cues.release(t)
        self._mappings.disable_all()
        self._outbox.report(
            ReportLevel.WARNING, "PANIC", "complete: all cues stopped, mappings disabled"
        )

    def step(self, now: float) -> None:
        """Set the mapping levels the fades have reached at ``now``."""
        if not self._fades:
            return
        for name, lf in list(self._fades.items()):
            if now < lf.next_step:
                continue
            # steps sit on the fade's own grid (t0 + k / rate): a late wake-up sets the
            # level the schedule says, as a dry run on the virtual clock does
            k = math.floor((now - lf.t0) * LEVEL_FADE_RATE + 1e-9)
            elapsed = k / LEVEL_FADE_RATE
            x = elapsed / lf.duration if lf.duration > 0 and now < lf.t0 + lf.duration else 1.0
            self._mappings.force_level(name, lf.start * (1.0 - min(x, 1.0)))
            if x >= 1.0:
                del self._fades[name]
            else:
                lf.next_step = lf.t0 + (k + 1) / LEVEL_FADE_RATE

    def next_step(self) -> float:
        """When the next fade step is due (``inf``: none)."""
        if not self._fades:
            return math.inf
        return min(lf.next_step for lf in self._fades.values())

    def reset(self) -> None:
        """No panic (the show was reset)."""
        self.until = None
        self._fades.clear()

    def forget(self, mapping: str) -> None:
        """A reload removed a mapping: stop fading it."""
        self._fades.pop(mapping, None)
