"""Raw MIDI 1.0 channel messages, built and read through ``mido.Message``.

Nothing here touches a port. Encoders take channels as musicians count them,
1 to 16, have mido build the message (mido checks every field's type and
range) and return its bytes; the parser has mido decode one complete message
(as rtmidi delivers it) and turns it into a small frozen dataclass.

What stays ours, because mido has no notion of it:

* channels 1..16 (mido counts 0..15) and errors that name the field, raised as
  :class:`MidiValueError` / :class:`MidiDecodeError` instead of mido's bare
  ``ValueError`` / ``TypeError``; booleans are refused where mido would take
  ``True`` as 1;
* the 14-bit control change: the most significant 7 bits on controller ``n``
  (0-31), then the least significant 7 bits on controller ``n + 32``, as two
  control changes, MSB first, as the specification's controller table lays out;
* a note on with velocity 0 is read as a note off;
* SysEx framing and :func:`split_messages`, which cuts concatenated messages
  (a 14-bit pair, an MTC full frame) apart by the data lengths of the MIDI 1.0
  Detailed Specification, table I.

MIDI Show Control and MIDI Time Code are in :mod:`bridges.midi.msc` and
:mod:`bridges.midi.mtc`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mido

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

# The fields of each mido message type, in the order the encoders pass them.
_FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "note_on": ("note", "velocity"),
    "note_off": ("note", "velocity"),
    "control_change": ("control", "value"),
    "program_change": ("program",),
    "pitchwheel": ("pitch",),
}
# How errors name each mido field, and the range they state (channel as counted
# here, 1..16). mido decides what is valid; this only words the refusal.
_FIELDS: dict[str, tuple[str, int, int]] = {
    "channel": ("MIDI channel", 1, 16),
    "note": ("note", 0, 127),
    "velocity": ("velocity", 0, 127),
    "control": ("controller", 0, 127),
    "value": ("control value", 0, 127),
    "program": ("program", 0, 127),
    "pitch": ("pitch bend", PITCH_BEND_MIN, PITCH_BEND_MAX),
}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` if it is an int in ``low..high``, else raise MidiValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MidiValueError(f"{name} must be an integer {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise MidiValueError(f"{name} must be {low}..{high}, got {value}")
    return value


def _field_problem(kind: str, name: str, value: object) -> str | None:
    """Why mido refuses ``value`` for field ``name`` of a ``kind`` message, or None."""
    label, low, high = _FIELDS[name]
    wrong_type = f"{label} must be an integer {low}..{high}, got {value!r}"
    if isinstance(value, bool):
        return wrong_type
    try:
        wire_value = value - 1 if name == "channel" else value  # type: ignore[operator]
        mido.Message(kind, **{name: wire_value})
    except TypeError:
        return wrong_type
    except ValueError:
        return f"{label} must be {low}..{high}, got {value}"
    return None


def _refusal(kind: str, fields: dict[str, Any], err: Exception | None) -> MidiValueError:
    """The error for the first field of ``fields`` that mido (or we) refuse."""
    for name, value in fields.items():
        problem = _field_problem(kind, name, value)
        if problem is not None:
            return MidiValueError(problem)
    return MidiValueError(f"invalid MIDI {kind} message {fields!r}: {err}")


def _build(kind: str, channel: int, *values: int) -> Any:
    """A ``mido.Message`` of type ``kind`` on ``channel`` 1..16, checked by mido.

    ``values`` are the fields of ``kind`` in the order of :data:`_FIELD_ORDER`.

    Raises:
        MidiValueError: mido refuses a field, or a field is a bool.
    """
    fields = dict(zip(_FIELD_ORDER[kind], values, strict=False))
    named: dict[str, Any] = {"channel": channel, **fields}
    if any(value.__class__ is bool for value in named.values()):
        raise _refusal(kind, named, None)
    try:
        return mido.Message(kind, channel=channel - 1, **fields)
    except (TypeError, ValueError) as err:
        raise _refusal(kind, named, err) from err


@functools.lru_cache(maxsize=2048, typed=True)
def _encode_cached(kind: str, channel: int, *values: int) -> bytes:
    return bytes(_build(kind, channel, *values).bin())


def _encode(kind: str, channel: int, *values: int) -> bytes:
    """The bytes of :func:`_build`'s message.

    mido's checks cost several microseconds a message and a show sends the same
    messages again and again (its cues' notes, a fader's 128 values), so the bytes
    of recent messages are kept; refusals are not (each call raises again).
    """
    try:
        return _encode_cached(kind, channel, *values)
    except TypeError:  # an unhashable argument: not a number, _build words the refusal
        return bytes(_build(kind, channel, *values).bin())


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
    return _encode("note_on", channel, note, velocity)


def note_off(channel: int, note: int, velocity: int = 0) -> bytes:
    """Encode a note off (``8n kk vv``); same ranges as :func:`note_on`."""
    return _encode("note_off", channel, note, velocity)


def control_change(channel: int, control: int, value: int) -> bytes:
    """Encode a 7-bit control change ``Bn cc vv``.

    Args:
        channel: MIDI channel 1..16.
        control: controller number 0..127.
        value: 0..127.

    Raises:
        MidiValueError: a value is out of range.
    """
    return _encode("control_change", channel, control, value)


def control_change_14bit(channel: int, control: int, value: int) -> bytes:
    """Encode a 14-bit control change as two messages, MSB first.

    Args:
        channel: MIDI channel 1..16.
        control: MSB controller number 0..31; the LSB goes to ``control + 32``.
        value: 0..16383.

    Returns:
        Six bytes ``Bn cc msb Bn cc+32 lsb``.

    Raises:
        MidiValueError: a value is out of range (a bad channel is named first).
    """
    try:
        _check_int("14-bit controller", control, 0, 31)
        _check_int("14-bit control value", value, 0, 0x3FFF)
    except MidiValueError:
        _build("control_change", channel)  # a bad channel is the error to report
        raise
    msb = _encode("control_change", channel, control, value >> 7)
    return msb + _encode("control_change", channel, control + 32, value & 0x7F)


def program_change(channel: int, program: int) -> bytes:
    """Encode a program change ``Cn pp`` (program 0..127, as sent on the wire).

    Raises:
        MidiValueError: a value is out of range.
    """
    return _encode("program_change", channel, program)


def pitch_bend(channel: int, value: int) -> bytes:
    """Encode a pitch bend ``En lsb msb``.

    Args:
        channel: MIDI channel 1..16.
        value: -8192..8191, 0 is the centre (no bend).

    Raises:
        MidiValueError: a value is out of range.
    """
    return _encode("pitchwheel", channel, value)


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
    """Parse exactly one complete MIDI message: framed here, decoded by mido.

    Args:
        data: the bytes of one message, as delivered by rtmidi.

    Returns:
        The parsed message; valid but uninterpreted messages become :class:`OtherMessage`.

    Raises:
        MidiDecodeError: empty input, a bad status, wrong length or a data byte >= 0x80.
    """
    data = bytes(data)
    if len(data) <= 3:  # channel messages repeat; decoding one with mido takes microseconds
        return _parse_short(data)
    return _parse(data)


@functools.lru_cache(maxsize=2048)
def _parse_short(data: bytes) -> MidiMessage:
    return _parse(data)


def _parse(data: bytes) -> MidiMessage:
    if not data:
        raise MidiDecodeError("empty MIDI message")
    length = _message_length(data, 0)
    if length != len(data):
        raise MidiDecodeError(f"expected one {length}-byte message, got {len(data)} bytes")
    try:
        message = mido.Message.from_bytes(data)
    except (TypeError, ValueError, IndexError) as err:
        raise MidiDecodeError(f"message 0x{data[0]:02X} is not valid: {err}") from err
    return _from_mido(message, data)


def _from_mido(message: Any, data: bytes) -> MidiMessage:
    """Our dataclass for a decoded ``mido.Message`` whose bytes are ``data``."""
    kind = message.type
    if kind == "sysex":
        return SysEx(bytes(message.data))
    if kind not in _CHANNEL_TYPES:  # system common/real-time, aftertouch
        return OtherMessage(data)
    channel = message.channel + 1
    if kind == "note_on":
        if message.velocity == 0:
            return NoteOff(channel, message.note, 0)
        return NoteOn(channel, message.note, message.velocity)
    if kind == "note_off":
        return NoteOff(channel, message.note, message.velocity)
    if kind == "control_change":
        return ControlChange(channel, message.control, message.value)
    if kind == "program_change":
        return ProgramChange(channel, message.program)
    return PitchBend(channel, message.pitch)


_CHANNEL_TYPES = frozenset(
    ("note_on", "note_off", "control_change", "program_change", "pitchwheel")
)


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
