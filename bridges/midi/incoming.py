"""Map incoming MIDI to abstract show actions (pure, sans-I/O).

The show file configures bindings such as "note 60 on channel 1 is GO",
"controller 20 going above 63 is GO" or "answer MSC on device id 1"; the
runner feeds every parsed message from :mod:`bridges.midi.ports` through an
:class:`IncomingMapper` and hands the resulting :class:`MidiAction` values to
the cue engine. Nothing here knows about ports, the loop or the engine.

Control changes trigger on the rising edge only: a fader swept past the
threshold fires once, and must fall below it again before it can fire again.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bridges.midi.errors import MidiValueError
from bridges.midi.msc import ALL_CALL, CommandFormat, MscCommand, decode_msc, is_msc
from bridges.midi.wire import ControlChange, MidiMessage, NoteOn, ProgramChange, SysEx

__all__ = [
    "ActionKind",
    "Binding",
    "ControlBinding",
    "IncomingMapper",
    "MidiAction",
    "MscBinding",
    "NoteBinding",
    "ProgramBinding",
]


class ActionKind(enum.StrEnum):
    """What the incoming message asks the show to do."""

    GO = "go"
    STOP = "stop"
    RESUME = "resume"
    LOAD = "load"
    GO_OFF = "go_off"
    ALL_OFF = "all_off"
    RESTORE = "restore"
    RESET = "reset"
    FIRE = "fire"


@dataclass(frozen=True, slots=True)
class MidiAction:
    """An abstract action for the engine.

    Attributes:
        kind: what to do.
        cue: the cue number it applies to, or ``None`` for "the next/current cue".
        cue_list: the cue list given by MSC, if any.
        macro: the macro number of an MSC FIRE.
        source: a short human description of the triggering message, for logs.
    """

    kind: ActionKind
    cue: str | None = None
    cue_list: str | None = None
    macro: int | None = None
    source: str = ""


def _check_channel(channel: int | None) -> None:
    if channel is not None and (
        isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= 16
    ):
        raise MidiValueError(f"binding channel must be 1..16 or None (any), got {channel!r}")


def _check_7bit(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
        raise MidiValueError(f"binding {name} must be 0..127, got {value!r}")


@dataclass(frozen=True, slots=True)
class NoteBinding:
    """A note on (velocity > 0) of ``note`` triggers ``action`` (on ``cue`` if given).

    ``channel`` 1..16, or ``None`` for any channel.
    """

    note: int
    action: ActionKind = ActionKind.GO
    cue: str | None = None
    channel: int | None = None

    def __post_init__(self) -> None:
        _check_7bit("note", self.note)
        _check_channel(self.channel)


@dataclass(frozen=True, slots=True)
class ControlBinding:
    """Controller ``control`` rising to ``threshold`` or above triggers ``action``."""

    control: int
    action: ActionKind = ActionKind.GO
    cue: str | None = None
    channel: int | None = None
    threshold: int = 64

    def __post_init__(self) -> None:
        _check_7bit("controller", self.control)
        _check_channel(self.channel)
        if not 1 <= self.threshold <= 127:
            raise MidiValueError(f"binding threshold must be 1..127, got {self.threshold!r}")


@dataclass(frozen=True, slots=True)
class ProgramBinding:
    """A program change ``p`` triggers ``action`` on cue ``str(p + offset)``.

    With ``offset=1`` program 0 on the wire fires cue "1", as most consoles number them.
    """

    action: ActionKind = ActionKind.GO
    channel: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        _check_channel(self.channel)


@dataclass(frozen=True, slots=True)
class MscBinding:
    """Respond to MIDI Show Control as device ``device_id``.

    A message is accepted when addressed to ``device_id``, to one of ``groups``
    (1..15) or to all-call (7FH), and when its command format is all-types (7FH)
    or one of ``command_formats`` (``None`` accepts every format). SET is not
    mapped (there is no abstract action for it).
    """

    device_id: int = 0
    groups: frozenset[int] = frozenset()
    command_formats: frozenset[CommandFormat] | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.device_id <= 0x6F:
            raise MidiValueError(
                f"MSC device id must be an individual id 0..111, got {self.device_id!r}"
            )
        bad = sorted(group for group in self.groups if not 1 <= group <= 15)
        if bad:
            raise MidiValueError(f"MSC groups must be 1..15, got {bad}")

    def accepts(self, device_id: int, command_format: CommandFormat) -> bool:
        """Whether a message with this address and format is for us."""
        addressed = device_id in (ALL_CALL, self.device_id) or (
            0x70 <= device_id <= 0x7E and device_id - 0x6F in self.groups
        )
        formats = self.command_formats
        return addressed and (
            formats is None
            or command_format is CommandFormat.ALL_TYPES
            or command_format in formats
        )


Binding = NoteBinding | ControlBinding | ProgramBinding | MscBinding

_MSC_ACTIONS = {
    MscCommand.GO: ActionKind.GO,
    MscCommand.TIMED_GO: ActionKind.GO,
    MscCommand.STOP: ActionKind.STOP,
    MscCommand.RESUME: ActionKind.RESUME,
    MscCommand.LOAD: ActionKind.LOAD,
    MscCommand.GO_OFF: ActionKind.GO_OFF,
    MscCommand.ALL_OFF: ActionKind.ALL_OFF,
    MscCommand.RESTORE: ActionKind.RESTORE,
    MscCommand.RESET: ActionKind.RESET,
    MscCommand.FIRE: ActionKind.FIRE,
}


def _matches_channel(binding_channel: int | None, channel: int) -> bool:
    return binding_channel is None or binding_channel == channel


class IncomingMapper:
    """Turn parsed MIDI messages into :class:`MidiAction` values.

    Holds only the last value of each bound controller (for edge detection).

    Args:
        bindings: the configured bindings, in show-file order.
    """

    def __init__(self, bindings: Iterable[Binding]) -> None:
        """Create a mapper for ``bindings``."""
        self.bindings: tuple[Binding, ...] = tuple(bindings)
        self._last_cc: dict[tuple[int, int], int] = {}

    def map(self, message: MidiMessage) -> list[MidiAction]:
        """Actions triggered by ``message``, in binding order (often none).

        Raises:
            MidiDecodeError: ``message`` is a malformed MSC SysEx and an
                :class:`MscBinding` is configured (so the operator should hear of it).
        """
        match message:
            case NoteOn(channel, note, _):
                return [
                    MidiAction(b.action, b.cue, source=f"note {note} on channel {channel}")
                    for b in self.bindings
                    if isinstance(b, NoteBinding)
                    and b.note == note
                    and _matches_channel(b.channel, channel)
                ]
            case ControlChange(channel, control, value):
                return self._map_control(channel, control, value)
            case ProgramChange(channel, program):
                return [
                    MidiAction(
                        b.action,
                        str(program + b.offset),
                        source=f"program change {program} on channel {channel}",
                    )
                    for b in self.bindings
                    if isinstance(b, ProgramBinding) and _matches_channel(b.channel, channel)
                ]
            case SysEx():
                return self._map_sysex(message)
        return []

    def _map_control(self, channel: int, control: int, value: int) -> list[MidiAction]:
        bound = [
            b
            for b in self.bindings
            if isinstance(b, ControlBinding)
            and b.control == control
            and _matches_channel(b.channel, channel)
        ]
        if not bound:
            return []
        previous = self._last_cc.get((channel, control), 0)
        self._last_cc[(channel, control)] = value
        return [
            MidiAction(
                b.action,
                b.cue,
                source=f"controller {control} = {value} on channel {channel}",
            )
            for b in bound
            if previous < b.threshold <= value
        ]

    def _map_sysex(self, message: SysEx) -> list[MidiAction]:
        data = message.to_bytes()
        bindings = [b for b in self.bindings if isinstance(b, MscBinding)]
        if not bindings or not is_msc(data):
            return []
        msc = decode_msc(data)
        kind = _MSC_ACTIONS.get(msc.command)
        if kind is None or not any(b.accepts(msc.device_id, msc.command_format) for b in bindings):
            return []
        cue = msc.cue
        where = f" cue {cue.number}" if cue and cue.number else ""
        if cue and cue.list:
            where += f" list {cue.list}"
        return [
            MidiAction(
                kind,
                cue.number if cue else None,
                cue.list if cue else None,
                macro=msc.macro,
                source=f"MSC {msc.command.name}{where} to device 0x{msc.device_id:02X}",
            )
        ]
