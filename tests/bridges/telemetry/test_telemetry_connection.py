"""Websocket sources through real loopback servers: reconnects, floods, limits, closing."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from bridges.telemetry import (
    BackoffPolicy,
    HomeAssistantSourceConfig,
    JsonFeedSource,
    JsonFeedSourceConfig,
    MemorySource,
    PointerSpec,
    RecordingSink,
    Sample,
    SourceStatus,
    StovelightSource,
    StovelightSourceConfig,
    TelemetryConfigError,
    create_source,
)

pytestmark = pytest.mark.timeout(20)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(10):
            await scenario()

    asyncio.run(bounded())


def frame(source: str, **values: object) -> str:
    return json.dumps({"source": source, "values": values})


class FrameServer:
    """A loopback websocket server that hands each connection to the test."""

    def __init__(self, expect_hello: bool = False) -> None:
        self.expect_hello = expect_hello
        self.port = 0
        self.connections: asyncio.Queue[ServerConnection] = asyncio.Queue()
        self.received: list[str | bytes] = []
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handler(self, websocket: ServerConnection) -> None:
        if self.expect_hello:  # the client's first frame, before the test may send
            self.received.append(await websocket.recv())
        await self.connections.put(websocket)
        try:
            async for message in websocket:
                self.received.append(message)
        except ConnectionClosed:
            pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_restart_mid_stream_resumes_samples() -> None:
    async def scenario() -> None:
        server = FrameServer()
        await server.start()
        sink = RecordingSink()
        back = asyncio.Event()
        sleeps: list[float] = []

        async def wait_for_server(delay: float) -> None:
            sleeps.append(delay)
            await back.wait()

        source = StovelightSource(
            StovelightSourceConfig("stoves", server.url),
            sink,
            sleep=wait_for_server,
            rand=lambda: 0.999,
        )
        task = asyncio.create_task(source.run(), name="test-source")
        connection = await server.connections.get()
        await connection.send(frame("stove-07", temp_c=180.0))
        await sink.wait_for(lambda: sink.values("stove-07.temp_c") == [180.0])

        await server.stop()
        await sink.wait_for(lambda: source.status is SourceStatus.DISCONNECTED)
        assert "connection lost" in source.detail

        await server.start()
        back.set()
        connection = await server.connections.get()
        await connection.send(frame("stove-07", temp_c=181.0))
        await sink.wait_for(lambda: sink.values("stove-07.temp_c") == [180.0, 181.0])
        assert sink.status_history() == [
            SourceStatus.CONNECTING,
            SourceStatus.CONNECTED,
            SourceStatus.DISCONNECTED,
            SourceStatus.CONNECTING,
            SourceStatus.CONNECTED,
        ]
        assert len(sleeps) == 1
        assert 0 <= sleeps[0] <= BackoffPolicy().cap
        stats = source.stats()
        assert stats["reconnects"] == 1
        assert stats["frames"] == 2
        assert stats["samples"] == 2
        assert isinstance(stats["last_frame_at"], float)

        await source.aclose()
        await task
        assert source.status is SourceStatus.DISCONNECTED
        await server.stop()

    run(scenario)


def test_malformed_flood_is_counted_not_fatal() -> None:
    async def scenario() -> None:
        server = FrameServer()
        await server.start()
        sink = RecordingSink()
        source = StovelightSource(StovelightSourceConfig("stoves", server.url), sink)
        task = asyncio.create_task(source.run())
        connection = await server.connections.get()
        for i in range(300):
            await connection.send("{not json" if i % 3 else '{"source": "a", "values": {"x": NaN}}')
        await connection.send(b"\x00binary")
        await connection.send(frame("stove-07", temp_c=99.5))
        await sink.wait_for(lambda: bool(sink.samples))
        assert sink.samples == [("stoves", Sample("stove-07.temp_c", 99.5, None))]
        stats = source.stats()
        assert stats["rejected"] == {"binary_frame": 1, "malformed_json": 200, "non_finite": 100}
        assert stats["frames"] == 302
        assert stats["connects"] == 1
        assert source.status is SourceStatus.CONNECTED
        await source.aclose()
        await task
        await server.stop()

    run(scenario)


def test_backoff_grows_to_cap_while_down_then_connects() -> None:
    async def scenario() -> None:
        server = FrameServer()
        server.port = free_port()
        sink = RecordingSink()
        sleeps: list[float] = []

        async def start_server_on_fourth_sleep(delay: float) -> None:
            sleeps.append(delay)
            if len(sleeps) == 4:
                await server.start()

        source = StovelightSource(
            StovelightSourceConfig("stoves", server.url),
            sink,
            sleep=start_server_on_fourth_sleep,
            rand=lambda: 1.0,
        )
        task = asyncio.create_task(source.run())
        connection = await server.connections.get()
        await connection.send(frame("a", x=1))
        await sink.wait_for(lambda: bool(sink.samples))
        assert sleeps == [0.25, 0.5, 1.0, 1.0]
        assert source.stats()["connect_failures"] == 4
        assert any("cannot connect" in detail for _, _, detail in sink.statuses)
        await source.aclose()
        await task
        await server.stop()

    run(scenario)


def test_json_feed_subscribes_on_every_connection() -> None:
    async def scenario() -> None:
        server = FrameServer(expect_hello=True)
        await server.start()
        sink = RecordingSink()
        config = JsonFeedSourceConfig(
            "grid",
            server.url,
            {"grid.load_mw": PointerSpec("/data/load", scale=0.001)},
            subscribe_message='{"op": "subscribe", "topic": "load"}',
            timestamp_pointer="/ts",
        )
        source = JsonFeedSource(config, sink, sleep=lambda _: asyncio.sleep(0))
        task = asyncio.create_task(source.run())
        connection = await server.connections.get()
        await connection.send('{"ts": 100, "data": {"load": 2500}}')
        await sink.wait_for(lambda: bool(sink.samples))
        assert sink.samples[0][1] == Sample("grid.load_mw", 2.5, 100.0)
        await connection.close()
        connection = await server.connections.get()
        await connection.send('{"ts": 101, "data": {"load": 3000}}')
        await sink.wait_for(lambda: len(sink.samples) == 2)
        assert server.received == ['{"op": "subscribe", "topic": "load"}'] * 2
        await source.aclose()
        await task
        await server.stop()

    run(scenario)


def test_failing_sink_is_counted_and_source_keeps_going() -> None:
    class FlakySink(RecordingSink):
        def on_samples(self, source_name: str, samples: list[Sample]) -> None:
            super().on_samples(source_name, samples)
            raise RuntimeError("runner bug")

    async def scenario() -> None:
        server = FrameServer()
        await server.start()
        sink = FlakySink()
        source = StovelightSource(StovelightSourceConfig("stoves", server.url), sink)
        task = asyncio.create_task(source.run())
        connection = await server.connections.get()
        await connection.send(frame("a", x=1))
        await connection.send(frame("a", x=2))
        await sink.wait_for(lambda: len(sink.samples) == 2)
        assert source.stats()["rejected"] == {"sink_error": 2}
        assert source.status is SourceStatus.CONNECTED
        await source.aclose()
        await task
        await server.stop()

    run(scenario)


def test_cancelling_the_runner_task_propagates_and_stops_the_worker() -> None:
    async def scenario() -> None:
        server = FrameServer()
        await server.start()
        sink = RecordingSink()
        source = StovelightSource(StovelightSourceConfig("stoves", server.url), sink)
        task = asyncio.create_task(source.run())
        await server.connections.get()
        await sink.wait_for(lambda: source.status is SourceStatus.CONNECTED)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        workers = [t for t in asyncio.all_tasks() if t.get_name() == "telemetry-source:stoves"]
        assert workers == []
        await server.stop()

    run(scenario)


def test_aclose_before_run_makes_run_return() -> None:
    async def scenario() -> None:
        source = StovelightSource(StovelightSourceConfig("s", "ws://127.0.0.1:9"), RecordingSink())
        await source.aclose()
        await source.run()
        assert source.stats()["connects"] == 0

    run(scenario)


def test_memory_source_twin() -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        source = MemorySource("rehearsal", sink, clock=lambda: 42.0)
        task = asyncio.create_task(source.run())
        source.push_status(SourceStatus.CONNECTED, "replaying")
        source.push_status(SourceStatus.CONNECTED, "replaying")
        source.push_samples([Sample("a.x", 1.0, 5.0), Sample("a.y", "on", 5.0)])
        source.push_rejections([])
        await source.aclose()
        await task
        assert sink.samples == [
            ("rehearsal", Sample("a.x", 1.0, 5.0)),
            ("rehearsal", Sample("a.y", "on", 5.0)),
        ]
        assert sink.status_history("rehearsal") == [
            SourceStatus.CONNECTED,
            SourceStatus.DISCONNECTED,
        ]
        stats = source.stats()
        assert stats["frames"] == 1
        assert stats["samples"] == 2
        assert stats["last_frame_at"] == 42.0
        assert stats["kind"] == "memory"

    run(scenario)


def test_backoff_policy() -> None:
    policy = BackoffPolicy(initial=0.25, cap=1.0)
    assert [policy.ceiling(n) for n in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert policy.ceiling(10_000) == 1.0
    assert policy.delay(1, 0.5) == 0.25
    assert policy.delay(0, 0.0) == 0.0
    with pytest.raises(TelemetryConfigError):
        BackoffPolicy(initial=2.0, cap=1.0)


def test_config_validation_and_token_hidden() -> None:
    with pytest.raises(TelemetryConfigError):
        StovelightSourceConfig("s", "http://example.org")
    with pytest.raises(TelemetryConfigError):
        StovelightSourceConfig("", "ws://x")
    with pytest.raises(TelemetryConfigError):
        JsonFeedSourceConfig("f", "ws://x", {})
    with pytest.raises(TelemetryConfigError):
        HomeAssistantSourceConfig("ha", "ws://x", "", {"sensor.a": "a"})
    config = HomeAssistantSourceConfig("ha", "ws://x", "s3cret", {"sensor.a": "a"})
    assert "s3cret" not in repr(config)
    assert create_source(config, RecordingSink()).kind == "homeassistant"
