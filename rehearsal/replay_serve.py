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
import collections
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from rehearsal._throttle import Throttle
from rehearsal.replay import Replayer, ReplayFrame
from rehearsal.telemetry import Frame, Value, encode_frames

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
    frames = protocol_frames(instant)
    size = max(1, max_frames)
    return [encode_frames(frames[i : i + size]) for i in range(0, len(frames), size)]


class _Client:
    """A connected client's bounded message queue."""

    def __init__(self, connection: ServerConnection, queue_len: int) -> None:
        self.connection = connection
        self.queue: collections.deque[str] = collections.deque(maxlen=queue_len)
        self.wakeup = asyncio.Event()
        self.skipped = 0
        self.throttle = Throttle(5.0)

    def offer(self, messages: list[str], now: float) -> None:
        for message in messages:
            if len(self.queue) == self.queue.maxlen:
                self.skipped += 1
                if self.throttle.allow(now) is not None:
                    logger.warning(
                        "replay client %s is too slow: skipping messages (%d skipped so far)",
                        self.connection.remote_address,
                        self.skipped,
                    )
            self.queue.append(message)
        self.wakeup.set()


class ReplayServer:
    """Serve a :class:`Replayer` over websockets in Stovelight's telemetry protocol.

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
        self.replayer = replayer
        self.host = host
        self._requested_port = port
        self.wait_for_client = wait_for_client
        self.max_frames_per_message = max(1, max_frames_per_message)
        self.client_queue = max(1, client_queue)
        self.messages = 0
        self._clients: set[_Client] = set()
        self._first_client = asyncio.Event()
        self._server: Server | None = None
        self._player: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound TCP port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("server not started")
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def client_count(self) -> int:
        """Number of connected clients."""
        return len(self._clients)

    async def start(self) -> None:
        """Listen and start the player task (``replay-player``)."""
        self._server = await serve(self._handle, self.host, self._requested_port)
        self._player = asyncio.create_task(self._play(), name="replay-player")

    async def wait(self) -> None:
        """Return when the replay has ended (never with ``loop``)."""
        if self._player is not None:
            await self._player

    async def drain(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until every client's queue has been sent."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(c.queue for c in self._clients):
                    await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Stop the replay, close every connection and stop listening."""
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
            self._player = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def stats(self) -> dict[str, Any]:
        """Counters: the replay's, messages sent and clients."""
        return {
            **self.replayer.stats(),
            "messages": self.messages,
            "clients": self.client_count,
            "skipped": sum(c.skipped for c in self._clients),
        }

    async def _play(self) -> None:
        if self.wait_for_client:
            logger.info("replay: waiting for the first client on port %d", self.port)
            await self._first_client.wait()
        loop = asyncio.get_running_loop()
        async for instant in self.replayer.play_instants():
            if not self._clients:
                continue
            messages = instant_messages(instant, self.max_frames_per_message)
            self.messages += len(messages)
            now = loop.time()
            for client in list(self._clients):
                client.offer(messages, now)
        logger.info(
            "replay finished: %d samples in %d messages",
            self.replayer.samples_out,
            self.messages,
        )

    async def _handle(self, connection: ServerConnection) -> None:
        client = _Client(connection, self.client_queue)
        self._clients.add(client)
        self._first_client.set()
        logger.info("replay client connected from %s", connection.remote_address)
        watcher = asyncio.create_task(
            connection.wait_closed(), name=f"replay-client-watch:{connection.id}"
        )
        watcher.add_done_callback(lambda _: client.wakeup.set())
        try:
            while not watcher.done():
                await client.wakeup.wait()
                client.wakeup.clear()
                while client.queue and not watcher.done():
                    await connection.send(client.queue.popleft())
        except ConnectionClosed:
            pass
        finally:
            watcher.cancel()
            self._clients.discard(client)
            logger.info(
                "replay client %s left (%d messages skipped)",
                connection.remote_address,
                client.skipped,
            )
