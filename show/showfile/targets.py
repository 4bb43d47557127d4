"""Show-file readers for values used in several places: fade/mapping targets,
conditions, MIDI messages and MIDI ports."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bridges.osc.errors import OscEncodeError
from bridges.osc.wire import validate_address
from cues.model import (
    Above,
    Below,
    ChannelMessage,
    Condition,
    ConditionTest,
    Equals,
    FadeTarget,
    Health,
    HealthIs,
    MappingTarget,
    MidiSpec,
    MidiTarget,
    MscMessage,
    NotEquals,
    OnSignal,
    OnSource,
    OscTarget,
    RateAbove,
    RateBelow,
    VisualTarget,
)
from show.showfile.config import MidiInputBinding, MidiPortConfig
from show.showfile.reader import Reader, unknown

__all__ = [
    "MSC_COMMANDS",
    "MSC_FORMATS",
    "UNREADABLE_CONDITION",
    "UNREADABLE_MIDI",
    "UNREADABLE_TARGET",
    "cond_health_stale",
    "declared_name",
    "one_signal_message",
    "read_condition",
    "read_midi",
    "read_midi_ports",
    "read_target",
]

# MIDI Show Control general commands (MIDI 1.0 Recommended Practice RP-002, table 2).
MSC_COMMANDS = {
    "GO": 0x01,
    "STOP": 0x02,
    "RESUME": 0x03,
    "TIMED_GO": 0x04,
    "LOAD": 0x05,
    "SET": 0x06,
    "FIRE": 0x07,
    "ALL_OFF": 0x08,
    "RESTORE": 0x09,
    "RESET": 0x0A,
    "GO_OFF": 0x0B,
}
# A selection of MSC command formats (RP-002, table 1) by friendly name.
MSC_FORMATS = {
    "lighting": 0x01,
    "moving-lights": 0x02,
    "sound": 0x10,
    "music": 0x11,
    "video": 0x50,
    "projectors": 0x52,
    "pyro": 0x61,
    "all": 0x7F,
}
_CUE_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_MSC_TIME = re.compile(r"^(\d{1,2}):(\d{1,2}):(\d{1,2})[:;.](\d{1,2})$")


def read_midi(r: Reader, t: dict[str, Any], path: str, label: str) -> MidiSpec | None:
    """A MIDI message table such as ``{type = "cc", channel = 1, controller = 7, value = 64}``."""
    kind = r.string(t, "type", path, label=label, choices=_MIDI_READERS)
    if not kind:
        return None
    return _MIDI_READERS[kind](r, t, path, label, kind)


def _read_msc(r: Reader, t: dict[str, Any], path: str, label: str, _kind: str) -> MscMessage:
    """A MIDI Show Control message table (``type = "msc"``)."""
    r.check_keys(
        t,
        (
            "type",
            "command",
            "cue",
            "list",
            "device",
            "format",
            "time",
            "control",
            "value",
            "macro",
        ),
        path,
        label,
    )
    command = r.string(t, "command", path, label=label, choices=list(MSC_COMMANDS))
    cue = r.string(t, "cue", path, default="", label=label)
    lst = r.string(t, "list", path, default="", label=label)
    for key, text in (("cue", cue), ("list", lst)):
        if text and not _CUE_NUMBER.match(text):
            r.problem(f"{path}.{key}", f"found {text!r}; MSC numbers are digits and dots", label)
    if command in ("ALL_OFF", "RESTORE", "RESET", "SET", "FIRE") and (cue or lst):
        r.problem(path, f"MSC {command} carries no cue number; remove cue and list", label)
    if command == "LOAD" and not cue:
        r.problem(path, "MSC LOAD needs cue = 'NUMBER'", label)
    msc_time = _msc_time(r, t, path, label, command)
    control = value = macro = 0
    if command == "SET":
        control = r.integer(t, "control", path, label=label, lo=0, hi=0x3FFF)
        value = r.integer(t, "value", path, label=label, lo=0, hi=0x3FFF)
    elif command == "FIRE":
        macro = r.integer(t, "macro", path, label=label, lo=0, hi=0x7F)
    for key in ("control", "value", "macro"):
        if key in t and not (
            (command == "SET" and key != "macro") or (command == "FIRE" and key == "macro")
        ):
            r.problem(f"{path}.{key}", f"MSC {command} carries no {key}", label)
    fmt = _msc_format(r, t, path, label)
    return MscMessage(
        command=command,
        cue=cue,
        cue_list=lst,
        device_id=r.integer(t, "device", path, default=0x7F, label=label, lo=0, hi=0x7F),
        command_format=fmt,
        time=msc_time,
        control=control,
        value=value,
        macro=macro,
    )


def _msc_time(
    r: Reader, t: dict[str, Any], path: str, label: str, command: str
) -> tuple[int, int, int, int] | None:
    """TIMED_GO's and SET's ``time = "HH:MM:SS:FF"`` (30 fps), checked."""
    if command == "TIMED_GO" and "time" not in t:
        r.problem(f"{path}.time", "MSC TIMED_GO needs time = 'HH:MM:SS:FF' (30 fps)", label)
    elif "time" in t:
        raw = r.string(t, "time", path, label=label)
        m = _MSC_TIME.match(raw)
        if command not in ("TIMED_GO", "SET"):
            r.problem(
                f"{path}.time",
                f"MSC {command} takes no time (only TIMED_GO and SET do); remove it",
                label,
            )
        elif m is None:
            r.problem(f"{path}.time", f"found {raw!r}; time is 'HH:MM:SS:FF' (30 fps)", label)
        else:
            h, mi, sec, fr = (int(g) for g in m.groups())
            if h > 23 or mi > 59 or sec > 59 or fr > 29:
                r.problem(f"{path}.time", f"found {raw!r}; out of range for 30 fps", label)
            else:
                return (h, mi, sec, fr)
    return None


def _msc_format(r: Reader, t: dict[str, Any], path: str, label: str) -> int:
    """MSC's command format: a name from the MSC table or a number."""
    fmt_raw = t.get("format", "all")
    if isinstance(fmt_raw, str):
        if fmt_raw not in MSC_FORMATS:
            r.problem(
                f"{path}.format",
                f"found {fmt_raw!r}, expected one of {', '.join(MSC_FORMATS)} or a number",
                label,
            )
        return MSC_FORMATS.get(fmt_raw, 0x7F)
    return r.integer(t, "format", path, label=label, lo=1, hi=0x7F)


