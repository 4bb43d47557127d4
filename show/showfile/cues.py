"""Show-file readers for cue lists and cues, and the zero-time loop check."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from cues.model import (
    ContinueMode,
    CueDef,
    CueId,
    CueKind,
    CueListDef,
    Curve,
    FadeTarget,
    GroupMode,
    OscArg,
)
from cues.sequence import CueOrder
from show.showfile.reader import Reader
from show.showfile.scenecheck import SceneCatalog, SceneUse
from show.showfile.targets import osc_address_problem, read_condition, read_midi, read_target

__all__ = ["CueReader", "check_notice_ids", "find_zero_time_loops"]

_COMMON = (
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
_EXTRA: dict[CueKind, tuple[str, ...]] = {
    CueKind.MEMO: (),
    CueKind.WAIT: ("duration",),
    CueKind.OSC: ("target", "address", "args"),
    CueKind.MIDI: ("port", "message"),
    CueKind.VISUAL: ("output", "scene", "transition", "curve", "duration", "inputs"),
    CueKind.NOTICE: ("text", "level", "ttl", "id"),
    CueKind.FADE: ("target", "from", "to", "duration", "curve", "stop_target", "rate_hz"),
    CueKind.GROUP: ("mode", "children"),
    CueKind.START: ("cue", "mapping", "trigger"),
    CueKind.STOP: ("cue", "mapping", "trigger"),
    CueKind.ARM: ("cue", "mapping", "trigger"),
    CueKind.DISARM: ("cue", "mapping", "trigger"),
}

_ALL_FIELDS = tuple(sorted({f for fields in _EXTRA.values() for f in fields}))


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

    def _cue(self, t: dict[str, Any], path: str, parent: CueId | None) -> CueId | None:
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
        kind = r.enum(t, "type", path, CueKind, CueKind.MEMO, label)
        known_type = "type" not in t or t["type"] == kind.value
        # an unknown type is reported once: its fields are not held against memo's
        r.check_keys(t, _COMMON + (_EXTRA[kind] if known_type else _ALL_FIELDS), path, label)
        duration = 0.0
        if "duration" in _EXTRA[kind]:
            duration = r.number(t, "duration", path, default=0.0, label=label, lo=0)
        fields: dict[str, Any] = {
            "id": cid,
            "number": number,
            "name": r.string(t, "name", path, default="", label=label),
            "kind": kind,
            "prewait": r.number(t, "prewait", path, default=0.0, label=label, lo=0),
            "duration": duration,
            "postwait": r.number(t, "postwait", path, default=0.0, label=label, lo=0),
            "continue_mode": r.enum(
                t, "continue", path, ContinueMode, ContinueMode.DO_NOT_CONTINUE, label
            ),
            "armed": r.boolean(t, "armed", path, True, label),
            "parent": parent,
            "notes": r.string(t, "notes", path, default="", label=label),
        }
        self.paths[cid] = path
        if "continue_to" in t:
            fields["continue_to"] = self.ref(t["continue_to"], f"{path}.continue_to", label)
        if "wait_for" in t:
            fields["wait_for"] = read_condition(
                r,
                r.table(t, "wait_for", path, label),
                f"{path}.wait_for",
                label,
                self.signal_ok,
                self.sources,
            )
            fields["wait_timeout"] = r.optional_number(
                t, "timeout", path, label=label, lo=0, lo_open=True
            )
            fields["wait_hold"] = r.number(t, "hold", path, default=0.0, label=label, lo=0)
            timeout = fields["wait_timeout"]
            if timeout is not None and fields["wait_hold"] >= timeout:
                r.problem(
                    f"{path}.hold",
                    f"hold ({fields['wait_hold']:g} s) is not shorter than timeout ({timeout:g} s):"
                    " the wait could only time out; shorten hold or lengthen timeout",
                    label,
                )
            if "fallback" in t:
                fields["fallback"] = self.ref(t["fallback"], f"{path}.fallback", label)
                if fields["wait_timeout"] is None:
                    r.problem(f"{path}.fallback", "a fallback needs timeout = SECONDS", label)
        elif "timeout" in t or "fallback" in t or "hold" in t:
            r.problem(path, "timeout, hold and fallback only apply with wait_for = {...}", label)
        if known_type:
            fields.update(self._kind_fields(kind, t, path, label, cid))
        # placeholder so children can be registered before the group itself
        self.cues[cid] = CueDef(id=cid, number=number, name="", kind=kind)
        if kind is CueKind.GROUP:
            children = [
                self._cue(c, f"{path}.children[{k}]", cid)
                for k, c in enumerate(r.tables(t, "children", path, label))
            ]
            fields["children"] = tuple(c for c in children if c is not None)
        self.cues[cid] = CueDef(**fields)
        return cid

    def _kind_fields(
        self, kind: CueKind, t: dict[str, Any], path: str, label: str, cid: CueId
    ) -> dict[str, Any]:
        r = self.r
        f: dict[str, Any] = {}
        if kind is CueKind.OSC:
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
                        f"{path}.args",
                        f"found {a!r}; OSC args are numbers, strings, booleans",
                        label,
                    )
            f.update(osc_target=osc_target, osc_address=address, osc_args=tuple(ok))
        elif kind is CueKind.MIDI:
            port = r.name_of(t, "port", path, "MIDI port", self.midi, label)
            f.update(
                midi_port=port,
                midi=read_midi(r, r.table(t, "message", path, label), f"{path}.message", label),
            )
            if "message" not in t:
                r.problem(f"{path}.message", "missing message = {type = ..., ...}", label)
        elif kind is CueKind.VISUAL:
            if "output" not in t and len(self.visuals) != 1:
                r.problem(
                    f"{path}.output",
                    "say which visual output: output = 'NAME'"
                    f" (declared: {', '.join(self.visuals) or 'none; add [outputs.visuals.NAME]'})",
                    label,
                )
            output = r.name_of(
                t,
                "output",
                path,
                "visual output",
                self.visuals,
                label,
                default=self.visuals[0] if self.visuals else "",
            )
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
            f.update(
                visual_output=output,
                scene=scene,
                transition=transition,
                curve=r.enum(t, "curve", path, Curve, Curve.LINEAR, label),
                visual_inputs=tuple(inputs),
            )
        elif kind is CueKind.NOTICE:
            f.update(
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
        elif kind is CueKind.FADE:
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
                target = FadeTarget()
            else:
                if "target" not in t:
                    r.problem(f"{path}.target", "a fade needs target = {...}", label)
                target = read_target(
                    r,
                    r.table(t, "target", path, label),
                    f"{path}.target",
                    label,
                    self.osc,
                    self.midi,
                    self.visuals,
                    self.mappings,
                )
            if target.visual:
                self.scene_use.setdefault(target.visual, SceneUse()).inputs.append(
                    (target.visual_input, f"{path}.target", label)
                )
            stop_target = r.boolean(t, "stop_target", path, False, label)
            if stop_target and not target.mapping:
                r.problem(
                    f"{path}.stop_target", "stop_target applies to mapping targets only", label
                )
            f.update(
                fade_target=target,
                fade_from=r.optional_number(t, "from", path, label=label),
                fade_to=r.number(t, "to", path, label=label),
                curve=r.enum(t, "curve", path, Curve, Curve.LINEAR, label),
                stop_target=stop_target,
                rate_hz=r.number(t, "rate_hz", path, default=30.0, label=label, lo=1, hi=240),
            )
        elif kind is CueKind.GROUP:
            f["group_mode"] = r.enum(t, "mode", path, GroupMode, GroupMode.TIMELINE, label)
            if not t.get("children"):
                r.problem(f"{path}.children", "a group needs [[...children]] cues", label)
        elif kind in (CueKind.START, CueKind.STOP, CueKind.ARM, CueKind.DISARM):
            given = [k for k in ("cue", "mapping", "trigger") if k in t]
            if len(given) != 1:
                r.problem(path, f"a {kind.value} cue needs one of cue, mapping or trigger", label)
            if "cue" in t:
                f["target_cue"] = self.ref(t["cue"], f"{path}.cue", label)
            if "mapping" in t:
                f["target_mapping"] = r.name_of(t, "mapping", path, "mapping", self.mappings, label)
            if "trigger" in t:
                name = r.name_of(t, "trigger", path, "trigger", self.triggers, label)
                if kind in (CueKind.START, CueKind.STOP):
                    r.problem(
                        f"{path}.trigger", "triggers are armed or disarmed, not started", label
                    )
                f["target_trigger"] = name
        return f

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
            fb = self.cues.get(cue.fallback) if cue.fallback is not None else None
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
            nid = cue.notice_id or cue.id
            fid = fb.notice_id or fb.id
            if fb.kind is cue.kind is CueKind.NOTICE and nid == fid:
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


_MAX_SPELLING_HINTS = 300  # difflib is O(n) per look-up: no spelling hints beyond


def _value(number: str) -> float | None:
    try:
        return float(number)
    except ValueError:
        return None


def check_notice_ids(r: Reader, cues: dict[CueId, CueDef], paths: dict[CueId, str]) -> None:
    """A notice cue without text takes a message down: its id must be one that some
    notice cue puts up (by ``id``, or by its own cue id when it has none)."""
    shown = {c.notice_id or c.id for c in cues.values() if c.kind is CueKind.NOTICE and c.text}
    named = sorted(c.notice_id for c in cues.values() if c.notice_id and c.text)
    for cue in cues.values():
        if cue.kind is not CueKind.NOTICE or cue.text:
            continue
        if not cue.notice_id:
            r.problem(
                paths.get(cue.id, ""),
                "a notice without text takes a message down: say which with id = '...'"
                " (the id of the notice cue that put it up), or give it text",
                f"cue {cue.number}",
            )
        elif cue.notice_id not in shown:
            close = difflib.get_close_matches(cue.notice_id, named, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            r.problem(
                f"{paths.get(cue.id, '')}.id",
                f"no notice cue puts up a message with id {cue.notice_id!r}, so this takes"
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
    if cue.kind is not CueKind.GROUP:
        return cue.duration
    totals = [cues[c].prewait + _min_action(cues, cues[c]) for c in cue.children if c in cues]
    if not totals:
        return 0.0
    if cue.group_mode is GroupMode.TIMELINE:
        return max(totals)
    if cue.group_mode is GroupMode.PLAYLIST:
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
    if cue.kind is CueKind.START and cue.target_cue is not None:
        out.append(cue.target_cue)
    if cue.kind is CueKind.GROUP and cue.children:
        out.extend(cue.children if cue.group_mode is GroupMode.TIMELINE else cue.children[:1])
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
