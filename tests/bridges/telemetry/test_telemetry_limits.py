"""Frame limits, off-loop decoding and violation backoff through real loopback servers.

Each limit refuses and counts without closing the connection; a frame too big for the
websocket layer closes it and is penalised with a growing wait; a big legal frame is
decoded in the source's decoder thread and reaches the sink in bounded chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import bridges.telemetry.connection as connection
from bridges import eventloop
from bridges.telemetry import (
    BackoffPolicy,
    ConnectionSettings,
    FrameLimits,
    RecordingSink,
    Sample,
    SourceStatus,
    StovelightProtocol,
    StovelightSource,
    StovelightSourceConfig,
    TelemetrySource,
    WebSocketSource,
)
from bridges.telemetry.connection import DELIVERY_CHUNK, OFF_LOOP_BYTES
from tests.bridges.telemetry.test_telemetry_connection import FrameServer, frame, run

pytestmark = pytest.mark.timeout(20)


@contextlib.asynccontextmanager
async def running(
    make: Callable[[str], TelemetrySource],
) -> AsyncIterator[tuple[FrameServer, TelemetrySource]]:
    """A loopback server and a running source made for its URL; both closed after."""
    server = FrameServer()
    await server.start()
    source = make(server.url)
    task = asyncio.create_task(source.run())
    try:
        yield server, source
    finally:
        await source.aclose()
        await task
        await server.stop()


def stoves(
    sink: RecordingSink,
    limits: FrameLimits | None = None,
    settings: ConnectionSettings | None = None,
    **kwargs: Any,
) -> Callable[[str], TelemetrySource]:
    """A Stovelight source named 'stoves' for a URL; ``kwargs`` go to the source."""
    limits = limits or FrameLimits()
    settings = settings or ConnectionSettings()
    return lambda url: StovelightSource(
        StovelightSourceConfig("stoves", url, limits, settings), sink, **kwargs
    )


def has_samples(sink: RecordingSink, count: int) -> Callable[[], bool]:
    """A predicate for ``sink.wait_for``: the sink holds ``count`` samples."""
    return lambda: len(sink.samples) == count


def recorder(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    """A sleep that records its delay and returns at once."""

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    return sleep


def test_each_limit_refuses_and_counts_without_closing() -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        limits = FrameLimits(max_frame_bytes=4096, max_objects=4, max_values=8)
        async with running(stoves(sink, limits=limits)) as (server, source):
            connection = await server.connections.get()
            await connection.send(frame("a", pad="x" * 5000))  # bytes: oversize
            await connection.send(json.dumps([{"source": "a", "values": {"x": 1}}] * 5))
            await connection.send(frame("a", **{f"k{i}": i for i in range(9)}))  # values
            await connection.send("[" * 1100 + "]" * 1100)  # nesting: malformed_json
            await connection.send(frame("a", s="y" * 65, ok=2))  # string: that value only
            await connection.send(frame("a", **{f"k{i}": i for i in range(8)}))  # at limits
            await sink.wait_for(lambda: len(sink.samples) == 9)
            stats = source.stats()
        assert stats["rejected"] == {
            "malformed_json": 1,
            "oversize": 1,
            "string_too_long": 1,
            "too_many_objects": 1,
            "too_many_values": 1,
        }
        assert stats["connects"] == 1
        assert stats["violation_closes"] == 0
        assert sink.status_history()[:2] == [SourceStatus.CONNECTING, SourceStatus.CONNECTED]
        assert SourceStatus.DISCONNECTED not in sink.status_history()[:-1]  # only at close
        assert sink.values("a.ok") == [2.0]

    run(scenario)


def test_frame_beyond_websocket_max_size_closes_and_backs_off_more_each_time() -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        sleeps: list[float] = []
        settings = ConnectionSettings(max_size_floor=2048)
        limits = FrameLimits(max_frame_bytes=64)
        assert settings.websocket_max_size(limits.max_frame_bytes) == 2048
        make = stoves(
            sink, limits=limits, settings=settings, sleep=recorder(sleeps), rand=lambda: 1.0
        )
        async with running(make) as (server, source):
            for _ in range(4):
                connection = await server.connections.get()
                await connection.send(frame("a", x=1))
                await connection.send(frame("a", pad="x" * 3000))  # over max_size: 1009
            connection = await server.connections.get()
            await connection.send(frame("a", x=2))
            await sink.wait_for(lambda: sink.values("a.x") == [1.0] * 4 + [2.0])
            stats = source.stats()
        assert stats["violation_closes"] == 4
        assert stats["rejected"] == {"oversize": 4}
        assert sleeps == [BackoffPolicy().penalty(n, 1.0) for n in (1, 2, 3, 4)]
        assert sleeps == [2.0, 4.0, 8.0, 16.0]
        assert stats["retry_delay"] == 16.0

    run(scenario)


def test_connections_that_keep_dropping_do_not_reset_the_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        sleeps: list[float] = []
        make = stoves(sink, sleep=recorder(sleeps), rand=lambda: 1.0)
        async with running(make) as (server, source):
            for i in range(4):
                connection = await server.connections.get()
                await connection.send(frame("a", x=i))
                await sink.wait_for(has_samples(sink, i + 1))
                await connection.close()
            await server.connections.get()
            assert sleeps == [0.25, 0.5, 1.0, 1.0]
            assert source.stats()["violation_closes"] == 0

    caplog.set_level(logging.INFO, logger="bridges.telemetry")
    run(scenario)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("connected to" in line for line in lines) == 1  # 5 connections, 1 line
    assert sum("disconnected" in line for line in lines) == 1  # 4 drops, 1 line


class _ThreadNotingProtocol(StovelightProtocol):
    """The real protocol, noting which thread decoded each frame."""

    def __init__(self, limits: FrameLimits, threads: list[str]) -> None:
        super().__init__(limits)
        self._threads = threads

    def receive_text(self, text: str) -> None:
        self._threads.append(threading.current_thread().name)
        super().receive_text(text)


class _ChunkSink(RecordingSink):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        self.calls.append(len(samples))
        super().on_samples(source_name, samples)


def test_big_legal_frame_is_decoded_off_loop_and_delivered_in_chunks() -> None:
    async def scenario() -> None:
        sink = _ChunkSink()
        threads: list[str] = []
        limits = FrameLimits(max_frame_bytes=1 << 20, max_values=5000)

        def make(url: str) -> TelemetrySource:
            return WebSocketSource(
                "stoves",
                url,
                sink,
                lambda: _ThreadNotingProtocol(limits, threads),
                max_frame_bytes=limits.max_frame_bytes,
            )

        async with running(make) as (server, source):
            connection = await server.connections.get()
            big = frame("a", **{f"k{i}": i for i in range(5000)})
            assert len(big) > OFF_LOOP_BYTES
            await connection.send(big)
            await connection.send(frame("a", small=1))
            await sink.wait_for(lambda: sink.values("a.small") == [1.0])
            assert source.stats()["off_loop_frames"] == 1
        assert threads[0].startswith("telemetry-decode:stoves")
        assert threads[1] == threading.current_thread().name  # small frames: on the loop
        assert sum(sink.calls) == 5001
        assert max(sink.calls) == DELIVERY_CHUNK
        assert sink.calls[-1] == 1  # order kept: the small frame came after the big one
        assert [s.signal for _, s in sink.samples[:3]] == ["a.k0", "a.k1", "a.k2"]

    run(scenario)


def test_a_malformed_flood_writes_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        async with running(stoves(sink)) as (server, source):
            connection = await server.connections.get()
            for i in range(500):
                await connection.send("{not json" if i % 2 else frame("a", **{"-bad": 1}))
            await connection.send(frame("a", x=1))
            await sink.wait_for(lambda: bool(sink.samples))
            assert source.stats()["rejected"] == {"bad_name": 250, "malformed_json": 250}

    caplog.set_level(logging.INFO, logger="bridges.telemetry")
    run(scenario)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("telemetry source stoves rejected data: bad_name")


class _GoMeanwhile(RecordingSink):
    """A sink that, on the first frame, sends a datagram to the show's loop (a GO that
    arrives while a flood is being read), and logs frames and the GO in turn."""

    def __init__(self, log: list[str], go_port: int) -> None:
        super().__init__()
        self.log = log
        self.go_port = go_port

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        super().on_samples(source_name, samples)
        for sample in samples:
            self.log.append(f"frame {sample.value:g}")
            if sample.value == 0:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as go:
                    go.sendto(b"go", ("127.0.0.1", self.go_port))


def test_a_go_that_arrives_during_a_flood_goes_before_the_next_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a source reading a flood yields, what the loop's next poll finds (a GO on a
    socket) runs before the source's next frame, even when that frame is already read
    and waiting: a plain ``sleep(0)`` resumes the source first, a batch ahead."""
    monkeypatch.setattr(connection, "_YIELD_AFTER_S", -1.0)  # yield before every frame
    log: list[str] = []

    class Go(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
            log.append("GO")

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Go, local_addr=("127.0.0.1", 0))
        sink = _GoMeanwhile(log, transport.get_extra_info("sockname")[1])
        try:
            async with running(stoves(sink)) as (server, _source):
                connection_ = await server.connections.get()
                burst = [frame("a", x=i) for i in range(4)]  # read in one go
                await asyncio.gather(*(connection_.send(text) for text in burst))
                await sink.wait_for(has_samples(sink, 4))
                await eventually_logged(log, "GO")
        finally:
            transport.close()
        assert log[:3] == ["frame 0", "GO", "frame 1"], log

    run(scenario)


