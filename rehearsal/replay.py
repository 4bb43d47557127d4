"""Replay: a recording stands in for the live telemetry sources.

A :class:`Replayer` reads a recording in time order and hands out its samples grouped the way
they arrived: one :class:`ReplayFrame` per source per instant (an *instant* is one recorded
``t_recv``), in order::

    replayer = Replayer(recording, speed=1.0, start="5", loop=False)
    for frame in replayer.frames():            # unpaced, as fast as the caller reads
        ...
    async for frame in replayer.play():        # paced on a clock: 1x, 0.1x, 10x ...
        frame.t, frame.source, frame.samples

Pacing is a pure mapping (:class:`Pacer`): recording time ``t`` is due at clock reading
``anchor + (t - origin) / speed``; :meth:`Replayer.play` only sleeps until that reading, with
an injected ``clock`` and ``sleep`` (the event loop's by default). Because every due time is
computed from the anchor, lateness never accumulates: a late wake-up makes that one instant
late, not the rest of the replay.

``start`` is a show time in seconds, or a cue number (``"5"`` or ``"Main/5"``): the replay then
begins at the moment that cue became ``running`` in the recording. With ``loop=True`` the
replay starts over after the last instant, one recorded sample interval later, and replay time
keeps increasing (``lap`` counts the passes).

:class:`ReplaySource` feeds a replay into anything that implements the telemetry sink
protocol (``on_samples`` / ``on_status``), e.g. :class:`show.runtime.runner.ShowRunner`,
exactly like the websocket sources in :mod:`bridges.telemetry` do.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator
from typing import Any, NamedTuple

from bridges.ratelimit import RateLimitedLogger
from bridges.telemetry import Sample as TelemetrySample
from bridges.telemetry import SourceStatus, TelemetrySink, TelemetrySource
from rehearsal.errors import RehearsalError
from rehearsal.recording import Recording, Sample

__all__ = [
    "CueNotFoundError",
    "Pacer",
    "ReplayFrame",
    "ReplaySource",
    "Replayer",
    "Start",
    "cue_start_time",
    "resolve_start",
]

logger = logging.getLogger(__name__)

Start = float | str | None
"""Where a replay begins: a show time in seconds, a cue number, or None (the beginning)."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Loop gap used when a recording has a single instant and no interval can be measured.
DEFAULT_LOOP_GAP = 0.1
#: Lateness (seconds) above which a replay warns that its consumer cannot keep up.
LATE_WARNING_S = 0.5
#: Unpaced replays yield to the event loop after this many instants.
UNPACED_YIELD_EVERY = 64


class CueNotFoundError(RehearsalError, KeyError):
    """The recording has no moment at which the requested cue started."""


class ReplayFrame(NamedTuple):
    """The samples one source delivered at one instant.

    Attributes:
        t: replay time: the recorded ``t_recv`` plus ``lap`` loop periods.
        source: the recorded source name.
        samples: the recorded samples, in recorded order (their ``t_recv`` is the original).
        lap: 0 for the first pass through the recording, then 1, 2, ...
        shift: seconds added to the recorded times in this lap (``lap`` x loop period).
    """

    t: float
    source: str
    samples: list[Sample]
    lap: int
    shift: float


def cue_start_time(recording: Recording, cue: str, state: str = "running") -> float:
    """Show time at which ``cue`` first entered ``state`` in ``recording``.

    Args:
        recording: an open recording with ``cue_state`` events.
        cue: a cue number (``"5"``) or ``"List/number"`` (``"Main/5"``).
        state: the state to look for.

    Raises:
        CueNotFoundError: the cue never entered that state.
    """
    cue_list, sep, number = cue.rpartition("/")
    if not sep:
        t = recording.cue_time(cue, state)
        if t is not None:
            return t
    else:
        for event in recording.events(kind="cue_state"):
            data = event.data
            if (
                str(data.get("cue")) == number
                and str(data.get("list", cue_list)) == cue_list
                and data.get("state") == state
            ):
                return event.t
    raise CueNotFoundError(f"{recording.path}: cue {cue!r} never became {state!r}")


def resolve_start(recording: Recording, start: Start) -> float:
    """The recording time a replay starting at ``start`` begins at.

    None means the recording's origin (show time 0, or the first sample if that is earlier);
    a number is used as is; a string is a cue (see :func:`cue_start_time`).
    """
    if isinstance(start, str):
        return cue_start_time(recording, start)
    if start is not None:
        return float(start)
    span = recording.time_range()
    return 0.0 if span is None else min(0.0, span[0])


