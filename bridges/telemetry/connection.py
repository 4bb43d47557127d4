"""The I/O layer: websocket telemetry sources that reconnect forever.

A :class:`TelemetrySource` is a small coordinator that owns one websocket connection
at a time. It feeds frames into a fresh sans-I/O protocol object per connection
(:mod:`.protocol`, :mod:`.jsonfeed`, :mod:`.homeassistant`), sends what the protocol
wants sent, counts frames, samples and rejections, and reports samples and status
changes to a :class:`~bridges.telemetry.types.TelemetrySink`.

Lifecycle::

    source = create_source(config, sink)
    task = asyncio.create_task(source.run(), name=f"telemetry:{source.name}")
    ...
    await source.aclose()       # run() then returns normally

``run()`` never raises for network or protocol trouble: it reconnects with capped
exponential backoff and full jitter, and returns only after :meth:`aclose` or a
permanent failure (a rejected Home Assistant token: status ``FAILED``, see
:attr:`TelemetrySource.failure`).

The show loop is never held by a frame (``docs/performance.md``, "Telemetry input"):

* frames over the source's limits are dropped and counted by the protocol, cheaply and
  before any decoding where the limit allows; the connection stays up. The websocket
  layer's own ``max_size`` is far above the application limit, so only a frame too big
  to buffer at all closes the connection (1009);
* a frame bigger than :data:`OFF_LOOP_BYTES` but within the limit is decoded in the
  source's own decoder thread while the session waits for it (one frame in flight,
  order kept);
* samples reach the sink in chunks of at most :data:`DELIVERY_CHUNK`, with a yield to
  the loop between chunks;
* a connection that ends before it was stable does not reset the backoff, and one
  closed for a violation waits longer each time (``BackoffPolicy.penalty``).
"""

from __future__ import annotations

import abc
import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from bridges.eventloop import after_pending_io
from bridges.ratelimit import RateLimitedLogger

from .config import (
    ConnectionSettings,
    HomeAssistantSourceConfig,
    JsonFeedSourceConfig,
    SourceConfig,
    StovelightSourceConfig,
)
from .exceptions import TelemetryProtocolError
from .homeassistant import HomeAssistantProtocol
from .jsonfeed import JsonFeedProtocol
from .protocol import StovelightProtocol
from .types import (
    RejectReason,
    Sample,
    SourceCounters,
    SourceStatus,
    TelemetryProtocol,
    TelemetrySink,
)

__all__ = [
    "DELIVERY_CHUNK",
    "OFF_LOOP_BYTES",
    "HomeAssistantSource",
    "JsonFeedSource",
    "SleepFn",
    "StovelightSource",
    "TelemetrySource",
    "WebSocketSource",
    "create_source",
]

_LOGGER = logging.getLogger(__name__)

_YIELD_AFTER_S = 0.0005
"""Longest a source works on queued frames before what else arrived runs (a GO, a
control message): what a GO may wait for behind a flood. The source then yields with
:func:`bridges.eventloop.after_pending_io`, so the GO goes before the next frame even
when that frame is already read. At 10,000 frames/s GOs reached the wire at p99
0.29-0.84 ms (``bench/go_latency.py --loads telemetry``; 0.42-1.14 ms when a plain
``sleep(0)`` let the source's next batch go first); 40,000 frames/s are all read, at
62 % CPU against 51 % (``bench/ws_to_osc.py --only stovelight``)."""

#: Frames longer than this (characters or bytes) are decoded in the decoder thread.
OFF_LOOP_BYTES = 16_384
#: Most samples handed to the sink in one call; the loop gets a turn between chunks.
DELIVERY_CHUNK = 512

#: An awaitable sleep, injectable so tests can drive the backoff without waiting.
SleepFn = Callable[[float], Awaitable[None]]


