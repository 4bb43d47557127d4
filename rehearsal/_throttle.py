"""Rate limiting for repeated operator warnings (time passed in)."""

from __future__ import annotations

__all__ = ["Throttle"]


class Throttle:
    """Let one message through per ``interval_s`` and count the ones held back.

    Args:
        interval_s: minimum seconds between two messages that get through.
    """

    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self._last: float | None = None
        self._held = 0

    def allow(self, now: float) -> int | None:
        """Return how many messages were held back since the last one, or None to hold this one.

        Args:
            now: the caller's clock reading, in seconds.
        """
        if self._last is not None and now - self._last < self.interval_s:
            self._held += 1
            return None
        held, self._held, self._last = self._held, 0, now
        return held
