"""The engine's timer queue: one heap of typed timers whose stale entries are dropped
lazily, in one place (:meth:`TimerQueue._drop_stale`).

A timer is never removed when it stops mattering (a cue stopped, paused, restarted);
its owner changes the generation the timer was set under instead, and the queue asks
the owner of the timer's kind, through the ``valid`` functions it was built with,
before it runs or reports a timer.
"""

from __future__ import annotations

import enum
import heapq
import math
from collections.abc import Callable, Collection, Iterable

__all__ = ["TimerKind", "TimerQueue"]


class TimerKind(enum.Enum):
    """What a timer is for."""

    ACTION = "action"
    """A cue's pre-wait ends: its action begins."""
    END = "end"
    """A cue's action ends."""
    CONTINUE = "continue"
    """A cue's post-wait ends: auto-continue starts the next cue."""
    FADE = "fade"
    """A fade cue's next step."""
    TIMEOUT = "timeout"
    """A conditional wait gives up (and starts its fallback)."""
    HOLD = "hold"
    """A conditional wait's condition may have held long enough."""
    NOTICE = "notice"
    """A dashboard notice expires."""
    PANIC = "panic"
    """A panic's fade-out is over."""


Valid = Callable[[str, int], bool]
"""Whether a timer ``(key, generation)`` of one kind still matters (asked of its owner)."""
Run = Callable[[TimerKind, str, float], None]
"""Runs a valid timer ``(kind, key, due time)`` (its owner's handler)."""

_Entry = tuple[float, int, TimerKind, str, int]


class TimerQueue:
    """Timers ordered by due time, then by the order they were set.

    ``head`` is the earliest due time in the heap, stale timers included (``inf`` when
    empty): a test for "may anything be due?" cheap enough for every sample.
    """

    __slots__ = ("_heap", "_run", "_seq", "_valid", "head")

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = 0
        self._valid: dict[TimerKind, Valid] = {}
        self._run: dict[TimerKind, Run] = {}
        self.head = math.inf

    def own(self, kinds: Iterable[TimerKind], valid: Valid, run: Run) -> None:
        """Say who owns timers of ``kinds``: ``valid`` tells a stale timer from a live
        one, ``run`` runs a live one that is due."""
        for kind in kinds:
            self._valid[kind] = valid
            self._run[kind] = run

    def __len__(self) -> int:
        """Timers in the queue, stale ones included."""
        return len(self._heap)

    def push(self, due: float, kind: TimerKind, key: str, gen: int) -> None:
        """Set a timer; ``key`` names what it is for (a cue, a notice), ``gen`` the
        generation its owner will check."""
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, kind, key, gen))
        if due < self.head:
            self.head = due

    def _drop_stale(self, until: float) -> bool:
        """Pop stale timers off the top while they are due by ``until``; True when the
        top is then a valid timer due by ``until``. (The one place stale timers go.)"""
        heap, valid = self._heap, self._valid
        found = False
        while heap:
            due, _, kind, key, gen = heap[0]
            if due > until:
                break
            if valid[kind](key, gen):
                found = True
                break
            heapq.heappop(heap)
        self.head = heap[0][0] if heap else math.inf
        return found

    def next_due(self) -> float | None:
        """When the earliest valid timer is due, or None."""
        return self._heap[0][0] if self._drop_stale(math.inf) else None

    def pop_due(self, now: float) -> tuple[float, TimerKind, str] | None:
        """Take the earliest valid timer due at or before ``now``: ``(due, kind, key)``,
        or None. Validity is checked as it is taken, so a timer that an earlier one made
        stale is skipped."""
        if not self._drop_stale(now):
            return None
        heap = self._heap
        due, _, kind, key, _ = heapq.heappop(heap)
        self.head = heap[0][0] if heap else math.inf
        return due, kind, key

    def run_due(self, now: float, after_each: Callable[[], None]) -> None:
        """Run every valid timer due by ``now``, earliest first, calling ``after_each``
        after each one (what a timer does may make a later one stale, or set a new one
        that is due too)."""
        heap, run = self._heap, self._run
        while self._drop_stale(now):
            due, _, kind, key, _ = heapq.heappop(heap)
            self.head = heap[0][0] if heap else math.inf
            run[kind](kind, key, due)
            after_each()

    def drop_keys(self, keys: Collection[str]) -> None:
        """Remove every timer set for one of ``keys`` (things that no longer exist, so a
        new thing of the same name does not meet their timers)."""
        if not keys:
            return
        self._heap = [t for t in self._heap if t[3] not in keys]
        heapq.heapify(self._heap)
        self.head = self._heap[0][0] if self._heap else math.inf
