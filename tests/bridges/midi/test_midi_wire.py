"""Byte-exact tests of the MIDI channel message encoders and the parser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mido
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.midi.errors import MidiDecodeError, MidiError, MidiValueError
from bridges.midi.wire import (
    ControlChange,
    MidiMessage,
    NoteOff,
    NoteOn,
    OtherMessage,
    PitchBend,
    ProgramChange,
    SysEx,
    all_notes_off,
    control_change,
    control_change_14bit,
    encode_message,
    note_off,
    note_on,
    parse_message,
    pitch_bend,
    pitch_bend_from_unit,
    program_change,
    split_messages,
    sysex,
)


def test_note_on_middle_c_channel_1() -> None:
    assert note_on(1, 60, 100) == bytes.fromhex("90 3C 64")


def test_note_on_channel_16_uses_status_nibble_f() -> None:
    assert note_on(16, 127, 127) == bytes.fromhex("9F 7F 7F")


def test_note_off_defaults_to_velocity_zero() -> None:
    assert note_off(2, 64) == bytes.fromhex("81 40 00")


def test_control_change() -> None:
    assert control_change(10, 7, 100) == bytes.fromhex("B9 07 64")


def test_control_change_14bit_sends_msb_then_lsb_on_n_plus_32() -> None:
    # 0x2000 = 8192: MSB 0x40, LSB 0x00; controller 7 pairs with 39 (0x27).
    assert control_change_14bit(1, 7, 0x2000) == bytes.fromhex("B0 07 40 B0 27 00")
    assert control_change_14bit(3, 31, 0x3FFF) == bytes.fromhex("B2 1F 7F B2 3F 7F")


def test_program_change() -> None:
    assert program_change(1, 5) == bytes.fromhex("C0 05")


def test_pitch_bend_centre_and_extremes() -> None:
    assert pitch_bend(1, 0) == bytes.fromhex("E0 00 40")
    assert pitch_bend(1, -8192) == bytes.fromhex("E0 00 00")
    assert pitch_bend(1, 8191) == bytes.fromhex("E0 7F 7F")


def test_pitch_bend_from_unit_is_centred_and_covers_the_range() -> None:
    assert pitch_bend_from_unit(0.0) == 0
    assert pitch_bend_from_unit(-1.0) == -8192
    assert pitch_bend_from_unit(1.0) == 8191
    assert pitch_bend_from_unit(0.5) == 4096


def test_all_notes_off_is_cc_123() -> None:
    assert all_notes_off(1) == bytes.fromhex("B0 7B 00")


def test_sysex_framing() -> None:
    assert sysex(b"\x7d\x01") == bytes.fromhex("F0 7D 01 F7")


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: note_on(0, 60, 1), "channel must be 1..16, got 0"),
        (lambda: note_on(17, 60, 1), "channel must be 1..16, got 17"),
        (lambda: note_on(1, 128, 1), "note must be 0..127, got 128"),
        (lambda: note_on(1, 60, -1), "velocity must be 0..127"),
        (lambda: control_change(1, 1, 200), "control value must be 0..127"),
        (lambda: control_change_14bit(1, 32, 0), "14-bit controller must be 0..31"),
        (lambda: control_change_14bit(1, 0, 16384), "14-bit control value must be 0..16383"),
        (lambda: program_change(1, 128), "program must be 0..127"),
        (lambda: pitch_bend(1, 8192), "pitch bend must be -8192..8191"),
        (lambda: pitch_bend_from_unit(1.5), "-1.0..1.0"),
        (lambda: pitch_bend_from_unit(float("nan")), "-1.0..1.0"),
        (lambda: note_on(True, 60, 1), "must be an integer"),
        (lambda: sysex(b"\x80"), "0x80"),
    ],
)
def test_out_of_range_values_raise_midi_value_error(
    call: Callable[[], object], fragment: str
) -> None:
    with pytest.raises(MidiValueError, match=None) as info:
        call()
    assert fragment in str(info.value)
    assert isinstance(info.value, MidiError)
    assert isinstance(info.value, ValueError)


def test_parse_note_on_with_velocity_zero_is_note_off() -> None:
    assert parse_message(bytes.fromhex("90 3C 00")) == NoteOff(1, 60, 0)


def test_parse_each_channel_message() -> None:
    assert parse_message(bytes.fromhex("95 3C 40")) == NoteOn(6, 60, 64)
    assert parse_message(bytes.fromhex("85 3C 10")) == NoteOff(6, 60, 16)
    assert parse_message(bytes.fromhex("BF 14 7F")) == ControlChange(16, 20, 127)
    assert parse_message(bytes.fromhex("C0 05")) == ProgramChange(1, 5)
    assert parse_message(bytes.fromhex("E0 00 40")) == PitchBend(1, 0)
    assert parse_message(bytes.fromhex("E0 00 00")) == PitchBend(1, -8192)
    assert parse_message(bytes.fromhex("F0 7F 7F 02 01 01 F7")) == SysEx(b"\x7f\x7f\x02\x01\x01")


def test_parse_uninterpreted_messages() -> None:
    assert parse_message(b"\xf8") == OtherMessage(b"\xf8")
    assert parse_message(b"\xf1\x25") == OtherMessage(b"\xf1\x25")
    assert parse_message(b"\xd0\x40") == OtherMessage(b"\xd0\x40")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x3c\x40",  # no status byte
        b"\x90\x3c",  # truncated
        b"\xe0",  # truncated pitch bend (mido itself raises IndexError on it)
        b"\xe0\x00",
        b"\x90\x3c\x40\x00",  # trailing byte
        b"\x90\x3c\x80",  # data byte with high bit
        b"\xf0\x01\x02",  # unterminated SysEx
        b"\xf0\x81\xf7",  # SysEx data byte with high bit
        b"\xf4",  # undefined status
    ],
)
def test_parse_rejects_malformed_bytes(raw: bytes) -> None:
    with pytest.raises(MidiDecodeError):
        parse_message(raw)


def test_split_messages_separates_a_14bit_pair_and_sysex() -> None:
    data = control_change_14bit(1, 7, 1000) + sysex(b"\x01") + b"\xf8"
    assert split_messages(data) == [
        bytes.fromhex("B0 07 07"),
        bytes.fromhex("B0 27 68"),
        bytes.fromhex("F0 01 F7"),
        b"\xf8",
    ]


channels = st.integers(1, 16)
seven = st.integers(0, 127)
messages = st.one_of(
    st.builds(NoteOn, channels, seven, st.integers(1, 127)),
    st.builds(NoteOff, channels, seven, seven),
    st.builds(ControlChange, channels, seven, seven),
    st.builds(ProgramChange, channels, seven),
    st.builds(PitchBend, channels, st.integers(-8192, 8191)),
    st.builds(SysEx, st.binary(max_size=20).map(lambda b: bytes(x & 0x7F for x in b))),
)


@given(messages)
def test_encode_parse_round_trip(message: MidiMessage) -> None:
    assert parse_message(encode_message(message)) == message


@given(channels, st.integers(0, 31), st.integers(0, 0x3FFF))
def test_14bit_control_change_reassembles(channel: int, control: int, value: int) -> None:
    msb, lsb = (
        parse_message(m) for m in split_messages(control_change_14bit(channel, control, value))
    )
    assert isinstance(msb, ControlChange) and isinstance(lsb, ControlChange)
    assert (msb.control, lsb.control) == (control, control + 32)
    assert (msb.value << 7) | lsb.value == value


# --- against mido's own parser and checks ---------------------------------------

_MIDO_TYPES = {
    NoteOn: ("note_on", ("note", "velocity")),
    NoteOff: ("note_off", ("note", "velocity")),
    ControlChange: ("control_change", ("control", "value")),
    ProgramChange: ("program_change", ("program",)),
    PitchBend: ("pitchwheel", ("value",)),
}


def _as_mido(message: MidiMessage) -> Any:
    """The ``mido.Message`` that ``message`` stands for, built field by field."""
    if isinstance(message, SysEx):
        return mido.Message("sysex", data=message.data)
    if isinstance(message, OtherMessage):
        return mido.Message.from_bytes(message.data)
    kind, names = _MIDO_TYPES[type(message)]
    fields = {
        "pitch" if n == "value" and kind == "pitchwheel" else n: getattr(message, n) for n in names
    }
    return mido.Message(kind, channel=message.channel - 1, **fields)


def _note_off_at_velocity_0(message: Any) -> Any:
    """mido reports ``9n kk 00`` as a note on; Stovelight reads it as a note off."""
    if message.type == "note_on" and message.velocity == 0:
        return mido.Message("note_off", channel=message.channel, note=message.note, velocity=0)
    return message


system = st.sampled_from(
    [b"\xf8", b"\xfa", b"\xfc", b"\xf6", b"\xf1\x25", b"\xf2\x10\x01", b"\xd0\x40", b"\xa1\x3c\x10"]
)


@given(st.lists(st.one_of(messages.map(encode_message), system), max_size=12))
def test_split_and_parse_agree_with_mido_parser(chunks: list[bytes]) -> None:
    """Concatenated messages: our framing and decoding give what mido's parser gives."""
    stream = b"".join(chunks)
    ours = [_as_mido(parse_message(message)) for message in split_messages(stream)]
    theirs = [_note_off_at_velocity_0(message) for message in mido.parse_all(stream)]
    assert ours == theirs
    assert len(ours) == len(chunks)


