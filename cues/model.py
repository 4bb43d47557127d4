"""The compiled show: frozen definitions the engine runs.

``show.showfile.load`` parses and validates a show file into these objects; nothing
in ``cues`` reads files. Every type here is immutable so one ``ShowModel`` can
be shared by the live runner, the dry run and the tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar, NewType

__all__ = [
    "ACTION_KINDS",
    "TIMED_ACTIONS",
    "Above",
    "ArmAction",
    "Below",
    "ChannelMessage",
    "Condition",
    "ConditionTest",
    "ContinueMode",
    "CueAction",
    "CueDef",
    "CueId",
    "CueKind",
    "CueListDef",
    "CueRef",
    "CueWait",
    "Curve",
    "DerivedDef",
    "DerivedOp",
    "DisarmAction",
    "Equals",
    "FadeAction",
    "FadeTarget",
    "GroupAction",
    "GroupMode",
    "Health",
    "HealthIs",
    "MappingDef",
    "MappingRef",
    "MappingTarget",
    "MemoAction",
    "MidiAction",
    "MidiSpec",
    "MidiTarget",
    "MscMessage",
    "NotEquals",
    "NoticeAction",
    "OnSignal",
    "OnSource",
    "OscAction",
    "OscArg",
    "OscTarget",
    "RateAbove",
    "RateBelow",
    "Rearm",
    "ShowModel",
    "SignalDef",
    "SmoothingDef",
    "StaleMode",
    "StartAction",
    "StopAction",
    "TriggerDef",
    "TriggerRef",
    "Value",
    "VisualAction",
    "VisualTarget",
    "WaitAction",
]

CueId = NewType("CueId", str)
"""A cue's address: ``"<list name>/<cue number>"``."""

Value = float | bool | str
OscArg = int | float | str | bool | bytes | None


class ContinueMode(enum.Enum):
    """What happens after a cue starts (QLab's vocabulary)."""

    DO_NOT_CONTINUE = "do-not-continue"
    AUTO_CONTINUE = "auto-continue"
    AUTO_FOLLOW = "auto-follow"


class Curve(enum.Enum):
    """Shapes for fades, range maps and transitions."""

    LINEAR = "linear"
    S_CURVE = "s-curve"
    EXPONENTIAL = "exponential"
    LOGARITHMIC = "logarithmic"


class Health(enum.Enum):
    """A signal's or source's freshness."""

    LIVE = "live"
    STALE = "stale"
    LOST = "lost"


class GroupMode(enum.Enum):
    """How a group cue runs its children."""

    TIMELINE = "timeline"
    PLAYLIST = "playlist"
    START_FIRST = "start-first"


class CueKind(enum.Enum):
    """Every kind of cue the engine knows."""

    MEMO = "memo"
    WAIT = "wait"
    OSC = "osc"
    MIDI = "midi"
    VISUAL = "visual"
    NOTICE = "notice"
    FADE = "fade"
    GROUP = "group"
    START = "start"
    STOP = "stop"
    ARM = "arm"
    DISARM = "disarm"


class StaleMode(enum.Enum):
    """What a mapping sends while its signal is stale or lost."""

    HOLD = "hold"
    FALLBACK = "fallback"


class Rearm(enum.Enum):
    """When a trigger that fired may fire again."""

    ON_CLEAR = "on-clear"
    ONCE = "once"


class DerivedOp(enum.Enum):
    """Operations over a set of signals."""

    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    DIFFERENCE = "difference"


