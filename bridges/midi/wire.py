"""Raw MIDI 1.0 channel messages: pure encoders and a parser.

Nothing here touches a port. Encoders take channels as musicians count them,
1 to 16, and return the exact bytes to put on the wire; the parser turns one
complete message (as rtmidi delivers it) into a small frozen dataclass.

Status bytes, from the MIDI 1.0 Detailed Specification, table I:

======  ======================  ==========
status  message                 data bytes
======  ======================  ==========
0x8n    note off                2
0x9n    note on (vel 0 = off)   2
0xAn    polyphonic aftertouch   2
0xBn    control change          2
0xCn    program change          1
0xDn    channel aftertouch      1
0xEn    pitch bend (LSB, MSB)   2
0xF0    system exclusive        until 0xF7
======  ======================  ==========

A 14-bit control change sends the most significant 7 bits on controller
``n`` (0-31) and the least significant 7 bits on controller ``n + 32``, MSB first,
as the specification's controller table lays out.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridges.midi.errors import MidiDecodeError, MidiError, MidiValueError

__all__ = [
    "ChannelMessage",
    "ControlChange",
    "MidiDecodeError",
    "MidiError",
    "MidiMessage",
    "MidiValueError",
    "NoteOff",
    "NoteOn",
    "OtherMessage",
    "PitchBend",
    "ProgramChange",
    "SysEx",
    "all_notes_off",
    "control_change",
    "control_change_14bit",
    "encode_message",
    "note_off",
    "note_on",
    "parse_message",
    "pitch_bend",
    "pitch_bend_from_unit",
    "program_change",
    "split_messages",
    "sysex",
]

PITCH_BEND_MIN = -8192
PITCH_BEND_MAX = 8191
_PITCH_BEND_CENTER = 8192

# Data byte counts of the channel voice messages, by high nibble of the status.
_CHANNEL_DATA_LENGTH = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
# Data byte counts of the system common and real-time messages (not SysEx).
_SYSTEM_DATA_LENGTH = {
    0xF1: 1,  # MTC quarter frame
    0xF2: 2,  # song position pointer
    0xF3: 1,  # song select
    0xF6: 0,  # tune request
    0xF8: 0,  # timing clock
    0xFA: 0,  # start
    0xFB: 0,  # continue
    0xFC: 0,  # stop
    0xFE: 0,  # active sensing
    0xFF: 0,  # system reset
}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` if it is an int in ``low..high``, else raise MidiValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MidiValueError(f"{name} must be an integer {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise MidiValueError(f"{name} must be {low}..{high}, got {value}")
    return value


def _status(kind: int, channel: int) -> int:
    """Status byte for message ``kind`` (0x80..0xE0) on ``channel`` 1..16."""
    return kind | (_check_int("MIDI channel", channel, 1, 16) - 1)


def note_on(channel: int, note: int, velocity: int) -> bytes:
    """Encode a note on.

    Args:
        channel: MIDI channel 1..16.
        note: note number 0..127 (60 is middle C).
        velocity: 0..127; note that velocity 0 means "note off" to every receiver.

    Returns:
        Three bytes ``9n kk vv``.

    Raises:
        MidiValueError: a value is out of range.
    """
    return bytes(
        (
            _status(0x90, channel),
            _check_int("note", note, 0, 127),
            _check_int("velocity", velocity, 0, 127),
        )
    )


def note_off(channel: int, note: int, velocity: int = 0) -> bytes:
    """Encode a note off (``8n kk vv``); same ranges as :func:`note_on`."""
    return bytes(
        (
            _status(0x80, channel),
            _check_int("note", note, 0, 127),
            _check_int("velocity", velocity, 0, 127),
        )
    )


def control_change(channel: int, control: int, value: int) -> bytes:
    """Encode a 7-bit control change ``Bn cc vv``.

    Args:
        channel: MIDI channel 1..16.
        control: controller number 0..127.
        value: 0..127.

    Raises:
        MidiValueError: a value is out of range.
    """
    return bytes(
        (
            _status(0xB0, channel),
            _check_int("controller", control, 0, 127),
            _check_int("control value", value, 0, 127),
        )
    )


def control_change_14bit(channel: int, control: int, value: int) -> bytes:
    """Encode a 14-bit control change as two messages, MSB first.

    Args:
        channel: MIDI channel 1..16.
        control: MSB controller number 0..31; the LSB goes to ``control + 32``.
        value: 0..16383.

    Returns:
        Six bytes ``Bn cc msb Bn cc+32 lsb``.

    Raises:
        MidiValueError: a value is out of range.
    """
    status = _status(0xB0, channel)
    _check_int("14-bit controller", control, 0, 31)
    _check_int("14-bit control value", value, 0, 0x3FFF)
    return bytes((status, control, value >> 7, status, control + 32, value & 0x7F))


def program_change(channel: int, program: int) -> bytes:
    """Encode a program change ``Cn pp`` (program 0..127, as sent on the wire).

    Raises:
        MidiValueError: a value is out of range.
    """
    return bytes((_status(0xC0, channel), _check_int("program", program, 0, 127)))


def pitch_bend(channel: int, value: int) -> bytes:
    """Encode a pitch bend ``En lsb msb``.

    Args:
        channel: MIDI channel 1..16.
        value: -8192..8191, 0 is the centre (no bend).

    Raises:
        MidiValueError: a value is out of range.
    """
    status = _status(0xE0, channel)
    raw = _check_int("pitch bend", value, PITCH_BEND_MIN, PITCH_BEND_MAX) + _PITCH_BEND_CENTER
    return bytes((status, raw & 0x7F, raw >> 7))


def pitch_bend_from_unit(amount: float) -> int:
    """Convert a bend amount in -1.0..1.0 to the integer range of :func:`pitch_bend`.

    -1.0 maps to -8192, 0.0 to 0 and 1.0 to 8191 (the range is asymmetric on the
    wire, so each side is scaled separately and 0.0 stays exactly centred).

    Raises:
        MidiValueError: ``amount`` is not a finite number in -1.0..1.0.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise MidiValueError(f"pitch bend amount must be a number -1.0..1.0, got {amount!r}")
    if not -1.0 <= amount <= 1.0:  # also rejects NaN
        raise MidiValueError(f"pitch bend amount must be -1.0..1.0, got {amount}")
    scale = -PITCH_BEND_MIN if amount < 0 else PITCH_BEND_MAX
    return round(amount * scale)


