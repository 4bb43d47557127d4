"""Sources with a decoder process: the link's framing and outbox, then real producers.

The producer is a real websockets server running on its own thread and loop, so a
show loop that falls behind (a slow sink) does not slow the producer down. The source
runs its real child process; a test kills it with SIGKILL and watches it come back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import asynccontextmanager, contextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from bridges.telemetry import (
    PROCESS_DECODER_BYTES,
    Decoder,
    FrameLimits,
    HomeAssistantSourceConfig,
    ProcessSource,
    RecordingSink,
    Sample,
    SourceStatus,
    StovelightSourceConfig,
    WebSocketSource,
    open_source,
)
from bridges.telemetry.decoder_wire import (
    BATCH_SAMPLES,
    Batch,
    FrameReader,
    LinkError,
    Outbox,
    StatusItem,
    decode_samples,
    encode_samples,
    frame,
)
from tests.bridges.telemetry.ha_standin import HomeAssistantStandIn

pytestmark = pytest.mark.timeout(60)

BIG = FrameLimits(max_frame_bytes=1 << 20, max_objects=16, max_values=20_000)


# -- the link, without processes ---------------------------------------------------------


def test_frame_reader_splits_a_stream_cut_anywhere() -> None:
    stream = frame(b"S", b"abc") + frame(b"T") + frame(b"H", b"x" * 300)
    for cut in range(len(stream) + 1):
        reader = FrameReader()
        got = reader.feed(stream[:cut]) + reader.feed(stream[cut:])
        assert got == [(b"S", b"abc"), (b"T", b""), (b"H", b"x" * 300)]


@pytest.mark.parametrize("length", [0, 65])
def test_frame_reader_refuses_lengths_out_of_range(length: int) -> None:
    with pytest.raises(LinkError):
        FrameReader(max_message=64).feed(length.to_bytes(4, "big") + b"S")


def test_sample_batches_round_trip_exactly() -> None:
    samples = [
        Sample("a.x", 0.1 + 0.2, 1764230400.123456),
        Sample("a.y", -1e300, None),
        Sample("a.on", True, None),
        Sample("a.state", "preheat ✓", 1.0),
        Sample("a.gone", None, None),
    ]
    assert decode_samples(encode_samples(samples)) == samples


@pytest.mark.parametrize(
    "body", [b"[1, 2]", b"{}", b"not json", b'[["a"], [1], []]', b'[["a"], [1], [null], []]']
)
def test_malformed_batches_are_link_errors(body: bytes) -> None:
    with pytest.raises(LinkError):
        decode_samples(body)


def samples_of(item: StatusItem | Batch | None) -> list[Sample]:
    assert isinstance(item, Batch)
    assert decode_samples(item.encode()) == item.samples()
    return item.samples()


def test_outbox_keeps_the_newest_value_of_a_waiting_signal_in_place() -> None:
    box = Outbox(max_signals=100, batch=3)
    box.add_samples([Sample("a", 1.0, None), Sample("b", 1.0, None)])
    box.add_samples([Sample("c", 1.0, None), Sample("a", 2.0, 5.0)])
    assert box.conflated == 1 and box.waiting == 3
    assert samples_of(box.pop()) == [
        Sample("a", 2.0, 5.0),
        Sample("b", 1.0, None),
        Sample("c", 1.0, None),
    ]
    assert box.pop() is None and not box


def big_delivery(count: int, value: float, prefix: str = "k") -> list[Sample]:
    return [Sample(f"{prefix}{i}", value, None) for i in range(count)]


def test_outbox_lets_small_frames_go_ahead_of_a_big_one() -> None:
    box = Outbox(max_signals=10_000, batch=8)
    box.add_samples(big_delivery(100, 1.0))  # a big frame's chunk: the bulk lane
    box.add_samples([Sample("steady", 1.0, None)])  # a small frame: the fast lane
    box.add_samples([Sample("k50", 2.0, None)])  # a small frame updates a bulk value
    first = samples_of(box.pop())
    assert [s.signal for s in first] == ["steady", "k50", "k0", "k1", "k2", "k3", "k4", "k5"]
    assert first[1].value == 2.0
    box.add_samples(big_delivery(100, 3.0))  # waiting ones updated in place, k50 too
    box.add_samples([Sample(f"f{i}", 1.0, None) for i in range(10)])  # fast: half a batch
    second = samples_of(box.pop())
    assert [s.signal for s in second] == ["f0", "f1", "f2", "f3", "k6", "k7", "k8", "k9"]
    assert all(s.value == 3.0 for s in second[4:])
    taken = first + second
    while (item := box.pop()) is not None:
        taken += samples_of(item)
    latest = {s.signal: s.value for s in taken}
    assert len(taken) == 111 + 7  # the 7 taken before the second big delivery: again
    assert all(latest[f"k{i}"] == 3.0 for i in range(100))  # each at its newest value


def test_outbox_keeps_statuses_in_order_and_only_the_newest_of_a_run() -> None:
    box = Outbox(max_signals=100)
    box.add_samples([Sample("a", 1.0, None)])
    box.add_status(SourceStatus.DISCONNECTED, "lost")
    box.add_status(SourceStatus.CONNECTING, "again")
    box.add_samples([Sample("a", 2.0, None)])
    assert samples_of(box.pop()) == [Sample("a", 1.0, None)]
    assert box.pop() == StatusItem(SourceStatus.CONNECTING, "again")
    assert samples_of(box.pop()) == [Sample("a", 2.0, None)]  # after the status: not merged
    assert box.conflated == 0


@pytest.mark.parametrize("count", [6, 200])  # a small frame, a big one
def test_outbox_is_bounded_and_counts_what_it_drops(count: int) -> None:
    box = Outbox(max_signals=4, batch=BATCH_SAMPLES)
    box.add_samples([Sample(f"s{i}", float(i), None) for i in range(count)])
    box.add_samples([Sample("s0", 9.0, None)])  # waiting already: still updated
    box.add_samples(big_delivery(100, 1.0))  # all new: all dropped
    assert (box.waiting, box.dropped, box.conflated) == (4, count - 4 + 100, 1)
    assert sorted((s.signal, s.value) for s in samples_of(box.pop())) == [
        ("s0", 9.0),
        ("s1", 1.0),
        ("s2", 2.0),
        ("s3", 3.0),
    ]
    assert box.waiting == 0 and not box


def test_outbox_batches_are_at_most_the_batch_size() -> None:
    box = Outbox(max_signals=10_000)
    box.add_samples([Sample(f"s{i}", 1.0, None) for i in range(1300)])
    sizes = []
    while (batch := box.pop()) is not None:
        sizes.append(len(samples_of(batch)))
    assert sizes == [512, 512, 276]


def test_auto_picks_the_process_above_the_threshold() -> None:
    assert not Decoder.AUTO.uses_process(PROCESS_DECODER_BYTES)
    assert Decoder.AUTO.uses_process(PROCESS_DECODER_BYTES + 1)
    assert Decoder.PROCESS.uses_process(256)
    assert not Decoder.THREAD.uses_process(64 << 20)
    sink = RecordingSink()
    url = "ws://127.0.0.1:9/"
    small = StovelightSourceConfig("s", url)
    assert isinstance(open_source(small, sink), WebSocketSource)
    assert isinstance(open_source(small, sink, decoder=Decoder.PROCESS), ProcessSource)
    assert isinstance(open_source(StovelightSourceConfig("s", url, BIG), sink), ProcessSource)
    ha = HomeAssistantSourceConfig("h", url, "token", {"sensor.x": "h.x"})  # 1 MiB default
    assert isinstance(open_source(ha, sink), ProcessSource)
    assert isinstance(open_source(ha, sink, decoder=Decoder.THREAD), WebSocketSource)


# -- real producers and real child processes ----------------------------------------------


class ThreadedProducer:
    """A websockets server on its own thread and loop; ``send`` reaches every client."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self._clients: set[ServerConnection] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="test-producer", daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def _main(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            self.connections += 1
            self._clients.add(ws)
            try:
                await ws.wait_closed()
            finally:
                self._clients.discard(ws)

        async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        stop = self._stop
        assert stop is not None
        self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(10)

    def send(self, *texts: str) -> None:
        """Send frames to every connected client, in order; wait until written."""

        async def send_all() -> None:
            for ws in list(self._clients):
                for text in texts:
                    await ws.send(text)

        future: Future[None] = asyncio.run_coroutine_threadsafe(send_all(), self._loop)
        future.result(20)

    @property
    def clients(self) -> int:
        return len(self._clients)