class Pacer:
    """Maps replay time to clock readings (pure: no clock of its own).

    Args:
        speed: replay speed (2.0 plays twice as fast); must be positive.
        origin: the replay time that plays at ``anchor``.
        anchor: the clock reading at which ``origin`` plays.
    """

    def __init__(self, speed: float, origin: float, anchor: float) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"replay speed must be a positive number, not {speed!r}")
        self.speed = speed
        self.origin = origin
        self.anchor = anchor

    def due(self, t: float) -> float:
        """The clock reading at which replay time ``t`` is due."""
        return self.anchor + (t - self.origin) / self.speed

    def delay(self, t: float, now: float) -> float:
        """Seconds to wait at clock reading ``now`` before ``t`` is due (negative: late)."""
        return self.due(t) - now


class Replayer:
    """Replays a recording's samples in order, grouped by source per instant.

    Args:
        recording: an open :class:`Recording` (also one still being written).
        speed: replay speed for :meth:`play` (1.0 = real time); None plays as fast as the
            consumer reads, yielding to the event loop now and then.
        start: where to begin (see :data:`Start`).
        end: recording time to stop before (None: the end of the recording).
        loop: start over after the end, forever.
        sources: only samples of these recorded source names (None: all).
        clock: clock for pacing, in seconds (default: the running event loop's ``time``).
        sleep: awaitable sleep for pacing (default: :func:`asyncio.sleep`).
        anchor: clock reading at which ``start`` plays (default: the clock when :meth:`play`
            begins). A runner passes its own show clock and 0.0 so that recorded show times
            replay at the same show times.
        loop_gap: seconds between the last instant of a lap and the start of the next
            (default: the recording's first sample interval).
        batch: samples fetched per query.

    Raises:
        CueNotFoundError: ``start`` names a cue that never started in the recording.
        ValueError: ``speed`` is not positive.
    """

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float | None = 1.0,
        start: Start = None,
        end: float | None = None,
        loop: bool = False,
        sources: Collection[str] | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        anchor: float | None = None,
        loop_gap: float | None = None,
        batch: int = 10_000,
    ) -> None:
        if speed is not None:
            Pacer(speed, 0.0, 0.0)  # validates
        self.recording = recording
        self.speed = speed
        self.origin = resolve_start(recording, start)
        self.end = end
        self.loop = loop
        self.sources = frozenset(sources) if sources is not None else None
        self._clock = clock
        self._sleep = sleep or asyncio.sleep
        self._anchor = anchor
        self._loop_gap = loop_gap
        self._batch = batch
        self.frames_out = 0
        self.samples_out = 0
        self.laps = 0
        self.position: float | None = None
        self.max_lag = 0.0
        self.late = 0
        self._warn = RateLimitedLogger(logger, 5.0)

    # -- unpaced iteration --------------------------------------------------------------------

    def samples_by_instant(self) -> Iterator[list[Sample]]:
        """One pass over the range (no loop, no pacing): the samples of each instant together.

        An instant is a run of samples with equal ``t_recv``; ``sources`` filters them.
        """
        group: list[Sample] = []
        current = math.nan
        wanted = self.sources
        for sample in self.recording.samples(start=self.origin, end=self.end, batch=self._batch):
            if wanted is not None and sample.source not in wanted:
                continue
            if sample.t_recv != current:
                if group:
                    yield group
                group = []
                current = sample.t_recv
            group.append(sample)
        if group:
            yield group

    @staticmethod
    def _split(instant: list[Sample], lap: int, shift: float) -> list[ReplayFrame]:
        """One frame per source, in order of each source's first sample."""
        t = instant[0].t_recv + shift
        by_source: dict[str, list[Sample]] = {}
        for sample in instant:
            by_source.setdefault(sample.source, []).append(sample)
        return [ReplayFrame(t, source, group, lap, shift) for source, group in by_source.items()]

    def instants(self) -> Iterator[list[ReplayFrame]]:
        """The frames of each instant, instant by instant, without pacing.

        With ``loop`` this never ends unless the recording range is empty; break out.
        """
        lap = 0
        shift = 0.0
        while True:
            first: float | None = None
            last: float | None = None
            gap: float | None = None
            for instant in self.samples_by_instant():
                t = instant[0].t_recv
                if first is None:
                    first = t
                elif gap is None and last is not None and t > last:
                    gap = t - last
                last = t
                self.laps = lap + 1
                yield self._split(instant, lap, shift)
            if not self.loop or first is None or last is None:
                return
            if self.end is not None and self.end > last:
                period = self.end - self.origin
            else:
                step = self._loop_gap if self._loop_gap is not None else gap or DEFAULT_LOOP_GAP
                period = last - self.origin + step
            lap += 1
            shift = lap * period
            logger.info("replay of %s: starting lap %d", self.recording.path, lap + 1)

    def frames(self) -> Iterator[ReplayFrame]:
        """Every frame in order, without pacing (see :meth:`instants`)."""
        for instant in self.instants():
            for frame in instant:
                self._count(frame)
                yield frame

    def _count(self, frame: ReplayFrame) -> None:
        self.frames_out += 1
        self.samples_out += len(frame.samples)
        self.position = frame.t

    # -- paced iteration ----------------------------------------------------------------------

    async def play_instants(self) -> AsyncIterator[list[ReplayFrame]]:
        """Each instant's frames together, when they are due on the clock."""
        clock = self._clock or asyncio.get_running_loop().time
        pacer: Pacer | None = None
        if self.speed is not None:
            anchor = self._anchor if self._anchor is not None else clock()
            pacer = Pacer(self.speed, self.origin, anchor)
        unpaced = 0
        for instant in self.instants():
            t = instant[0].t
            if pacer is None:
                unpaced += 1
                if unpaced % UNPACED_YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            else:
                delay = pacer.delay(t, clock())
                if delay > 0:
                    await self._sleep(delay)
                else:
                    # late: deliver at once, but let the consumer's other tasks run first (a
                    # runner advances its engine between two frames, as with a live socket)
                    self._note_lag(-delay, t, clock())
                    await asyncio.sleep(0)
            for frame in instant:
                self._count(frame)
            yield instant

    async def play(self) -> AsyncIterator[ReplayFrame]:
        """Every frame when it is due on the clock (see :meth:`play_instants`)."""
        async for instant in self.play_instants():
            for frame in instant:
                yield frame

    def _note_lag(self, lag: float, t: float, now: float) -> None:
        self.max_lag = max(self.max_lag, lag)
        if lag > LATE_WARNING_S:
            self.late += 1
            self._warn.warning(
                "late",
                "replay of %s is %.2f s behind at t = %.3f s: the consumer is too slow"
                " for %gx (%d late instants so far)",
                self.recording.path,
                lag,
                t,
                self.speed,
                self.late,
                now=now,
            )

    def stats(self) -> dict[str, Any]:
        """Counters for health displays and logs (plain, JSON-serialisable)."""
        return {
            "recording": str(self.recording.path),
            "speed": self.speed,
            "origin": self.origin,
            "loop": self.loop,
            "laps": self.laps,
            "frames": self.frames_out,
            "samples": self.samples_out,
            "position": self.position,
            "max_lag_ms": round(self.max_lag * 1e3, 3),
        }


