"""One snapshot per tick, serialised once, handed to every subscriber, conflated.

The :class:`Broadcaster` is the only place that calls the runner's snapshot
callable. Each tick it builds one message, encodes it once to UTF-8 JSON and
writes the same bytes to every subscribed connection through
:func:`websockets.asyncio.server.broadcast`.

Each subscriber has a one-slot mailbox, and the slot is its transport's write
buffer: a connection whose transport still holds unsent bytes from an earlier
snapshot (its kernel send buffer is full: a slow phone, a stalled Wi-Fi client)
is skipped for this tick and counted. It receives the next snapshot once it has
drained. Snapshots are self-contained, so a skipped one loses nothing but
freshness, and no per-viewer buffer ever grows beyond one partially sent
snapshot. There is no task per viewer: one tick costs one build, one encode,
one websocket frame and one ``transport.write`` of that same frame per viewer.

The running broadcaster never holds the show's loop for long. It builds the
message in one turn and encodes it in another, then writes viewers for at most
:data:`SLICE_BUDGET_S` per turn; before each step it lets the loop poll its
sockets once more and run what arrived, so a GO (or a fade step) that came in
during a slice is carried out before the next slice, never queued behind a
500-viewer fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from bridges.eventloop import after_pending_io
from bridges.ratelimit import RateLimitedLogger
from show.web.protocol import encode_message_bytes

__all__ = ["SLICE_BUDGET_S", "Broadcaster", "BroadcasterStats"]

logger = logging.getLogger(__name__)

_RESERVED: Final = frozenset({"type", "seq", "t"})
SLICE_BUDGET_S: Final = 0.0002
"""Longest stretch of fan-out writes in one event-loop turn (at least one viewer is
written per turn). A write to a viewer costs about 10 us, mostly the kernel's."""


def _text_frame(data: bytes) -> bytes:
    """``data`` as one unmasked, uncompressed websocket text frame (a server's)."""
    return Frame(Opcode.TEXT, data).serialize(mask=False)


@dataclass(slots=True)
class BroadcasterStats:
    """Counters of one broadcaster, for the console and the benchmark.

    Attributes:
        ticks: Ticks that built and sent a message.
        build_errors: Ticks skipped because the snapshot callable raised.
        delivered: Messages written to subscribers, summed over subscribers.
        skipped: Deliveries skipped because a subscriber had not drained yet.
        last_bytes: Size of the last encoded message.
        last_build_s: Time spent building and encoding the last message.
        last_send_s: Time spent writing the last message to all subscribers.
        max_pending_bytes: The most bytes a subscriber still had waiting in user space
            when the last message went out (it was skipped): at most one partly sent
            message, since a subscriber is only written when it has drained.
    """

    ticks: int = 0
    build_errors: int = 0
    delivered: int = 0
    skipped: int = 0
    last_bytes: int = 0
    last_build_s: float = 0.0
    last_send_s: float = 0.0
    max_pending_bytes: int = 0