def _read_channel_message(
    r: Reader, t: dict[str, Any], path: str, label: str, kind: str
) -> ChannelMessage:
    """A channel message table: note_on, note_off, cc, cc14, program or pitch_bend."""
    number_key = {"note_on": "note", "note_off": "note", "cc": "controller", "cc14": "controller"}
    value_key = {"note_on": "velocity", "note_off": "velocity", "program": "program"}
    nk = number_key.get(kind)
    vk = value_key.get(kind, "value")
    r.check_keys(t, ("type", "channel", *(k for k in (nk, vk) if k)), path, label)
    top = 16383 if kind in ("cc14", "pitch_bend") else 127
    default_value = 8192 if kind == "pitch_bend" else (100 if kind == "note_on" else 0)
    return ChannelMessage(
        kind=kind,
        channel=r.integer(t, "channel", path, default=1, label=label, lo=1, hi=16),
        number=r.integer(t, nk, path, label=label, lo=0, hi=31 if kind == "cc14" else 127)
        if nk
        else 0,
        value=r.integer(t, vk, path, default=default_value, label=label, lo=0, hi=top),
    )


_MidiReader = Callable[[Reader, dict[str, Any], str, str, str], MidiSpec]
_MIDI_READERS: dict[str, _MidiReader] = {
    "note_on": _read_channel_message,
    "note_off": _read_channel_message,
    "cc": _read_channel_message,
    "cc14": _read_channel_message,
    "program": _read_channel_message,
    "pitch_bend": _read_channel_message,
    "msc": _read_msc,
}
"""The reader of each MIDI message ``type``."""


