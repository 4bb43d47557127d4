"""A logger wrapper that lets repeated warnings through at a limited rate.

The one rate limiter for every package's operator warnings (OSC, MIDI, telemetry,
the web server and rehearsal).

Repeated warnings are rate-limited, not muted: the first occurrence of a key
is logged at once, later ones at most every ``interval_s`` seconds, each with
the number of similar messages suppressed in between.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["RateLimitedLogger"]


class RateLimitedLogger:
    """Log at most one message per key per ``interval_s`` seconds."""

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 256,
    ) -> None:
        """Wrap ``logger``; ``clock`` returns seconds and is injectable for tests."""
        self._logger = logger
        self._interval = interval_s
        self._clock = clock
        self._max_keys = max_keys
        # key -> [time of last emitted record, suppressed count since then]
        self._seen: OrderedDict[Hashable, list[float]] = OrderedDict()

    def log(
        self,
        level: int,
        key: Hashable,
        msg: str,
        *args: object,
        exc_info: BaseException | bool | None = None,
        now: float | None = None,
    ) -> bool:
        """Log ``msg % args`` unless ``key`` was logged less than ``interval_s`` ago.

        ``now`` is the caller's clock reading when it has one (else ``clock()``).

        Returns:
            True if the record was emitted, False if it was suppressed.
        """
        if now is None:
            now = self._clock()
        entry = self._seen.get(key)
        if entry is not None and now - entry[0] < self._interval:
            entry[1] += 1
            return False
        if entry is not None and entry[1]:
            msg += " (%d similar messages suppressed in the last %.0f s)"
            args = (*args, int(entry[1]), now - entry[0])
        self._seen[key] = [now, 0]
        self._seen.move_to_end(key)
        while len(self._seen) > self._max_keys:
            self._seen.popitem(last=False)
        self._logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def warning(
        self,
        key: Hashable,
        msg: str,
        *args: object,
        exc_info: BaseException | bool | None = None,
        now: float | None = None,
    ) -> bool:
        """Rate-limited ``logger.warning``."""
        return self.log(logging.WARNING, key, msg, *args, exc_info=exc_info, now=now)

    def error(self, key: Hashable, msg: str, *args: object, now: float | None = None) -> bool:
        """Rate-limited ``logger.error``."""
        return self.log(logging.ERROR, key, msg, *args, now=now)
