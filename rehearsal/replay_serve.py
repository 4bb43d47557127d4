"""Serve a replay as a live telemetry feed: ``stovelight replay FILE --serve``.

Another machine then rehearses against the recording exactly as against the kitchen: its show
file names ``ws://HOST:PORT/`` as a ``stovelight`` source. Each instant of the recording
becomes one websocket text message in Stovelight's JSON protocol (see ``docs/rehearsal.md``):
an array with one frame per telemetry source (the part of the signal name before the first
dot), split into several messages when an instant has more than ``max_frames_per_message``
frames::

    [{"source": "central", "ts": 1764230460.1, "values": {"temp_c": 182.5, "state": "on"}},
     {"source": "grid", "ts": 1764230460.1, "values": {"demand_kw": 12.4}}]

``ts`` is the recorded source time stamp (the receive wall time when the source sent none),
plus the loop period in later laps. Values the recording holds as NULL (NaN) are left out.

One replay is shared by every client, like a live feed: by default it starts when the first
client connects, and a client that connects later joins at the current position. Each client
has a bounded queue; a slow client loses its oldest messages (counted, logged every 5 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from rehearsal.feed import FeedServer, split_messages
from rehearsal.replay import Replayer, ReplayFrame
from rehearsal.telemetry import Frame, Value

__all__ = ["ReplayServer", "instant_messages", "protocol_frames"]

logger = logging.getLogger(__name__)


def protocol_frames(instant: Iterable[ReplayFrame]) -> list[Frame]:
    """Protocol frames for one instant: one per telemetry source, in order of appearance.

    The telemetry source of a sample is the part of its signal name before the first dot (a
    signal without a dot keeps its recorded source and is sent under its full name).
    """
    frames: dict[str, Frame] = {}
    for frame in instant:
        shift = frame.shift
        for s in frame.samples:
            if s.value is None:
                continue
            source, dot, key = s.signal.partition(".")
            if not dot:
                source, key = frame.source, s.signal
            stamp = (s.ts if s.ts is not None else s.wall) + shift
            out = frames.get(source)
            if out is None:
                out = frames[source] = Frame(source=source, ts=stamp, values={})
            value: Value = s.value
            out["values"][key] = value
    return list(frames.values())


def instant_messages(instant: Iterable[ReplayFrame], max_frames: int = 100) -> list[str]:
    """The websocket text messages for one instant (arrays of at most ``max_frames``)."""
    return split_messages(protocol_frames(instant), max_frames)


class ReplayServer(FeedServer):
    """Serve a :class:`Replayer` over websockets in Stovelight's telemetry protocol.

    The player task is named ``replay-player``; :meth:`wait` returns when the replay has ended
    (never with ``loop``).

    Args:
        replayer: the replay to serve (its pacing decides when messages go out).
        host: interface to listen on.
        port: TCP port; 0 picks a free one (see :attr:`port`).
        wait_for_client: start the replay when the first client connects (else at once).
        max_frames_per_message: an instant's frames are split into arrays of at most this many.
        client_queue: messages a slow client may have queued before the oldest are skipped.
    """

    def __init__(
        self,
        replayer: Replayer,
        *,
        host: str = "127.0.0.1",
        port: int = 8766,
        wait_for_client: bool = True,
        max_frames_per_message: int = 100,
        client_queue: int = 64,
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            max_frames_per_message=max_frames_per_message,
            client_queue=client_queue,
            label="replay",
            task_name="replay-player",
            watch_prefix="replay-client-watch",
            log=logger,
        )
        self.replayer = replayer
        self.wait_for_client = wait_for_client
        self.messages = 0

    async def drain(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until every client's queue has been sent."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(c.queue for c in self._clients):
                    await asyncio.sleep(0.01)

    def stats(self) -> dict[str, Any]:
        """Counters: the replay's, messages sent and clients."""
        return {
            **self.replayer.stats(),
            "messages": self.messages,
            "clients": self.client_count,
            "skipped": sum(c.skipped for c in self._clients),
        }

    async def _run(self) -> None:
        if self.wait_for_client:
            logger.info("replay: waiting for the first client on port %d", self.port)
            await self._first_client.wait()
        loop = asyncio.get_running_loop()
        async for instant in self.replayer.play_instants():
            if self._clients:
                self.messages += self._broadcast(protocol_frames(instant), loop.time())
        logger.info(
            "replay finished: %d samples in %d messages",
            self.replayer.samples_out,
            self.messages,
        )
