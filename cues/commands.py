"""Commands the engine hands back. The runner turns them into I/O."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cues.model import CueId, Health, MidiSpec, OscArg, Value

__all__ = [
    "ClearNotice",
    "Command",
    "CueState",
    "CueStateChanged",
    "Health",
    "Notice",
    "Outbox",
    "PlayheadChanged",
    "Report",
    "ReportLevel",
    "SendMidi",
    "SendOsc",
    "SetScene",
    "SetVisualInput",
    "SignalHealthChanged",
    "TriggerFired",
]


class CueState(enum.Enum):
    """Where a cue is in its life."""

    IDLE = "idle"
    WAITING = "waiting"
    PREWAIT = "prewait"
    RUNNING = "running"
    PAUSED = "paused"


class ReportLevel(enum.Enum):
    """How much a report matters; the value is the word the logs and the dry run's
    report show."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class SendOsc:
    """Send one OSC message to a named target. ``continuous`` values (mappings,
    fades) may be conflated by the output, newest first; discrete ones (cues) are
    always sent."""

    target: str
    address: str
    args: tuple[OscArg, ...]
    continuous: bool = False


@dataclass(frozen=True, slots=True)
class SendMidi:
    """Send one MIDI message to a named port."""

    port: str
    message: MidiSpec


@dataclass(frozen=True, slots=True)
class SetVisualInput:
    """Set a scene input on a visual output."""

    output: str
    name: str
    value: float


@dataclass(frozen=True, slots=True)
class SetScene:
    """Change scene on a visual output; ``scene`` empty means black."""

    output: str
    scene: str
    transition: str
    duration: float
    curve: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for the public dashboard (an announcement or an alert)."""

    id: str
    text: str
    level: str


@dataclass(frozen=True, slots=True)
class ClearNotice:
    """Take a dashboard message down."""

    id: str


@dataclass(frozen=True, slots=True)
class CueStateChanged:
    """A cue moved to another state."""

    cue: CueId
    state: CueState


@dataclass(frozen=True, slots=True)
class PlayheadChanged:
    """A list's standby cue changed (None: past the end)."""

    cue_list: str
    cue: CueId | None


@dataclass(frozen=True, slots=True)
class SignalHealthChanged:
    """A signal went live, stale or lost."""

    signal: str
    health: Health


@dataclass(frozen=True, slots=True)
class TriggerFired:
    """A trigger's condition held and it acted."""

    trigger: str
    value: Value | None


@dataclass(frozen=True, slots=True)
class Report:
    """Something the operator should read in the log: ``subject`` names the cue,
    signal or trigger."""

    level: ReportLevel
    subject: str
    message: str


Command = (
    SendOsc
    | SendMidi
    | SetVisualInput
    | SetScene
    | Notice
    | ClearNotice
    | CueStateChanged
    | PlayheadChanged
    | SignalHealthChanged
    | TriggerFired
    | Report
)


class Outbox:
    """The commands produced since the engine last handed them out, oldest first.

    Every part of the engine writes here; only :meth:`take` empties it, so a part must
    not keep ``items`` across calls.
    """

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Command] = []

    def emit(self, cmd: Command) -> None:
        """Add one command."""
        self.items.append(cmd)

    def report(self, level: ReportLevel, subject: str, message: str) -> None:
        """Add a line for the operator's log."""
        self.items.append(Report(level, subject, message))

    def take(self) -> list[Command]:
        """Hand out everything so far and start afresh."""
        out = self.items
        self.items = []
        return out
