"""MIDI Time Code: timecode arithmetic, message encoders and a pure generator.

From the MIDI Time Code and Cueing supplement to MIDI 1.0 (1987):

* Full message: ``F0 7F <device> 01 01 hr mn sc fr F7``, hours byte ``0rrhhhhh``.
  Worked example from the literature: ``F0 7F 7F 01 01 61 1E 23 14 F7`` is
  01:30:35:20 at 30 frames/s.
* Quarter frame: ``F1 0nnndddd``, piece ``nnn`` 0..7 carries a nibble: 0/1 frame
  low/high, 2/3 seconds, 4/5 minutes, 6/7 hours, and piece 7 is ``0rrh`` (rate
  and hours bit 4). Four quarter frames are sent per frame, so the eight pieces
  span two frames; the time they carry is that of the frame at which piece 0
  was sent (a receiver adds two frames once it has all eight).
* Rate code ``rr``: 0 = 24, 1 = 25, 2 = 29.97 drop-frame, 3 = 30 frames/s.

SMPTE drop-frame (29.97): frame numbers 0 and 1 are skipped at the start of
every minute except minutes divisible by ten, so 00:00:59;29 is followed by
00:01:00;02 and ten minutes hold exactly 17982 frames.

The generator is a function of show time: it never reads a clock. The runner
asks which quarter frames fall between the last and the current time.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction

from bridges.midi.errors import MidiDecodeError, MidiValueError

__all__ = [
    "FrameRate",
    "MtcGenerator",
    "QuarterFrameAssembler",
    "Timecode",
    "decode_full_frame",
    "frame_at",
    "full_frame_message",
    "quarter_frame_message",
    "quarter_frame_messages",
]

# Tolerance, in frames or quarter frames, for float times computed from a count
# (t = n / rate) to map back to that same count despite rounding.
_EPSILON = 1e-6

_DF_FRAMES_PER_MINUTE = 30 * 60 - 2  # 1798
_DF_FRAMES_PER_10_MINUTES = 10 * 30 * 60 - 9 * 2  # 17982


class FrameRate(enum.Enum):
    """An MTC frame rate; the value is the two-bit rate code of the hours byte."""

    FPS_24 = 0
    FPS_25 = 1
    FPS_29_97_DROP = 2
    FPS_30 = 3

    @property
    def code(self) -> int:
        """The ``rr`` rate code (0..3)."""
        return self.value

    @property
    def nominal(self) -> int:
        """Frames counted per timecode second (30 for drop-frame)."""
        return (24, 25, 30, 30)[self.value]

    @property
    def frames_per_second(self) -> Fraction:
        """Actual frames per real second (30000/1001 for drop-frame)."""
        if self is FrameRate.FPS_29_97_DROP:
            return Fraction(30000, 1001)
        return Fraction(self.nominal)

    @property
    def drop_frame(self) -> bool:
        """Whether frame numbers are dropped (29.97 only)."""
        return self is FrameRate.FPS_29_97_DROP

    @property
    def frames_per_day(self) -> int:
        """Distinct frame labels in 24 hours, after which timecode wraps to 00:00:00:00."""
        if self.drop_frame:
            return 24 * 6 * _DF_FRAMES_PER_10_MINUTES
        return 24 * 3600 * self.nominal


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MidiValueError(f"timecode {name} must be an integer {low}..{high}, got {value!r}")


@dataclass(frozen=True, slots=True, order=False)
class Timecode:
    """An SMPTE timecode label ``hh:mm:ss:ff`` at a frame rate.

    Raises:
        MidiValueError: a field is out of range, or a drop-frame label that does
            not exist (frames 0 and 1 of a minute not divisible by ten).
    """

    hours: int
    minutes: int
    seconds: int
    frames: int
    rate: FrameRate = FrameRate.FPS_30

    def __post_init__(self) -> None:
        _check_int("hours", self.hours, 0, 23)
        _check_int("minutes", self.minutes, 0, 59)
        _check_int("seconds", self.seconds, 0, 59)
        if not isinstance(self.rate, FrameRate):
            raise MidiValueError(f"timecode rate must be a FrameRate, got {self.rate!r}")
        _check_int("frames", self.frames, 0, self.rate.nominal - 1)
        if (
            self.rate.drop_frame
            and self.seconds == 0
            and self.frames < 2
            and self.minutes % 10 != 0
        ):
            raise MidiValueError(
                f"drop-frame timecode {self} does not exist: frames 0 and 1 are skipped "
                "at the start of every minute not divisible by ten"
            )

    def __str__(self) -> str:
        separator = ";" if self.rate.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{separator}{self.frames:02d}"

    @classmethod
    def from_frames(cls, count: int, rate: FrameRate) -> Timecode:
        """The label of frame number ``count`` counted from 00:00:00:00 (wraps at 24 h)."""
        count %= rate.frames_per_day
        if rate.drop_frame:
            tens, rest = divmod(count, _DF_FRAMES_PER_10_MINUTES)
            count += 18 * tens
            if rest >= 2:
                count += 2 * ((rest - 2) // _DF_FRAMES_PER_MINUTE)
        nominal = rate.nominal
        total_seconds, frames = divmod(count, nominal)
        total_minutes, seconds = divmod(total_seconds, 60)
        hours, minutes = divmod(total_minutes, 60)
        return cls(hours, minutes, seconds, frames, rate)

    def to_frames(self) -> int:
        """Frame number of this label counted from 00:00:00:00 (inverse of from_frames)."""
        total_minutes = 60 * self.hours + self.minutes
        count = (60 * total_minutes + self.seconds) * self.rate.nominal + self.frames
        if self.rate.drop_frame:
            count -= 2 * (total_minutes - total_minutes // 10)
        return count

    @classmethod
    def from_seconds(cls, seconds: float, rate: FrameRate) -> Timecode:
        """The label of the frame showing at ``seconds`` of real time after 00:00:00:00."""
        return cls.from_frames(frame_at(seconds, rate), rate)

    def to_seconds(self) -> float:
        """Real time at which this frame starts, in seconds after 00:00:00:00."""
        return float(self.to_frames() / self.rate.frames_per_second)


def frame_at(seconds: float, rate: FrameRate) -> int:
    """Index of the frame showing at ``seconds`` of real time (frame 0 starts at 0.0)."""
    return math.floor(seconds * float(rate.frames_per_second) + _EPSILON)


def full_frame_message(timecode: Timecode, device_id: int = 0x7F) -> bytes:
    """Encode a full-frame message ``F0 7F dev 01 01 hr mn sc fr F7``.

    Raises:
        MidiValueError: ``device_id`` is not 0..127.
    """
    _check_int("device id", device_id, 0, 0x7F)
    return bytes(
        (
            0xF0,
            0x7F,
            device_id,
            0x01,
            0x01,
            (timecode.rate.code << 5) | timecode.hours,
            timecode.minutes,
            timecode.seconds,
            timecode.frames,
            0xF7,
        )
    )


def decode_full_frame(data: bytes) -> Timecode:
    """Decode a full-frame message.

    Raises:
        MidiDecodeError: not a full-frame message, or an impossible timecode.
    """
    data = bytes(data)
    if len(data) != 10 or data[:2] != b"\xf0\x7f" or data[3:5] != b"\x01\x01" or data[9] != 0xF7:
        raise MidiDecodeError(f"not an MTC full-frame message: {data.hex(' ')}")
    hr, mn, sc, fr = data[5:9]
    try:
        return Timecode(hr & 0x1F, mn, sc, fr, FrameRate((hr >> 5) & 0x03))
    except MidiValueError as err:
        raise MidiDecodeError(f"invalid MTC full frame {data.hex(' ')}: {err}") from err


def _piece_nibble(piece: int, timecode: Timecode) -> int:
    field = (
        timecode.frames,
        timecode.seconds,
        timecode.minutes,
        (timecode.rate.code << 5) | timecode.hours,
    )[piece >> 1]
    return (field >> 4) if piece & 1 else (field & 0x0F)


def quarter_frame_message(piece: int, timecode: Timecode) -> bytes:
    """Encode quarter-frame piece 0..7 of ``timecode`` as ``F1 0nnndddd``.

    Raises:
        MidiValueError: ``piece`` is not 0..7.
    """
    _check_int("quarter-frame piece", piece, 0, 7)
    return bytes((0xF1, (piece << 4) | _piece_nibble(piece, timecode)))


def quarter_frame_messages(timecode: Timecode) -> list[bytes]:
    """All eight quarter-frame messages of ``timecode``, pieces 0..7."""
    return [quarter_frame_message(piece, timecode) for piece in range(8)]


class QuarterFrameAssembler:
    """Reassemble timecode from forward-running quarter frames (sans-I/O).

    Feed each ``F1 xx`` message; after a complete run of pieces 0..7 in order,
    :meth:`feed` returns the timecode they carry (the time piece 0 was sent; add
    two frames for the current time, as the MTC specification says).
    """

    def __init__(self) -> None:
        """Start with no pieces collected."""
        self._nibbles: list[int] = []

    def feed(self, data: bytes) -> Timecode | None:
        """Take one quarter-frame message.

        Returns:
            The assembled timecode after piece 7 completes a run, else ``None``.

        Raises:
            MidiDecodeError: not a quarter-frame message, or the assembled value
                is impossible.
        """
        if len(data) != 2 or data[0] != 0xF1 or data[1] > 0x7F:
            raise MidiDecodeError(f"not an MTC quarter-frame message: {bytes(data).hex(' ')}")
        piece, nibble = data[1] >> 4, data[1] & 0x0F
        if piece != len(self._nibbles):
            # Out of sequence (reverse play, a lost byte): restart at piece 0.
            self._nibbles = [nibble] if piece == 0 else []
            return None
        self._nibbles.append(nibble)
        if piece != 7:
            return None
        n = self._nibbles
        self._nibbles = []
        hours_byte = n[6] | (n[7] << 4)
        try:
            return Timecode(
                hours_byte & 0x1F,
                n[4] | (n[5] << 4),
                n[2] | (n[3] << 4),
                n[0] | (n[1] << 4),
                FrameRate((hours_byte >> 5) & 0x03),
            )
        except MidiValueError as err:
            raise MidiDecodeError(f"invalid MTC quarter-frame timecode: {err}") from err


class MtcGenerator:
    """Pure MTC generator driven by show time in seconds.

    Show time 0.0 is the start of frame ``start``; quarter frame ``q`` is due at
    ``q / (4 * fps)`` seconds. Calling :meth:`quarter_frames_between` with
    consecutive, non-overlapping intervals yields every quarter frame once.

    On transport start (or a seek) at show time ``t`` the runner sends
    :meth:`full_frame` for ``t`` and then asks for quarter frames in ``(t, now]``;
    the full frame stands in for the quarter frame due exactly at ``t``.

    Args:
        rate: the frame rate to generate.
        start: the timecode at show time 0 (default 00:00:00:00).
        device_id: device id of full-frame messages (0x7F: all devices).

    Raises:
        MidiValueError: ``start`` is at another rate than ``rate``.
    """

    def __init__(
        self, rate: FrameRate, start: Timecode | None = None, device_id: int = 0x7F
    ) -> None:
        """Create a generator; see the class docstring."""
        if start is not None and start.rate is not rate:
            raise MidiValueError(f"start timecode {start} is not at rate {rate.name}")
        _check_int("device id", device_id, 0, 0x7F)
        self.rate = rate
        self.device_id = device_id
        self._start_frame = 0 if start is None else start.to_frames()
        self._quarter_rate = float(4 * rate.frames_per_second)

    def timecode_at(self, t: float) -> Timecode:
        """The timecode showing at show time ``t`` seconds."""
        return Timecode.from_frames(self._start_frame + frame_at(t, self.rate), self.rate)

    def full_frame(self, t: float) -> bytes:
        """The full-frame message for show time ``t`` (send on start, seek or jump)."""
        return full_frame_message(self.timecode_at(t), self.device_id)

    def _quarter_index(self, t: float) -> int:
        """Index of the last quarter frame due at or before ``t`` (+1 for exclusive)."""
        return math.floor(t * self._quarter_rate + _EPSILON)

    def next_quarter_frame_time(self, t: float) -> float:
        """Show time at which the first quarter frame after ``t`` is due (a deadline)."""
        return (self._quarter_index(t) + 1) / self._quarter_rate

    def quarter_frames_between(self, t0: float, t1: float) -> list[bytes]:
        """Quarter-frame messages due in the show-time interval ``(t0, t1]``.

        Returns:
            The messages in order; empty when ``t1 <= t0``.
        """
        first = self._quarter_index(t0) + 1
        last = self._quarter_index(t1)
        messages: list[bytes] = []
        for q in range(first, last + 1):
            pair, piece = divmod(q, 8)
            timecode = Timecode.from_frames(self._start_frame + 2 * pair, self.rate)
            messages.append(quarter_frame_message(piece, timecode))
        return messages

    def messages_due(self, t0: float, t1: float, max_quarter_frames: int = 8) -> list[bytes]:
        """What to send when moving from ``t0`` to ``t1``: quarter frames, or a full frame.

        A runner that stalled, or a seek (``t1`` before ``t0`` or far ahead), would
        otherwise flood the port with stale quarter frames; then one full-frame
        message relocates receivers instead.

        Args:
            t0: show time of the previous call.
            t1: show time now.
            max_quarter_frames: the most quarter frames to send before falling back.
        """
        if t1 < t0 or self._quarter_index(t1) - self._quarter_index(t0) > max_quarter_frames:
            return [self.full_frame(t1)]
        return self.quarter_frames_between(t0, t1)
