"""MIDI Show Control (MIDI 1.0 Recommended Practice RP-002): pure encode and decode.

An MSC message is a Universal Real Time System Exclusive message::

    F0 7F <device_ID> 02 <command_format> <command> <data> F7

(RP-002 §2.1: sub-ID #1 = 02H for all show commands; §2.2: the whole message
must not exceed 128 bytes.) Device ids (§4.1): 00H-6FH individual devices,
70H-7EH groups 1-15, 7FH all-call.

Data of the general commands (§5):

=========  ====  =================================================
command    byte  data
=========  ====  =================================================
GO         01H   [Q_number [00 Q_list [00 Q_path]]]
STOP       02H   same as GO
RESUME     03H   same as GO
TIMED_GO   04H   hr mn sc fr (ff|st) [Q_number [00 Q_list [00 Q_path]]]
LOAD       05H   Q_number [00 Q_list [00 Q_path]]
SET        06H   cc cc vv vv [hr mn sc fr (ff|st)]  (LSB first, 14 bit each)
FIRE       07H   mm (macro number 0-127)
ALL_OFF    08H   none
RESTORE    09H   none
RESET      0AH   none
GO_OFF     0BH   same as GO
=========  ====  =================================================

Cue numbers (§3.1) are ASCII digits (30H-39H) with the decimal point (2EH)
delimiting subsections, fields separated by 00H. Receivers must accept extra
delimiters, even directly before F7H, and repeated decimal points; this decoder
does. The encoder only writes well-formed numbers such as ``235.6``.

Standard time (§3.2, the same layout as MIDI Machine Control)::

    hr = 0 tt hhhhh   tt: 00 24 fps, 01 25 fps, 10 30 drop-frame, 11 30 fps
    mn = 0 c mmmmmm   c: colour frame bit
    sc = 0 k ssssss   k: reserved, 0
    fr = 0 g i fffff  g: sign (1 = negative), i: 1 if a status byte follows
                      instead of fractional frames
    ff = 0 bbbbbbb    fractional frames 0-99
    st = 0 e v d xxxx status: estimated code, invalid code, video field
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from bridges.midi.errors import MidiDecodeError, MidiValueError

__all__ = [
    "ALL_CALL",
    "CommandFormat",
    "CueRef",
    "MscCommand",
    "MscMessage",
    "StandardTime",
    "TimeType",
    "decode_msc",
    "encode_msc",
    "group_device_id",
    "is_msc",
]

ALL_CALL = 0x7F
"""Device id every controlled device responds to."""

MAX_MESSAGE_LENGTH = 128
_HEADER = b"\xf0\x7f"
_SUB_ID_MSC = 0x02

_CUE_FIELD_STRICT = re.compile(r"[0-9]+(\.[0-9]+)*")
_CUE_FIELD_LENIENT = re.compile(r"[0-9.]*[0-9][0-9.]*")


class MscCommand(enum.IntEnum):
    """General commands of RP-002 §4.3."""

    GO = 0x01
    STOP = 0x02
    RESUME = 0x03
    TIMED_GO = 0x04
    LOAD = 0x05
    SET = 0x06
    FIRE = 0x07
    ALL_OFF = 0x08
    RESTORE = 0x09
    RESET = 0x0A
    GO_OFF = 0x0B


class CommandFormat(enum.IntEnum):
    """Command formats of RP-002 §4.2 (which kind of device a command is for)."""

    LIGHTING = 0x01
    MOVING_LIGHTS = 0x02
    COLOR_CHANGERS = 0x03
    STROBES = 0x04
    LASERS = 0x05
    CHASERS = 0x06
    SOUND = 0x10
    MUSIC = 0x11
    CD_PLAYERS = 0x12
    EPROM_PLAYBACK = 0x13
    AUDIO_TAPE_MACHINES = 0x14
    INTERCOMS = 0x15
    AMPLIFIERS = 0x16
    AUDIO_EFFECTS_DEVICES = 0x17
    EQUALIZERS = 0x18
    MACHINERY = 0x20
    RIGGING = 0x21
    FLYS = 0x22
    LIFTS = 0x23
    TURNTABLES = 0x24
    TRUSSES = 0x25
    ROBOTS = 0x26
    ANIMATION = 0x27
    FLOATS = 0x28
    BREAKAWAYS = 0x29
    BARGES = 0x2A
    VIDEO = 0x30
    VIDEO_TAPE_MACHINES = 0x31
    VIDEO_CASSETTE_MACHINES = 0x32
    VIDEO_DISC_PLAYERS = 0x33
    VIDEO_SWITCHERS = 0x34
    VIDEO_EFFECTS = 0x35
    VIDEO_CHARACTER_GENERATORS = 0x36
    VIDEO_STILL_STORES = 0x37
    VIDEO_MONITORS = 0x38
    PROJECTION = 0x40
    FILM_PROJECTORS = 0x41
    SLIDE_PROJECTORS = 0x42
    VIDEO_PROJECTORS = 0x43
    DISSOLVERS = 0x44
    SHUTTER_CONTROLS = 0x45
    PROCESS_CONTROL = 0x50
    HYDRAULIC_OIL = 0x51
    H2O = 0x52
    CO2 = 0x53
    COMPRESSED_AIR = 0x54
    NATURAL_GAS = 0x55
    FOG = 0x56
    SMOKE = 0x57
    CRACKED_HAZE = 0x58
    PYRO = 0x60
    FIREWORKS = 0x61
    EXPLOSIONS = 0x62
    FLAME = 0x63
    SMOKE_POTS = 0x64
    ALL_TYPES = 0x7F


class TimeType(enum.IntEnum):
    """The ``tt`` bits of the hours byte: frame rate of a standard time."""

    FPS_24 = 0
    FPS_25 = 1
    FPS_30_DROP = 2
    FPS_30 = 3

    @property
    def frames_per_second(self) -> int:
        """Nominal frame count per second (30 for drop-frame)."""
        return (24, 25, 30, 30)[self.value]


_CUE_COMMANDS = frozenset(
    {
        MscCommand.GO,
        MscCommand.STOP,
        MscCommand.RESUME,
        MscCommand.TIMED_GO,
        MscCommand.LOAD,
        MscCommand.GO_OFF,
    }
)


def group_device_id(group: int) -> int:
    """Device id of MSC group 1..15 (70H..7EH).

    Raises:
        MidiValueError: ``group`` is not 1..15.
    """
    if isinstance(group, bool) or not isinstance(group, int) or not 1 <= group <= 15:
        raise MidiValueError(f"MSC group must be 1..15, got {group!r}")
    return 0x6F + group


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MidiValueError(f"MSC {name} must be an integer {low}..{high}, got {value!r}")


def _check_cue_field(name: str, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _CUE_FIELD_LENIENT.fullmatch(value):
        raise MidiValueError(
            f"MSC {name} must be ASCII digits with '.' between subsections "
            f"(like '235.6'), got {value!r}"
        )


@dataclass(frozen=True, slots=True)
class CueRef:
    """A cue number with its optional cue list and cue path (RP-002 §3.1).

    ``number`` may be ``None`` when only a list is addressed ("next cue in list 10").
    """

    number: str | None
    list: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        _check_cue_field("Q_number", self.number)
        _check_cue_field("Q_list", self.list)
        _check_cue_field("Q_path", self.path)
        if self.number is None and self.list is None and self.path is None:
            raise MidiValueError("MSC cue reference needs at least a Q_number or a Q_list")


@dataclass(frozen=True, slots=True)
class StandardTime:
    """A standard time (RP-002 §3.2): used by TIMED_GO and optionally SET.

    Exactly one of ``fractional_frames`` (0..99) and ``status`` (a 7-bit status
    byte) is carried on the wire; set ``status`` to send a status byte instead.
    """

    hours: int
    minutes: int
    seconds: int
    frames: int
    fractional_frames: int = 0
    time_type: TimeType = TimeType.FPS_30
    color_frame: bool = False
    negative: bool = False
    status: int | None = None

    def __post_init__(self) -> None:
        _check_int("time hours", self.hours, 0, 23)
        _check_int("time minutes", self.minutes, 0, 59)
        _check_int("time seconds", self.seconds, 0, 59)
        if not isinstance(self.time_type, TimeType):
            raise MidiValueError(f"MSC time type must be a TimeType, got {self.time_type!r}")
        _check_int("time frames", self.frames, 0, self.time_type.frames_per_second - 1)
        _check_int("fractional frames", self.fractional_frames, 0, 99)
        if self.status is not None:
            _check_int("time status byte", self.status, 0, 0x7F)
            if self.fractional_frames:
                raise MidiValueError(
                    "MSC standard time carries either fractional frames or a status byte, not both"
                )

    def to_bytes(self) -> bytes:
        """The five bytes ``hr mn sc fr (ff|st)``."""
        last = self.fractional_frames if self.status is None else self.status
        return bytes(
            (
                (self.time_type << 5) | self.hours,
                (0x40 if self.color_frame else 0) | self.minutes,
                self.seconds,
                (0x40 if self.negative else 0)
                | (0x20 if self.status is not None else 0)
                | self.frames,
                last,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> StandardTime:
        """Decode five bytes ``hr mn sc fr (ff|st)``.

        Raises:
            MidiDecodeError: fewer than five bytes, or a field out of range.
        """
        if len(data) < 5:
            raise MidiDecodeError(f"MSC standard time needs 5 bytes, got {len(data)}")
        hr, mn, sc, fr, last = data[:5]
        has_status = bool(fr & 0x20)
        try:
            return cls(
                hours=hr & 0x1F,
                minutes=mn & 0x3F,
                seconds=sc & 0x3F,
                frames=fr & 0x1F,
                fractional_frames=0 if has_status else last,
                time_type=TimeType((hr >> 5) & 0x03),
                color_frame=bool(mn & 0x40),
                negative=bool(fr & 0x40),
                status=last if has_status else None,
            )
        except MidiValueError as err:
            raise MidiDecodeError(f"invalid MSC standard time {data[:5].hex(' ')}: {err}") from err


@dataclass(frozen=True, slots=True)
class MscMessage:
    """One MIDI Show Control command.

    Which optional fields apply depends on ``command`` (see the module table);
    a field a command does not carry must stay ``None``.
    """

    command: MscCommand
    device_id: int = ALL_CALL
    command_format: CommandFormat = CommandFormat.ALL_TYPES
    cue: CueRef | None = None
    time: StandardTime | None = None
    control: int | None = None
    value: int | None = None
    macro: int | None = None

    def __post_init__(self) -> None:
        for check in _MESSAGE_CHECKS:
            check(self)


def _check_kinds(msg: MscMessage) -> None:
    _check_int("device id", msg.device_id, 0, 0x7F)
    if not isinstance(msg.command, MscCommand):
        raise MidiValueError(f"MSC command must be an MscCommand, got {msg.command!r}")
    if not isinstance(msg.command_format, CommandFormat):
        raise MidiValueError(
            f"MSC command format must be a CommandFormat, got {msg.command_format!r}"
        )


def _check_cue(msg: MscMessage) -> None:
    if msg.cue is not None and msg.command not in _CUE_COMMANDS:
        raise MidiValueError(f"MSC {msg.command.name} carries no cue number")
    if msg.command is MscCommand.LOAD and (msg.cue is None or msg.cue.number is None):
        raise MidiValueError("MSC LOAD requires a cue number")


def _check_time(msg: MscMessage) -> None:
    if msg.command is MscCommand.TIMED_GO and msg.time is None:
        raise MidiValueError("MSC TIMED_GO requires a time")
    if msg.time is not None and msg.command not in (MscCommand.TIMED_GO, MscCommand.SET):
        raise MidiValueError(f"MSC {msg.command.name} carries no time")


def _check_set(msg: MscMessage) -> None:
    if msg.command is MscCommand.SET:
        _check_int("SET control number", msg.control, 0, 0x3FFF)
        _check_int("SET value", msg.value, 0, 0x3FFF)
    elif msg.control is not None or msg.value is not None:
        raise MidiValueError(f"MSC {msg.command.name} carries no control number or value")


def _check_fire(msg: MscMessage) -> None:
    if msg.command is MscCommand.FIRE:
        _check_int("FIRE macro number", msg.macro, 0, 0x7F)
    elif msg.macro is not None:
        raise MidiValueError(f"MSC {msg.command.name} carries no macro number")


#: What :class:`MscMessage` checks, in this order (the first failure is reported).
_MESSAGE_CHECKS: tuple[Callable[[MscMessage], None], ...] = (
    _check_kinds,
    _check_cue,
    _check_time,
    _check_set,
    _check_fire,
)


def _encode_cue(cue: CueRef) -> bytes:
    fields = [cue.number or "", cue.list or "", cue.path or ""]
    for label, text in zip(("Q_number", "Q_list", "Q_path"), fields, strict=True):
        if text and not _CUE_FIELD_STRICT.fullmatch(text):
            raise MidiValueError(
                f"MSC {label} {text!r} is malformed: decimal points must sit between digits"
            )
    while fields and not fields[-1]:
        fields.pop()
    return b"\x00".join(text.encode("ascii") for text in fields)


def _encode_14bit(value: int) -> bytes:
    return bytes((value & 0x7F, value >> 7))


def encode_msc(message: MscMessage) -> bytes:
    """Encode an MSC command to its complete SysEx bytes.

    Raises:
        MidiValueError: a cue field is malformed or the message exceeds 128 bytes.
    """
    data = b""
    command = message.command
    if command is MscCommand.TIMED_GO:
        assert message.time is not None  # checked by MscMessage
        data += message.time.to_bytes()
    if command in _CUE_COMMANDS and message.cue is not None:
        data += _encode_cue(message.cue)
    if command is MscCommand.SET:
        assert message.control is not None and message.value is not None
        data += _encode_14bit(message.control) + _encode_14bit(message.value)
        if message.time is not None:
            data += message.time.to_bytes()
    if command is MscCommand.FIRE:
        assert message.macro is not None
        data += bytes((message.macro,))
    encoded = (
        _HEADER
        + bytes((message.device_id, _SUB_ID_MSC, message.command_format, command))
        + data
        + b"\xf7"
    )
    if len(encoded) > MAX_MESSAGE_LENGTH:
        raise MidiValueError(
            f"MSC message would be {len(encoded)} bytes; RP-002 allows at most {MAX_MESSAGE_LENGTH}"
        )
    return encoded


def is_msc(data: bytes) -> bool:
    """Whether ``data`` looks like an MSC message (header check only, no validation)."""
    return len(data) >= 6 and data[:2] == _HEADER and data[3] == _SUB_ID_MSC


def _decode_cue(data: bytes) -> CueRef | None:
    fields = data.split(b"\x00")
    while fields and not fields[-1]:
        fields.pop()
    if len(fields) > 3:
        raise MidiDecodeError(
            f"MSC cue data has {len(fields)} fields; at most Q_number, Q_list, Q_path"
        )
    texts: list[str | None] = []
    for label, raw in zip(("Q_number", "Q_list", "Q_path"), fields, strict=False):
        text = raw.decode("ascii", errors="replace")
        if raw and not _CUE_FIELD_LENIENT.fullmatch(text):
            raise MidiDecodeError(f"MSC {label} {text!r} is not ASCII digits and '.'")
        texts.append(text or None)
    texts += [None] * (3 - len(texts))
    number, cue_list, path = texts
    if number is None and cue_list is None and path is None:
        return None
    return CueRef(number, cue_list, path)


def _decode_14bit(data: bytes, offset: int) -> int:
    return data[offset] | (data[offset + 1] << 7)


class _Payload(NamedTuple):
    """The command-dependent fields decoded from an MSC message's data bytes."""

    cue: CueRef | None = None
    time: StandardTime | None = None
    control: int | None = None
    value: int | None = None
    macro: int | None = None


