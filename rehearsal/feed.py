"""A websocket telemetry feed: the part the simulator and ``replay --serve`` share.

A :class:`FeedServer` listens, keeps one :class:`FeedClient` per connection and runs one named
task that produces the feed (a subclass's :meth:`FeedServer._run`). The task offers each batch
of frames to every client through :meth:`FeedServer._broadcast`: the frames are encoded once,
as JSON arrays of at most ``max_frames_per_message`` frames, and queued for each client. Each
client has a small bounded queue: a client that cannot keep up loses its oldest queued
messages (counted, and logged at most every 5 s), so memory never grows without bound.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import logging
from typing import Self

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from bridges.ratelimit import RateLimitedLogger
from rehearsal.telemetry import Frame, encode_frames

__all__ = ["FeedClient", "FeedServer", "split_messages"]

logger = logging.getLogger(__name__)


def split_messages(frames: list[Frame], max_frames: int) -> list[str]:
    """Encode ``frames`` as websocket text messages, arrays of at most ``max_frames`` frames."""
    size = max(1, max_frames)
    return [encode_frames(frames[i : i + size]) for i in range(0, len(frames), size)]


class FeedClient:
    """A connected client's bounded message queue.

    Args:
        connection: the client's websocket connection.
        queue_len: messages queued at most; beyond that the oldest are skipped.
        label: names the feed in log messages (``"simulator"``, ``"replay"``).
        log: the logger that reports a slow client.
    """

    def __init__(
        self,
        connection: ServerConnection,
        queue_len: int,
        *,
        label: str = "feed",
        log: logging.Logger = logger,
    ) -> None:
        self.connection = connection
        self.queue: collections.deque[str] = collections.deque(maxlen=queue_len)
        self.wakeup = asyncio.Event()
        self.skipped = 0
        self._warn = RateLimitedLogger(log, 5.0)
        self.label = label
        self._log = log

    def offer(self, messages: list[str], now: float) -> None:
        """Queue ``messages``, skipping the oldest queued ones when the queue is full.

        Args:
            messages: encoded websocket text messages.
            now: the caller's clock reading, in seconds (rate-limits the slow-client warning).
        """
        for message in messages:
            if len(self.queue) == self.queue.maxlen:
                self.skipped += 1
                self._warn.warning(
                    "slow",
                    "%s client %s is too slow: skipping messages (%d skipped so far)",
                    self.label,
                    self.connection.remote_address,
                    self.skipped,
                    now=now,
                )
            self.queue.append(message)
        self.wakeup.set()


class FeedServer(abc.ABC):
    """Serve a telemetry feed over websockets; a subclass produces it in :meth:`_run`.

    Args:
        host: interface to listen on.
        port: TCP port; 0 picks a free one (see :attr:`port`).
        max_frames_per_message: a batch of frames is split into arrays of at most this many.
        client_queue: messages a slow client may have queued before the oldest are skipped.
        label: names the feed in log messages (``"simulator"``, ``"replay"``).
        task_name: name of the task running :meth:`_run`.
        watch_prefix: prefix of the name of each client's connection-watch task.
        log: the logger for client messages.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        max_frames_per_message: int,
        client_queue: int,
        label: str,
        task_name: str,
        watch_prefix: str,
        log: logging.Logger = logger,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.max_frames_per_message = max(1, max_frames_per_message)
        self.client_queue = max(1, client_queue)
        self._label = label
        self._task_name = task_name
        self._watch_prefix = watch_prefix
        self._log = log
        self._clients: set[FeedClient] = set()
        self._first_client = asyncio.Event()
        self._server: Server | None = None
        self._task: asyncio.Task[None] | None = None

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
        """Listen and start the feed task (named by ``task_name``)."""
        self._server = await serve(self._handle, self.host, self._requested_port)
        self._task = asyncio.create_task(self._run(), name=self._task_name)

    async def wait(self) -> None:
        """Return when the feed task has finished."""
        if self._task is not None:
            await self._task

    async def close(self) -> None:
        """Stop the feed task, close every connection and stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abc.abstractmethod
    async def _run(self) -> None:
        """Produce the feed, calling :meth:`_broadcast`; the feed ends when this returns."""

    def _broadcast(self, frames: list[Frame], now: float) -> int:
        """Encode ``frames`` once and offer them to every client.

        Args:
            frames: the frames of one batch (a tick, an instant).
            now: the loop's clock reading, in seconds.

        Returns:
            The number of messages offered to each client (0, encoding nothing, with none).
        """
        if not self._clients:
            return 0
        messages = split_messages(frames, self.max_frames_per_message)
        for client in list(self._clients):
            client.offer(messages, now)
        return len(messages)

    async def _handle(self, connection: ServerConnection) -> None:
        client = FeedClient(connection, self.client_queue, label=self._label, log=self._log)
        self._clients.add(client)
        self._first_client.set()
        self._log.info("%s client connected from %s", self._label, connection.remote_address)
        # Wake the sender when the connection closes, even if no message is coming.
        watcher = asyncio.create_task(
            connection.wait_closed(), name=f"{self._watch_prefix}:{connection.id}"
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
            self._log.info(
                "%s client %s left (%d messages skipped)",
                self._label,
                connection.remote_address,
                client.skipped,
            )