def test_a_steady_stream_does_not_yield_at_every_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the frames' own work counts towards a yield, not the waits between frames:
    20 frames 2 ms apart (about 1 ms of work in all) yield a few times at most, where a
    wall-clock count would yield before every frame after the first."""
    yields: list[float] = []
    real = eventloop.after_pending_io  # what the source module imported

    def counted() -> asyncio.Future[None]:
        yields.append(0.0)
        return real()

    monkeypatch.setattr(connection, "after_pending_io", counted)

    async def scenario() -> None:
        sink = RecordingSink()
        async with running(stoves(sink)) as (server, _source):
            connection_ = await server.connections.get()
            for i in range(20):
                await connection_.send(frame("a", x=i))
                await asyncio.sleep(0.002)
            await sink.wait_for(has_samples(sink, 20))

    run(scenario)
    assert len(yields) <= 3, yields


async def eventually_logged(log: list[str], entry: str) -> None:
    """Wait (yielding) until ``entry`` is in ``log``."""
    while entry not in log:
        await asyncio.sleep(0.001)


def test_penalty_and_websocket_ceiling_policy() -> None:
    policy = BackoffPolicy()
    assert [policy.penalty(n, 1.0) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert [policy.penalty(n, 0.0) for n in (1, 5)] == [1.0, 15.0]  # never under half
    settings = ConnectionSettings()
    assert settings.websocket_max_size(65_536) == 4 << 20  # the floor
    assert settings.websocket_max_size(1 << 20) == 16 << 20  # 16 x the limit
    assert settings.websocket_max_size(16 << 20) == 64 << 20  # the ceiling
    assert settings.websocket_max_size(48 << 20) == 96 << 20  # twice a limit above it