class TelemetrySource(abc.ABC):
    """A named source of telemetry samples, reporting to a sink.

    Subclasses implement :meth:`_run`; this class owns the task it runs in, status
    reporting, counters and safe delivery to the sink.

    Args:
        name: Source name used in logs, status and the health display.
        sink: Where samples and status changes go.
        clock: Wall clock for ``last_frame_at`` (epoch seconds).
        log_interval: Seconds between repeated warnings of the same kind.
    """

    kind = "abstract"

    def __init__(
        self,
        name: str,
        sink: TelemetrySink,
        *,
        clock: Callable[[], float] = time.time,
        log_interval: float = 10.0,
    ) -> None:
        self._name = name
        self._sink = sink
        self._clock = clock
        self._status = SourceStatus.DISCONNECTED
        self._detail = "not started"
        self._failure: TelemetryProtocolError | None = None
        self._closing = False
        self._worker: asyncio.Task[None] | None = None
        self._ratelimited = RateLimitedLogger(_LOGGER, log_interval)
        self.counters = SourceCounters()

    @property
    def name(self) -> str:
        """The source name."""
        return self._name

    @property
    def status(self) -> SourceStatus:
        """The last reported status."""
        return self._status

    @property
    def detail(self) -> str:
        """The detail that came with the last status."""
        return self._detail

    @property
    def failure(self) -> TelemetryProtocolError | None:
        """The permanent failure that stopped this source, if any."""
        return self._failure

    async def run(self) -> None:
        """Run the source until :meth:`aclose` or a permanent failure.

        The work happens in an owned task named ``telemetry-source:<name>``. If the
        task calling ``run()`` is cancelled, that task is cancelled too and the
        cancellation propagates.

        Raises:
            RuntimeError: ``run()`` is already in progress.
        """
        if self._worker is not None and not self._worker.done():
            raise RuntimeError(f"telemetry source {self._name!r} is already running")
        if self._closing:
            return
        worker = asyncio.create_task(self._guarded_run(), name=f"telemetry-source:{self._name}")
        self._worker = worker
        try:
            await asyncio.shield(worker)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                worker.cancel()
                await asyncio.wait([worker])
                raise
            # Otherwise the worker was cancelled by aclose(): a normal end.

    async def aclose(self) -> None:
        """Stop the source, close its connection and wait for the worker to finish."""
        self._closing = True
        worker = self._worker
        if worker is not None and not worker.done():
            worker.cancel()
            await asyncio.wait([worker])
        if self._status is not SourceStatus.FAILED:
            self._set_status(SourceStatus.DISCONNECTED, "closed")

    def stats(self) -> dict[str, object]:
        """Plain, JSON-serialisable snapshot for the health display."""
        return {
            "name": self._name,
            "kind": self.kind,
            "status": self._status.value,
            "detail": self._detail,
            "failure": None if self._failure is None else str(self._failure),
            **self.counters.as_dict(),
        }

    @abc.abstractmethod
    async def _run(self) -> None:
        """Produce telemetry until cancelled (the body of the worker task)."""

    async def _guarded_run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug, not bad input: say so loudly, but keep the show running.
            _LOGGER.exception("telemetry source %s stopped by an internal error", self._name)
            self._set_status(SourceStatus.FAILED, "internal error (see log)")

    def _set_status(self, status: SourceStatus, detail: str) -> None:
        """Record a status and report it to the sink if it changed."""
        if (status, detail) == (self._status, self._detail):
            return
        self._status, self._detail = status, detail
        try:
            self._sink.on_status(self._name, status, detail)
        except Exception:
            self.counters.reject([RejectReason.SINK_ERROR])
            self._ratelimited.warning(
                "sink-status", "telemetry sink failed on a status of %s", self._name
            )
            _LOGGER.debug("sink traceback", exc_info=True)

    async def _deliver_chunked(self, samples: list[Sample]) -> None:
        """Hand samples to the sink :data:`DELIVERY_CHUNK` at a time, yielding between."""
        for start in range(0, len(samples), DELIVERY_CHUNK):
            if start:
                await after_pending_io()
            self._deliver(samples[start : start + DELIVERY_CHUNK])

    def _deliver(self, samples: list[Sample]) -> None:
        """Count samples and hand them to the sink; a failing sink is counted, not fatal."""
        if not samples:
            return
        self.counters.samples += len(samples)
        try:
            self._sink.on_samples(self._name, samples)
        except Exception:
            self.counters.reject([RejectReason.SINK_ERROR])
            self._ratelimited.warning(
                "sink-samples", "telemetry sink failed on samples from %s", self._name
            )
            _LOGGER.debug("sink traceback", exc_info=True)


