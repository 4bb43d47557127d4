"""The compiled show: frozen definitions the engine runs.

``show.showfile.load`` parses and validates a show file into these objects; nothing
in ``cues`` reads files. Every type here is immutable so one ``ShowModel`` can
be shared by the live runner, the dry run and the tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NewType

__all__ = [
    "Condition",
    "ContinueMode",
    "CueDef",
    "CueId",
    "CueKind",
    "CueListDef",
    "Curve",
    "DerivedDef",
    "DerivedOp",
    "FadeTarget",
    "GroupMode",
    "Health",
    "MappingDef",
    "MidiSpec",
    "OscArg",
    "Rearm",
    "ShowModel",
    "SignalDef",
    "SmoothingDef",
    "StaleMode",
    "TriggerDef",
    "Value",
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


@dataclass(frozen=True, slots=True)
class MidiSpec:
    """A MIDI message described by meaning; ``bridges.midi`` encodes the bytes.

    ``kind`` is one of ``note_on``, ``note_off``, ``cc``, ``cc14``, ``program``,
    ``pitch_bend`` or ``msc``. Channels count from 1. For MSC, ``number`` and
    ``value`` carry SET's control and value, ``number`` FIRE's macro, and
    ``msc_time`` TIMED_GO's (hours, minutes, seconds, frames).
    """

    kind: str
    channel: int = 1
    number: int = 0
    value: int = 0
    msc_command: str = ""
    msc_cue: str = ""
    msc_list: str = ""
    msc_device: int = 0x7F
    msc_format: int = 0x7F
    msc_time: tuple[int, int, int, int] | None = None

    def with_value(self, value: int) -> MidiSpec:
        """The same message with another value (used by fades and mappings)."""
        return MidiSpec(
            self.kind,
            self.channel,
            self.number,
            value,
            self.msc_command,
            self.msc_cue,
            self.msc_list,
            self.msc_device,
            self.msc_format,
            self.msc_time,
        )


@dataclass(frozen=True, slots=True)
class FadeTarget:
    """A numeric destination: an OSC address, a MIDI controller, a visual input or a
    mapping's level. Exactly one of ``osc``, ``midi``, ``visual``, ``mapping`` is set.
    """

    osc: str = ""
    address: str = ""
    midi: str = ""
    midi_message: MidiSpec | None = None
    visual: str = ""
    visual_input: str = ""
    mapping: str = ""

    @property
    def key(self) -> str:
        """A stable name for the destination, used to remember its last value."""
        if self.osc:
            return f"osc:{self.osc}:{self.address}"
        if self.midi and self.midi_message is not None:
            m = self.midi_message
            return f"midi:{self.midi}:{m.kind}:{m.channel}:{m.number}"
        if self.visual:
            return f"visual:{self.visual}:{self.visual_input}"
        return f"mapping:{self.mapping}"


@dataclass(frozen=True, slots=True)
class Condition:
    """A test on one signal (or on a source's health).

    Exactly one test is set: ``above``/``below`` (with ``hysteresis``), ``equals``/
    ``not_equals``, ``health``, or ``rate_above``/``rate_below`` (units per second
    over ``window`` seconds).
    """

    signal: str = ""
    source: str = ""
    above: float | None = None
    below: float | None = None
    hysteresis: float = 0.0
    equals: Value | None = None
    not_equals: Value | None = None
    health: Health | None = None
    rate_above: float | None = None
    rate_below: float | None = None
    window: float = 1.0

    def describe(self) -> str:
        """A short human description, for logs and reports."""
        subject = self.signal or f"source {self.source}"
        if self.above is not None:
            return f"{subject} > {self.above:g}"
        if self.below is not None:
            return f"{subject} < {self.below:g}"
        if self.equals is not None:
            return f"{subject} == {self.equals!r}"
        if self.not_equals is not None:
            return f"{subject} != {self.not_equals!r}"
        if self.health is not None:
            return f"{subject} is {self.health.value}"
        if self.rate_above is not None:
            return f"{subject} rising faster than {self.rate_above:g}/s"
        if self.rate_below is not None:
            return f"{subject} changing slower than {self.rate_below:g}/s"
        return subject


@dataclass(frozen=True, slots=True)
class CueDef:
    """One cue. Fields that do not apply to a kind keep their defaults."""

    id: CueId
    number: str
    name: str
    kind: CueKind
    prewait: float = 0.0
    duration: float = 0.0
    postwait: float = 0.0
    continue_mode: ContinueMode = ContinueMode.DO_NOT_CONTINUE
    armed: bool = True
    # osc
    osc_target: str = ""
    osc_address: str = ""
    osc_args: tuple[OscArg, ...] = ()
    # midi
    midi_port: str = ""
    midi: MidiSpec | None = None
    # visual
    visual_output: str = ""
    scene: str = ""
    transition: str = "crossfade"
    visual_inputs: tuple[tuple[str, float], ...] = ()
    # notice
    text: str = ""
    level: str = "info"
    ttl: float = 0.0
    notice_id: str = ""
    # fade
    fade_target: FadeTarget | None = None
    fade_from: float | None = None
    fade_to: float = 0.0
    curve: Curve = Curve.LINEAR
    stop_target: bool = False
    rate_hz: float = 30.0
    # group
    group_mode: GroupMode = GroupMode.TIMELINE
    children: tuple[CueId, ...] = ()
    # start / stop / arm / disarm
    target_cue: CueId | None = None
    target_mapping: str = ""
    target_trigger: str = ""
    # conditional go: ``fallback`` runs only when the wait times out; a cue named as
    # a fallback is outside its list's GO order (the standby never lands on it)
    wait_for: Condition | None = None
    wait_timeout: float | None = None
    wait_hold: float = 0.0
    fallback: CueId | None = None
    # explicit next cue for continue modes (loops)
    continue_to: CueId | None = None
    parent: CueId | None = None
    notes: str = ""


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