def all_notes_off(channel: int) -> bytes:
    """Encode "all notes off" (control change 123, value 0) for a panic on shutdown."""
    return control_change(channel, 123, 0)


def sysex(payload: bytes) -> bytes:
    """Wrap ``payload`` (7-bit data bytes) in ``F0 ... F7``.

    Raises:
        MidiValueError: a payload byte has its high bit set.
    """
    for index, byte in enumerate(payload):
        if byte > 0x7F:
            raise MidiValueError(
                f"SysEx data byte {index} is 0x{byte:02X}; data bytes must be 0x00..0x7F"
            )
    return b"\xf0" + bytes(payload) + b"\xf7"


# --- parsed messages -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoteOn:
    """A note on with velocity 1..127 (velocity 0 is parsed as :class:`NoteOff`)."""

    channel: int
    note: int
    velocity: int


@dataclass(frozen=True, slots=True)
class NoteOff:
    """A note off, or a note on with velocity 0."""

    channel: int
    note: int
    velocity: int = 0


@dataclass(frozen=True, slots=True)
class ControlChange:
    """A 7-bit control change."""

    channel: int
    control: int
    value: int


@dataclass(frozen=True, slots=True)
class ProgramChange:
    """A program change; ``program`` is 0..127 as on the wire."""

    channel: int
    program: int


@dataclass(frozen=True, slots=True)
class PitchBend:
    """A pitch bend, ``value`` in -8192..8191 with 0 as the centre."""

    channel: int
    value: int


@dataclass(frozen=True, slots=True)
class SysEx:
    """A system exclusive message; ``data`` excludes the ``F0``/``F7`` framing."""

    data: bytes

    def to_bytes(self) -> bytes:
        """Return the complete message, ``F0 data F7``."""
        return sysex(self.data)


@dataclass(frozen=True, slots=True)
class OtherMessage:
    """A valid message Stovelight does not interpret (clock, aftertouch, MTC, ...)."""

    data: bytes


