"""Telemetry sources whose connection and decoding live in a process of their own.

A source that accepts big frames cannot decode them on the show's interpreter: the
JSON decoder holds the interpreter lock for its one C call (about 16 ms per MB), and
the websocket layer assembles frames on the loop. :class:`ProcessSource` therefore
runs the whole source (websocket or Home Assistant connection, limits, decoding, unit
conversion, reconnects) in a child process (:mod:`.decoder_child`) and reads only
small batches from it (:mod:`.decoder_wire`):

* at most one batch of at most 512 samples per loop turn, acknowledged one by one;
  the child keeps at most 4 unacknowledged, so the socket between them never holds
  more than a few small batches;
* what the show has not taken yet waits in the child, one value per signal (the
  newest wins), at most 262,144 values (then new signals' values are dropped and
  counted as ``backlog_dropped``);
* status changes travel in order with the samples; the child's counters arrive with
  a heartbeat every 0.25 s; its log lines are forwarded to the show's log;
* a child that dies, closes its link or misses heartbeats for ``heartbeat_timeout``
  is killed and started again after the source's backoff. Meanwhile the source is
  ``disconnected``; its signals follow the usual rule (lost only once the
  disconnect has lasted the shortest ``stale_after`` of the source's signals).

:func:`open_source` picks thread or process mode from a :class:`~.config.Decoder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import random
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import orjson

from .config import (
    Decoder,
    HomeAssistantSourceConfig,
    JsonFeedSourceConfig,
    SourceConfig,
    StovelightSourceConfig,
)
from .connection import SleepFn, TelemetrySource, create_source
from .decoder_child import ChildOptions, child_main
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
    decode_samples,
    frame,
)
from .exceptions import TelemetryProtocolError
from .types import SourceCounters, SourceStatus, TelemetrySink

__all__ = ["ChildOptions", "ProcessSource", "frame_limit", "open_source"]

_LOGGER = logging.getLogger(__name__)

_WATCH_S = 0.1
"""How often the supervisor looks at its child's heartbeat."""
_STOP_WAIT_S = 1.0
"""How long a child may take to stop when asked before it is killed."""
_COUNTERS = ("frames", "connects", "connect_failures", "violation_closes", "off_loop_frames")
_SUMMED = ("conflated", "backlog_dropped")


def frame_limit(config: SourceConfig) -> int:
    """The frame size limit of a source configuration, in bytes."""
    if isinstance(config, StovelightSourceConfig):
        return config.limits.max_frame_bytes
    return config.max_frame_bytes


