"""The cue lists: which cue each list stands by on, GO and its double-GO guard, and
which cue a continue starts next (:class:`cues.sequence.CueOrder`)."""

from __future__ import annotations

import math

from cues.commands import Outbox, PlayheadChanged, ReportLevel
from cues.model import CueDef, CueId, CueListDef, ShowModel
from cues.sequence import CueOrder

__all__ = ["CueLists"]


class CueLists:
    """Owns the standby (playhead) of every list and the GO guard's memory.

    ``min_go_interval`` and ``last_go`` are for reading; ``go_rejected`` counts the GOs
    refused (during a panic or by the guard).
    """

    def __init__(self, show: ShowModel, cues: dict[CueId, CueDef], outbox: Outbox) -> None:
        self._outbox = outbox
        self._order = CueOrder(cues, show.cue_lists)
        self._lists: dict[str, CueListDef] = {}
        self._list_of: dict[CueId, str] = {}
        self.playheads: dict[str, int | None] = {}
        self.min_go_interval = show.min_go_interval
        self.last_go = -math.inf
        self.go_rejected = 0
        for cl in show.cue_lists:
            for cid in cl.cues:
                self._list_of[cid] = cl.name
            self.playheads[cl.name] = self._order.standby_index(cl.cues, 0, 1)
        self._lists = {cl.name: cl for cl in show.cue_lists}
        self._in_order = show.cue_lists

    # -- reading ---------------------------------------------------------------------

    def _default(self) -> str:
        return self._in_order[0].name

    def playhead(self, cue_list: str = "") -> CueId | None:
        """The standby cue of a list (the first list by default)."""
        name = cue_list or self._default()
        idx = self.playheads.get(name)
        cues = self._lists[name].cues
        return cues[idx] if idx is not None and idx < len(cues) else None

    def continue_applies(self, cue: CueDef) -> bool:
        """Whether a cue's continue mode starts anything (see :class:`CueOrder`)."""
        return self._order.continue_applies(cue)

    def next_of(self, cue: CueDef) -> CueId | None:
        """The cue a continue of ``cue`` starts."""
        return self._order.next_of(cue)

    # -- GO and the standby ----------------------------------------------------------

    def go(self, cue_list: str, now: float, panicking: bool) -> CueId | None:
        """GO on a list (the first by default): the cue to start, or None (refused or
        nothing on standby, with a report). The standby moves past the cue."""
        name = cue_list or self._default()
        if name not in self._lists:
            self._outbox.report(ReportLevel.WARNING, name, "GO for an unknown cue list ignored")
            return None
        if panicking:
            self.go_rejected += 1
            self._outbox.report(ReportLevel.WARNING, "GO", "ignored: panic in progress")
            return None
        if now - self.last_go < self.min_go_interval:
            self.go_rejected += 1
            self._outbox.report(
                ReportLevel.WARNING,
                "GO",
                f"ignored by the double-GO guard ({now - self.last_go:.3f} s after the last GO,"
                f" minimum {self.min_go_interval:g} s)",
            )
            return None
        cid = self.playhead(name)
        if cid is None:
            self._outbox.report(ReportLevel.INFO, "GO", f"nothing on standby in list {name!r}")
            return None
        self.last_go = now
        self._standby_after(name)
        return cid

    def set_min_go_interval(self, seconds: float) -> None:
        """Change the double-GO guard's minimum interval."""
        self.min_go_interval = max(0.0, float(seconds))

    def step_past(self, cid: CueId) -> None:
        """A continue started ``cid``: if it is its list's standby, move past it."""
        lst = self._list_of.get(cid)
        if lst is None:
            return
        idx = self.playheads[lst]
        if idx is not None and self._lists[lst].cues[idx] == cid:
            self._standby_after(lst)

    def _standby_after(self, cue_list: str) -> None:
        """Move a list's standby past its current cue (and past any fallback cues)."""
        idx = self.playheads[cue_list]
        if idx is not None:
            idx = self._order.standby_index(self._lists[cue_list].cues, idx + 1, 1)
        self._set(cue_list, idx)

    def stand_by(self, cid: CueId) -> None:
        """Put ``cid`` on standby in its list."""
        lst = self._list_of.get(cid)
        if lst is None:
            self._outbox.report(ReportLevel.WARNING, cid, "only top-level cues can be on standby")
        else:
            self._set(lst, self._order.position(cid))

    def move(self, cue_list: str, step: int) -> None:
        """Move a list's standby to the next (``step`` 1) or previous (-1) cue that is not
        a fallback; back from the first cue it stays."""
        name = cue_list or self._default()
        cues = self._lists[name].cues
        idx = self.playheads[name]
        pos = min(max((len(cues) if idx is None else idx) + step, 0), len(cues))
        found = self._order.standby_index(cues, pos, step)
        if found is not None or step > 0:
            self._set(name, found)

    def _set(self, cue_list: str, idx: int | None) -> None:
        cues = self._lists[cue_list].cues
        if idx is not None and idx >= len(cues):
            idx = None
        if self.playheads[cue_list] != idx:
            self.playheads[cue_list] = idx
            self._outbox.items.append(
                PlayheadChanged(cue_list, cues[idx] if idx is not None else None)
            )

    def reset(self) -> None:
        """Every standby on its list's first cue; the GO guard forgets the last GO."""
        for name, cl in self._lists.items():
            self._set(name, self._order.standby_index(cl.cues, 0, 1))
        self.last_go = -math.inf

    # -- reload ----------------------------------------------------------------------

    def replace(
        self,
        show: ShowModel,
        order: CueOrder,
        list_of: dict[CueId, str],
        positions: dict[str, int],
    ) -> None:
        """Run the lists of a reloaded show, each standing by on the first cue from its
        position in ``positions`` that is not a fallback (no PlayheadChanged:
        :meth:`announce` says them all). The GO guard is left as it is."""
        self._lists = {cl.name: cl for cl in show.cue_lists}
        self._in_order = show.cue_lists
        self._list_of = list_of
        self._order = order
        self.playheads = {
            cl.name: order.standby_index(cl.cues, positions[cl.name], 1) for cl in show.cue_lists
        }

    def announce(self) -> None:
        """Say every list's standby (after a reload)."""
        for name in self._lists:
            self._outbox.emit(PlayheadChanged(name, self.playhead(name)))