class Broadcaster:
    """Build, encode once and fan out a message to subscribers at a fixed rate.

    Args:
        name: Used in task names and log lines (``"public"``, ``"console"``).
        message_type: The ``type`` field of every message.
        build: Returns the message body; called once per tick, only while there
            are subscribers. It runs on the event loop and must be quick.
        rate_hz: Ticks per second.
        clock: Wall clock in seconds (``time.time`` in the show); stamped as
            ``t`` into each message so viewers can measure staleness.
        warn: Rate-limited warning sink.
    """

    def __init__(
        self,
        name: str,
        message_type: str,
        build: Callable[[], Mapping[str, Any]],
        *,
        rate_hz: float,
        clock: Callable[[], float],
        warn: RateLimitedLogger,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        self.name = name
        self._type = message_type
        self._build = build
        self._period = 1.0 / rate_hz
        self._clock = clock
        self._warn = warn
        self._subscribers: dict[ServerConnection, int] = {}
        self._seq = 0
        self._last: bytes | None = None
        self._pending_seen = 0  # the most bytes a skipped subscriber held, this tick
        self.stats = BroadcasterStats()

    @property
    def subscribers(self) -> int:
        """Number of connections currently subscribed."""
        return len(self._subscribers)

    @property
    def last_message(self) -> bytes | None:
        """The last encoded message (UTF-8 JSON), or ``None`` before the first tick."""
        return self._last

    def subscribe(self, connection: ServerConnection) -> None:
        """Start delivering to ``connection``; it gets the last message right away.

        Args:
            connection: An open websocket connection.
        """
        self._subscribers[connection] = 0
        if self._last is not None:
            broadcast([connection], self._last, text=True)

    def unsubscribe(self, connection: ServerConnection) -> None:
        """Stop delivering to ``connection``; unknown connections are ignored.

        Args:
            connection: A connection given to :meth:`subscribe`.
        """
        self._subscribers.pop(connection, None)

    def skipped_for(self, connection: ServerConnection) -> int:
        """Deliveries skipped for one subscriber because it had not drained.

        Args:
            connection: A subscribed connection.

        Returns:
            The count, or 0 for unknown connections.
        """
        return self._subscribers.get(connection, 0)

    def build_message(self) -> bytes | None:
        """Build and encode the next message once.

        Returns:
            The UTF-8 JSON message, or ``None`` when the build callable raised or
            returned something that is not a JSON object (counted and logged).
        """
        started = time.perf_counter()
        message = self._message()
        if message is None:
            return None
        return self._encode(message, time.perf_counter() - started)

    def _message(self) -> dict[str, Any] | None:
        try:
            body = self._build()
            if not isinstance(body, Mapping):
                raise TypeError(f"snapshot callable returned {type(body).__name__}, not a dict")
            self._seq += 1
            message: dict[str, Any] = {"type": self._type, "seq": self._seq, "t": self._clock()}
            message.update((k, v) for k, v in body.items() if k not in _RESERVED)
        except Exception as err:
            self._failed(err)
            return None
        return message

    def _encode(self, message: dict[str, Any], spent: float) -> bytes | None:
        """Encode a built message; ``spent`` is what building it took (for the stats)."""
        started = time.perf_counter()
        try:
            data = encode_message_bytes(message)
        except Exception as err:
            self._failed(err)
            return None
        self.stats.last_build_s = spent + time.perf_counter() - started
        self.stats.last_bytes = len(data)
        return data

    def _failed(self, err: Exception) -> None:
        self.stats.build_errors += 1
        self._warn.warning(
            f"{self.name}-build",
            "web %s snapshot: building failed (%s: %s); viewers keep the previous one",
            self.name,
            type(err).__name__,
            err,
            exc_info=err,
        )

    def deliver(self, data: bytes) -> int:
        """Write ``data`` to every subscriber whose previous message has drained.

        Args:
            data: An encoded message from :meth:`build_message`.

        Returns:
            How many subscribers it was written to.
        """
        started = time.perf_counter()
        self._last = data
        frame = _text_frame(data)
        self._pending_seen = 0
        sent = sum(self._write(c, data, frame) for c in list(self._subscribers))
        self.stats.ticks += 1
        self.stats.delivered += sent
        self.stats.last_send_s = time.perf_counter() - started
        self.stats.max_pending_bytes = self._pending_seen
        return sent

    async def deliver_in_slices(self, data: bytes) -> int:
        """:meth:`deliver`, writing for at most :data:`SLICE_BUDGET_S` per event-loop
        turn; between slices, whatever reached the loop's sockets runs first.

        Returns:
            How many subscribers it was written to.
        """
        self._last = data
        frame = _text_frame(data)
        connections = list(self._subscribers)
        clock = time.perf_counter
        sent, spent, index = 0, 0.0, 0
        self._pending_seen = 0
        while index < len(connections):
            if index:
                await after_pending_io()
            started = clock()
            end = started + SLICE_BUDGET_S
            while True:
                sent += self._write(connections[index], data, frame)
                index += 1
                if index == len(connections) or clock() >= end:
                    break
            spent += clock() - started
        self.stats.ticks += 1
        self.stats.delivered += sent
        self.stats.last_send_s = spent
        self.stats.max_pending_bytes = self._pending_seen
        return sent

    def _write(self, connection: ServerConnection, data: bytes, frame: bytes) -> int:
        """Write one subscriber the frame of ``data``; 1 if written, else 0."""
        if connection not in self._subscribers:  # left while earlier slices went out
            return 0
        if connection.protocol.state is not State.OPEN:
            return 0
        pending = connection.transport.get_write_buffer_size()
        if pending > 0:
            self._subscribers[connection] += 1
            self.stats.skipped += 1
            if pending > self._pending_seen:
                self._pending_seen = pending
            return 0
        if connection.protocol.extensions or connection.send_in_progress is not None:
            broadcast([connection], data, text=True)  # the library frames (or skips) it
            return 1
        try:
            # The frame the library would build for this connection, built once per
            # message for all of them: the same bytes its broadcast() writes.
            connection.transport.write(frame)
        except Exception as err:
            self._warn.warning(
                f"{self.name}-write", "web %s: a write to a viewer failed: %s", self.name, err
            )
            return 0
        return 1

    def tick(self) -> int:
        """Build one message and deliver it, if anyone is subscribed.

        Returns:
            How many subscribers received the message.
        """
        if not self._subscribers:
            return 0
        data = self.build_message()
        if data is None:
            return 0
        return self.deliver(data)

    async def run(self) -> None:
        """Tick at the configured rate until cancelled; late ticks are dropped, not queued.

        Each tick builds in one loop turn, encodes in a later one and writes in slices,
        and lets what reached the loop's sockets run between those steps."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            if self._subscribers:
                await self._tick_in_steps()
            deadline += self._period
            now = loop.time()
            if now - deadline >= self._period:
                # More than a whole tick behind: drop the missed ticks, do not queue them.
                missed = int((now - deadline) / self._period)
                deadline += missed * self._period
                self._warn.warning(
                    f"{self.name}-late",
                    "web %s broadcaster is late: skipped %d tick(s); the show loop is overloaded",
                    self.name,
                    missed,
                )
            await asyncio.sleep(max(0.0, deadline - now))

    async def _tick_in_steps(self) -> None:
        started = time.perf_counter()
        message = self._message()
        if message is None:
            return
        spent = time.perf_counter() - started
        await after_pending_io()
        data = self._encode(message, spent)
        if data is None:
            return
        await after_pending_io()
        await self.deliver_in_slices(data)
