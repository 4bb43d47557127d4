"""Rate-limited warnings: repeated problems are logged once per interval, never muted."""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """Log a warning at most once per ``interval_s`` per key, counting the rest.

    The next message for a key says how many similar ones were suppressed, so an
    operator reading the log at 2 a.m. still sees how often it happened.

    Args:
        logger: Where to log.
        interval_s: Minimum time between two messages with the same key.
        clock: Monotonic clock in seconds (passed in; tests use a fake one).
    """

    def __init__(
        self, logger: logging.Logger, interval_s: float, clock: Callable[[], float]
    ) -> None:
        self._logger = logger
        self._interval = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, msg: str, *args: object, exc_info: bool = False) -> bool:
        """Log ``msg % args`` unless ``key`` was logged less than an interval ago.

        Args:
            key: Groups similar messages (e.g. ``"build-failed"``).
            msg: ``%``-style format string.
            *args: Format arguments.
            exc_info: Attach the current exception's traceback.

        Returns:
            True when the message was logged, False when it was counted instead.
        """
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            msg = msg + " (%d similar warnings suppressed in the last %.0f s)"
            args = (*args, suppressed, self._interval)
        self._logger.warning(msg, *args, exc_info=exc_info)
        return True
