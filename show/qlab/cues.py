"""The show's cues as QLab describes them: unique ids, cue dictionaries and property values.

Read-only views over the running engine plus the few properties that QLab remotes
set and Stovelight keeps only for them (flag, colour, notes edited live). Keys that
Stovelight has no notion of answer ``None`` (JSON ``null``) so that one unknown key
never spoils a ``valuesForKeys`` request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from cues.commands import CueState
from cues.model import (
    ArmAction,
    ContinueMode,
    CueAction,
    CueDef,
    CueId,
    DisarmAction,
    FadeAction,
    GroupAction,
    GroupMode,
    MemoAction,
    MidiAction,
    NoticeAction,
    OscAction,
    ShowModel,
    StartAction,
    StopAction,
    VisualAction,
    WaitAction,
)
from show.runtime.views import EngineView

__all__ = ["CONTINUE_MODES", "QLabCues", "cue_uid"]

_TYPES: dict[type[CueAction], str] = {
    MemoAction: "Memo",
    WaitAction: "Wait",
    OscAction: "Network",
    MidiAction: "MIDI",
    VisualAction: "Video",
    NoticeAction: "Text",
    FadeAction: "Fade",
    GroupAction: "Group",
    StartAction: "Start",
    StopAction: "Stop",
    ArmAction: "Arm",
    DisarmAction: "Disarm",
}
"""QLab's cue type for each kind of cue's action."""
CONTINUE_MODES = {
    ContinueMode.DO_NOT_CONTINUE: 0,
    ContinueMode.AUTO_CONTINUE: 1,
    ContinueMode.AUTO_FOLLOW: 2,
}
# QLab 5's group ``mode`` numbers (cue list 0, start first 2, timeline 3, playlist 6)
_GROUP_MODES = {GroupMode.START_FIRST: 2, GroupMode.TIMELINE: 3, GroupMode.PLAYLIST: 6}
# Properties of audio and video cues that no Stovelight cue has: read as QLab reads
# them on a cue without media, refused when set.
MEDIA_ONLY = frozenset({"startTime", "endTime", "infiniteLoop", "holdLastFrame", "sliderLevel"})


def cue_uid(key: str) -> str:
    """A stable QLab-style unique id (an upper-case UUID) for a cue or list key."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"stovelight-cue:{key}")).upper()