@contextmanager
def producer() -> Iterator[ThreadedProducer]:
    server = ThreadedProducer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def process_source(
    config: StovelightSourceConfig, sink: RecordingSink
) -> AsyncIterator[ProcessSource]:
    source = ProcessSource(config, sink)
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        pid = source.pid
        await source.aclose()
        await task
        if pid is not None:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)  # stopped and reaped


async def until(predicate: Callable[[], bool]) -> None:
    """Poll (for values that arrive with the child's heartbeat)."""
    while not predicate():
        await asyncio.sleep(0.02)


async def connected(sink: RecordingSink, server: ThreadedProducer, count: int = 1) -> None:
    await sink.wait_for(lambda: sink.status_history().count(SourceStatus.CONNECTED) >= count)
    await until(lambda: server.clients >= 1)


def big_frame(keys: int, value: float) -> str:
    return json.dumps({"source": "a", "values": {f"k{i:05d}": value + i for i in range(keys)}})


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(45):
            await scenario()

    asyncio.run(bounded())


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()


class ChunkSink(RecordingSink):
    """Records the size of every delivery; optionally slow (a show loop falling behind)."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.delay = delay

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        self.calls.append(len(samples))
        if self.delay:
            threading.Event().wait(self.delay)  # holds the loop, as a busy show would
        super().on_samples(source_name, samples)


def test_every_value_of_each_big_frame_arrives_in_small_batches(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        sink = ChunkSink()
        with producer() as server:
            config = StovelightSourceConfig("big", server.url, BIG)
            async with process_source(config, sink) as source:
                await connected(sink, server)
                for n, keys in enumerate((5000, 12_000)):
                    sink.samples.clear()
                    server.send(big_frame(keys, 1000.0 * n))
                    await sink.wait_for(lambda keys=keys: len(sink.samples) == keys)  # type: ignore[misc]
                    assert {s.signal: s.value for _, s in sink.samples} == {
                        f"a.k{i:05d}": 1000.0 * n + i for i in range(keys)
                    }
                assert max(sink.calls) <= BATCH_SAMPLES
                await until(lambda: source.stats()["frames"] == 2)
                stats = source.stats()
        assert stats["decoder"] == "process"
        assert stats["samples"] == 17_000
        assert stats["conflated"] == 0
        assert stats["rejected"] == {}

    run(scenario)
    no_tracebacks(caplog)


def test_the_newest_value_wins_when_the_show_falls_behind() -> None:
    async def scenario() -> None:
        sink = ChunkSink(delay=0.05)
        with producer() as server:
            config = StovelightSourceConfig("big", server.url, BIG)
            async with process_source(config, sink) as source:
                await connected(sink, server)
                server.send(*(big_frame(4000, 10_000.0 * n) for n in range(5)))
                last = {f"a.k{i:05d}": 40_000.0 + i for i in range(4000)}
                await sink.wait_for(
                    lambda: (
                        all(sample.value == last[name] for name, sample in sink.latest().items())
                        and len(sink.latest()) == 4000
                    )
                )
                await until(lambda: source.stats()["frames"] == 5)
                stats = source.stats()
        assert isinstance(stats["conflated"], int) and stats["conflated"] > 0
        assert len(sink.samples) < 5 * 4000  # values replaced while waiting were skipped
        assert max(sink.calls) <= BATCH_SAMPLES
        assert stats["backlog_dropped"] == 0

    run(scenario)


def test_over_limit_frames_are_counted_and_the_connection_stays_up() -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        limits = FrameLimits(max_frame_bytes=300_000, max_values=1000)
        with producer() as server:
            config = StovelightSourceConfig("big", server.url, limits)
            async with process_source(config, sink) as source:
                await connected(sink, server)
                server.send(
                    json.dumps({"source": "a", "values": {"pad": "x" * 400_000}}),  # oversize
                    big_frame(1001, 0.0),  # too many values
                    "[" * 2000 + "]" * 2000,  # too deep
                    json.dumps({"source": "a", "values": {"ok": 1}}),
                )
                await sink.wait_for(lambda: sink.values("a.ok") == [1.0])
                await until(lambda: source.stats()["frames"] == 4)
                stats = source.stats()
        assert stats["rejected"] == {"oversize": 1, "too_many_values": 1, "malformed_json": 1}
        assert stats["connects"] == 1 and stats["violation_closes"] == 0
        assert [s.signal for _, s in sink.samples] == ["a.ok"]

    run(scenario)


def test_a_killed_decoder_process_comes_back_and_the_show_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)

    async def scenario() -> None:
        sink = RecordingSink()
        with producer() as server:
            config = StovelightSourceConfig("big", server.url, BIG)
            async with process_source(config, sink) as source:
                await connected(sink, server)
                server.send(big_frame(3, 1.0))
                await sink.wait_for(lambda: len(sink.samples) == 3)
                first = source.pid
                assert first is not None
                ticks = 0

                async def show_loop() -> None:  # the rest of the show keeps its turns
                    nonlocal ticks
                    while True:
                        await asyncio.sleep(0.01)
                        ticks += 1

                show = asyncio.create_task(show_loop())
                os.kill(first, signal.SIGKILL)
                await sink.wait_for(lambda: SourceStatus.DISCONNECTED in sink.status_history())
                ticks_at_loss = ticks
                await connected(sink, server, count=2)
                await until(lambda: server.connections == 2 and server.clients == 1)
                server.send(big_frame(3, 100.0))
                await sink.wait_for(lambda: sink.values("a.k00002") == [3.0, 102.0])
                show.cancel()
                stats = source.stats()
                assert source.pid not in (None, first)
                assert ticks > ticks_at_loss
        assert stats["decoder_restarts"] == 1
        assert stats["status"] == "connected"
        assert sink.status_history("big")[:5] == [
            SourceStatus.CONNECTING,
            SourceStatus.CONNECTED,
            SourceStatus.DISCONNECTED,
            SourceStatus.CONNECTING,
            SourceStatus.CONNECTED,
        ]
        detail = next(d for _, s, d in sink.statuses if s is SourceStatus.DISCONNECTED)
        assert detail == "decoder process exited with code -9; restarting it"

    run(scenario)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and "decoder process exited with code -9" in lines[0]
    no_tracebacks(caplog)


def test_a_rejected_token_stops_the_source_without_restarting_the_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        standin = HomeAssistantStandIn(token="right")
        await standin.start()
        sink = RecordingSink()
        config = HomeAssistantSourceConfig("ha", standin.url, "wrong", {"sensor.x": "ha.x"})
        source = ProcessSource(config, sink)
        try:
            async with asyncio.timeout(30):
                await source.run()  # returns: stopped for good
        finally:
            await source.aclose()
            await standin.stop()
        assert source.status is SourceStatus.FAILED
        assert source.failure is not None and source.failure.permanent
        assert source.restarts == 0 and source.pid is None
        assert standin.auth_attempts == 1

    caplog.set_level(logging.INFO)
    run(scenario)
    no_tracebacks(caplog)


SHOW = """
[show]
title = "decoders"
[sources.plain]
kind = "stovelight"
url = "ws://127.0.0.1:9/"
[sources.raised]
kind = "stovelight"
url = "ws://127.0.0.1:9/"
max_frame_bytes = 1048576
[sources.chosen]
kind = "json"
url = "ws://127.0.0.1:9/"
decoder = "process"
signals = { "chosen.x" = "/x" }
[sources.kept]
kind = "stovelight"
url = "ws://127.0.0.1:9/"
max_frame_bytes = 1048576
decoder = "thread"
[sources.ha]
kind = "homeassistant"
url = "ws://127.0.0.1:9/api/websocket"
token = "t"
entities = { "sensor.x" = "ha.x" }
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def test_the_show_file_chooses_each_source_s_decoder() -> None:
    from show.runtime.assemble import add_sources, build_parts
    from show.runtime.runner import ShowRunner
    from show.showfile.load import parse_show

    async def scenario() -> None:
        show = parse_show(SHOW)
        loop = asyncio.get_running_loop()
        runner = ShowRunner(show, build_parts(show, clock=loop.time, renderers=False))
        add_sources(runner)
        modes = {s.name: s.stats()["decoder"] for s in runner.parts.sources}
        assert modes == {
            "plain": "thread",
            "raised": "process",
            "chosen": "process",
            "kept": "thread",
            "ha": "process",
        }

    run(scenario)