class WebSocketSource(TelemetrySource):
    """A telemetry source reading one websocket URL through a sans-I/O protocol.

    Args:
        name: Source name.
        url: ``ws://`` or ``wss://`` URL.
        sink: Where samples and status changes go.
        protocol_factory: Builds a fresh protocol object for each connection.
        max_frame_bytes: The application's frame limit (the protocol drops larger
            frames); websockets' own ``max_size`` is
            :meth:`ConnectionSettings.websocket_max_size` of it.
        settings: Timeouts, keepalive and backoff.
        rand: Uniform random numbers in [0, 1) for the backoff jitter.
        sleep: Awaitable sleep used between attempts.
        clock: Wall clock for ``last_frame_at``.
        log_interval: Seconds between repeated warnings of the same kind.
    """

    kind = "websocket"

    def __init__(
        self,
        name: str,
        url: str,
        sink: TelemetrySink,
        protocol_factory: Callable[[], TelemetryProtocol],
        *,
        max_frame_bytes: int,
        settings: ConnectionSettings | None = None,
        rand: Callable[[], float] = random.random,
        sleep: SleepFn = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        log_interval: float = 10.0,
    ) -> None:
        super().__init__(name, sink, clock=clock, log_interval=log_interval)
        self._url = url
        self._protocol_factory = protocol_factory
        self._max_frame_bytes = max_frame_bytes
        self._settings = settings or ConnectionSettings()
        self._rand = rand
        self._sleep = sleep
        self._protocol: TelemetryProtocol | None = None
        self._decoder: ThreadPoolExecutor | None = None
        self._decoding = False

    def stats(self) -> dict[str, object]:
        """Health snapshot, with the URL and where frames are decoded."""
        return {**super().stats(), "url": self._url, "decoder": "thread"}

    async def aclose(self) -> None:
        """Stop the source and its decoder thread."""
        await super().aclose()
        decoder, self._decoder = self._decoder, None
        if decoder is not None:
            decoder.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        attempt = 0
        violations = 0
        loop = asyncio.get_running_loop()
        backoff = self._settings.backoff
        while not self._closing:
            self._set_status(SourceStatus.CONNECTING, f"connecting to {self._url}")
            violation = False
            try:
                websocket = await connect(
                    self._url,
                    max_size=self._settings.websocket_max_size(self._max_frame_bytes),
                    open_timeout=self._settings.open_timeout,
                    ping_interval=self._settings.ping_interval,
                    ping_timeout=self._settings.ping_timeout,
                    close_timeout=self._settings.close_timeout,
                    # no permessage-deflate: inflating a big frame would run on the
                    # show loop, and JSON telemetry on a show network is small
                    compression=None,
                    proxy=None,
                )
            except (OSError, TimeoutError, WebSocketException) as err:
                self.counters.connect_failures += 1
                detail = f"cannot connect to {self._url}: {_describe(err)}"
                self._set_status(SourceStatus.DISCONNECTED, detail)
                self._ratelimited.warning("connect", "telemetry source %s: %s", self._name, detail)
            else:
                self.counters.connects += 1
                opened = loop.time()
                try:
                    detail, became_ready, violation = await self._session(websocket)
                finally:
                    await websocket.close()
                # only a connection that was ready and stable clears the backoff: a peer
                # that accepts and then drops or breaks every connection backs off
                stable = loop.time() - opened >= self._settings.stable_after
                if became_ready and stable and not violation:
                    attempt = violations = 0
                failure = self._protocol.failure if self._protocol is not None else None
                self._protocol = None  # its entity health belongs to a closed connection
                if failure is not None and failure.permanent:
                    self._failure = failure
                    self._set_status(SourceStatus.FAILED, str(failure))
                    _LOGGER.error(
                        "telemetry source %s stopped: %s; fix the configuration and restart",
                        self._name,
                        failure,
                    )
                    return
                self._set_status(SourceStatus.DISCONNECTED, detail)
                self._ratelimited.warning(
                    "disconnect", "telemetry source %s disconnected: %s", self._name, detail
                )
            if violation:
                violations += 1
                self.counters.violation_closes += 1
                delay = backoff.penalty(violations, self._rand())
            else:
                delay = backoff.delay(attempt, self._rand())
                attempt += 1
            self.counters.retry_delay = delay
            await self._sleep(delay)

    async def _session(self, websocket: ClientConnection) -> tuple[str, bool, bool]:
        """Serve one connection until it ends.

        Returns:
            Why it ended, whether the protocol became ready on it, and whether it was
            closed for a violation (a frame beyond the websocket's ``max_size``).
        """
        protocol = self._protocol_factory()
        self._protocol = protocol
        ready = False
        loop = asyncio.get_running_loop()
        busy = 0.0  # time spent on frames since the last yield
        try:
            while True:
                for text in protocol.data_to_send():
                    await websocket.send(text)
                if protocol.failure is not None:
                    return str(protocol.failure), ready, False
                if not ready and protocol.ready:
                    ready = True
                    self._set_status(SourceStatus.CONNECTED, f"connected to {self._url}")
                    self._ratelimited.log(
                        logging.INFO,
                        "connected",
                        "telemetry source %s connected to %s",
                        self._name,
                        self._url,
                    )
                # a flood of queued frames must not starve the rest of the show
                # (operator controls, the engine tick): after a little work, what the
                # loop's next poll finds (a GO) runs before the next frame; a plain
                # sleep(0) would resume this task first, a second batch ahead of the GO.
                # Only the frames' own time counts: the wall clock since the last
                # yield would count the waits in recv() too, and yield at every frame
                # of a steady stream.
                if busy > _YIELD_AFTER_S:
                    await after_pending_io()
                    busy = 0.0
                message = await websocket.recv()
                started = loop.time()
                await self._handle_frame(protocol, message)
                busy += loop.time() - started
        except ConnectionClosed as closed:
            if closed.sent is not None and closed.sent.code == CloseCode.MESSAGE_TOO_BIG:
                self.counters.reject([RejectReason.OVERSIZE])
                limit = self._settings.websocket_max_size(self._max_frame_bytes)
                return f"frame larger than {limit} bytes closed the connection", ready, True
            return f"connection lost: {closed}", ready, False

    async def _handle_frame(self, protocol: TelemetryProtocol, message: str | bytes) -> None:
        """Feed one frame to the protocol, then count and deliver what came out.

        A frame within the limit but longer than :data:`OFF_LOOP_BYTES` is decoded in
        the decoder thread; the session waits for it, so frames stay in order and at
        most one is in flight.
        """
        self.counters.frames += 1
        self.counters.last_frame_at = self._clock()
        try:
            if OFF_LOOP_BYTES < len(message) <= self._max_frame_bytes:
                await self._decode_off_loop(protocol, message)
            else:
                _feed(protocol, message)
        except Exception:
            self.counters.reject([RejectReason.PARSER_ERROR])
            self._ratelimited.warning(
                "parser", "telemetry source %s: parser error, frame dropped", self._name
            )
            _LOGGER.debug("parser traceback", exc_info=True)
        rejections = protocol.rejections_received()
        if rejections:
            self.counters.reject(rejections)
            self._ratelimited.warning(
                "rejected",
                "telemetry source %s rejected data: %s (totals: %s)",
                self._name,
                ", ".join(sorted({reason.value for reason in rejections})),
                dict(self.counters.rejected),
            )
        samples = protocol.samples_received()
        if len(samples) > DELIVERY_CHUNK:
            await self._deliver_chunked(samples)
        else:
            self._deliver(samples)

    async def _decode_off_loop(self, protocol: TelemetryProtocol, message: str | bytes) -> None:
        """Run the protocol on one big frame in this source's decoder thread."""
        if self._decoder is None:
            self._decoder = ThreadPoolExecutor(
                1, thread_name_prefix=f"telemetry-decode:{self._name}"
            )
        self.counters.off_loop_frames += 1
        self._decoding = True
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._decoder, _feed, protocol, message
            )
        finally:
            self._decoding = False


