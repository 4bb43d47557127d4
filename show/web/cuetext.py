"""Words for the console: what a cue will fire, what a condition waits for.

Pure functions of the frozen show model, so each text is worked out once per cue
and cached by the caller; nothing here reads runner state.
"""

from __future__ import annotations

from cues.model import (
    Condition,
    CueDef,
    CueKind,
    FadeTarget,
    MappingDef,
    MidiSpec,
    OscArg,
    TriggerDef,
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
    if m.kind == "msc":
        cue = f" cue {m.msc_cue}" if m.msc_cue else ""
        return f"MIDI {port}: MSC {m.msc_command}{cue}"
    if m.kind == "program":
        return f"MIDI {port}: program {m.number} ch {m.channel}"
    if m.kind in ("note_on", "note_off"):
        return f"MIDI {port}: {m.kind.replace('_', ' ')} {m.number} vel {m.value} ch {m.channel}"
    return f"MIDI {port}: {m.kind} {m.number} = {m.value} ch {m.channel}"


def describe_target(t: FadeTarget) -> str:
    """An OSC address, MIDI controller, scene input or mapping level, in words."""
    if t.osc:
        return f"OSC {t.osc} {t.address}"
    if t.midi and t.midi_message is not None:
        m = t.midi_message
        return f"MIDI {t.midi} {m.kind} {m.number} ch {m.channel}"
    if t.visual:
        return f"scene input {t.visual_input} on {t.visual}"
    return f"mapping {t.mapping}'s level"


def describe_condition(c: Condition) -> str:
    """A condition as an operator reads it: ``grid.exchange_kw > 0.5``."""
    return c.describe()


def _action(cue: CueDef) -> str:
    kind = cue.kind
    if kind is CueKind.OSC:
        args = " ".join(_arg(a) for a in cue.osc_args)
        return f"OSC {cue.osc_target} {cue.osc_address} {args}".rstrip()
    if kind is CueKind.MIDI and cue.midi is not None:
        return _midi(cue.midi_port, cue.midi)
    if kind is CueKind.VISUAL:
        parts = []
        if cue.scene:
            how = "cut" if cue.transition == "cut" else f"{cue.transition} {_seconds(cue.duration)}"
            parts.append(f"scene {cue.scene} on {cue.visual_output} ({how})")
        parts += [f"{name} = {value:g}" for name, value in cue.visual_inputs]
        return ", ".join(parts) or f"visual {cue.visual_output}: nothing set"
    if kind is CueKind.NOTICE:
        if not cue.text:
            return f"takes message {cue.notice_id or cue.number} down"
        ttl = f" for {_seconds(cue.ttl)}" if cue.ttl > 0 else ""
        return f"{cue.level} on the dashboard{ttl}: “{_short(cue.text)}”"
    if kind is CueKind.FADE and cue.fade_target is not None:
        start = "current" if cue.fade_from is None else f"{cue.fade_from:g}"
        stop = " then stops it" if cue.stop_target else ""
        return (
            f"fade {describe_target(cue.fade_target)} {start} → {cue.fade_to:g}"
            f" over {_seconds(cue.duration)} ({cue.curve.value}){stop}"
        )
    if kind is CueKind.GROUP:
        numbers = ", ".join(c.split("/", 1)[-1] for c in cue.children[:6])
        more = "…" if len(cue.children) > 6 else ""
        return f"group ({cue.group_mode.value}) of {len(cue.children)}: {numbers}{more}"
    if kind in (CueKind.START, CueKind.STOP, CueKind.ARM, CueKind.DISARM):
        what = (
            f"cue {cue.target_cue}"
            if cue.target_cue
            else f"mapping {cue.target_mapping}"
            if cue.target_mapping
            else f"trigger {cue.target_trigger}"
        )
        return f"{kind.value} {what}"
    if kind is CueKind.WAIT:
        return f"waits {_seconds(cue.duration)}"
    return "nothing (memo)"


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