# -- MIDI messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """A MIDI channel message described by meaning; ``bridges.midi`` encodes the bytes.

    ``kind`` is one of ``note_on``, ``note_off``, ``cc``, ``cc14``, ``program`` or
    ``pitch_bend``; channels count from 1. ``number`` is the note or controller,
    ``value`` the velocity, controller value, program, or bend (0-16383, 8192 centre).
    """

    kind: str
    channel: int = 1
    number: int = 0
    value: int = 0

    def with_value(self, value: int) -> ChannelMessage:
        """The same message with another value (used by fades and mappings)."""
        return ChannelMessage(self.kind, self.channel, self.number, value)


@dataclass(frozen=True, slots=True)
class MscMessage:
    """A MIDI Show Control message (RP-002) described by meaning.

    ``command`` names the general command (``GO``, ``SET``, ...); ``cue`` and
    ``cue_list`` are cue numbers ("" for none); ``control`` and ``value`` are SET's,
    ``macro`` FIRE's, ``time`` TIMED_GO's or SET's (hours, minutes, seconds, frames).
    """

    kind: ClassVar[str] = "msc"

    command: str
    cue: str = ""
    cue_list: str = ""
    device_id: int = 0x7F
    command_format: int = 0x7F
    time: tuple[int, int, int, int] | None = None
    control: int = 0
    value: int = 0
    macro: int = 0


MidiSpec = ChannelMessage | MscMessage
"""A MIDI message a cue sends."""


# -- fade and mapping targets ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OscTarget:
    """A number sent to an OSC address of a named OSC target."""

    target: str
    address: str

    @property
    def key(self) -> str:
        """A stable name for the destination, used to remember its last value."""
        return f"osc:{self.target}:{self.address}"


@dataclass(frozen=True, slots=True)
class MidiTarget:
    """A number sent as a MIDI controller (cc, cc14) or pitch bend on a named port."""

    port: str
    message: ChannelMessage

    @property
    def key(self) -> str:
        """A stable name for the destination, used to remember its last value."""
        m = self.message
        return f"midi:{self.port}:{m.kind}:{m.channel}:{m.number}"


@dataclass(frozen=True, slots=True)
class VisualTarget:
    """A scene input of a visual output."""

    output: str
    name: str

    @property
    def key(self) -> str:
        """A stable name for the destination, used to remember its last value."""
        return f"visual:{self.output}:{self.name}"


@dataclass(frozen=True, slots=True)
class MappingTarget:
    """A mapping's level (0-1 scales what the mapping sends)."""

    mapping: str

    @property
    def key(self) -> str:
        """A stable name for the destination, used to remember its last value."""
        return f"mapping:{self.mapping}"


FadeTarget = OscTarget | MidiTarget | VisualTarget | MappingTarget
"""A numeric destination of a fade or a mapping."""


# -- conditions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Above:
    """The value is above ``threshold``; once true, until it drops below
    ``threshold - hysteresis``."""

    threshold: float
    hysteresis: float = 0.0

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} > {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Below:
    """The value is below ``threshold``; once true, until it rises above
    ``threshold + hysteresis``."""

    threshold: float
    hysteresis: float = 0.0

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} < {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Equals:
    """The value equals ``value`` (numbers compare as numbers)."""

    value: Value

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} == {self.value!r}"


@dataclass(frozen=True, slots=True)
class NotEquals:
    """The signal has a value and it is not ``value``."""

    value: Value

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} != {self.value!r}"


@dataclass(frozen=True, slots=True)
class HealthIs:
    """The signal's (or the source's) health is ``health``."""

    health: Health

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} is {self.health.value}"


@dataclass(frozen=True, slots=True)
class RateAbove:
    """The value rises faster than ``rate`` units per second over ``window`` seconds."""

    rate: float
    window: float = 1.0

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} rising faster than {self.rate:g}/s"


@dataclass(frozen=True, slots=True)
class RateBelow:
    """The value changes slower than ``rate`` units per second over ``window`` seconds."""

    rate: float
    window: float = 1.0

    def describe(self, subject: str) -> str:
        """The test on ``subject``, in words."""
        return f"{subject} changing slower than {self.rate:g}/s"


ConditionTest = Above | Below | Equals | NotEquals | HealthIs | RateAbove | RateBelow
"""One test of a condition."""


@dataclass(frozen=True, slots=True)
class OnSignal:
    """A condition's subject: one signal."""

    name: str


@dataclass(frozen=True, slots=True)
class OnSource:
    """A condition's subject: a source's health (only :class:`HealthIs` applies)."""

    name: str


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on one signal, or on a source's health."""

    subject: OnSignal | OnSource
    test: ConditionTest

    @property
    def signal(self) -> str:
        """The signal tested ("" for a source's health)."""
        subject = self.subject
        return subject.name if isinstance(subject, OnSignal) else ""

    def describe(self) -> str:
        """A short human description, for logs and reports."""
        subject = self.subject
        words = subject.name if isinstance(subject, OnSignal) else f"source {subject.name}"
        return self.test.describe(words)


# -- cue actions: one type per kind of cue -----------------------------------------
#
# A field whose show-file key is not its name says so in ``metadata["keys"]`` (the
# show-file reader and its docs check take a kind's keys from these types).