UNREADABLE_TARGET = MappingTarget("")
"""Stands in for a fade's target whose problems were reported (a show with problems
never runs)."""
UNREADABLE_MIDI = ChannelMessage("note_on")
"""Stands in for a MIDI message whose problems were reported."""
UNREADABLE_CONDITION = Condition(OnSignal(""), Equals(""))
"""Stands in for a condition whose problems were reported."""


def declared_name(
    r: Reader, t: dict[str, Any], key: str, path: str, what: str, known: list[str], label: str
) -> str:
    """``r.name_of``, and an empty name is reported too (it names nothing)."""
    name = r.name_of(t, key, path, what, known, label)
    if t.get(key) == "":
        r.problem(f"{path}.{key}", r.unknown(what, "", known), label)
    return name


def read_target(
    r: Reader,
    t: dict[str, Any],
    path: str,
    label: str,
    osc: list[str],
    midi: list[str],
    visuals: list[str],
    mappings: list[str],
) -> FadeTarget | None:
    """Where a fade or mapping sends its number (None: no valid target, which is
    reported unless the table is empty)."""
    kinds = [k for k in _TARGET_READERS if k in t]
    if len(kinds) != 1:
        if t:
            r.problem(
                path,
                "give exactly one of osc = 'TARGET', midi = 'PORT', visual = 'OUTPUT'"
                " or mapping = 'NAME'",
                label,
            )
        return None
    known = {"osc": osc, "midi": midi, "visual": visuals, "mapping": mappings}
    return _TARGET_READERS[kinds[0]](r, t, path, label, known[kinds[0]])


def _osc_target(r: Reader, t: dict[str, Any], path: str, label: str, known: list[str]) -> OscTarget:
    r.check_keys(t, ("osc", "address"), path, label)
    name = declared_name(r, t, "osc", path, "OSC target", known, label)
    address = r.string(t, "address", path, label=label)
    if "address" in t and (problem := osc_address_problem(address)):
        r.problem(f"{path}.address", problem, label)
    return OscTarget(name, address)


def _midi_target(
    r: Reader, t: dict[str, Any], path: str, label: str, known: list[str]
) -> MidiTarget:
    r.check_keys(t, ("midi", "cc", "cc14", "pitch_bend", "channel"), path, label)
    name = declared_name(r, t, "midi", path, "MIDI port", known, label)
    channel = r.integer(t, "channel", path, default=1, label=label, lo=1, hi=16)
    if "cc" in t:
        message = ChannelMessage("cc", channel, r.integer(t, "cc", path, label=label, lo=0, hi=127))
    elif "cc14" in t:
        message = ChannelMessage(
            "cc14", channel, r.integer(t, "cc14", path, label=label, lo=0, hi=31)
        )
    elif r.boolean(t, "pitch_bend", path, False, label):
        message = ChannelMessage("pitch_bend", channel)
    else:
        r.problem(path, "a MIDI target needs cc = N, cc14 = N or pitch_bend = true", label)
        message = ChannelMessage("cc", channel)
    return MidiTarget(name, message)


def _visual_target(
    r: Reader, t: dict[str, Any], path: str, label: str, known: list[str]
) -> VisualTarget:
    r.check_keys(t, ("visual", "input"), path, label)
    name = declared_name(r, t, "visual", path, "visual output", known, label)
    return VisualTarget(name, r.string(t, "input", path, label=label))


def _mapping_target(
    r: Reader, t: dict[str, Any], path: str, label: str, known: list[str]
) -> MappingTarget:
    r.check_keys(t, ("mapping",), path, label)
    return MappingTarget(declared_name(r, t, "mapping", path, "mapping", known, label))


