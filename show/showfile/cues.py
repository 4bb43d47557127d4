"""Show-file readers for cue lists and cues, and the zero-time loop check.

Each kind of cue has one reader (``READERS``: the action type it builds and the method
that reads it); the keys a kind accepts come from its action type's fields
(:func:`file_keys`).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cues.model import (
    ACTION_KINDS,
    TIMED_ACTIONS,
    ArmAction,
    ContinueMode,
    CueAction,
    CueDef,
    CueId,
    CueKind,
    CueListDef,
    CueRef,
    CueWait,
    Curve,
    DisarmAction,
    FadeAction,
    FadeTarget,
    GroupAction,
    GroupMode,
    MappingRef,
    MappingTarget,
    MemoAction,
    MidiAction,
    NoticeAction,
    OscAction,
    OscArg,
    StartAction,
    StopAction,
    TriggerRef,
    VisualAction,
    VisualTarget,
    WaitAction,
)
from cues.sequence import CueOrder
from show.showfile.reader import Reader
from show.showfile.scenecheck import SceneCatalog, SceneUse
from show.showfile.targets import (
    UNREADABLE_CONDITION,
    UNREADABLE_MIDI,
    UNREADABLE_TARGET,
    declared_name,
    osc_address_problem,
    read_condition,
    read_midi,
    read_target,
)

__all__ = ["READERS", "CueReader", "check_notice_ids", "file_keys", "find_zero_time_loops"]

COMMON_KEYS = (
    "number",
    "name",
    "type",
    "prewait",
    "postwait",
    "continue",
    "armed",
    "continue_to",
    "wait_for",
    "timeout",
    "hold",
    "fallback",
    "notes",
)
"""The keys every cue accepts."""


def file_keys(action: type[CueAction]) -> tuple[str, ...]:
    """The show-file keys of a kind of cue, from its action type's fields (a field
    names its keys in ``metadata["keys"]`` when they are not its name), and
    ``duration`` for the kinds in ``TIMED_ACTIONS``."""
    keys: list[str] = []
    for f in dataclasses.fields(action):
        keys.extend(f.metadata.get("keys", (f.name,)))
    if action in TIMED_ACTIONS:
        keys.append("duration")
    return tuple(keys)


_ACTION_TYPES = {kind: action for action, kind in ACTION_KINDS.items()}
_KEYS = {kind: file_keys(action) for kind, action in _ACTION_TYPES.items()}
_ALL_FIELDS = tuple(sorted({f for fields in _KEYS.values() for f in fields}))


@dataclass(frozen=True, slots=True)
class _CueTable:
    """One cue's table while its action is read."""

    t: dict[str, Any]
    path: str
    label: str
    cid: CueId


