"""Per-cue runtime state, kept apart from the engine's logic."""

from __future__ import annotations

from dataclasses import dataclass

from cues.commands import CueState
from cues.model import CueDef, CueKind

__all__ = ["CueRun", "Phase"]


@dataclass(slots=True)
class Phase:
    """Progress of one phase (pre-wait, action or post-wait) for the console."""

    elapsed: float
    total: float | None


@dataclass(slots=True)
class CueRun:
    """What one cue is doing now. Times are on the engine's clock.

    ``gen`` increases whenever the cue's timers become invalid (stop, pause,
    restart); timers carry the generation they were set under.
    """

    cue: CueDef
    armed: bool
    state: CueState = CueState.IDLE
    gen: int = 0
    started_at: float = 0.0
    action_at: float | None = None
    action_end: float | None = None
    action_done: bool = False
    continue_at: float | None = None
    wait_deadline: float | None = None
    wait_since: float | None = None
    paused_at: float | None = None
    paused_from: CueState | None = None
    child_index: int = 0
    fade_from: float = 0.0
    fade_last: float = 0.0
    starts: int = 0

    @property
    def active(self) -> bool:
        """Whether the cue is anywhere but idle."""
        return self.state is not CueState.IDLE

    def clear(self) -> None:
        """Forget the last run's times."""
        self.action_at = None
        self.action_end = None
        self.action_done = False
        self.continue_at = None
        self.wait_deadline = None
        self.wait_since = None
        self.paused_at = None
        self.paused_from = None
        self.child_index = 0

    def shift(self, delta: float) -> None:
        """Move every pending time later by ``delta`` (used on resume)."""
        self.started_at += delta
        if self.action_at is not None:
            self.action_at += delta
        if self.action_end is not None:
            self.action_end += delta
        if self.continue_at is not None:
            self.continue_at += delta
        if self.wait_deadline is not None:
            self.wait_deadline += delta
        self.fade_last += delta

    def phases(self, now: float) -> tuple[Phase, Phase, Phase]:
        """Pre-wait, action and post-wait progress at ``now``."""
        cue = self.cue
        t = self.paused_at if self.state is CueState.PAUSED and self.paused_at else now
        pre = Phase(0.0, cue.prewait)
        act = Phase(0.0, None if cue.kind is CueKind.GROUP else cue.duration)
        post = Phase(0.0, cue.postwait)
        if self.state is CueState.IDLE or self.state is CueState.WAITING:
            return pre, act, post
        if self.action_at is None:
            pre.elapsed = max(0.0, t - self.started_at)
            return pre, act, post
        pre.elapsed = cue.prewait
        act.elapsed = max(0.0, t - self.action_at)
        if act.total is not None:
            act.elapsed = min(act.elapsed, act.total)
        post.elapsed = min(cue.postwait, max(0.0, t - self.action_at))
        return pre, act, post