class QLabCues:
    """Cue dictionaries and values for one running show."""

    def __init__(self, model: ShowModel, engine: EngineView, now: Callable[[], float]) -> None:
        self.engine = engine
        self.now = now
        self.flagged: set[CueId] = set()
        self.colors: dict[CueId, str] = {}
        self.notes: dict[CueId, str] = {}
        self.reload(model)

    def reload(self, model: ShowModel) -> None:
        """Take a reloaded show's cues and lists. Flags and colours stay on the cues
        that remain; notes come from the file again."""
        self.model = model
        self.uids: dict[CueId, str] = {c: cue_uid(c) for c in model.cues}
        self.by_uid: dict[str, CueId] = {u: c for c, u in self.uids.items()}
        self.list_uids: dict[str, str] = {
            cl.name: cue_uid(f"list:{cl.name}") for cl in model.cue_lists
        }
        self.list_by_uid: dict[str, str] = {u: n for n, u in self.list_uids.items()}
        self.flagged &= set(model.cues)
        self.colors = {c: v for c, v in self.colors.items() if c in model.cues}
        self.notes = {}

    # -- lookups -------------------------------------------------------------------------

    def list_of(self, cid: CueId) -> str:
        """The name of the cue list a cue belongs to."""
        return cid.split("/", 1)[0]

    def list_cues(self, name: str) -> tuple[CueId, ...]:
        """A list's top-level cues in GO order."""
        for cl in self.model.cue_lists:
            if cl.name == name:
                return cl.cues
        return ()

    def active(self, cue_list: str = "") -> list[CueId]:
        """Cues waiting, in pre-wait, running or paused (of one list when given), in
        the order they started."""
        runs = self.engine.runs
        cues = [
            c for c in self.engine.running_cues() if not cue_list or self.list_of(c) == cue_list
        ]
        return sorted(cues, key=lambda c: runs[c].started_at)

    def color(self, cid: CueId) -> str:
        return self.colors.get(cid, "none")

    def notes_of(self, cid: CueId) -> str:
        return self.notes.get(cid, self.engine.cues[cid].notes)

    # -- dictionaries --------------------------------------------------------------------

    def cue_dict(self, cid: CueId) -> dict[str, Any]:
        """QLab's short cue dictionary (what ``/cueLists`` and ``/children`` list)."""
        cue = self.engine.cues[cid]
        out: dict[str, Any] = {
            "uniqueID": self.uids[cid],
            "number": cue.number,
            "name": cue.name,
            "listName": cue.name or cue.number,
            "type": _TYPES[type(cue.action)],
            "colorName": self.color(cid),
            "flagged": cid in self.flagged,
            "armed": self.engine.runs[cid].armed,
        }
        if isinstance(cue.action, GroupAction):
            out["cues"] = [self.cue_dict(c) for c in cue.action.children]
        return out

    def list_dict(self, name: str, deep: bool = True) -> dict[str, Any]:
        """A cue list as QLab shows it (type ``Cue List``)."""
        out: dict[str, Any] = {
            "uniqueID": self.list_uids[name],
            "number": "",
            "name": name,
            "listName": name,
            "type": "Cue List",
            "colorName": "none",
            "flagged": False,
            "armed": True,
        }
        if deep:
            out["cues"] = [self.cue_dict(c) for c in self.list_cues(name)]
        return out

    def values(self, cid: CueId, keys: Iterable[str]) -> dict[str, Any]:
        """``valuesForKeys``: every asked key, ``None`` for those Stovelight lacks."""
        known = self._cue_values(cid)
        return {k: known.get(k) for k in keys}

    def value(self, cid: CueId, key: str) -> Any:
        """One property; KeyError when the cue has no such property."""
        known = self._cue_values(cid)
        if key not in known:
            raise KeyError(f"{key} is not a property of cue {self.engine.cues[cid].number}")
        return known[key]

    def list_values(self, name: str, keys: Iterable[str]) -> dict[str, Any]:
        """``valuesForKeys`` on a cue list."""
        active = self.active(name)
        runs = self.engine.runs
        known: dict[str, Any] = {
            **self.list_dict(name, deep=False),
            "displayName": name,
            "mode": 0,
            "parent": "",
            "notes": "",
            "isRunning": any(runs[c].state is not CueState.PAUSED for c in active),
            "isPaused": bool(active) and all(runs[c].state is CueState.PAUSED for c in active),
            "isLoaded": False,
            "isBroken": False,
            "isAuditioning": False,
            "autoLoad": False,
            "playheadID": self.playhead_uid(name),
        }
        return {k: known.get(k) for k in keys}

    def playhead_uid(self, cue_list: str = "") -> str:
        """The standby cue's unique id, or ``none``."""
        head = self.engine.playhead(cue_list)
        return self.uids[head] if head is not None else "none"

    def _cue_values(self, cid: CueId) -> dict[str, Any]:
        engine = self.engine
        cue: CueDef = engine.cues[cid]
        run = engine.runs[cid]
        pre, act, post = run.phases(self.now())

        def pct(elapsed: float, total: float | None) -> float:
            return min(1.0, elapsed / total) if total else 0.0

        listed = self.list_of(cid)
        parent = self.uids[cue.parent] if cue.parent is not None else self.list_uids[listed]
        return {
            "uniqueID": self.uids[cid],
            "number": cue.number,
            "name": cue.name,
            "displayName": cue.name or cue.number,
            "listName": cue.name or cue.number,
            "type": _TYPES[type(cue.action)],
            "mode": _GROUP_MODES[cue.action.mode] if isinstance(cue.action, GroupAction) else None,
            "parent": parent,
            "preWait": cue.prewait,
            "postWait": cue.postwait,
            "duration": cue.duration,
            "currentDuration": cue.duration,
            "continueMode": CONTINUE_MODES[cue.continue_mode],
            "armed": run.armed,
            "flagged": cid in self.flagged,
            "colorName": self.color(cid),
            "notes": self.notes_of(cid),
            "autoLoad": False,
            "isBroken": False,
            "isAuditioning": False,
            "isLoaded": engine.playhead(listed) == cid,
            "isRunning": run.state in (CueState.PREWAIT, CueState.RUNNING, CueState.WAITING),
            "isPaused": run.state is CueState.PAUSED,
            "isActionRunning": run.state is CueState.RUNNING,
            "isTailingOut": False,
            "isPanicking": False,
            "percentPreWaitElapsed": pct(pre.elapsed, pre.total),
            "percentActionElapsed": pct(act.elapsed, act.total),
            "percentPostWaitElapsed": pct(post.elapsed, post.total),
            "preWaitElapsed": pre.elapsed,
            "actionElapsed": act.elapsed,
            "postWaitElapsed": post.elapsed,
            "cartPosition": [0, 0],
            "infiniteLoop": False,
            "holdLastFrame": False,
        }

    # -- sequences -----------------------------------------------------------------------

    def sequence_target(self, cue_list: str, forward: bool) -> int:
        """Where ``/playhead/nextSequence`` (or ``previousSequence``) puts a list's
        playhead: the first cue of the next (previous) run of cues joined by
        auto-continue or auto-follow. Returns an index; the list's length means
        past the end."""
        cues = self.list_cues(cue_list)
        head = self.engine.playhead(cue_list)
        pos = cues.index(head) if head in cues else len(cues)

        def joined(i: int) -> bool:  # cue i is started by the cue before it
            prev = self.engine.cues[cues[i - 1]]
            return prev.continue_mode is not ContinueMode.DO_NOT_CONTINUE

        if forward:
            i = pos + 1
            while i < len(cues) and joined(i):
                i += 1
            return min(i, len(cues))
        i = max(pos - 1, 0)
        while 0 < i < len(cues) and joined(i):
            i -= 1
        return i