RUNNER_SHOW = """
[show]
health_interval = 0.01
[sources.big]
kind = "stovelight"
url = "{url}"
decoder = "process"
[signals."a.k00000"]
source = "big"
stale_after = {stale}
[[triggers]]
name = "big-down"
when = {{ source = "big", health = "lost" }}
start = "9"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "9"
type = "memo"
"""


@pytest.mark.parametrize(("stale", "loses"), [(30.0, False), (0.05, True)])
def test_a_killed_decoder_process_in_a_running_show(stale: float, loses: bool) -> None:
    """Inside the stale window the show sees nothing; past it, the documented loss."""
    from cues.commands import Command, TriggerFired
    from show.runtime.assemble import add_sources
    from show.runtime.runner import RunnerParts, ShowRunner
    from show.showfile.load import parse_show

    async def scenario() -> None:
        with producer() as server:
            show = parse_show(RUNNER_SHOW.format(url=server.url, stale=stale))
            runner = ShowRunner(show, RunnerParts())
            seen: list[Command] = []
            runner.listeners.append(seen.append)
            add_sources(runner)
            (source,) = runner.parts.sources
            assert isinstance(source, ProcessSource)
            await runner.start()
            runner.start_sources()
            try:
                await until(lambda: runner.sources["big"].up is True and server.clients == 1)
                server.send(big_frame(1, 5.0))
                await until(lambda: runner.sources["big"].samples == 1)
                pid = source.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                await until(lambda: source.restarts == 1 and source.status.value == "connected")
                await until(lambda: server.clients == 1)
                server.send(big_frame(1, 6.0))
                await until(lambda: runner.sources["big"].samples == 2)
                await asyncio.sleep(0.1)
                fired = [c.trigger for c in seen if isinstance(c, TriggerFired)]
                assert fired == (["big-down"] if loses else [])
                assert runner.sources["big"].up is True
            finally:
                await runner.aclose()

    run(scenario)
