"""Which cue a cue's continue mode starts next, and which cue GO stands by on next:
one rule for the engine and for the show-file check that rejects loops taking no
time.

A cue named as some cue's ``fallback`` is outside the GO order: it runs only when
that cue's wait times out, so neither a continue nor the standby ever lands on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cues.model import CueDef, CueId, CueListDef, GroupAction, GroupMode

__all__ = ["CueOrder"]


class CueOrder:
    """Cue positions among their siblings (their list, or their group's children).

    ``cues`` may be a live mapping (the engine edits cues while a show runs); a cue's
    list, parent, children and fallback never change, so positions are worked out once.
    """

    def __init__(self, cues: Mapping[CueId, CueDef], lists: Iterable[CueListDef]) -> None:
        self.cues = cues
        self._siblings: dict[CueId, tuple[CueId, ...]] = {}
        self._position: dict[CueId, int] = {}
        self.fallbacks: frozenset[CueId] = frozenset(
            c.wait.fallback
            for c in cues.values()
            if c.wait is not None and c.wait.fallback is not None
        )
        for cl in lists:
            self._place(cl.cues)
        for cue in cues.values():
            self._place(cue.children)

    def _place(self, siblings: tuple[CueId, ...]) -> None:
        for i, cid in enumerate(siblings):
            self._siblings[cid] = siblings
            self._position[cid] = i

    def position(self, cid: CueId) -> int:
        """A cue's index among its siblings."""
        return self._position[cid]

    def continue_applies(self, cue: CueDef) -> bool:
        """Whether the cue's continue mode starts anything: top-level cues, children of
        start-first groups, and any cue with an explicit ``continue_to``. (Timeline and
        playlist groups start their children themselves.)"""
        if cue.continue_to is not None or cue.parent is None:
            return True
        group = self.cues[cue.parent].action
        return isinstance(group, GroupAction) and group.mode is GroupMode.START_FIRST

    def next_of(self, cue: CueDef) -> CueId | None:
        """The cue a continue starts: ``continue_to``, else the next sibling that is
        not a fallback."""
        if cue.continue_to is not None:
            return cue.continue_to
        siblings = self._siblings.get(cue.id, ())
        i = self.standby_index(siblings, self._position.get(cue.id, len(siblings)) + 1, 1)
        return siblings[i] if i is not None else None

    def standby_index(self, siblings: tuple[CueId, ...], i: int, step: int) -> int | None:
        """The first index from ``i`` (moving by ``step``) whose cue is not a fallback,
        or None past either end."""
        fallbacks = self.fallbacks
        while 0 <= i < len(siblings):
            if siblings[i] not in fallbacks:
                return i
            i += step
        return None
