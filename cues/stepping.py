"""Moving an engine from deadline to deadline, with one rounding rule.

The live runner (``show.runtime.runner``, on the event loop's clock), the dry run
(``rehearsal.dryrun``, on the recording's clock) and the engine tests
(``tests/cues/script.py``, on a script's clock) all step an engine the same way, through
one :class:`Stepper`:

* the next step is the engine's next deadline (:meth:`Stepper.next_step`);
* a deadline before the last step is taken at the last step's time: time never goes back;
* a deadline the engine still reports after an advance at that very time (a condition held
  for ``hold`` seconds can miss by a rounding error, ``now - since < hold``) is retried
  :data:`NUDGE_S` later, as a live wake-up one loop turn later would be.

The stepper never reads a clock: the caller says what time it is. Live, the runner sleeps
until :meth:`~Stepper.next_step` and advances to whatever its clock then says; on a virtual
clock, :meth:`~Stepper.run_until` takes every step up to a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

__all__ = ["MAX_STEPS_AT_ONE_INSTANT", "NUDGE_S", "Steppable", "Stepper"]

NUDGE_S: Final = 1e-6
"""How much later a deadline that is still due after an advance at its time is retried."""
MAX_STEPS_AT_ONE_INSTANT: Final = 10_000
"""Steps taken for deadlines already due before :meth:`Stepper.run_until` assumes the
engine is stuck and returns False."""


class Steppable(Protocol):
    """What a stepper needs from an engine (``cues.engine.Engine``)."""

    def advance(self, now: float) -> None: ...
    def next_deadline(self) -> float | None: ...


class Stepper:
    """Steps one engine through time; see the module docstring for the rule.

    Args:
        engine: The engine to advance.
        now: The show time the engine starts at (not yet advanced there).
        on_step: Called with the time after every advance (a dry run collects the
            engine's commands there); ``None`` for none.

    Attributes:
        now: The latest time the engine was advanced to (or the start).
        advanced: Whether the engine was advanced at exactly ``now``.
    """

    __slots__ = ("_engine", "_on_step", "advanced", "now")

    def __init__(
        self,
        engine: Steppable,
        now: float = 0.0,
        on_step: Callable[[float], None] | None = None,
    ) -> None:
        self._engine = engine
        self._on_step = on_step
        self.now = now
        self.advanced = False

    def _overdue(self) -> float:
        """The time to step to for a deadline at or before :attr:`now`."""
        return self.now + NUDGE_S if self.advanced else self.now

    def next_step(self) -> float | None:
        """When the engine next needs an advance, by the rule; ``None``: not until an
        input arrives."""
        d = self._engine.next_deadline()
        if d is None or d > self.now:
            return d
        return self._overdue()

    def advance(self, t: float) -> None:
        """Advance the engine to ``t`` and call ``on_step(t)``.

        A ``t`` before :attr:`now` is handed to the engine as it is but does not move
        :attr:`now` back.
        """
        self._engine.advance(t)
        if t >= self.now:
            self.now = t
            self.advanced = True
        else:
            self.advanced = False
        if self._on_step is not None:
            self._on_step(t)

    def run_until(self, t: float) -> bool:
        """Step through every deadline at or before ``t`` (the engine is not advanced to
        ``t`` itself: :meth:`advance` does that).

        After :data:`MAX_STEPS_AT_ONE_INSTANT` steps for deadlines already due, the engine
        is taken to be stuck and the rest is left for a later call.

        Returns:
            False when it stopped for a stuck engine (the caller says so), else True.
        """
        engine = self._engine
        stuck = 0
        while True:
            d = engine.next_deadline()
            if d is None or d > t:
                return True
            if d <= self.now:
                d = self._overdue()
                if d > t:
                    return True
                stuck += 1
                if stuck > MAX_STEPS_AT_ONE_INSTANT:
                    return False
            else:
                stuck = 0
            self.advance(d)
