"""MIDI Time Code tests: known timecodes, byte-exact messages, the pure generator."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.midi.errors import MidiDecodeError, MidiValueError
from bridges.midi.mtc import (
    FrameRate,
    MtcGenerator,
    QuarterFrameAssembler,
    Timecode,
    decode_full_frame,
    full_frame_message,
    quarter_frame_message,
    quarter_frame_messages,
)

DF = FrameRate.FPS_29_97_DROP


def test_full_frame_worked_example() -> None:
    # 01:30:35:20 at 30 frames/s: hours byte 0 11 00001 = 0x61.
    raw = bytes.fromhex("F0 7F 7F 01 01 61 1E 23 14 F7")
    timecode = Timecode(1, 30, 35, 20, FrameRate.FPS_30)
    assert full_frame_message(timecode) == raw
    assert decode_full_frame(raw) == timecode


def test_full_frame_rate_codes() -> None:
    for rate, hours_byte in [
        (FrameRate.FPS_24, 0x02),
        (FrameRate.FPS_25, 0x22),
        (DF, 0x42),
        (FrameRate.FPS_30, 0x62),
    ]:
        message = full_frame_message(Timecode(2, 0, 0, 0, rate), device_id=0x10)
        assert message == bytes((0xF0, 0x7F, 0x10, 0x01, 0x01, hours_byte, 0, 0, 0, 0xF7))


def test_quarter_frames_of_worked_example() -> None:
    timecode = Timecode(1, 30, 35, 20, FrameRate.FPS_30)
    assert b"".join(quarter_frame_messages(timecode)) == bytes.fromhex(
        "F1 04 F1 11 F1 23 F1 32 F1 4E F1 51 F1 61 F1 76"
    )


@pytest.mark.parametrize(
    ("frames", "label"),
    [
        (0, "00:00:00;00"),
        (1799, "00:00:59;29"),
        (1800, "00:01:00;02"),  # frames 0 and 1 of minute 1 are dropped
        (3597, "00:01:59;29"),
        (3598, "00:02:00;02"),
        (17981, "00:09:59;29"),
        (17982, "00:10:00;00"),  # minute 10 keeps its frames 0 and 1
        (17983, "00:10:00;01"),
        (17982 + 1800, "00:11:00;02"),
        (107892, "01:00:00;00"),  # one hour of drop-frame
        (24 * 107892, "00:00:00;00"),  # wraps after 24 hours
    ],
)
def test_drop_frame_labels(frames: int, label: str) -> None:
    timecode = Timecode.from_frames(frames, DF)
    assert str(timecode) == label
    assert timecode.to_frames() == frames % (24 * 107892)


def test_dropped_labels_do_not_exist() -> None:
    with pytest.raises(MidiValueError, match="does not exist"):
        Timecode(0, 1, 0, 0, DF)
    with pytest.raises(MidiValueError, match="does not exist"):
        Timecode(0, 1, 0, 1, DF)
    assert Timecode(0, 10, 0, 0, DF).to_frames() == 17982
    assert Timecode(0, 1, 0, 1, FrameRate.FPS_30).to_frames() == 1801


def test_drop_frame_tracks_real_time() -> None:
    # One real hour at 29.97 fps is 107892.1 frames: the label reads 01:00:00;00.
    assert str(Timecode.from_seconds(3600.0, DF)) == "01:00:00;00"
    assert str(Timecode.from_seconds(60.0, DF)) == "00:00:59;28"


def test_non_drop_rates_from_seconds() -> None:
    assert str(Timecode.from_seconds(3723.5, FrameRate.FPS_25)) == "01:02:03:12"
    assert str(Timecode.from_seconds(1.0, FrameRate.FPS_24)) == "00:00:01:00"
    assert Timecode(0, 0, 1, 0, FrameRate.FPS_30).to_seconds() == 1.0


def test_frames_out_of_range_for_rate() -> None:
    with pytest.raises(MidiValueError, match="frames must be"):
        Timecode(0, 0, 0, 24, FrameRate.FPS_24)
    with pytest.raises(MidiValueError, match="piece"):
        quarter_frame_message(8, Timecode(0, 0, 0, 0))


def test_decode_full_frame_rejects_garbage() -> None:
    with pytest.raises(MidiDecodeError):
        decode_full_frame(bytes.fromhex("F0 7F 7F 01 02 61 1E 23 14 F7"))
    with pytest.raises(MidiDecodeError):  # 30 frames at 30 fps
        decode_full_frame(bytes.fromhex("F0 7F 7F 01 01 61 1E 23 1E F7"))


@given(st.sampled_from(list(FrameRate)), st.integers(0, 24 * 108000 - 1))
def test_frame_count_round_trip(rate: FrameRate, frames: int) -> None:
    frames %= rate.frames_per_day
    assert Timecode.from_frames(frames, rate).to_frames() == frames


@given(st.integers(0, 24 * 107892 - 2))
def test_drop_frame_labels_are_consecutive(frames: int) -> None:
    a, b = Timecode.from_frames(frames, DF), Timecode.from_frames(frames + 1, DF)
    seconds_a = (a.hours * 60 + a.minutes) * 60 + a.seconds
    seconds_b = (b.hours * 60 + b.minutes) * 60 + b.seconds
    if seconds_a == seconds_b:
        assert b.frames == a.frames + 1
    else:
        assert seconds_b == seconds_a + 1 and a.frames == 29
        assert b.frames == (2 if b.seconds == 0 and b.minutes % 10 else 0)


def test_generator_quarter_frames_at_25fps() -> None:
    generator = MtcGenerator(FrameRate.FPS_25)
    # Quarter frames are due every 10 ms; (0, 0.08] holds q = 1..8.
    messages = generator.quarter_frames_between(0.0, 0.08)
    frame0 = quarter_frame_messages(Timecode(0, 0, 0, 0, FrameRate.FPS_25))
    frame2 = quarter_frame_messages(Timecode(0, 0, 0, 2, FrameRate.FPS_25))
    assert messages == frame0[1:] + frame2[:1]
    assert generator.next_quarter_frame_time(0.08) == pytest.approx(0.09)
    assert generator.quarter_frames_between(0.08, 0.08) == []


def test_generator_start_offset_and_full_frame() -> None:
    generator = MtcGenerator(FrameRate.FPS_30, start=Timecode(1, 0, 0, 0))
    assert str(generator.timecode_at(1.5)) == "01:00:01:15"
    assert generator.full_frame(1.5) == bytes.fromhex("F0 7F 7F 01 01 61 00 01 0F F7")
    with pytest.raises(MidiValueError):
        MtcGenerator(FrameRate.FPS_25, start=Timecode(1, 0, 0, 0))


@given(
    st.sampled_from(list(FrameRate)),
    st.lists(st.floats(0.0, 3.0, allow_nan=False), min_size=1, max_size=12),
)
def test_consecutive_intervals_yield_every_quarter_frame_once(
    rate: FrameRate, cuts: list[float]
) -> None:
    generator = MtcGenerator(rate)
    points = [0.0, *sorted(cuts), 3.0]
    pieces = [
        m for t0, t1 in itertools.pairwise(points) for m in generator.quarter_frames_between(t0, t1)
    ]
    assert pieces == generator.quarter_frames_between(0.0, 3.0)


def test_generated_quarter_frames_reassemble_to_the_pair_timecode() -> None:
    generator = MtcGenerator(DF, start=Timecode(0, 0, 59, 20, DF))
    assembler = QuarterFrameAssembler()
    decoded = []
    for message in generator.quarter_frames_between(-0.001, 1.0):
        timecode = assembler.feed(message)
        if timecode is not None:
            decoded.append(str(timecode))
    # Pairs start on even frame offsets; the minute boundary skips ;00 and ;01.
    assert decoded[:6] == [
        "00:00:59;20",
        "00:00:59;22",
        "00:00:59;24",
        "00:00:59;26",
        "00:00:59;28",
        "00:01:00;02",
    ]


def test_assembler_restarts_on_out_of_order_pieces() -> None:
    assembler = QuarterFrameAssembler()
    pieces = quarter_frame_messages(Timecode(0, 0, 1, 0))
    assert [assembler.feed(p) for p in pieces[3:]] == [None] * 5
    results = [assembler.feed(p) for p in pieces]
    assert results[-1] == Timecode(0, 0, 1, 0) and results[:-1] == [None] * 7
    with pytest.raises(MidiDecodeError):
        assembler.feed(b"\xf8")


def test_messages_due_falls_back_to_a_full_frame_after_a_jump() -> None:
    generator = MtcGenerator(FrameRate.FPS_30)
    assert len(generator.messages_due(0.0, 1 / 30)) == 4
    assert generator.messages_due(0.0, 10.0) == [generator.full_frame(10.0)]
    assert generator.messages_due(10.0, 5.0) == [generator.full_frame(5.0)]
