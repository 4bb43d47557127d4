"""The decoder process of one telemetry source: connection, decoding, batching.

:func:`child_main` runs in a process of its own (multiprocessing 'spawn', started by
:class:`~bridges.telemetry.decoder_process.ProcessSource`). It runs the very source the
show would run in thread mode (:func:`~bridges.telemetry.connection.create_source`:
websocket, limits, decoding, unit conversion, reconnects and backoff) with this
module's :class:`_Child` as its sink. The child queues what the source delivers in a
conflating :class:`~bridges.telemetry.decoder_wire.Outbox` and sends it to the show
in batches of at most 512 samples, a few unacknowledged at a time (values from small
frames ahead of a big frame's); status changes
travel in order with the samples; a heartbeat with the source's counters goes every
0.25 s; log lines are forwarded (at most ``log_lines_per_s``).

The child stops when the show says so, when the show's end of the socket closes (the
show is gone), or when its source stops for good (after its last status is out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
import traceback
from dataclasses import dataclass

import orjson

from bridges import eventloop

from .config import SourceConfig
from .connection import TelemetrySource, create_source
from .decoder_wire import (
    ACK,
    HEARTBEAT,
    LOG,
    MAX_IN_FLIGHT,
    QUIT,
    SAMPLES,
    STATUS,
    FrameReader,
    LinkError,
    Outbox,
    StatusItem,
    frame,
)
from .types import Sample, SourceStatus

__all__ = ["ChildOptions", "child_main"]


@dataclass(frozen=True, slots=True)
class ChildOptions:
    """Settings of a decoder process.

    Attributes:
        heartbeat_s: Seconds between heartbeats (the source's counters).
        max_waiting: Most sample values waiting for the show (newest per signal).
        log_lines_per_s: Most log lines forwarded to the show per second.
    """

    heartbeat_s: float = 0.25
    max_waiting: int = 262_144
    log_lines_per_s: int = 20


def child_main(sock: socket.socket, config: SourceConfig, options: ChildOptions) -> None:
    """Entry point of the decoder process: serve ``config``'s source until told to stop."""
    # Ctrl-C reaches the whole process group; the show stops its children itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    eventloop.run(_Child(sock, config, options).run())


class _LinkLogHandler(logging.Handler):
    """Forwards log records to the show, at most ``per_second`` lines a second."""

    def __init__(self, child: _Child, per_second: int) -> None:
        super().__init__(logging.INFO)
        self._child = child
        self._per_second = per_second
        self._window = 0.0
        self._count = 0

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window, self._count = now, 0
        self._count += 1
        if self._count > self._per_second:
            return
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self._child.send(LOG, orjson.dumps([record.levelno, record.name, message]))


class _Child(asyncio.Protocol):
    """Sink of the source, and the child's end of the link to the show."""

    def __init__(self, sock: socket.socket, config: SourceConfig, options: ChildOptions):
        self._sock = sock
        self._config = config
        self._options = options
        self._outbox = Outbox(options.max_waiting)
        self._credit = MAX_IN_FLIGHT
        self._reader = FrameReader()
        self._transport: asyncio.Transport | None = None
        self._stop = asyncio.Event()
        self._drained = asyncio.Event()

    # -- the TelemetrySink protocol -------------------------------------------------

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        """Queue samples for the show (newest value per signal)."""
        self._outbox.add_samples(samples)
        self._pump()

    def on_status(self, source_name: str, status: SourceStatus, detail: str) -> None:
        """Queue a status change, in order with the samples."""
        self._outbox.add_status(status, detail)
        self._pump()

    # -- the link (asyncio.Protocol) --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            messages = self._reader.feed(data)
        except LinkError:
            self._stop.set()
            return
        for tag, _ in messages:
            if tag == ACK:
                self._credit = min(MAX_IN_FLIGHT, self._credit + 1)
            elif tag == QUIT:
                self._stop.set()
        self._pump()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._stop.set()

    def send(self, tag: bytes, body: bytes) -> None:
        """Write one message to the show, if the link is still up."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(tag, body))

    def _pump(self) -> None:
        """Send waiting batches and statuses while the show has room for them."""
        while self._credit > 0 and self._transport is not None:
            item = self._outbox.pop()
            if item is None:
                break
            self._credit -= 1
            if isinstance(item, StatusItem):
                self.send(STATUS, orjson.dumps([item.status.value, item.detail]))
            else:
                self.send(SAMPLES, item.encode())
        if not self._outbox:
            self._drained.set()

    # -- lifetime -------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the show says stop or goes away, or the source stops for good."""
        loop = asyncio.get_running_loop()
        await loop.connect_accepted_socket(lambda: self, sock=self._sock)
        root = logging.getLogger()
        # every line goes to the show's log, once (whatever the re-imported main set up)
        root.handlers[:] = [_LinkLogHandler(self, self._options.log_lines_per_s)]
        root.setLevel(logging.INFO)
        source = create_source(self._config, self)
        worker = loop.create_task(source.run(), name=f"telemetry-decoder:{source.name}")
        beat = loop.create_task(self._heartbeat(source), name="telemetry-decoder-heartbeat")
        stop = loop.create_task(self._stop.wait(), name="telemetry-decoder-stop")
        await asyncio.wait([worker, stop], return_when=asyncio.FIRST_COMPLETED)
        if worker.done() and not self._stop.is_set():
            # stopped for good (e.g. a rejected token): let the show see why, then end
            self._drained.clear()
            self._pump()
            drained = loop.create_task(self._drained.wait(), name="telemetry-decoder-drained")
            await asyncio.wait([stop, drained], timeout=5.0, return_when=asyncio.FIRST_COMPLETED)
            drained.cancel()
        await source.aclose()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker
        for task in (beat, stop):
            task.cancel()
        self._beat(source)
        if self._transport is not None:
            self._transport.close()

    async def _heartbeat(self, source: TelemetrySource) -> None:
        while True:
            self._beat(source)
            await asyncio.sleep(self._options.heartbeat_s)

    def _beat(self, source: TelemetrySource) -> None:
        stats = source.stats()
        stats["conflated"] = self._outbox.conflated
        stats["backlog_dropped"] = self._outbox.dropped
        stats["waiting"] = self._outbox.waiting
        self.send(HEARTBEAT, orjson.dumps(stats, default=str))