_TargetReader = Callable[[Reader, dict[str, Any], str, str, list[str]], FadeTarget]
_TARGET_READERS: dict[str, _TargetReader] = {
    "osc": _osc_target,
    "midi": _midi_target,
    "visual": _visual_target,
    "mapping": _mapping_target,
}
"""The reader of each kind of target, by the key that names it."""


def one_signal_message(name: str) -> str:
    """Why ``name`` cannot be used where one signal is needed."""
    if any(ch in name for ch in "*?["):
        return (
            f"{name!r} is a pattern; name one signal here, or declare a [derived] signal"
            " (sum, mean, min, max) over the pattern and use that"
        )
    return f"unknown signal {name!r}; declare it under [signals]"


def cond_health_stale(t: dict[str, Any]) -> bool:
    """Whether a condition table asks for a stale source (which never happens)."""
    return t.get("health") == "stale"


_TESTS = ("above", "below", "equals", "not_equals", "health", "rate_above", "rate_below")


def read_condition(
    r: Reader,
    t: dict[str, Any],
    path: str,
    label: str,
    signal_ok: Callable[[str], bool],
    sources: list[str],
) -> Condition | None:
    """A condition table such as ``{signal = "central.state", equals = "fault"}`` (None
    for an empty table)."""
    if not t:
        return None
    r.check_keys(t, ("signal", "source", *_TESTS, "hysteresis", "window"), path, label)
    signal, source = _read_subject(r, t, path, label, signal_ok, sources)
    tests = [k for k in _TESTS if k in t]
    if len(tests) != 1:
        r.problem(
            path,
            "a condition needs exactly one test: above, below, equals, not_equals, health,"
            f" rate_above or rate_below (found {', '.join(tests) or 'none'})",
            label,
        )
    if source and tests and tests[0] != "health":
        r.problem(path, "a source condition can only test health ('live' or 'lost')", label)
    for key in ("equals", "not_equals"):
        value = t.get(key)
        if value is not None and not isinstance(value, str | int | float | bool):
            r.problem(f"{path}.{key}", "expected a number, a string or a boolean", label)
    test = _read_test(r, t, path, label, tests[0] if tests else "")
    if test is None:
        if tests == ["health"] and t.get("health") == "":
            r.problem(f"{path}.health", "found ''; expected one of: live, stale, lost", label)
        test = UNREADABLE_CONDITION.test
    return Condition(OnSignal(signal) if signal else OnSource(source), test)


def _read_subject(
    r: Reader,
    t: dict[str, Any],
    path: str,
    label: str,
    signal_ok: Callable[[str], bool],
    sources: list[str],
) -> tuple[str, str]:
    """A condition's ``signal`` and ``source`` (exactly one should be given)."""
    signal = r.string(t, "signal", path, default="", label=label)
    source = r.string(t, "source", path, default="", label=label)
    if bool(signal) == bool(source):
        r.problem(path, "a condition needs exactly one of signal = '...' or source = '...'", label)
    if signal and not signal_ok(signal):
        r.problem(f"{path}.signal", one_signal_message(signal), label)
    if source and cond_health_stale(t):
        r.problem(f"{path}.health", "a source is either live or lost; test 'live' or 'lost'", label)
    if source and source not in sources:
        r.problem(f"{path}.source", unknown("source", source, sources), label)
    return signal, source


