"""Events fed to the engine. Each is handed in with the time it happened."""

from __future__ import annotations

from dataclasses import dataclass

from cues.model import ContinueMode, CueId, Value

__all__ = [
    "ArmCue",
    "EditCue",
    "Event",
    "ExternalTrigger",
    "Go",
    "Panic",
    "Pause",
    "PlayheadNext",
    "PlayheadPrevious",
    "Reset",
    "Resume",
    "Sample",
    "SetMinGoInterval",
    "SetPlayhead",
    "SourceHealth",
    "StartCue",
    "Stop",
    "StopCue",
]


@dataclass(frozen=True, slots=True)
class Go:
    """Start the cue at the playhead of ``cue_list`` (the first list if empty)."""

    cue_list: str = ""


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop one cue, or every cue when ``cue`` is None."""

    cue: CueId | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Pause one cue, or every running cue when ``cue`` is None."""

    cue: CueId | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    """Resume one cue, or every paused cue when ``cue`` is None."""

    cue: CueId | None = None


@dataclass(frozen=True, slots=True)
class Panic:
    """Fade everything out over ``duration`` (the show's panic time if None), then
    stop. A second panic while one is fading stops at once."""

    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Reset:
    """Stop everything at once and restore the show's initial state."""


@dataclass(frozen=True, slots=True)
class StartCue:
    """Start a given cue, whatever the playhead says."""

    cue: CueId


@dataclass(frozen=True, slots=True)
class StopCue:
    """Stop a given cue."""

    cue: CueId


@dataclass(frozen=True, slots=True)
class SetPlayhead:
    """Put the playhead of the cue's list on ``cue``."""

    cue: CueId


@dataclass(frozen=True, slots=True)
class PlayheadNext:
    """Move the playhead one cue down."""

    cue_list: str = ""


@dataclass(frozen=True, slots=True)
class PlayheadPrevious:
    """Move the playhead one cue up."""

    cue_list: str = ""


@dataclass(frozen=True, slots=True)
class SetMinGoInterval:
    """Change the double-GO guard."""

    seconds: float


@dataclass(frozen=True, slots=True)
class EditCue:
    """Change a cue's timing, name or continue mode while the show runs (fields left
    None keep their value); it takes effect from the cue's next start."""

    cue: CueId
    name: str | None = None
    prewait: float | None = None
    duration: float | None = None
    postwait: float | None = None
    continue_mode: ContinueMode | None = None


@dataclass(frozen=True, slots=True)
class ArmCue:
    """Arm or disarm a cue, until the show is reset."""

    cue: CueId
    armed: bool


@dataclass(frozen=True, slots=True)
class Sample:
    """A telemetry value. ``None`` means the source says the value is unavailable."""

    signal: str
    value: Value | None
    source: str = ""


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source connected (``up``) or went away; its signals go lost while away."""

    source: str
    up: bool


@dataclass(frozen=True, slots=True)
class ExternalTrigger:
    """Fire a named trigger or start a cue from outside (MIDI note, OSC)."""

    trigger: str = ""
    cue: CueId | None = None


Event = (
    Go
    | Stop
    | Pause
    | Resume
    | Panic
    | Reset
    | StartCue
    | StopCue
    | SetPlayhead
    | PlayheadNext
    | PlayheadPrevious
    | SetMinGoInterval
    | EditCue
    | ArmCue
    | Sample
    | SourceHealth
    | ExternalTrigger
)