@dataclass(frozen=True, slots=True)
class MemoAction:
    """Does nothing (a note in the list, or a place to stop)."""


@dataclass(frozen=True, slots=True)
class WaitAction:
    """Takes the cue's ``duration`` and does nothing else."""


@dataclass(frozen=True, slots=True)
class OscAction:
    """Sends one OSC message to a named OSC target."""

    target: str
    address: str
    args: tuple[OscArg, ...] = ()


@dataclass(frozen=True, slots=True)
class MidiAction:
    """Sends one MIDI message to a named port."""

    port: str
    message: MidiSpec


@dataclass(frozen=True, slots=True)
class VisualAction:
    """Changes a visual output's scene (with a transition over the cue's ``duration``)
    and/or sets scene inputs."""

    output: str
    scene: str = ""
    transition: str = "crossfade"
    curve: Curve = Curve.LINEAR
    inputs: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class NoticeAction:
    """Puts a message on the dashboard (for ``ttl`` seconds, 0: until taken down), or
    with no text takes the message ``notice_id`` down."""

    text: str = ""
    level: str = "info"
    ttl: float = 0.0
    notice_id: str = field(default="", metadata={"keys": ("id",)})


@dataclass(frozen=True, slots=True)
class FadeAction:
    """Moves a target from ``start`` (None: its last value) to ``to`` over the cue's
    ``duration``, ``rate_hz`` steps a second; ``stop_target`` switches a mapping off at
    the end."""

    target: FadeTarget
    start: float | None = field(default=None, metadata={"keys": ("from",)})
    to: float = 0.0
    curve: Curve = Curve.LINEAR
    stop_target: bool = False
    rate_hz: float = 30.0


@dataclass(frozen=True, slots=True)
class GroupAction:
    """Runs ``children`` as a timeline, a playlist, or by starting the first."""

    mode: GroupMode = GroupMode.TIMELINE
    children: tuple[CueId, ...] = ()


@dataclass(frozen=True, slots=True)
class CueRef:
    """A control cue's target: another cue."""

    cue: CueId


@dataclass(frozen=True, slots=True)
class MappingRef:
    """A control cue's target: a mapping (started/armed: on; stopped/disarmed: off)."""

    mapping: str


@dataclass(frozen=True, slots=True)
class TriggerRef:
    """An arm or disarm cue's target: a trigger."""

    trigger: str


_CONTROL_KEYS: dict[str, Any] = {"keys": ("cue", "mapping", "trigger")}


@dataclass(frozen=True, slots=True)
class StartAction:
    """Starts a cue, or switches a mapping on."""

    target: CueRef | MappingRef = field(metadata=_CONTROL_KEYS)


@dataclass(frozen=True, slots=True)
class StopAction:
    """Stops a cue, or switches a mapping off."""

    target: CueRef | MappingRef = field(metadata=_CONTROL_KEYS)


@dataclass(frozen=True, slots=True)
class ArmAction:
    """Arms a cue (it acts when started), or switches a mapping or trigger on."""

    target: CueRef | MappingRef | TriggerRef = field(metadata=_CONTROL_KEYS)


@dataclass(frozen=True, slots=True)
class DisarmAction:
    """Disarms a cue (started, it only takes its time), or switches a mapping or
    trigger off."""

    target: CueRef | MappingRef | TriggerRef = field(metadata=_CONTROL_KEYS)


CueAction = (
    MemoAction
    | WaitAction
    | OscAction
    | MidiAction
    | VisualAction
    | NoticeAction
    | FadeAction
    | GroupAction
    | StartAction
    | StopAction
    | ArmAction
    | DisarmAction
)
"""What a cue does: one type per kind of cue."""

ACTION_KINDS: dict[type[CueAction], CueKind] = {
    MemoAction: CueKind.MEMO,
    WaitAction: CueKind.WAIT,
    OscAction: CueKind.OSC,
    MidiAction: CueKind.MIDI,
    VisualAction: CueKind.VISUAL,
    NoticeAction: CueKind.NOTICE,
    FadeAction: CueKind.FADE,
    GroupAction: CueKind.GROUP,
    StartAction: CueKind.START,
    StopAction: CueKind.STOP,
    ArmAction: CueKind.ARM,
    DisarmAction: CueKind.DISARM,
}
"""Each action type's kind (the show file's ``type``)."""


