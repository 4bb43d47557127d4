"""Signal health changes in the log, summarised per source and health.

A source with 800 signals that goes away changes 800 signals at once; the operator
needs one line saying so, not 800. :class:`HealthLog` collects the changes the engine
reports during one loop turn and writes one line per source and health::

    800 signals of source grid are lost: grid.a, grid.b, grid.c and 797 more

A change that comes alone keeps its own line (``signal grid.a is lost``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from cues.commands import Health

__all__ = ["HealthLog"]

#: Names shown in a summary line before "and N more".
_NAMES_SHOWN = 3


class HealthLog:
    """Collects signal health changes and logs them once per loop turn, summarised.

    Args:
        logger: Where the lines go (INFO when signals come back, WARNING otherwise).
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._pending: defaultdict[tuple[str, Health], list[str]] = defaultdict(list)
        self._scheduled = False

    def note(self, signal: str, health: Health, source: str) -> None:
        """Remember one change; the line is written when the current loop turn ends
        (at once when no loop is running)."""
        self._pending[(source, health)].append(signal)
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write one line per source and health for what was noted since the last flush."""
        pending, self._pending = self._pending, defaultdict(list)
        self._scheduled = False
        for (source, health), names in pending.items():
            level = logging.INFO if health is Health.LIVE else logging.WARNING
            if len(names) == 1:
                self._logger.log(level, "signal %s is %s", names[0], health.value)
                continue
            shown = ", ".join(names[:_NAMES_SHOWN])
            more = len(names) - _NAMES_SHOWN
            tail = f" and {more} more" if more > 0 else ""
            origin = f"source {source}" if source else "no source (derived)"
            self._logger.log(
                level,
                "%d signals of %s are %s: %s%s",
                len(names),
                origin,
                health.value,
                shown,
                tail,
            )
