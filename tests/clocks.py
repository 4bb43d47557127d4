"""The one fake clock of the tests: time moves only when a test moves it.

Call it (or its ``time``) for the time, as a ``clock=`` argument expects; set ``now`` or
``advance`` to move it; pass its ``sleep`` where an awaitable sleep is expected, and the
sleep is recorded in ``sleeps`` and moves the time on at once."""

from __future__ import annotations

__all__ = ["FakeClock"]


class FakeClock:
    """A settable clock for rate limiters, staleness, replays and the runner."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