def _decode_timed_go(command: MscCommand, payload: bytes) -> _Payload:
    return _Payload(time=StandardTime.from_bytes(payload), cue=_decode_cue(payload[5:]))


def _decode_cue_payload(command: MscCommand, payload: bytes) -> _Payload:
    return _Payload(cue=_decode_cue(payload))


def _decode_set(command: MscCommand, payload: bytes) -> _Payload:
    if len(payload) not in (4, 9):
        raise MidiDecodeError(f"MSC SET needs 4 bytes (or 9 with a time), got {len(payload)}")
    time = StandardTime.from_bytes(payload[4:]) if len(payload) == 9 else None
    return _Payload(control=_decode_14bit(payload, 0), value=_decode_14bit(payload, 2), time=time)


def _decode_fire(command: MscCommand, payload: bytes) -> _Payload:
    if len(payload) != 1:
        raise MidiDecodeError(f"MSC FIRE needs 1 macro byte, got {len(payload)}")
    return _Payload(macro=payload[0])


def _decode_no_data(command: MscCommand, payload: bytes) -> _Payload:
    if payload:
        raise MidiDecodeError(f"MSC {command.name} carries no data, got {len(payload)} bytes")
    return _Payload()


#: Command -> decoder of its data bytes; commands not listed carry no data.
_PAYLOAD_DECODERS: dict[MscCommand, Callable[[MscCommand, bytes], _Payload]] = {
    **dict.fromkeys(_CUE_COMMANDS, _decode_cue_payload),
    MscCommand.TIMED_GO: _decode_timed_go,
    MscCommand.SET: _decode_set,
    MscCommand.FIRE: _decode_fire,
}