class CueReader:
    """Reads ``[[cue_lists]]`` and their cues, then resolves cross references."""

    def __init__(
        self,
        r: Reader,
        *,
        signal_ok: Callable[[str], bool],
        osc: list[str],
        midi: list[str],
        visuals: list[str],
        mappings: list[str],
        triggers: list[str],
        sources: list[str] | None = None,
        scenes: SceneCatalog | None = None,
        scene_use: dict[str, SceneUse] | None = None,
    ) -> None:
        self.r = r
        self.scenes = scenes
        self.scene_use = scene_use if scene_use is not None else {}
        self.signal_ok = signal_ok
        self.osc, self.midi, self.visuals = osc, midi, visuals
        self.mappings, self.triggers = mappings, triggers
        self.sources = sources or []
        self.cues: dict[CueId, CueDef] = {}
        self.paths: dict[CueId, str] = {}
        self.lists: list[CueListDef] = []
        self._refs: list[tuple[CueId, str, str]] = []
        self._list = ""

    def ref(self, raw: object, path: str, label: str) -> CueId | None:
        """A reference to a cue: ``"5"`` in the current (or first) list, or ``"List/5"``."""
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = f"{raw:g}"
        if not isinstance(raw, str) or not raw:
            self.r.problem(
                path, f"found {raw!r}, expected a cue number such as '5' or 'Main/5'", label
            )
            return None
        current = self._list or (self.lists[0].name if self.lists else "")
        cid = CueId(raw if "/" in raw else f"{current}/{raw}")
        self._refs.append((cid, path, label))
        return cid

    def read_lists(self, tables: list[dict[str, Any]]) -> list[CueListDef]:
        """Every cue list, in order."""
        names: set[str] = set()
        for i, t in enumerate(tables):
            path = f"cue_lists[{i}]"
            self.r.check_keys(t, ("name", "cues"), path)
            name = self.r.string(t, "name", path, default="Main" if i == 0 else f"List {i + 1}")
            if "/" in name:
                self.r.problem(f"{path}.name", f"found {name!r}; list names cannot contain '/'")
            if name in names:
                self.r.problem(f"{path}.name", f"two cue lists are called {name!r}")
            names.add(name)
            self._list = name
            ids = [
                self._cue(c, f"{path}.cues[j]".replace("[j]", f"[{j}]"), None)
                for j, c in enumerate(self.r.tables(t, "cues", path))
            ]
            self.lists.append(CueListDef(name, tuple(cid for cid in ids if cid is not None)))
        self._list = ""
        return self.lists

    def _number(self, t: dict[str, Any], path: str) -> tuple[str, CueId] | None:
        """A cue's number and id (a number used twice gets an id nothing refers to)."""
        r = self.r
        raw_number = t.get("number")
        if isinstance(raw_number, int | float) and not isinstance(raw_number, bool):
            raw_number = f"{raw_number:g}"
        if not isinstance(raw_number, str) or not raw_number.strip():
            r.problem(path, "every cue needs number = '...' (any text, e.g. '2.5')")
            return None
        number = raw_number.strip()
        label = f"cue {number}"
        if "/" in number:
            r.problem(f"{path}.number", f"found {number!r}; cue numbers cannot contain '/'", label)
        cid = CueId(f"{self._list}/{number}")
        if cid in self.cues:
            r.problem(
                f"{path}.number",
                f"cue number {number!r} is used twice in list {self._list!r}; renumber one",
                label,
            )
            # keep validating its fields under a name nothing can refer to
            cid = CueId(f"{cid}#{path}")
        return number, cid

    def _cue(self, t: dict[str, Any], path: str, parent: CueId | None) -> CueId | None:
        r = self.r
        numbered = self._number(t, path)
        if numbered is None:
            return None
        number, cid = numbered
        label = f"cue {number}"
        kind = r.enum(t, "type", path, CueKind, CueKind.MEMO, label)
        known_type = "type" not in t or t["type"] == kind.value
        # an unknown type is reported once: its fields are not held against memo's
        r.check_keys(t, COMMON_KEYS + (_KEYS[kind] if known_type else _ALL_FIELDS), path, label)
        duration = 0.0
        if "duration" in _KEYS[kind]:
            duration = r.number(t, "duration", path, default=0.0, label=label, lo=0)
        name = r.string(t, "name", path, default="", label=label)
        prewait = r.number(t, "prewait", path, default=0.0, label=label, lo=0)
        postwait = r.number(t, "postwait", path, default=0.0, label=label, lo=0)
        continue_mode = r.enum(
            t, "continue", path, ContinueMode, ContinueMode.DO_NOT_CONTINUE, label
        )
        armed = r.boolean(t, "armed", path, True, label)
        notes = r.string(t, "notes", path, default="", label=label)
        self.paths[cid] = path
        continue_to = None
        if "continue_to" in t:
            continue_to = self.ref(t["continue_to"], f"{path}.continue_to", label)
        wait = self._wait(t, path, label)
        # a placeholder, so that a group's children are registered after the group
        self.cues[cid] = CueDef(id=cid, number=number, name="")
        action: CueAction = MemoAction()
        if known_type:
            reader = READERS[_ACTION_TYPES[kind]]
            action = reader(self, _CueTable(t, path, label, cid))
        self.cues[cid] = CueDef(
            id=cid,
            number=number,
            name=name,
            action=action,
            prewait=prewait,
            duration=duration,
            postwait=postwait,
            continue_mode=continue_mode,
            armed=armed,
            wait=wait,
            continue_to=continue_to,
            parent=parent,
            notes=notes,
        )
        return cid

    def _wait(self, t: dict[str, Any], path: str, label: str) -> CueWait | None:
        """A conditional GO: ``wait_for`` with its ``timeout``, ``hold`` and ``fallback``."""
        r = self.r
        if "wait_for" not in t:
            if "timeout" in t or "fallback" in t or "hold" in t:
                r.problem(
                    path, "timeout, hold and fallback only apply with wait_for = {...}", label
                )
            return None
        wait_path = f"{path}.wait_for"
        condition = read_condition(
            r, r.table(t, "wait_for", path, label), wait_path, label, self.signal_ok, self.sources
        )
        if condition is None:
            if t["wait_for"] == {}:
                r.problem(wait_path, "an empty condition; give signal = '...' and a test", label)
            condition = UNREADABLE_CONDITION
        timeout = r.optional_number(t, "timeout", path, label=label, lo=0, lo_open=True)
        hold = r.number(t, "hold", path, default=0.0, label=label, lo=0)
        if timeout is not None and hold >= timeout:
            r.problem(
                f"{path}.hold",
                f"hold ({hold:g} s) is not shorter than timeout ({timeout:g} s):"
                " the wait could only time out; shorten hold or lengthen timeout",
                label,
            )
        fallback = None
        if "fallback" in t:
            fallback = self.ref(t["fallback"], f"{path}.fallback", label)
            if timeout is None:
                r.problem(f"{path}.fallback", "a fallback needs timeout = SECONDS", label)
        return CueWait(condition, timeout, hold, fallback)

    # -- one reader per kind of cue (READERS) ------------------------------------------

    def _memo(self, c: _CueTable) -> MemoAction:
        return MemoAction()

    def _wait_action(self, c: _CueTable) -> WaitAction:
        return WaitAction()

    def _osc(self, c: _CueTable) -> OscAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        osc_target = r.name_of(t, "target", path, "OSC target", self.osc, label)
        address = r.string(t, "address", path, label=label)
        if "address" in t and (problem := osc_address_problem(address)):
            r.problem(f"{path}.address", problem, label)
        args = t.get("args", [])
        ok: list[OscArg] = []
        if not isinstance(args, list):
            r.problem(f"{path}.args", "expected a list of numbers, strings or booleans", label)
            args = []
        for a in args:
            if isinstance(a, str | int | float | bool):
                ok.append(a)
            else:
                r.problem(
                    f"{path}.args", f"found {a!r}; OSC args are numbers, strings, booleans", label
                )
        return OscAction(osc_target, address, tuple(ok))

    def _midi_action(self, c: _CueTable) -> MidiAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        port = r.name_of(t, "port", path, "MIDI port", self.midi, label)
        message = read_midi(r, r.table(t, "message", path, label), f"{path}.message", label)
        if "message" not in t:
            r.problem(f"{path}.message", "missing message = {type = ..., ...}", label)
        return MidiAction(port, message if message is not None else UNREADABLE_MIDI)

    def _visual(self, c: _CueTable) -> VisualAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        if "output" not in t and len(self.visuals) != 1:
            r.problem(
                f"{path}.output",
                "say which visual output: output = 'NAME'"
                f" (declared: {', '.join(self.visuals) or 'none; add [outputs.visuals.NAME]'})",
                label,
            )
        default = self.visuals[0] if self.visuals else ""
        output = r.name_of(t, "output", path, "visual output", self.visuals, label, default)
        inputs: list[tuple[str, float]] = []
        for name, value in r.table(t, "inputs", path, label).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                r.problem(f"{path}.inputs.{name}", f"found {value!r}, expected a number", label)
                continue
            inputs.append((name, float(value)))
        scene = r.string(t, "scene", path, default="", label=label)
        if not scene and not inputs:
            r.problem(path, "a visual cue needs scene = '...' or inputs = {...}", label)
        transition = r.string(t, "transition", path, default="crossfade", label=label)
        scene, transition = self._scene_use(c, output, scene, transition, inputs)
        return VisualAction(
            output=output,
            scene=scene,
            transition=transition,
            curve=r.enum(t, "curve", path, Curve, Curve.LINEAR, label),
            inputs=tuple(inputs),
        )

    def _scene_use(
        self,
        c: _CueTable,
        output: str,
        scene: str,
        transition: str,
        inputs: list[tuple[str, float]],
    ) -> tuple[str, str]:
        """Check a visual cue's scene and transition against the scene catalog (which
        may resolve their names) and note what the cue uses of ``output``."""
        r, path, label = self.r, c.path, c.label
        use = self.scene_use.setdefault(output, SceneUse())
        if self.scenes is not None:
            if scene:
                scene, problem = self.scenes.scene(scene)
                if problem:
                    r.problem(f"{path}.scene", problem, label)
                use.scenes.add(scene)
            transition, problem = self.scenes.transition(transition)
            if problem:
                r.problem(f"{path}.transition", problem, label)
        use.inputs.extend((name, f"{path}.inputs.{name}", label) for name, _ in inputs)
        use.constants.update(((name, f"{path}.inputs.{name}"), v) for name, v in inputs)
        return scene, transition

    def _notice(self, c: _CueTable) -> NoticeAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        return NoticeAction(
            text=r.string(t, "text", path, default="", label=label),
            level=r.string(
                t,
                "level",
                path,
                default="info",
                label=label,
                choices=("info", "announcement", "alert"),
            ),
            ttl=r.number(t, "ttl", path, default=0.0, label=label, lo=0),
            notice_id=r.string(t, "id", path, default="", label=label),
        )

    def _fade(self, c: _CueTable) -> FadeAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        target = self._fade_target(c)
        if isinstance(target, VisualTarget):
            self.scene_use.setdefault(target.output, SceneUse()).inputs.append(
                (target.name, f"{path}.target", label)
            )
        stop_target = r.boolean(t, "stop_target", path, False, label)
        if stop_target and not (isinstance(target, MappingTarget) and target.mapping):
            r.problem(f"{path}.stop_target", "stop_target applies to mapping targets only", label)
        return FadeAction(
            target=target if target is not None else UNREADABLE_TARGET,
            start=r.optional_number(t, "from", path, label=label),
            to=r.number(t, "to", path, label=label),
            curve=r.enum(t, "curve", path, Curve, Curve.LINEAR, label),
            stop_target=stop_target,
            rate_hz=r.number(t, "rate_hz", path, default=30.0, label=label, lo=1, hi=240),
        )

    def _fade_target(self, c: _CueTable) -> FadeTarget | None:
        r, t, path, label = self.r, c.t, c.path, c.label
        if isinstance(t.get("target"), str):
            name = t["target"]
            r.problem(
                f"{path}.target",
                f"found {name!r}; a fade's target is a table, e.g."
                f" target = {{ osc = {name!r}, address = '/light/1' }}"
                " (or { midi = 'PORT', cc = 7 }, { visual = 'OUTPUT', input = 'NAME' },"
                " { mapping = 'NAME' })",
                label,
            )
            return None
        if "target" not in t:
            r.problem(f"{path}.target", "a fade needs target = {...}", label)
        return read_target(
            r,
            r.table(t, "target", path, label),
            f"{path}.target",
            label,
            self.osc,
            self.midi,
            self.visuals,
            self.mappings,
        )

    def _group(self, c: _CueTable) -> GroupAction:
        r, t, path, label = self.r, c.t, c.path, c.label
        mode = r.enum(t, "mode", path, GroupMode, GroupMode.TIMELINE, label)
        if not t.get("children"):
            r.problem(f"{path}.children", "a group needs [[...children]] cues", label)
        children = [
            self._cue(child, f"{path}.children[{k}]", c.cid)
            for k, child in enumerate(r.tables(t, "children", path, label))
        ]
        return GroupAction(mode, tuple(child for child in children if child is not None))

    def _control_target(
        self, c: _CueTable, kind: CueKind
    ) -> CueRef | MappingRef | TriggerRef | None:
        """A start, stop, arm or disarm cue's one target: ``cue``, ``mapping`` or
        ``trigger`` (every one given is checked)."""
        r, t, path, label = self.r, c.t, c.path, c.label
        given = [k for k in ("cue", "mapping", "trigger") if k in t]
        if len(given) != 1:
            r.problem(path, f"a {kind.value} cue needs one of cue, mapping or trigger", label)
        targets: list[CueRef | MappingRef | TriggerRef] = []
        if "cue" in t:
            cid = self.ref(t["cue"], f"{path}.cue", label)
            targets += [CueRef(cid)] if cid is not None else []
        if "mapping" in t:
            name = declared_name(r, t, "mapping", path, "mapping", self.mappings, label)
            targets.append(MappingRef(name))
        if "trigger" in t:
            name = declared_name(r, t, "trigger", path, "trigger", self.triggers, label)
            if kind in (CueKind.START, CueKind.STOP):
                r.problem(f"{path}.trigger", "triggers are armed or disarmed, not started", label)
            targets.append(TriggerRef(name))
        return targets[0] if len(targets) == 1 and len(given) == 1 else None

    def _start(self, c: _CueTable) -> StartAction:
        target = self._control_target(c, CueKind.START)
        return StartAction(target if isinstance(target, CueRef | MappingRef) else _NO_CUE)

    def _stop(self, c: _CueTable) -> StopAction:
        target = self._control_target(c, CueKind.STOP)
        return StopAction(target if isinstance(target, CueRef | MappingRef) else _NO_CUE)

    def _arm(self, c: _CueTable) -> ArmAction:
        return ArmAction(self._control_target(c, CueKind.ARM) or _NO_CUE)

    def _disarm(self, c: _CueTable) -> DisarmAction:
        return DisarmAction(self._control_target(c, CueKind.DISARM) or _NO_CUE)

    def resolve_references(self) -> None:
        """Report references to cues that do not exist, with the nearest cue number."""
        by_list: dict[str, list[str]] = {}
        by_value: dict[str, dict[float, str]] = {}
        for k in self.cues:
            if "#" not in k:
                lst, _, number = k.partition("/")
                by_list.setdefault(lst, []).append(number)
                value = _value(number)
                if value is not None:
                    by_value.setdefault(lst, {}).setdefault(value, number)
        for cid, path, label in self._refs:
            if cid not in self.cues:
                lst, _, number = cid.partition("/")
                here = by_list.get(lst, [])
                close = _close_number(number, here, by_value.get(lst, {}))
                hint = f"; did you mean {close!r}?" if close else ""
                if not here and lst not in by_list:
                    lists = ", ".join(by_list) or "none"
                    hint = f"; there is no cue list {lst!r} (lists: {lists})"
                self.r.problem(
                    path,
                    f"no cue {number!r} in list {lst!r}{hint}"
                    f" (cues there: {', '.join(here[:15]) or 'none'}"
                    f"{', ...' if len(here) > 15 else ''})",
                    label,
                )

    def check_number(self, raw: str, path: str, label: str = "") -> None:
        """A cue number given outside the cue lists (a MIDI binding's ``cue``), found the
        way operator commands find it: ``List/N``, or ``N`` in any list."""
        if "/" in raw:
            lists = [raw.split("/", 1)[0]]
            number = raw.split("/", 1)[1]
        else:
            lists, number = [cl.name for cl in self.lists], raw
        if any(CueId(f"{lst}/{number}") in self.cues for lst in lists):
            return
        here = [c.split("/", 1)[1] for c in self.cues if c.split("/", 1)[0] in lists]
        by_value = {v: n for n in reversed(here) if (v := _value(n)) is not None}
        close = _close_number(number, here, by_value)
        hint = f"; did you mean {close!r}?" if close else ""
        self.r.problem(path, f"no cue {raw!r} in this show{hint}", label)

    def check_fallbacks(self) -> None:
        """Refuse fallback layouts that could fire a fallback other than on a timeout.

        A fallback stands outside its list's GO order (the engine never stands by on
        it), so it may sit anywhere at the top level of a list; it may not sit in a
        group (the group would start it), be its own cue's fallback, be a
        ``continue_to`` target, or share its waiting cue's notice id.
        """
        fallback_of: dict[CueId, CueDef] = {}
        for cue in self.cues.values():
            fallback = cue.wait.fallback if cue.wait is not None else None
            fb = self.cues.get(fallback) if fallback is not None else None
            if fb is None:
                continue
            fallback_of.setdefault(fb.id, cue)
            path, label = f"{self.paths.get(cue.id, '')}.fallback", f"cue {cue.number}"
            if fb.id == cue.id:
                self.r.problem(path, "a cue cannot be its own fallback; name another cue", label)
                continue
            if fb.parent is not None:
                parent = self.cues[fb.parent].number
                self.r.problem(
                    path,
                    f"fallback {fb.number} is a child of group {parent}, which would start it"
                    " whether or not the wait times out; move it to the top level of a list"
                    " (a fallback is outside the GO order, so it can follow cue"
                    f" {cue.number} directly)",
                    label,
                )
            nid, fid = _notice_id(cue), _notice_id(fb)
            if nid is not None and nid == fid:
                self.r.problem(
                    f"{self.paths.get(fb.id, '')}.id",
                    f"fallback {fb.number} uses the notice id {nid!r} of cue {cue.number};"
                    " give it its own id (or leave id out) so one message cannot replace"
                    " the other",
                    f"cue {fb.number}",
                )
        for cue in self.cues.values():
            waiting = fallback_of.get(cue.continue_to) if cue.continue_to else None
            if waiting is not None:
                self.r.problem(
                    f"{self.paths.get(cue.id, '')}.continue_to",
                    f"cue {self.cues[cue.continue_to].number} is the fallback of cue"  # type: ignore[index]
                    f" {waiting.number} and runs only when its wait times out; continue to"
                    f" cue {waiting.number} instead",
                    f"cue {cue.number}",
                )