def _describe_speed(speed: float | None) -> str:
    return "full speed" if speed is None else f"{speed:g}x"


class ReplaySource(TelemetrySource):
    """A telemetry source that replays a recording into a sink (e.g. the show runner).

    Behaves like the websocket sources of :mod:`bridges.telemetry`: reports ``connected`` when
    the replay starts, hands each frame's samples to ``sink.on_samples(name, samples)``, counts
    frames and samples, and reports ``disconnected`` on :meth:`aclose`. When the recording ends
    (without ``loop``) ``run()`` returns and the source stays connected but silent, as a quiet
    feed would, so the show sees its signals go stale on its own clock.

    Args:
        replayer: what to replay.
        sink: where samples and status changes go.
        name: source name reported to the sink (the show's source it stands in for).
        clock: wall clock for ``last_frame_at``.
    """

    kind = "replay"

    def __init__(
        self,
        replayer: Replayer,
        sink: TelemetrySink,
        *,
        name: str = "replay",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, sink, clock=clock)
        self.replayer = replayer
        self.finished = False

    async def _run(self) -> None:
        r = self.replayer
        self._set_status(
            SourceStatus.CONNECTED,
            f"replaying {r.recording.path.name} at {_describe_speed(r.speed)}",
        )
        async for frame in r.play():
            self.counters.frames += 1
            self.counters.last_frame_at = self._clock()
            shift = frame.shift
            self._deliver(
                [
                    TelemetrySample(s.signal, s.value, None if s.ts is None else s.ts + shift)
                    for s in frame.samples
                ]
            )
        self.finished = True
        logger.info(
            "replay source %s: end of %s after %d samples",
            self.name,
            r.recording.path.name,
            r.samples_out,
        )

    def stats(self) -> dict[str, object]:
        """Health snapshot with the replay's position and lateness."""
        return {**super().stats(), "replay": self.replayer.stats(), "finished": self.finished}
