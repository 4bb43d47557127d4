"""MIDI Show Control tests, byte for byte against published examples."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.midi.errors import MidiDecodeError, MidiValueError
from bridges.midi.msc import (
    CommandFormat,
    CueRef,
    MscCommand,
    MscMessage,
    StandardTime,
    TimeType,
    decode_msc,
    encode_msc,
    group_device_id,
    is_msc,
)

LIGHTING = CommandFormat.LIGHTING


def test_go_cue_123_4_to_device_1_lighting() -> None:
    raw = bytes.fromhex("F0 7F 01 02 01 01 31 32 33 2E 34 F7")
    message = MscMessage(MscCommand.GO, 1, LIGHTING, CueRef("123.4"))
    assert encode_msc(message) == raw
    assert decode_msc(raw) == message


# Examples from the ChamSys MagicQ manual, section "MIDI Show Control Command Format".
@pytest.mark.parametrize(
    ("hex_bytes", "message"),
    [
        ("F0 7F 7F 02 01 01 31 F7", MscMessage(MscCommand.GO, 0x7F, LIGHTING, CueRef("1"))),
        ("F0 7F 7F 02 01 01 32 30 F7", MscMessage(MscCommand.GO, 0x7F, LIGHTING, CueRef("20"))),
        ("F0 7F 7F 02 01 02 31 F7", MscMessage(MscCommand.STOP, 0x7F, LIGHTING, CueRef("1"))),
        (
            "F0 7F 7F 02 01 01 00 31 30 F7",
            MscMessage(MscCommand.GO, 0x7F, LIGHTING, CueRef(None, "10")),
        ),
        (
            "F0 7F 7F 02 01 01 32 00 31 30 F7",
            MscMessage(MscCommand.GO, 0x7F, LIGHTING, CueRef("2", "10")),
        ),
    ],
)
def test_magicq_examples(hex_bytes: str, message: MscMessage) -> None:
    raw = bytes.fromhex(hex_bytes)
    assert encode_msc(message) == raw
    assert decode_msc(raw) == message


def test_rp002_cue_list_path_example() -> None:
    # RP-002 §3.1: cue 235.6 list 36.6 path 59 is "32 33 35 2E 36 00 33 36 2E 36 00 35 39 F7".
    message = MscMessage(MscCommand.GO, 0, CommandFormat.SOUND, CueRef("235.6", "36.6", "59"))
    assert encode_msc(message) == bytes.fromhex(
        "F0 7F 00 02 10 01 32 33 35 2E 36 00 33 36 2E 36 00 35 39 F7"
    )


def test_go_without_cue_and_commands_without_data() -> None:
    assert encode_msc(MscMessage(MscCommand.GO)) == bytes.fromhex("F0 7F 7F 02 7F 01 F7")
    for command, code in [
        (MscCommand.ALL_OFF, 0x08),
        (MscCommand.RESTORE, 0x09),
        (MscCommand.RESET, 0x0A),
    ]:
        raw = bytes((0xF0, 0x7F, 0x05, 0x02, 0x01, code, 0xF7))
        assert encode_msc(MscMessage(command, 5, LIGHTING)) == raw
        assert decode_msc(raw) == MscMessage(command, 5, LIGHTING)


def test_every_cue_command_code() -> None:
    codes = {
        MscCommand.GO: 0x01,
        MscCommand.STOP: 0x02,
        MscCommand.RESUME: 0x03,
        MscCommand.LOAD: 0x05,
        MscCommand.GO_OFF: 0x0B,
    }
    for command, code in codes.items():
        raw = encode_msc(MscMessage(command, 1, LIGHTING, CueRef("7")))
        assert raw == bytes((0xF0, 0x7F, 0x01, 0x02, 0x01, code, 0x37, 0xF7))


def test_timed_go_with_standard_time_then_cue() -> None:
    # 00:00:05:00 at 30 fps (tt = 11 -> hours byte 0x60), no fraction, cue 3.
    time = StandardTime(0, 0, 5, 0, time_type=TimeType.FPS_30)
    message = MscMessage(MscCommand.TIMED_GO, 1, LIGHTING, CueRef("3"), time=time)
    raw = bytes.fromhex("F0 7F 01 02 01 04 60 00 05 00 00 33 F7")
    assert encode_msc(message) == raw
    assert decode_msc(raw) == message


def test_standard_time_bits() -> None:
    time = StandardTime(
        1, 2, 3, 4, 50, TimeType.FPS_25, color_frame=True, negative=True, status=None
    )
    # hours 0 01 00001, minutes 0 1 000010, seconds 3, frames 0 1 0 00100, ff 50.
    assert time.to_bytes() == bytes.fromhex("21 42 03 44 32")
    with_status = StandardTime(0, 0, 0, 0, time_type=TimeType.FPS_30_DROP, status=0x40)
    assert with_status.to_bytes() == bytes.fromhex("40 00 00 20 40")
    assert StandardTime.from_bytes(with_status.to_bytes()) == with_status


def test_set_control_and_value_are_14bit_lsb_first() -> None:
    message = MscMessage(MscCommand.SET, 1, LIGHTING, control=257, value=1000)
    raw = bytes.fromhex("F0 7F 01 02 01 06 01 02 68 07 F7")
    assert encode_msc(message) == raw
    assert decode_msc(raw) == message


def test_set_with_time() -> None:
    time = StandardTime(0, 0, 2, 0, time_type=TimeType.FPS_24)
    message = MscMessage(MscCommand.SET, 1, LIGHTING, control=1, value=0x3FFF, time=time)
    raw = bytes.fromhex("F0 7F 01 02 01 06 01 00 7F 7F 00 00 02 00 00 F7")
    assert encode_msc(message) == raw
    assert decode_msc(raw) == message


def test_fire_macro() -> None:
    message = MscMessage(MscCommand.FIRE, 0x7F, LIGHTING, macro=12)
    assert encode_msc(message) == bytes.fromhex("F0 7F 7F 02 01 07 0C F7")
    assert decode_msc(encode_msc(message)) == message


def test_group_device_ids() -> None:
    assert group_device_id(1) == 0x70
    assert group_device_id(15) == 0x7E
    with pytest.raises(MidiValueError):
        group_device_id(16)


def test_decoder_accepts_extra_delimiters_and_doubled_points() -> None:
    # RP-002 §3.1: receivers accept extra 00H, even directly before F7H, and ".." errors.
    assert decode_msc(bytes.fromhex("F0 7F 01 02 01 01 31 00 00 F7")).cue == CueRef("1")
    assert decode_msc(bytes.fromhex("F0 7F 01 02 01 01 00 00 F7")).cue is None
    assert decode_msc(bytes.fromhex("F0 7F 01 02 01 01 31 2E 2E 32 F7")).cue == CueRef("1..2")


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: CueRef("12a"), "ASCII digits"),
        (lambda: CueRef(""), "ASCII digits"),
        (lambda: CueRef(None), "at least"),
        (lambda: MscMessage(MscCommand.LOAD), "LOAD requires a cue number"),
        (lambda: MscMessage(MscCommand.TIMED_GO), "TIMED_GO requires a time"),
        (lambda: MscMessage(MscCommand.SET, control=1), "SET value"),
        (lambda: MscMessage(MscCommand.SET, control=16384, value=0), "SET control number"),
        (lambda: MscMessage(MscCommand.FIRE, macro=128), "FIRE macro number"),
        (lambda: MscMessage(MscCommand.ALL_OFF, cue=CueRef("1")), "carries no cue"),
        (lambda: MscMessage(MscCommand.GO, macro=1), "carries no macro"),
        (lambda: MscMessage(MscCommand.GO, device_id=0x80), "device id"),
        (lambda: StandardTime(0, 0, 0, 25, time_type=TimeType.FPS_25), "frames"),
        (lambda: StandardTime(24, 0, 0, 0), "hours"),
        (lambda: StandardTime(0, 0, 0, 0, fractional_frames=100), "fractional"),
        (lambda: encode_msc(MscMessage(MscCommand.GO, cue=CueRef("1..2"))), "malformed"),
        (lambda: encode_msc(MscMessage(MscCommand.GO, cue=CueRef(".5"))), "malformed"),
        (lambda: encode_msc(MscMessage(MscCommand.GO, cue=CueRef("1" * 130))), "128"),
    ],
)
def test_invalid_messages_are_rejected_clearly(build: Callable[[], object], fragment: str) -> None:
    with pytest.raises(MidiValueError) as info:
        build()
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "hex_bytes",
    [
        "F0 7F 01 03 01 01 F7",  # sub-ID 03 is not MSC
        "F0 7F 01 02 01 01 31",  # no F7
        "F0 7F 01 02 07 01 F7",  # unknown command format
        "F0 7F 01 02 01 10 F7",  # sound-specific command, unsupported
        "F0 7F 01 02 01 01 31 41 F7",  # 'A' in a cue number
        "F0 7F 01 02 01 01 31 00 32 00 33 00 34 F7",  # four fields
        "F0 7F 01 02 01 05 F7",  # LOAD without cue
        "F0 7F 01 02 01 04 60 00 F7",  # TIMED_GO with short time
        "F0 7F 01 02 01 06 01 02 03 F7",  # SET too short
        "F0 7F 01 02 01 07 F7",  # FIRE without macro
        "F0 7F 01 02 01 08 01 F7",  # ALL_OFF with data
    ],
)
def test_decoder_rejects_malformed_messages(hex_bytes: str) -> None:
    with pytest.raises(MidiDecodeError):
        decode_msc(bytes.fromhex(hex_bytes))


def test_is_msc() -> None:
    assert is_msc(bytes.fromhex("F0 7F 01 02 01 01 F7"))
    assert not is_msc(bytes.fromhex("F0 7F 7F 01 01 61 1E 23 14 F7"))  # MTC full frame


cue_fields = st.lists(st.integers(0, 999), min_size=1, max_size=3).map(
    lambda parts: ".".join(str(p) for p in parts)
)
cues = st.builds(CueRef, cue_fields, st.none() | cue_fields, st.none() | cue_fields)
time_types = st.sampled_from(list(TimeType))


@st.composite
def standard_times(draw: st.DrawFn) -> StandardTime:
    time_type = draw(time_types)
    use_status = draw(st.booleans())
    return StandardTime(
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, time_type.frames_per_second - 1)),
        0 if use_status else draw(st.integers(0, 99)),
        time_type,
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.integers(0, 0x7F)) if use_status else None,
    )


@st.composite
def msc_messages(draw: st.DrawFn) -> MscMessage:
    command = draw(st.sampled_from(list(MscCommand)))
    message = partial(
        MscMessage,
        command,
        device_id=draw(st.integers(0, 0x7F)),
        command_format=draw(st.sampled_from(list(CommandFormat))),
    )
    if command in (MscCommand.GO, MscCommand.STOP, MscCommand.RESUME, MscCommand.GO_OFF):
        return message(cue=draw(st.none() | cues))
    if command is MscCommand.LOAD:
        return message(cue=draw(cues))
    if command is MscCommand.TIMED_GO:
        return message(cue=draw(st.none() | cues), time=draw(standard_times()))
    if command is MscCommand.SET:
        return message(
            control=draw(st.integers(0, 0x3FFF)),
            value=draw(st.integers(0, 0x3FFF)),
            time=draw(st.none() | standard_times()),
        )
    if command is MscCommand.FIRE:
        return message(macro=draw(st.integers(0, 127)))
    return message()


@given(msc_messages())
def test_msc_round_trip(message: MscMessage) -> None:
    raw = encode_msc(message)
    assert raw[:2] == b"\xf0\x7f" and raw[-1] == 0xF7
    assert all(byte < 0x80 for byte in raw[1:-1])
    assert decode_msc(raw) == message


@pytest.mark.parametrize("data", [b"\xf0\x7f\x01\x02\x01\xf7", b"\xf0\x7f\x7f\x02\x7f\xf7"])
def test_an_msc_message_without_its_command_is_a_decode_error(data: bytes) -> None:
    """Six bytes pass the header check but hold no command: refused as malformed."""
    with pytest.raises(MidiDecodeError, match="too short"):
        decode_msc(data)