def _read_test(
    r: Reader, t: dict[str, Any], path: str, label: str, key: str
) -> ConditionTest | None:
    """The condition's test named by ``key`` (every test field is read, so each
    problem is reported; None when the test has a problem)."""
    above = r.optional_number(t, "above", path, label=label)
    below = r.optional_number(t, "below", path, label=label)
    hysteresis = r.number(t, "hysteresis", path, default=0.0, label=label, lo=0)
    health = r.string(
        t, "health", path, default="", label=label, choices=("", "live", "stale", "lost")
    )
    rate_above = r.optional_number(t, "rate_above", path, label=label)
    rate_below = r.optional_number(t, "rate_below", path, label=label)
    window = r.number(t, "window", path, default=1.0, label=label, lo=0, lo_open=True)
    value = t.get(key)
    tests: dict[str, ConditionTest | None] = {
        "above": None if above is None else Above(above, hysteresis),
        "below": None if below is None else Below(below, hysteresis),
        "equals": Equals(value) if isinstance(value, str | int | float | bool) else None,
        "not_equals": NotEquals(value) if isinstance(value, str | int | float | bool) else None,
        "health": HealthIs(Health(health)) if health else None,
        "rate_above": None if rate_above is None else RateAbove(rate_above, window),
        "rate_below": None if rate_below is None else RateBelow(rate_below, window),
    }
    return tests.get(key)


def osc_address_problem(address: str) -> str:
    """Why ``address`` cannot be sent as an OSC address (the OSC bridge's own rule), or
    an empty string."""
    if not address.startswith("/"):
        return f"found {address!r}; OSC addresses start with '/'"
    try:
        validate_address(address)
    except OscEncodeError as exc:
        return f"found {address!r}; {exc}"
    return ""


def read_midi_ports(r: Reader, tables: dict[str, Any]) -> list[MidiPortConfig]:
    """``[outputs.midi.NAME]`` tables."""
    out: list[MidiPortConfig] = []
    for name, t in tables.items():
        path = f"outputs.midi.{name}"
        if not isinstance(t, dict):
            r.problem(path, "expected a table [outputs.midi.NAME]")
            continue
        r.check_keys(
            t, ("port", "output", "input", "bindings", "msc_device", "msc_go", "timecode_fps"), path
        )
        bindings: list[MidiInputBinding] = []
        for i, b in enumerate(r.tables(t, "bindings", path)):
            bp = f"{path}.bindings[{i}]"
            r.check_keys(b, ("message", "channel", "number", "action", "cue", "threshold"), bp)
            action = r.string(b, "action", bp, choices=("go", "stop", "panic", "start"))
            cue = r.string(b, "cue", bp, default="")
            if action == "start" and not cue:
                r.problem(bp, "action = 'start' needs cue = 'NUMBER'")
            bindings.append(
                MidiInputBinding(
                    message=r.string(b, "message", bp, choices=("note", "cc")),
                    channel=r.integer(b, "channel", bp, default=1, lo=1, hi=16),
                    number=r.integer(b, "number", bp, lo=0, hi=127),
                    action=action,
                    cue=cue,
                    threshold=r.integer(b, "threshold", bp, default=64, lo=1, hi=127),
                )
            )
        if bindings and not t.get("input", False):
            r.problem(f"{path}.bindings", "bindings need input = true on this port")
        fps = r.optional_number(t, "timecode_fps", path)
        if fps is not None and fps not in (24, 25, 29.97, 30):
            r.problem(f"{path}.timecode_fps", f"found {fps:g}, expected 24, 25, 29.97 or 30")
        pattern = r.string(t, "port", path)
        if pattern.startswith("re:"):
            try:
                re.compile(pattern[3:])
            except re.error as err:
                r.problem(
                    f"{path}.port", f"found {pattern!r}: not a valid regular expression ({err})"
                )
        elif "port" in t and not pattern.strip():
            r.problem(f"{path}.port", "an empty name matches any MIDI port; give part of its name")
        out.append(
            MidiPortConfig(
                name=name,
                pattern=pattern,
                output=r.boolean(t, "output", path, True),
                input=r.boolean(t, "input", path, False),
                bindings=tuple(bindings),
                msc_device=r.integer(t, "msc_device", path, default=0, lo=0, hi=0x6F),
                msc_go=r.boolean(t, "msc_go", path, True),
                timecode_fps=fps,
            )
        )
    return out
