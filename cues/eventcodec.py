"""Engine events as plain JSON-ready dicts, and back.

A live run records every event it hands the engine (operator actions, cue edits,
source connects and disconnects) with :func:`encode_event`; a dry run reads them
back with :func:`decode_event` and hands the engine the same events at the same
times. The dict is ``{"type": <class name>, <field>: <value>, ...}`` with enums as
their values.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from cues import events as ev
from cues.model import ContinueMode, CueId

__all__ = ["decode_event", "encode_event"]

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        ev.Go,
        ev.Stop,
        ev.Pause,
        ev.Resume,
        ev.Panic,
        ev.Reset,
        ev.StartCue,
        ev.StopCue,
        ev.SetPlayhead,
        ev.PlayheadNext,
        ev.PlayheadPrevious,
        ev.SetMinGoInterval,
        ev.EditCue,
        ev.ArmCue,
        ev.Sample,
        ev.SourceHealth,
        ev.ExternalTrigger,
    )
}
_FLOATS = {"duration", "seconds", "prewait", "postwait"}
_STRINGS = {"cue_list", "trigger", "signal", "source", "name"}


def encode_event(event: ev.Event) -> dict[str, Any]:
    """``event`` as a dict of JSON types."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        out[f.name] = value.value if isinstance(value, enum.Enum) else value
    return out


def _field(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "cue":
        return CueId(str(value))
    if name == "continue_mode":
        return ContinueMode(value)
    if name in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, not {value!r}")
        return float(value)
    if name in _STRINGS:
        return str(value)
    if name in ("up", "armed"):
        return bool(value)
    return value


def decode_event(data: dict[str, Any]) -> ev.Event:
    """The event :func:`encode_event` gave ``data`` for.

    Raises:
        ValueError: unknown type, missing or malformed field.
    """
    cls = _TYPES.get(str(data.get("type", "")))
    if cls is None:
        raise ValueError(f"unknown engine event {data.get('type')!r}")
    kwargs = {
        f.name: _field(f.name, data[f.name]) for f in dataclasses.fields(cls) if f.name in data
    }
    try:
        event: ev.Event = cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"{cls.__name__}: {err}") from None
    return event