@given(st.one_of(st.binary(max_size=8), system, messages.map(encode_message)))
def test_parse_decodes_what_mido_decodes_and_raises_only_midi_decode_error(data: bytes) -> None:
    try:
        message = parse_message(data)
    except MidiDecodeError:
        with pytest.raises((ValueError, TypeError, IndexError)):
            mido.Message.from_bytes(data)
        return
    assert _as_mido(message) == _note_off_at_velocity_0(mido.Message.from_bytes(data))


anything = st.one_of(
    st.integers(-20000, 20000),
    st.integers(-2, 130),
    st.booleans(),
    st.floats(allow_nan=True),
    st.none(),
    st.text(max_size=2),
    st.lists(st.integers(0, 127), max_size=1),  # unhashable
)
_ENCODERS: dict[str, tuple[Callable[..., bytes], tuple[tuple[int, int], ...]]] = {
    "note_on": (note_on, ((1, 16), (0, 127), (0, 127))),
    "note_off": (note_off, ((1, 16), (0, 127), (0, 127))),
    "control_change": (control_change, ((1, 16), (0, 127), (0, 127))),
    "control_change_14bit": (control_change_14bit, ((1, 16), (0, 31), (0, 0x3FFF))),
    "program_change": (program_change, ((1, 16), (0, 127))),
    "pitch_bend": (pitch_bend, ((1, 16), (-8192, 8191))),
}