def open_source(
    config: SourceConfig,
    sink: TelemetrySink,
    *,
    decoder: Decoder = Decoder.AUTO,
    rand: Callable[[], float] = random.random,
    sleep: SleepFn = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> TelemetrySource:
    """Build a source in thread or process mode (see :class:`~.config.Decoder`)."""
    if decoder.uses_process(frame_limit(config)):
        return ProcessSource(config, sink, rand=rand, sleep=sleep, clock=clock)
    return create_source(config, sink, rand=rand, sleep=sleep, clock=clock)


def _kind(config: SourceConfig) -> str:
    if isinstance(config, StovelightSourceConfig):
        return "stovelight"
    if isinstance(config, JsonFeedSourceConfig):
        return "jsonfeed"
    assert isinstance(config, HomeAssistantSourceConfig)
    return "homeassistant"


class _Link(asyncio.Protocol):
    """The show's end of the socket to one child: framing, the budget, acknowledgements."""

    def __init__(self, owner: ProcessSource) -> None:
        self._owner = owner
        self._reader = FrameReader()
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._scheduled = False
        self._transport: asyncio.Transport | None = None
        self.lost = asyncio.Event()
        self.last_beat: float | None = None
        self.problem = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self.lost.set()

    def data_received(self, data: bytes) -> None:
        try:
            for tag, body in self._reader.feed(data):
                if tag in (SAMPLES, STATUS):
                    self._queue.append((tag, body))
                elif tag == HEARTBEAT:
                    self._owner._on_heartbeat(body)
                    self.last_beat = asyncio.get_running_loop().time()
                elif tag == LOG:
                    self._owner._on_log(body)
                else:
                    raise LinkError(f"unknown message {tag!r}")
            if len(self._queue) > MAX_IN_FLIGHT:
                raise LinkError("more unacknowledged batches than allowed")
        except (LinkError, ValueError, TypeError) as err:
            self.close(f"broke its link ({err})")
            return
        if self._queue and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        """Handle one batch or status (the budget of one loop turn), then acknowledge it."""
        self._scheduled = False
        if not self._queue or self._transport is None:
            return
        tag, body = self._queue.popleft()
        try:
            self._owner._on_message(tag, body)
        except (LinkError, ValueError, TypeError) as err:
            self.close(f"broke its link ({err})")
            return
        self.send(ACK)
        if self._queue:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._drain)

    def send(self, tag: bytes) -> None:
        """Write one message to the child, if the link is up."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame(tag))

    def close(self, problem: str = "", *, deliver_statuses: bool = False) -> None:
        """Close the socket and drop the batches still queued.

        With ``deliver_statuses`` the queued status changes are handled first (a child
        that stopped for good sends its reason just before it ends).
        """
        self.problem = self.problem or problem
        if deliver_statuses and not self.problem:
            with contextlib.suppress(LinkError, ValueError, TypeError):
                for tag, body in self._queue:
                    if tag == STATUS:
                        self._owner._on_message(tag, body)
        self._queue.clear()
        if self._transport is not None:
            self._transport.close()
        self.lost.set()


class ProcessSource(TelemetrySource):
    """A websocket or Home Assistant source run in a decoder process of its own.

    The same configuration as thread mode; the same sink calls, counters and status
    (plus ``decoder``, ``decoder_pid``, ``decoder_restarts``, ``conflated`` and
    ``backlog_dropped`` in :meth:`stats`).

    Args:
        config: The source's configuration (sent to the child).
        sink: Where samples and status changes go, on the show loop.
        rand: Uniform random numbers for the restart backoff's jitter.
        sleep: Awaitable sleep between restarts.
        clock: Wall clock (unused by the child's counters, kept for the interface).
        options: The child's settings.
        heartbeat_timeout: Seconds without a heartbeat before the child is restarted.
        startup_timeout: Seconds a new child may take to send its first heartbeat.
    """

    def __init__(
        self,
        config: SourceConfig,
        sink: TelemetrySink,
        *,
        rand: Callable[[], float] = random.random,
        sleep: SleepFn = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        options: ChildOptions | None = None,
        heartbeat_timeout: float = 3.0,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(config.name, sink, clock=clock)
        self.kind = _kind(config)
        self._config = config
        self._rand = rand
        self._sleep = sleep
        self._options = options or ChildOptions()
        self._heartbeat_timeout = heartbeat_timeout
        self._startup_timeout = startup_timeout
        self._mp = multiprocessing.get_context("spawn")
        self._pid: int | None = None
        self._restarts = 0
        self._child_stats: dict[str, Any] = {}
        self._carried = SourceCounters()
        self._carried_extra: Counter[str] = Counter()

    @property
    def pid(self) -> int | None:
        """The running decoder process's id, if one runs."""
        return self._pid

    @property
    def restarts(self) -> int:
        """How many times the decoder process was started again."""
        return self._restarts

    def stats(self) -> dict[str, object]:
        """Health snapshot: the child's (counters summed over restarts) and the decoder's."""
        base = super().stats()
        extra = {k: v for k, v in self._child_stats.items() if k not in base}
        for key in _SUMMED:
            extra[key] = self._carried_extra[key] + int(self._child_stats.get(key, 0))
        return {
            **base,
            **extra,
            "url": self._config.url,
            "decoder": "process",
            "decoder_pid": self._pid,
            "decoder_restarts": self._restarts,
        }

    # -- messages from the child (called by _Link on the loop) --------------------------

    def _on_message(self, tag: bytes, body: bytes) -> None:
        if tag == SAMPLES:
            self._deliver(decode_samples(body))
            return
        value, detail = orjson.loads(body)
        status = SourceStatus(value)
        if status is SourceStatus.FAILED:
            failure = TelemetryProtocolError(detail)
            failure.permanent = True
            self._failure = failure
        self._set_status(status, str(detail))

    def _on_heartbeat(self, body: bytes) -> None:
        stats = orjson.loads(body)
        if not isinstance(stats, dict):
            raise LinkError("heartbeat is not an object")
        self._child_stats = stats
        carried, counters = self._carried, SourceCounters(samples=self.counters.samples)
        for key in _COUNTERS:
            setattr(counters, key, getattr(carried, key) + int(stats.get(key, 0)))
        counters.rejected = carried.rejected + Counter(stats.get("rejected", {}))
        counters.retry_delay = float(stats.get("retry_delay", 0.0))
        last = stats.get("last_frame_at")
        counters.last_frame_at = carried.last_frame_at if last is None else float(last)
        self.counters = counters

    def _on_log(self, body: bytes) -> None:
        level, name, message = orjson.loads(body)
        if not (isinstance(level, int) and isinstance(name, str) and isinstance(message, str)):
            raise LinkError("malformed log line")
        logging.getLogger(name).log(level, "%s", message)

    # -- supervision ------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self._config.settings.backoff
        attempt = 0
        while not self._closing:
            started = loop.time()
            reason = await self._serve_child()
            self._carry_over()
            if self._failure is not None or self._closing:
                return
            if loop.time() - started >= self._config.settings.stable_after:
                attempt = 0
            delay = backoff.delay(attempt, self._rand())
            attempt += 1
            self._restarts += 1
            self.counters.retry_delay = delay
            detail = f"decoder process {reason}; restarting it"
            self._set_status(SourceStatus.DISCONNECTED, detail)
            self._ratelimited.log(
                logging.ERROR,
                "decoder",
                "telemetry source %s: decoder process %s; restarting it in %.2f s",
                self._name,
                reason,
                delay,
            )
            await self._sleep(delay)

    def _carry_over(self) -> None:
        """Keep an ended child's counters: the next child starts from zero."""
        carried = SourceCounters()
        for key in _COUNTERS:
            setattr(carried, key, getattr(self.counters, key))
        carried.rejected = Counter(self.counters.rejected)
        carried.last_frame_at = self.counters.last_frame_at
        self._carried = carried
        for key in _SUMMED:
            self._carried_extra[key] += int(self._child_stats.get(key, 0))
        self._child_stats = {}
        self._pid = None

    async def _serve_child(self) -> str:
        """Start a child and supervise it until it ends; return how it ended."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        process = self._mp.Process(
            target=child_main,
            args=(theirs, self._config, self._options),
            name=f"stovelight-telemetry:{self._name}",
            daemon=True,
        )
        try:
            process.start()
        except OSError as err:
            ours.close()
            return f"could not start ({err})"
        finally:
            theirs.close()
        self._pid = process.pid
        link = _Link(self)
        ended = asyncio.Event()
        loop.add_reader(process.sentinel, ended.set)
        try:
            await loop.connect_accepted_socket(lambda: link, sock=ours)
            return await self._watch(process, link, ended)
        finally:
            await self._stop_child(process, link, ended)

    async def _watch(self, process: Any, link: _Link, ended: asyncio.Event) -> str:
        """Wait until the child ends, drops its link or stops beating; say which."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not ended.is_set():
            if link.lost.is_set():
                return link.problem or "closed its link"
            now = loop.time()
            if link.last_beat is None and now - started > self._startup_timeout:
                return f"sent no heartbeat {self._startup_timeout:g} s after start"
            if link.last_beat is not None and now - link.last_beat > self._heartbeat_timeout:
                return f"sent no heartbeat for {now - link.last_beat:.1f} s"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_WATCH_S):
                    await ended.wait()
        process.join(_STOP_WAIT_S)  # it has exited (its sentinel closed): reaps it at once
        return f"exited with code {process.exitcode}"

    async def _stop_child(self, process: Any, link: _Link, ended: asyncio.Event) -> None:
        """Ask the child to stop, kill it if it does not, and reap it."""
        loop = asyncio.get_running_loop()
        link.send(QUIT)
        if not ended.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_STOP_WAIT_S):
                    await ended.wait()
        if not ended.is_set():
            process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_STOP_WAIT_S):
                    await ended.wait()
        loop.remove_reader(process.sentinel)
        link.close(deliver_statuses=True)
        if ended.is_set():  # exited (its sentinel closed): this reaps it at once
            process.join(_STOP_WAIT_S)
