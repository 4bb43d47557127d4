"""Words for the console: what a cue will fire, what a condition waits for.

Pure functions of the frozen show model, so each text is worked out once per cue
and cached by the caller; nothing here reads runner state.
"""

from __future__ import annotations

from typing import assert_never

from cues.model import (
    ArmAction,
    Condition,
    CueDef,
    CueRef,
    DisarmAction,
    FadeAction,
    FadeTarget,
    GroupAction,
    MappingDef,
    MappingRef,
    MappingTarget,
    MemoAction,
    MidiAction,
    MidiSpec,
    MidiTarget,
    MscMessage,
    NoticeAction,
    OscAction,
    OscArg,
    OscTarget,
    StartAction,
    StopAction,
    TriggerDef,
    TriggerRef,
    VisualAction,
    VisualTarget,
    WaitAction,
)

__all__ = ["describe_condition", "describe_cue", "describe_mapping", "describe_trigger"]

_MAX_TEXT = 60


def _short(text: str, limit: int = _MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _arg(a: OscArg) -> str:
    if isinstance(a, bytes):
        return f"<{len(a)} bytes>"
    if isinstance(a, str):
        return _short(a, 24)
    return str(a)


def _midi(port: str, m: MidiSpec) -> str:
    if isinstance(m, MscMessage):
        cue = f" cue {m.cue}" if m.cue else ""
        return f"MIDI {port}: MSC {m.command}{cue}"
    if m.kind == "program":
        return f"MIDI {port}: program {m.number} ch {m.channel}"
    if m.kind in ("note_on", "note_off"):
        return f"MIDI {port}: {m.kind.replace('_', ' ')} {m.number} vel {m.value} ch {m.channel}"
    return f"MIDI {port}: {m.kind} {m.number} = {m.value} ch {m.channel}"


def describe_target(t: FadeTarget) -> str:
    """An OSC address, MIDI controller, scene input or mapping level, in words."""
    match t:
        case OscTarget(name, address):
            return f"OSC {name} {address}"
        case MidiTarget(port, m):
            return f"MIDI {port} {m.kind} {m.number} ch {m.channel}"
        case VisualTarget(output, name):
            return f"scene input {name} on {output}"
        case MappingTarget(name):
            return f"mapping {name}'s level"
        case _:
            assert_never(t)


def describe_condition(c: Condition) -> str:
    """A condition as an operator reads it: ``grid.exchange_kw > 0.5``."""
    return c.describe()


def _visual(a: VisualAction, duration: float) -> str:
    parts = []
    if a.scene:
        how = "cut" if a.transition == "cut" else f"{a.transition} {_seconds(duration)}"
        parts.append(f"scene {a.scene} on {a.output} ({how})")
    parts += [f"{name} = {value:g}" for name, value in a.inputs]
    return ", ".join(parts) or f"visual {a.output}: nothing set"


def _notice(a: NoticeAction, number: str) -> str:
    if not a.text:
        return f"takes message {a.notice_id or number} down"
    ttl = f" for {_seconds(a.ttl)}" if a.ttl > 0 else ""
    return f"{a.level} on the dashboard{ttl}: “{_short(a.text)}”"


def _fade(a: FadeAction, duration: float) -> str:
    start = "current" if a.start is None else f"{a.start:g}"
    stop = " then stops it" if a.stop_target else ""
    return (
        f"fade {describe_target(a.target)} {start} → {a.to:g}"
        f" over {_seconds(duration)} ({a.curve.value}){stop}"
    )


def _group(a: GroupAction) -> str:
    numbers = ", ".join(c.split("/", 1)[-1] for c in a.children[:6])
    more = "…" if len(a.children) > 6 else ""
    return f"group ({a.mode.value}) of {len(a.children)}: {numbers}{more}"


def _control(verb: str, target: CueRef | MappingRef | TriggerRef) -> str:
    match target:
        case CueRef(cid):
            return f"{verb} cue {cid}"
        case MappingRef(name):
            return f"{verb} mapping {name}"
        case TriggerRef(name):
            return f"{verb} trigger {name}"
        case _:
            assert_never(target)


def _action(cue: CueDef) -> str:
    action = cue.action
    match action:
        case OscAction(target, address, args):
            return f"OSC {target} {address} {' '.join(_arg(a) for a in args)}".rstrip()
        case MidiAction(port, message):
            return _midi(port, message)
        case VisualAction():
            return _visual(action, cue.duration)
        case NoticeAction():
            return _notice(action, cue.number)
        case FadeAction():
            return _fade(action, cue.duration)
        case GroupAction():
            return _group(action)
        case StartAction(target) | StopAction(target) | ArmAction(target) | DisarmAction(target):
            return _control(cue.kind.value, target)
        case WaitAction():
            return f"waits {_seconds(cue.duration)}"
        case MemoAction():
            return "nothing (memo)"
        case _:
            assert_never(action)


def describe_cue(cue: CueDef) -> str:
    """What GO on this cue fires: its action, then its timing and continue mode."""
    parts = [_action(cue)]
    if cue.prewait > 0:
        parts.insert(0, f"after {_seconds(cue.prewait)}:")
    if cue.continue_mode.value != "do-not-continue":
        post = f" {_seconds(cue.postwait)}" if cue.postwait > 0 else ""
        parts.append(f"· then {cue.continue_mode.value}{post}")
    return " ".join(parts)


def describe_mapping(m: MappingDef) -> str:
    """Where a mapping sends, with its ranges."""
    rng = ""
    if m.in_range is not None:
        out = m.out_range or (0.0, 1.0)
        rng = f" ({m.in_range[0]:g}…{m.in_range[1]:g} → {out[0]:g}…{out[1]:g})"
    return f"{m.signal} → {describe_target(m.target)}{rng}"


def describe_trigger(t: TriggerDef) -> str:
    """A trigger's condition and what it does."""
    hold = f" for {_seconds(t.hold)}" if t.hold > 0 else ""
    does = "GO" if t.go else f"start {t.start_cue}" if t.start_cue else "nothing"
    return f"when {describe_condition(t.condition)}{hold} → {does}"
