"""A new show model into a running engine, without stopping what runs.

What changes mid-show (the rules the show-file reference documents):

* Cues that stay (same list and number) keep running; a cue's new timing, action
  and continue apply from its next start (as a QLab edit does). New cues can be
  started at once. A cue the file leaves alone keeps any edit made live. The
  standby stays on the same cue (by list and number), or at the same position if
  that cue is gone.
* A reload that would take away something running is refused as a whole, and the
  show goes on as it was: a cue that is active (waiting, pre-wait, running, paused)
  or queued cannot be removed or moved into another group, and a mapping, trigger
  or cue that an active cue targets cannot be removed.
* Mappings and triggers whose definition is unchanged keep their state (filters,
  armed, level, hold). A changed one starts afresh from its new definition, but
  stays armed or disarmed as the show had it, unless the file's ``armed`` changed.
* Signals keep their values and health; if ``[signals]`` or ``[derived]`` changed,
  each signal's history restarts (rate conditions count again) and derived values
  are recomputed.
* Notices, the double-GO guard's last GO and values last sent to targets stay.

Pure like the rest of :mod:`cues`: the model and the time come in, nothing is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cues.conditions import TriggerState
from cues.cuelists import CueLists
from cues.flow import SignalFlow
from cues.lifecycle import CueLifecycle
from cues.mapping_scheduler import MappingScheduler
from cues.mappings import MappingState
from cues.model import CueId, MappingDef, ShowModel
from cues.panic import PanicFade
from cues.perform import targets_of
from cues.sequence import CueOrder
from cues.signals import SignalStore
from cues.timers import TimerQueue

__all__ = ["EngineParts", "ReloadPlan", "ReloadResult", "plan_reload", "reload_model"]

_State = TypeVar("_State", MappingState, TriggerState)


@dataclass(slots=True)
class ReloadResult:
    """What a reload did, or why it did nothing (``refused`` non-empty)."""

    refused: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)  # changed while running: next start

    @property
    def ok(self) -> bool:
        """Whether the new model was applied."""
        return not self.refused

    def summary(self) -> str:
        """One line for the log and the operator."""
        if self.refused:
            return "reload refused, the show runs on unchanged: " + "; ".join(self.refused)
        parts = [
            f"{label} {', '.join(items[:8])}{' ...' if len(items) > 8 else ''}"
            for label, items in (
                ("added", self.added),
                ("removed", self.removed),
                ("changed", self.changed),
                ("from their next start", self.later),
            )
            if items
        ]
        return "show file reloaded: " + ("; ".join(parts) if parts else "nothing changed")


@dataclass(frozen=True, slots=True)
class EngineParts:
    """The parts of a running engine that a reload changes."""

    lifecycle: CueLifecycle
    lists: CueLists
    mappings: MappingScheduler
    flow: SignalFlow
    panic: PanicFade
    timers: TimerQueue


def _refusals(cues: CueLifecycle, model: ShowModel) -> list[str]:
    out: list[str] = []
    mapping_names = {m.name for m in model.mappings}
    trigger_names = {t.name for t in model.triggers}
    busy = [r for r in cues.runs.values() if r.active]
    for cid in sorted(cues.busy()):
        new = model.cues.get(cid)
        if new is None:
            out.append(f"cue {cid} is running and the new file removes it")
        elif new.parent != cues.runs[cid].cue.parent:
            out.append(f"cue {cid} is running and the new file moves it to another group")
    for run in busy:
        mappings, triggers, cues_used = targets_of(run.cue)
        for name in sorted(mappings - mapping_names):
            out.append(
                f"running cue {run.cue.id} uses mapping {name!r}, which the new file removes"
            )
        for name in sorted(triggers - trigger_names):
            out.append(
                f"running cue {run.cue.id} uses trigger {name!r}, which the new file removes"
            )
        for cid in sorted(c for c in cues_used if c not in model.cues):
            out.append(f"running cue {run.cue.id} uses cue {cid}, which the new file removes")
        for cid in run.cue.children:  # a running group still has to reach its children
            moved = model.cues.get(cid)
            if moved is not None and moved.parent != run.cue.id:
                out.append(
                    f"group {run.cue.id} is running and the new file moves its cue {cid}"
                    " to another group"
                )
    return out


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    """The comparison of two models, worked out where it cannot hold the show loop
    (comparing 10,000 cues takes tens of milliseconds): :func:`plan_reload`."""

    old: ShowModel
    new: ShowModel
    added: frozenset[CueId]
    removed: frozenset[CueId]
    changed: frozenset[CueId]
    same_mappings: frozenset[str]
    same_triggers: frozenset[str]
    signals_changed: bool
    order: CueOrder
    list_of: dict[CueId, str]


def plan_reload(old: ShowModel, new: ShowModel) -> ReloadPlan:
    """Compare ``old`` (the model the engine runs) with ``new``; pure, thread-safe."""
    old_cues, new_cues = old.cues, new.cues
    old_maps = {m.name: m for m in old.mappings}
    old_trigs = {t.name: t for t in old.triggers}
    return ReloadPlan(
        old=old,
        new=new,
        added=frozenset(new_cues.keys() - old_cues.keys()),
        removed=frozenset(old_cues.keys() - new_cues.keys()),
        changed=frozenset(c for c, cue in new_cues.items() if c in old_cues and old_cues[c] != cue),
        same_mappings=frozenset(m.name for m in new.mappings if old_maps.get(m.name) == m),
        same_triggers=frozenset(t.name for t in new.triggers if old_trigs.get(t.name) == t),
        signals_changed=(old.signals, old.derived) != (new.signals, new.derived),
        order=CueOrder(dict(new_cues), new.cue_lists),
        list_of={cid: cl.name for cl in new.cue_lists for cid in cl.cues},
    )


def reload_model(
    parts: EngineParts, old: ShowModel, model: ShowModel, now: float, plan: ReloadPlan | None = None
) -> ReloadResult:
    """Apply ``model`` at ``now`` to an engine running ``old`` (see the module docstring).
    A ``plan`` made beforehand (:func:`plan_reload`, for the model the engine still
    runs) leaves only the changes to do here."""
    if plan is None or plan.old is not old or plan.new is not model:
        plan = plan_reload(old, model)
    result = ReloadResult(refused=_refusals(parts.lifecycle, model))
    if result.refused:
        return result
    standby = {cl.name: parts.lists.playhead(cl.name) for cl in old.cue_lists}
    _reload_cues(parts, model, plan, result)
    _reload_mappings(parts, model, plan.same_mappings, result)
    _reload_triggers(parts.flow, model, plan.same_triggers, result)
    if plan.signals_changed:
        _reload_signals(parts.flow, model, now)
        result.changed.append("signals")
    if model.min_go_interval != old.min_go_interval:
        parts.lists.set_min_go_interval(model.min_go_interval)
    parts.flow.configure(model)
    parts.panic.configure(model)
    plan.order.cues = parts.lifecycle.cues  # the live cues (edits while it runs)
    positions: dict[str, int] = {}
    for cl in model.cue_lists:
        was = standby.get(cl.name)
        if was is not None and was in cl.cues:
            positions[cl.name] = cl.cues.index(was)
        else:
            positions[cl.name] = _after_survivor(old, cl.name, was, cl.cues)
    parts.lists.replace(model, plan.order, plan.list_of, positions)
    return result


def _after_survivor(old: ShowModel, name: str, was: CueId | None, new: tuple[CueId, ...]) -> int:
    """Where a standby that the reload removed (or the end of the list) goes: right
    after the last cue that stood before it in the old list and is still there, so
    GO neither skips a cue nor runs one again (0 if none is left, or a new list)."""
    for cl in old.cue_lists:
        if cl.name == name:
            before = cl.cues[: cl.cues.index(was)] if was in cl.cues else cl.cues
            for cid in reversed(before):
                if cid in new:
                    return new.index(cid) + 1
            return 0
    return 0


def _reload_cues(
    parts: EngineParts, model: ShowModel, plan: ReloadPlan, result: ReloadResult
) -> None:
    """Only the cues the file changed: a cue the file leaves alone keeps any edit made
    while the show ran (QLab's cue setters)."""
    cues = parts.lifecycle
    for cid in sorted(plan.removed):
        cues.remove_cue(cid)
        result.removed.append(f"cue {cid}")
    # a cue added back later must not meet its predecessor's timers
    parts.timers.drop_keys(plan.removed)
    for cid in sorted(plan.added):
        cues.add_cue(model.cues[cid])
        result.added.append(f"cue {cid}")
    for cid in sorted(plan.changed):
        cue = model.cues[cid]
        if cues.change_cue(cue, rearm=plan.old.cues[cid].armed != cue.armed):
            result.later.append(f"cue {cid}")
        else:
            result.changed.append(f"cue {cid}")


def _carry(
    kind: str,
    old: Mapping[str, _State],
    defs: Iterable[Any],
    same: frozenset[str],
    make: Callable[[Any, bool, _State | None], _State],
    result: ReloadResult,
) -> dict[str, _State]:
    """Mapping or trigger states for the new definitions: an unchanged one keeps its
    state; a changed or new one is made afresh, armed or disarmed as the show had it
    unless the file changed ``armed``."""
    fresh: dict[str, _State] = {}
    for d in defs:
        prev = old.get(d.name)
        if prev is not None and d.name in same:
            fresh[d.name] = prev
            continue
        kept = prev is not None and prev.definition.enabled == d.enabled
        fresh[d.name] = make(d, prev.enabled if kept and prev is not None else d.enabled, prev)
        (result.changed if prev is not None else result.added).append(f"{kind} {d.name}")
    result.removed.extend(f"{kind} {name}" for name in sorted(old.keys() - fresh.keys()))
    return fresh


def _new_mapping(m: MappingDef, enabled: bool, prev: MappingState | None) -> MappingState:
    state = MappingState(definition=m, enabled=enabled, level=m.level)
    if prev is not None:  # the new chain starts from the signal's last value
        state.raw, state.stale, state.last_sent = prev.raw, prev.stale, prev.last_sent
    return state


def _reload_mappings(
    parts: EngineParts, model: ShowModel, same: frozenset[str], result: ReloadResult
) -> None:
    old = parts.mappings.states
    fresh = _carry("mapping", old, model.mappings, same, _new_mapping, result)
    for name in old.keys() - fresh.keys():
        parts.panic.forget(name)
    parts.mappings.replace(fresh, model.mappings)


def _reload_triggers(
    flow: SignalFlow, model: ShowModel, same: frozenset[str], result: ReloadResult
) -> None:
    fresh = _carry(
        "trigger",
        flow.triggers,
        model.triggers,
        same,
        lambda t, enabled, _prev: TriggerState(definition=t, enabled=enabled),
        result,
    )
    flow.replace_triggers(fresh, model.triggers)


def _reload_signals(flow: SignalFlow, model: ShowModel, now: float) -> None:
    old = flow.signals
    store = SignalStore(model.signals, model.derived, model.max_dynamic_signals)
    for source, up in old._source_up.items():
        store.set_source(source, up)
    for name, sig in old.signals.items():
        if name in store.derived or sig.value is None:
            continue
        fresh = store.update(name, sig.value, sig.time, sig.source)
        if fresh is not None:
            fresh.health = sig.health
            for derived in store.derived_by_input.get(name, ()):
                store.note_member(derived, fresh)  # so derived values recompute from it
    flow.replace_signals(store, now)