def _msc_body(data: bytes) -> bytes:
    """The bytes between ``F0 7F`` and ``F7`` of a framed MSC message."""
    if not is_msc(data) or data[-1] != 0xF7:
        raise MidiDecodeError(f"not an MSC message: {data[:8].hex(' ')}...")
    if len(data) > MAX_MESSAGE_LENGTH:
        raise MidiDecodeError(f"MSC message is {len(data)} bytes; at most 128 are allowed")
    body = data[2:-1]
    if len(body) < 4:  # device id, 02 (MSC), format, command
        raise MidiDecodeError(f"MSC message too short: {data.hex(' ')}")
    if any(byte > 0x7F for byte in body):
        raise MidiDecodeError("MSC message contains a byte >= 0x80 before the final F7")
    return body


def _decode_format(raw_format: int) -> CommandFormat:
    try:
        return CommandFormat(raw_format)
    except ValueError:
        raise MidiDecodeError(f"unknown MSC command format 0x{raw_format:02X}") from None


def _decode_command(raw_command: int) -> MscCommand:
    try:
        return MscCommand(raw_command)
    except ValueError:
        raise MidiDecodeError(
            f"unsupported MSC command 0x{raw_command:02X} "
            "(only the general commands 0x01-0x0B are understood)"
        ) from None


def decode_msc(data: bytes) -> MscMessage:
    """Decode a complete MSC SysEx message (``F0 ... F7``).

    Raises:
        MidiDecodeError: not an MSC message, an unsupported command or format,
            or malformed data.
    """
    body = _msc_body(bytes(data))
    device_id, _, raw_format, raw_command = body[:4]
    command_format = _decode_format(raw_format)
    command = _decode_command(raw_command)
    fields = _PAYLOAD_DECODERS.get(command, _decode_no_data)(command, body[4:])
    try:
        return MscMessage(
            command=command,
            device_id=device_id,
            command_format=command_format,
            cue=fields.cue,
            time=fields.time,
            control=fields.control,
            value=fields.value,
            macro=fields.macro,
        )
    except MidiValueError as err:
        raise MidiDecodeError(f"invalid MSC {command.name}: {err}") from err