@given(st.sampled_from(sorted(_ENCODERS)), st.lists(anything, min_size=3, max_size=3))
def test_encoders_accept_exactly_the_valid_values(name: str, values: list[object]) -> None:
    """Any value: bytes mido decodes back to the same fields, or MidiValueError."""
    encoder, ranges = _ENCODERS[name]
    args = values[: len(ranges)]
    valid = all(
        isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
        for v, (low, high) in zip(args, ranges, strict=True)
    )
    try:
        data = encoder(*args)
    except MidiValueError as err:
        assert not valid, err
        return
    assert valid
    decoded = [parse_message(message) for message in split_messages(data)]
    assert [message.bin() for message in mido.parse_all(data)] == split_messages(data)
    assert all(
        isinstance(m, NoteOn | NoteOff | ControlChange | ProgramChange | PitchBend) for m in decoded
    )
    assert {m.channel for m in decoded} == {args[0]}  # type: ignore[union-attr]


def test_kept_bytes_never_answer_for_a_bool_or_a_float() -> None:
    """Encoded messages are kept, by type: ``True`` and ``1.0`` are not ``1``."""
    assert note_on(1, 60, 1) == bytes.fromhex("90 3C 01")
    for channel in (True, 1.0, True):
        with pytest.raises(MidiValueError, match="must be an integer"):
            note_on(channel, 60, 1)  # type: ignore[arg-type]
    assert note_on(1, 60, 1) == bytes.fromhex("90 3C 01")