def _feed(protocol: TelemetryProtocol, message: str | bytes) -> None:
    """Give one websocket message to a protocol object."""
    if isinstance(message, str):
        protocol.receive_text(message)
    else:
        protocol.receive_bytes(message)


def _describe(err: BaseException) -> str:
    """A short operator-readable description of a connection error."""
    if isinstance(err, TimeoutError):
        return "timed out"
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class _ConfiguredSource(WebSocketSource):
    """A source built from its configuration; subclasses say which protocol it speaks."""

    def __init__(
        self,
        config: SourceConfig,
        sink: TelemetrySink,
        *,
        rand: Callable[[], float] = random.random,
        sleep: SleepFn = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        factory, max_frame_bytes = self._protocol_for(config)
        super().__init__(
            config.name,
            config.url,
            sink,
            factory,
            max_frame_bytes=max_frame_bytes,
            settings=config.settings,
            rand=rand,
            sleep=sleep,
            clock=clock,
        )

    @staticmethod
    @abc.abstractmethod
    def _protocol_for(config: Any) -> tuple[Callable[[], TelemetryProtocol], int]:
        """A factory of fresh protocol objects (one per connection) and the frame cap."""


class StovelightSource(_ConfiguredSource):
    """Source speaking Stovelight's own telemetry protocol."""

    kind = "stovelight"

    @staticmethod
    def _protocol_for(
        config: StovelightSourceConfig,
    ) -> tuple[Callable[[], TelemetryProtocol], int]:
        limits = config.limits
        return (lambda: StovelightProtocol(limits)), limits.max_frame_bytes


class JsonFeedSource(_ConfiguredSource):
    """Source reading configured signals out of any JSON websocket feed."""

    kind = "jsonfeed"

    @staticmethod
    def _protocol_for(config: JsonFeedSourceConfig) -> tuple[Callable[[], TelemetryProtocol], int]:
        parser, subscribe = config.parser(), config.subscribe_message
        return (lambda: JsonFeedProtocol(parser, subscribe)), config.max_frame_bytes


class HomeAssistantSource(_ConfiguredSource):
    """Source subscribed to Home Assistant entities over its WebSocket API.

    Each (re)connection authenticates and subscribes again; Home Assistant then sends
    every entity's current state as a fresh ``a`` event.
    """

    kind = "homeassistant"

    def __init__(self, config: HomeAssistantSourceConfig, sink: TelemetrySink, **kwargs: Any):
        super().__init__(config, sink, **kwargs)
        self._entity_stats: dict[str, object] = {}

    @staticmethod
    def _protocol_for(
        config: HomeAssistantSourceConfig,
    ) -> tuple[Callable[[], TelemetryProtocol], int]:
        return config.protocol, config.max_frame_bytes

    def stats(self) -> dict[str, object]:
        """Health snapshot, with per-entity health and the Home Assistant version."""
        protocol = self._protocol
        # while the decoder thread works on a frame the protocol's state is its own:
        # the last snapshot is shown meanwhile
        if not self._decoding:
            self._entity_stats = {}
            if isinstance(protocol, HomeAssistantProtocol):
                self._entity_stats = {
                    "ha_version": protocol.ha_version,
                    "entities": {
                        entity_id: health.value
                        for entity_id, health in protocol.entity_health().items()
                    },
                }
        return {**super().stats(), **self._entity_stats}


def create_source(
    config: SourceConfig,
    sink: TelemetrySink,
    *,
    rand: Callable[[], float] = random.random,
    sleep: SleepFn = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> WebSocketSource:
    """Build the source that matches a configuration.

    Args:
        config: A Stovelight, JSON feed or Home Assistant source configuration.
        sink: Where samples and status changes go.
        rand: Random numbers for backoff jitter (tests pass a constant).
        sleep: Sleep between attempts (tests pass a controllable fake).
        clock: Wall clock for ``last_frame_at``.

    Returns:
        A source ready to ``run()``.
    """
    if isinstance(config, StovelightSourceConfig):
        return StovelightSource(config, sink, rand=rand, sleep=sleep, clock=clock)
    if isinstance(config, JsonFeedSourceConfig):
        return JsonFeedSource(config, sink, rand=rand, sleep=sleep, clock=clock)
    return HomeAssistantSource(config, sink, rand=rand, sleep=sleep, clock=clock)