TIMED_ACTIONS: tuple[type[CueAction], ...] = (WaitAction, VisualAction, FadeAction)
"""The kinds whose show-file table sets the cue's ``duration``: the wait, the scene
transition, the fade."""


# -- cues --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CueWait:
    """A conditional GO: the cue waits until ``condition`` has held for ``hold``
    seconds, at most ``timeout`` seconds (None: forever); on a timeout ``fallback``
    starts. A cue named as a fallback is outside its list's GO order (the standby
    never lands on it)."""

    condition: Condition
    timeout: float | None = None
    hold: float = 0.0
    fallback: CueId | None = None


@dataclass(frozen=True, slots=True)
class CueDef:
    """One cue: what every cue has, and its ``action``.

    ``prewait``, ``duration`` (how long the action takes) and ``postwait`` are its
    timing; the show file sets ``duration`` only for the kinds in ``TIMED_ACTIONS``,
    a QLab remote may set it on any cue (a group's action lasts until its children
    are done, whatever its duration)."""

    id: CueId
    number: str
    name: str
    action: CueAction = MemoAction()
    prewait: float = 0.0
    duration: float = 0.0
    postwait: float = 0.0
    continue_mode: ContinueMode = ContinueMode.DO_NOT_CONTINUE
    armed: bool = True
    wait: CueWait | None = None
    # explicit next cue for continue modes (loops)
    continue_to: CueId | None = None
    parent: CueId | None = None
    notes: str = ""

    @property
    def kind(self) -> CueKind:
        """The cue's kind (from its action's type)."""
        return ACTION_KINDS[type(self.action)]

    @property
    def children(self) -> tuple[CueId, ...]:
        """A group's children (none for other kinds)."""
        action = self.action
        return action.children if isinstance(action, GroupAction) else ()


@dataclass(frozen=True, slots=True)
class CueListDef:
    """A named cue list; ``cues`` are the top-level cues in order."""

    name: str
    cues: tuple[CueId, ...]


@dataclass(frozen=True, slots=True)
class SignalDef:
    """A declared signal (``name`` may be a glob pattern such as ``home-*.temp_c``)."""

    name: str
    unit: str = ""
    stale_after: float = 5.0
    lost_after: float = 30.0
    history: int = 600
    source: str = ""
    label: str = ""


@dataclass(frozen=True, slots=True)
class DerivedDef:
    """A signal computed from others (inputs may be glob patterns)."""

    name: str
    op: DerivedOp
    inputs: tuple[str, ...]
    unit: str = ""


@dataclass(frozen=True, slots=True)
class SmoothingDef:
    """Smoothing stage: an exponential moving average with time constant ``ema``
    seconds, or a One-Euro filter."""

    ema: float | None = None
    one_euro_min_cutoff: float | None = None
    one_euro_beta: float = 0.0
    one_euro_d_cutoff: float = 1.0


@dataclass(frozen=True, slots=True)
class MappingDef:
    """A continuous mapping from a signal to a numeric destination."""

    name: str
    signal: str
    target: FadeTarget
    in_range: tuple[float, float] | None = None
    out_range: tuple[float, float] | None = None
    clamp: bool = True
    curve: Curve = Curve.LINEAR
    smoothing: SmoothingDef | None = None
    deadband: float = 0.0
    slew: float | None = None
    stale: StaleMode = StaleMode.HOLD
    fallback: float = 0.0
    max_rate_hz: float = 30.0
    enabled: bool = True
    level: float = 1.0


@dataclass(frozen=True, slots=True)
class TriggerDef:
    """Fires a cue (or GO) when a condition has held for ``hold`` seconds."""

    name: str
    condition: Condition
    hold: float = 0.0
    rearm: Rearm = Rearm.ON_CLEAR
    cooldown: float = 0.0
    start_cue: CueId | None = None
    go: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ShowModel:
    """The whole compiled show."""

    title: str
    cue_lists: tuple[CueListDef, ...]
    cues: dict[CueId, CueDef] = field(hash=False)
    signals: tuple[SignalDef, ...] = ()
    derived: tuple[DerivedDef, ...] = ()
    mappings: tuple[MappingDef, ...] = ()
    triggers: tuple[TriggerDef, ...] = ()
    min_go_interval: float = 0.25
    panic_time: float = 1.0
    health_interval: float = 0.1
    max_dynamic_signals: int = 10_000
    visual_outputs: tuple[str, ...] = ()