ChannelMessage = NoteOn | NoteOff | ControlChange | ProgramChange | PitchBend
MidiMessage = NoteOn | NoteOff | ControlChange | ProgramChange | PitchBend | SysEx | OtherMessage


def _message_length(data: bytes, start: int) -> int:
    """Length of the complete message starting at ``data[start]``.

    Raises:
        MidiDecodeError: no valid status byte there, or the message is truncated.
    """
    status = data[start]
    if status < 0x80:
        raise MidiDecodeError(
            f"expected a status byte at offset {start}, got data byte 0x{status:02X} "
            "(running status is not accepted)"
        )
    if status == 0xF0:
        end = data.find(0xF7, start + 1)
        if end < 0:
            raise MidiDecodeError("SysEx message is not terminated by 0xF7")
        return end - start + 1
    if status < 0xF0:
        length = 1 + _CHANNEL_DATA_LENGTH[status & 0xF0]
    elif status in _SYSTEM_DATA_LENGTH:
        length = 1 + _SYSTEM_DATA_LENGTH[status]
    else:
        raise MidiDecodeError(f"undefined or misplaced status byte 0x{status:02X}")
    if start + length > len(data):
        raise MidiDecodeError(
            f"message 0x{status:02X} needs {length - 1} data byte(s), got {len(data) - start - 1}"
        )
    return length


def split_messages(data: bytes) -> list[bytes]:
    """Split concatenated complete messages (e.g. a 14-bit CC pair) into single ones.

    Raises:
        MidiDecodeError: the bytes are not a sequence of complete messages.
    """
    messages: list[bytes] = []
    offset = 0
    while offset < len(data):
        length = _message_length(data, offset)
        messages.append(bytes(data[offset : offset + length]))
        offset += length
    return messages


def parse_message(data: bytes) -> MidiMessage:
    """Parse exactly one complete MIDI message.

    Args:
        data: the bytes of one message, as delivered by rtmidi.

    Returns:
        The parsed message; valid but uninterpreted messages become :class:`OtherMessage`.

    Raises:
        MidiDecodeError: empty input, a bad status, wrong length or a data byte >= 0x80.
    """
    data = bytes(data)
    if not data:
        raise MidiDecodeError("empty MIDI message")
    length = _message_length(data, 0)
    if length != len(data):
        raise MidiDecodeError(f"expected one {length}-byte message, got {len(data)} bytes")
    status = data[0]
    body = data[1:-1] if status == 0xF0 else data[1:]
    for index, byte in enumerate(body, start=1):
        if byte > 0x7F:
            raise MidiDecodeError(
                f"data byte {index} of message 0x{status:02X} is 0x{byte:02X} (must be < 0x80)"
            )
    if status == 0xF0:
        return SysEx(body)
    if status >= 0xF0:
        return OtherMessage(data)
    kind, channel = status & 0xF0, (status & 0x0F) + 1
    if kind == 0x90:
        if data[2] == 0:
            return NoteOff(channel, data[1], 0)
        return NoteOn(channel, data[1], data[2])
    if kind == 0x80:
        return NoteOff(channel, data[1], data[2])
    if kind == 0xB0:
        return ControlChange(channel, data[1], data[2])
    if kind == 0xC0:
        return ProgramChange(channel, data[1])
    if kind == 0xE0:
        return PitchBend(channel, (data[1] | (data[2] << 7)) - _PITCH_BEND_CENTER)
    return OtherMessage(data)


def encode_message(message: MidiMessage) -> bytes:
    """Encode a parsed message back to bytes (inverse of :func:`parse_message`).

    Raises:
        MidiValueError: a field is out of range.
    """
    match message:
        case NoteOn(channel, note, velocity):
            return note_on(channel, note, velocity)
        case NoteOff(channel, note, velocity):
            return note_off(channel, note, velocity)
        case ControlChange(channel, control, value):
            return control_change(channel, control, value)
        case ProgramChange(channel, program):
            return program_change(channel, program)
        case PitchBend(channel, value):
            return pitch_bend(channel, value)
        case SysEx(data):
            return sysex(data)
        case OtherMessage(data):
            return bytes(data)
    raise MidiValueError(f"not a MIDI message: {message!r}")
