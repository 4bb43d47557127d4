"""Declared signal names (some of them glob patterns) and quick look-ups against them.

A show may declare thousands of signals and name thousands of patterns; each
look-up here is a set probe plus a scan of the declared *patterns* (few), or, for
a pattern, a scan of the declared names sharing its literal prefix, so checking a
big show stays close to linear.
"""

from __future__ import annotations

import bisect
from fnmatch import fnmatchcase

__all__ = ["SignalNames", "is_pattern"]

_WILD = "*?["


def is_pattern(name: str) -> bool:
    """Whether ``name`` is a glob pattern."""
    return any(ch in name for ch in _WILD)


def _match(name: str, pattern: str) -> bool:
    """``fnmatchcase``, without compiling a regular expression for the common
    one-star patterns (``home-*.temp_c``): thousands of distinct patterns would
    each compile one."""
    if pattern.count("*") == 1 and "?" not in pattern and "[" not in pattern:
        head, _, tail = pattern.partition("*")
        return len(name) >= len(head) + len(tail) and name.startswith(head) and name.endswith(tail)
    return fnmatchcase(name, pattern)


def _literal_prefix(pattern: str) -> str:
    cut = min((i for i, ch in enumerate(pattern) if ch in _WILD), default=len(pattern))
    return pattern[:cut]


class SignalNames:
    """Grows as signals are declared; answers the two questions the show file asks."""

    def __init__(self) -> None:
        self._plain: set[str] = set()
        self._sorted: list[str] | None = []
        self._patterns: list[str] = []
        self._meets: dict[str, bool] = {}

    def add(self, name: str) -> None:
        """Declare a signal (or a pattern of signals)."""
        if is_pattern(name):
            self._patterns.append(name)
        elif name not in self._plain:
            self._plain.add(name)
            self._sorted = None  # sorted again at the next pattern look-up
        self._meets.clear()

    def covers(self, name: str) -> bool:
        """A single signal (not a pattern) that is declared or that a declared pattern
        covers."""
        if is_pattern(name):
            return False
        return name in self._plain or any(_match(name, p) for p in self._patterns)

    def meets(self, name: str) -> bool:
        """A name or pattern that meets a declared one: equal, covered by a declared
        pattern, or (for a pattern) covering a declared name."""
        known = self._meets.get(name)
        if known is None:
            known = self._meets[name] = self._meets_uncached(name)
        return known

    def _meets_uncached(self, name: str) -> bool:
        if name in self._plain:
            return True
        if any(_match(name, p) or _match(p, name) for p in self._patterns):
            return True
        if not is_pattern(name):
            return False
        if self._sorted is None:
            self._sorted = sorted(self._plain)
        names = self._sorted
        prefix = _literal_prefix(name)
        i = bisect.bisect_left(names, prefix)
        while i < len(names) and names[i].startswith(prefix):
            if _match(names[i], name):
                return True
            i += 1
        return False