_NO_CUE = CueRef(CueId(""))
"""Stands in for a control cue's target whose problems were reported."""

READERS: dict[type[CueAction], Callable[[CueReader, _CueTable], CueAction]] = {
    MemoAction: CueReader._memo,
    WaitAction: CueReader._wait_action,
    OscAction: CueReader._osc,
    MidiAction: CueReader._midi_action,
    VisualAction: CueReader._visual,
    NoticeAction: CueReader._notice,
    FadeAction: CueReader._fade,
    GroupAction: CueReader._group,
    StartAction: CueReader._start,
    StopAction: CueReader._stop,
    ArmAction: CueReader._arm,
    DisarmAction: CueReader._disarm,
}
"""The reader of each kind of cue, by the action type it builds."""

_MAX_SPELLING_HINTS = 300  # difflib is O(n) per look-up: no spelling hints beyond


def _value(number: str) -> float | None:
    try:
        return float(number)
    except ValueError:
        return None


def _notice_id(cue: CueDef) -> str | None:
    """The id of the message a notice cue puts up or takes down (None: not a notice)."""
    action = cue.action
    return action.notice_id or cue.id if isinstance(action, NoticeAction) else None


def check_notice_ids(r: Reader, cues: dict[CueId, CueDef], paths: dict[CueId, str]) -> None:
    """A notice cue without text takes a message down: its id must be one that some
    notice cue puts up (by ``id``, or by its own cue id when it has none)."""
    notices = [(c, c.action) for c in cues.values() if isinstance(c.action, NoticeAction)]
    shown = {n.notice_id or c.id for c, n in notices if n.text}
    named = sorted(n.notice_id for _, n in notices if n.notice_id and n.text)
    for cue, notice in notices:
        if notice.text:
            continue
        if not notice.notice_id:
            r.problem(
                paths.get(cue.id, ""),
                "a notice without text takes a message down: say which with id = '...'"
                " (the id of the notice cue that put it up), or give it text",
                f"cue {cue.number}",
            )
        elif notice.notice_id not in shown:
            close = difflib.get_close_matches(notice.notice_id, named, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            r.problem(
                f"{paths.get(cue.id, '')}.id",
                f"no notice cue puts up a message with id {notice.notice_id!r}, so this takes"
                f" nothing down{hint} (ids: {', '.join(named[:12]) or 'none'})",
                f"cue {cue.number}",
            )


def _close_number(number: str, known: list[str], by_value: dict[float, str]) -> str | None:
    """The known cue number nearest to ``number``: the same value written differently
    (``4.90`` for ``4.9``), else the closest spelling (in lists of a sane size)."""
    value = _value(number)
    if value is not None and value in by_value:
        return by_value[value]
    if len(known) > _MAX_SPELLING_HINTS:
        return None
    close = difflib.get_close_matches(number, known, n=1)
    return close[0] if close else None


def _min_action(cues: dict[CueId, CueDef], cue: CueDef) -> float:
    group = cue.action
    if not isinstance(group, GroupAction):
        return cue.duration
    totals = [cues[c].prewait + _min_action(cues, cues[c]) for c in group.children if c in cues]
    if not totals:
        return 0.0
    if group.mode is GroupMode.TIMELINE:
        return max(totals)
    if group.mode is GroupMode.PLAYLIST:
        return sum(totals)
    return totals[0]


def _zero_edges(cues: dict[CueId, CueDef], order: CueOrder, cue: CueDef) -> list[CueId]:
    if cue.prewait > 0:
        return []
    out: list[CueId] = []
    nxt = order.next_of(cue)
    if order.continue_applies(cue) and nxt is not None:
        if cue.continue_mode is ContinueMode.AUTO_CONTINUE and cue.postwait == 0:
            out.append(nxt)
        if cue.continue_mode is ContinueMode.AUTO_FOLLOW and _min_action(cues, cue) == 0:
            out.append(nxt)
    match cue.action:
        case StartAction(CueRef(target)):
            out.append(target)
        case GroupAction(mode, children):
            out.extend(children if mode is GroupMode.TIMELINE else children[:1])
    return [c for c in out if c in cues]


def find_zero_time_loops(
    cues: dict[CueId, CueDef], lists: list[CueListDef] | None = None
) -> list[list[str]]:
    """Cycles of cues that would start each other without any time passing."""
    lists = lists or []
    order = CueOrder(cues, lists)
    edges = {cid: _zero_edges(cues, order, c) for cid, c in cues.items()}
    state: dict[CueId, int] = {}
    loops: list[list[str]] = []
    for root in cues:
        if state.get(root):
            continue
        stack: list[tuple[CueId, int]] = [(root, 0)]
        path: list[CueId] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            nbrs = edges[node]
            if i < len(nbrs):
                stack.append((node, i + 1))
                nxt = nbrs[i]
                if state.get(nxt) == 1:
                    loop = path[path.index(nxt) :]
                    loops.append([*loop, nxt])
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return loops
