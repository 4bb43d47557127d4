"""OSC output: conflation, rate limit and bundling (memory twin), then real peers."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest

from bridges.osc.conflate import ConflatingQueue
from bridges.osc.errors import OscConfigError
from bridges.osc.framing import SlipDecoder
from bridges.osc.output import MemoryOscOutput, OscOutput, OscTargetConfig
from bridges.osc.wire import MidiPacket, OscBundle, OscMessage, decode_packet, encode_message
from tests.bridges.osc.osc_test_support import (
    eventually,
    free_port,
    needs_liblo,
    oscdump,
    run,
    udp_sink,
)
from tests.clocks import FakeClock


def memory(*targets: OscTargetConfig, **limits: int) -> MemoryOscOutput:
    out = MemoryOscOutput(targets, clock=FakeClock(100.0), **limits)
    run(out.start())
    return out


LIGHTS = OscTargetConfig("lights", "127.0.0.1", 9000)


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"port": 0},
        {"port": 70000},
        {"transport": "sctp"},
        {"max_rate_hz": 0},
        {"host": ""},
    ],
)
def test_target_config_validation(kwargs: dict[str, Any]) -> None:
    base: dict[str, Any] = {"name": "t", "host": "127.0.0.1", "port": 9000}
    with pytest.raises(OscConfigError):
        OscTargetConfig(**(base | kwargs))


def test_duplicate_target_names_rejected() -> None:
    with pytest.raises(OscConfigError):
        MemoryOscOutput([LIGHTS, LIGHTS])


# --------------------------------------------------------------------------- memory twin


def test_conflation_newest_value_wins_and_keeps_order() -> None:
    out = memory(LIGHTS)
    out.send("lights", "/a", [1.0])
    out.send("lights", "/b", [2.0])
    out.send("lights", "/a", [3.0])
    assert out.stats()["lights"]["pending"] == 2
    assert out.flush(now=0.0) == 2
    assert out.messages("lights") == [OscMessage("/a", (3.0,)), OscMessage("/b", (2.0,))]
    stats = out.stats()["lights"]
    assert stats["conflated"] == 1
    assert stats["sent"] == 2
    assert stats["pending"] == 0
    assert out.flush(now=1.0) == 0  # nothing left


def test_discrete_messages_are_never_conflated() -> None:
    out = memory(LIGHTS)
    out.send("lights", "/sound/cue", ["alarm"], conflate=False)
    out.send("lights", "/level", [0.25])
    out.send("lights", "/sound/cue", ["ambience"], conflate=False)
    out.send("lights", "/level", [0.5])
    assert out.flush(now=0.0) == 3
    assert out.messages("lights") == [
        OscMessage("/sound/cue", ("alarm",)),
        OscMessage("/level", (0.5,)),
        OscMessage("/sound/cue", ("ambience",)),
    ]
    assert out.stats()["lights"]["conflated"] == 1


def test_each_message_is_its_own_packet_without_bundle() -> None:
    out = memory(LIGHTS)
    out.send("lights", "/a", [1])
    out.send("lights", "/b", ["x"])
    out.flush(now=0.0)
    assert [p for _, p in out.sent] == [encode_message("/a", [1]), encode_message("/b", ["x"])]


def test_bundle_target_sends_one_bundle_per_flush() -> None:
    out = memory(OscTargetConfig("viz", "127.0.0.1", 9001, bundle=True))
    for i in range(5):
        out.send("viz", f"/p/{i}", [float(i)])
    assert out.flush(now=0.0) == 1
    (packet,) = out.packets("viz")
    assert isinstance(packet, OscBundle)
    assert [m.address for m in packet.elements if isinstance(m, OscMessage)] == [
        f"/p/{i}" for i in range(5)
    ]
    assert out.stats()["viz"]["sent"] == 5
    assert out.stats()["viz"]["packets"] == 1


def test_large_bundles_are_split_to_max_packet_size() -> None:
    out = memory(OscTargetConfig("viz", "127.0.0.1", 9001, bundle=True), max_packet_size=128)
    for i in range(20):
        out.send("viz", f"/p/{i}", [float(i)])
    out.flush(now=0.0)
    assert len(out.sent) > 1
    assert all(len(p) <= 128 for _, p in out.sent)
    assert [m.address for m in out.messages("viz")] == [f"/p/{i}" for i in range(20)]
    assert out.stats()["viz"]["sent"] == 20


def test_rate_limit_conflates_between_sends() -> None:
    out = memory(OscTargetConfig("slow", "127.0.0.1", 9002, max_rate_hz=10))
    out.send("slow", "/v", [1])
    out.flush(now=0.0)
    for i, t in enumerate([0.02, 0.04, 0.06, 0.08]):
        out.send("slow", "/v", [10 + i])
        out.flush(now=t)
    assert [m.args for m in out.messages("slow")] == [(1,)]
    out.flush(now=0.1)
    assert [m.args for m in out.messages("slow")] == [(1,), (13,)]
    assert out.stats()["slow"]["conflated"] == 3


def test_rate_limit_holds_average_rate_with_unaligned_ticks() -> None:
    out = memory(OscTargetConfig("slow", "127.0.0.1", 9002, max_rate_hz=10))
    tick = 1 / 60
    for n in range(600):  # ten seconds of 60 Hz ticks
        out.send("slow", "/v", [n])
        out.flush(now=n * tick)
    sent = len(out.messages("slow"))
    assert 95 <= sent <= 101


def test_rate_limit_is_per_target() -> None:
    fast = OscTargetConfig("fast", "127.0.0.1", 9003)
    slow = OscTargetConfig("slow", "127.0.0.1", 9004, max_rate_hz=1)
    out = memory(fast, slow)
    for i, t in enumerate([0.0, 0.1, 0.2]):
        out.send("fast", "/v", [i])
        out.send("slow", "/v", [i])
        out.flush(now=t)
    assert len(out.messages("fast")) == 3
    assert len(out.messages("slow")) == 1


def test_conflating_queue_next_due() -> None:
    q = ConflatingQueue(max_rate_hz=4)
    assert q.next_due() is None
    q.put("/a", b"x")
    assert q.next_due() == float("-inf")
    assert q.take(10.0) == [b"x"]
    q.put("/a", b"y")
    assert q.next_due() == 10.25
    assert q.take(10.2) == []
    assert q.take(10.25) == [b"y"]


def test_send_never_raises() -> None:
    out = memory(LIGHTS)
    assert out.send("nope", "/a", [1]) is False
    assert out.send("lights", "no-slash", [1]) is False
    assert out.send("lights", "/a", [object()]) is False
    assert out.send("lights", "/a", [1 << 70]) is False
    assert out.unknown_target_errors == 1
    assert out.stats()["lights"]["errors"] == 3
    assert out.stats()["lights"]["pending"] == 0


def test_single_values_are_one_argument() -> None:
    out = memory(LIGHTS)
    out.send("lights", "/temp", 21.5)
    out.send("lights", "/name", "simmer")
    out.send("lights", "/note", MidiPacket(0, 0x90, 60, 100))
    out.send("lights", "/nil", None)
    out.send("lights", "/list", [1, "two"])
    out.flush(now=0.0)
    assert out.messages("lights") == [
        OscMessage("/temp", (21.5,)),
        OscMessage("/name", ("simmer",)),
        OscMessage("/note", (MidiPacket(0, 0x90, 60, 100),)),
        OscMessage("/nil", (None,)),
        OscMessage("/list", (1, "two")),
    ]


def test_pending_addresses_are_bounded() -> None:
    out = memory(LIGHTS, max_pending=3)
    results = [out.send("lights", f"/a/{i}", [i]) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert out.send("lights", "/a/0", [99]) is True  # known addresses still update
    stats = out.stats()["lights"]
    assert stats["pending"] == 3
    assert stats["dropped"] == 2


def test_failing_target_does_not_stop_others(caplog: pytest.LogCaptureFixture) -> None:
    other = OscTargetConfig("video", "127.0.0.1", 9005)
    out = memory(LIGHTS, other)
    out.set_down("lights", "refused")
    caplog.set_level(logging.INFO, logger="bridges.osc.output")
    for t in range(3):
        out.send("lights", "/a", [t])
        out.send("video", "/b", [t])
        out.flush(now=float(t))
    assert [m.args for m in out.messages("video")] == [(0,), (1,), (2,)]
    stats = out.stats()["lights"]
    assert stats["state"] == "down"
    assert stats["errors"] == 3
    assert stats["dropped"] == 3
    down = [r for r in caplog.records if "is down" in r.getMessage()]
    assert len(down) == 1
    assert "'lights'" in down[0].getMessage()
    out.set_up("lights")
    out.send("lights", "/a", [9])
    out.flush(now=5.0)
    assert out.stats()["lights"]["state"] == "up"
    assert out.messages("lights") == [OscMessage("/a", (9,))]
    assert sum("back up" in r.getMessage() for r in caplog.records) == 1


def test_aclose_flushes_pending_and_refuses_later_sends() -> None:
    out = memory(LIGHTS)
    out.send("lights", "/last", [1])
    run(out.aclose(now=0.0))
    assert out.messages("lights") == [OscMessage("/last", (1,))]
    assert out.send("lights", "/late", [2]) is False
    assert out.stats()["lights"]["state"] == "closed"


# --------------------------------------------------------------------------- real peers


@needs_liblo
def test_udp_messages_and_bundles_reach_oscdump() -> None:
    port = free_port()
    plain = OscTargetConfig("dump", "127.0.0.1", port)
    bundled = OscTargetConfig("dump-bundle", "127.0.0.1", port, bundle=True)

    async def scenario() -> None:
        out = OscOutput([plain, bundled], udp_recover_s=0.0)
        await out.start()

        async def ready() -> None:
            out.send("dump", "/ready")
            out.flush()

        try:
            async with oscdump(str(port), ready) as dump:
                out.send("dump", "/stove/temp", [21.5])
                out.send("dump", "/mix", [7, "two words", True, None, b"\x01\x02"])
                out.flush()
                assert await dump.line() == ["/stove/temp", "f", "21.500000"]
                assert await dump.line() == [
                    "/mix",
                    "isTNb",
                    "7",
                    "two words",
                    "#T",
                    "Nil",
                    "[2b",
                    "0x1",
                    "0x2]",
                ]
                out.send("dump-bundle", "/grid/load", [0.25])
                out.send("dump-bundle", "/grid/freq", [50.0])
                out.flush()
                assert await dump.line() == ["/grid/load", "f", "0.250000"]
                assert await dump.line() == ["/grid/freq", "f", "50.000000"]
            assert out.stats()["dump"]["state"] == "up"
            assert out.stats()["dump-bundle"]["packets"] == 1
        finally:
            await out.aclose()

    run(scenario())


@needs_liblo
def test_tcp_slip_reaches_oscdump() -> None:
    port = free_port(socket.SOCK_STREAM)
    target = OscTargetConfig("dump", "127.0.0.1", port, transport="tcp")

    async def scenario() -> None:
        out = OscOutput([target], reconnect_min_s=0.02, reconnect_max_s=0.05)
        await out.start()

        async def ready() -> None:
            await eventually(lambda: out.stats()["dump"]["state"] == "up")
            out.send("dump", "/ready")
            out.flush()

        try:
            async with oscdump(f"osc.tcp://:{port}", ready) as dump:
                out.send("dump", "/cue/go", ["12", 0.5])
                out.flush()
                assert await dump.line() == ["/cue/go", "sf", "12", "0.500000"]
        finally:
            await out.aclose()

    run(scenario())


class SlipCollector(asyncio.Protocol):
    def __init__(self, queue: asyncio.Queue[OscMessage]) -> None:
        self.decoder = SlipDecoder()
        self.queue = queue
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        for packet in self.decoder.feed(data):
            message = decode_packet(packet)
            assert isinstance(message, OscMessage)
            self.queue.put_nowait(message)


def test_tcp_target_down_does_not_stall_udp_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bridges.osc.output")
    tcp_port = free_port(socket.SOCK_STREAM)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with udp_sink() as sink:
            out = OscOutput(
                [
                    OscTargetConfig("console", "127.0.0.1", tcp_port, transport="tcp"),
                    OscTargetConfig("viz", "127.0.0.1", sink.port),
                ],
                reconnect_min_s=0.01,
                reconnect_max_s=0.04,
            )
            await out.start()
            try:
                assert out.stats()["console"]["state"] == "down"
                out.send("console", "/go", [])
                out.send("viz", "/level", [0.5])
                out.flush()
                data, _ = await sink.get()
                assert decode_packet(data) == OscMessage("/level", (0.5,))
                # A stale /go is dropped, not replayed when the console comes back.
                assert out.stats()["console"]["dropped"] == 1
                # Let it retry several times: still logged as down only once.
                await eventually(lambda: out.stats()["console"]["errors"] >= 3)

                received: asyncio.Queue[OscMessage] = asyncio.Queue()
                server = await loop.create_server(
                    lambda: SlipCollector(received), "127.0.0.1", tcp_port
                )
                try:
                    await eventually(lambda: out.stats()["console"]["state"] == "up")
                    out.send("console", "/cue/1/start", [])
                    out.flush()
                    async with asyncio.timeout(5):
                        assert await received.get() == OscMessage("/cue/1/start")
                    assert received.empty()
                finally:
                    server.close()
                    await server.wait_closed()
            finally:
                await out.aclose()

    run(scenario())
    text = [r.getMessage() for r in caplog.records]
    down = [t for t in text if "is down" in t and "'console'" in t]
    assert len(down) == 1
    assert "retrying" in down[0]
    assert sum("'console'" in t and "back up" in t for t in text) == 1


def test_udp_port_unreachable_marks_down_then_up() -> None:
    port = free_port()
    clock = FakeClock(0.0)

    async def scenario() -> None:
        out = OscOutput(
            [OscTargetConfig("gone", "127.0.0.1", port)], clock=clock, udp_recover_s=2.0
        )
        await out.start()
        try:
            assert out.stats()["gone"]["state"] == "up"
            out.send("gone", "/x", [1])
            out.flush()
            # The kernel answers with ICMP port unreachable on loopback.
            await eventually(lambda: out.stats()["gone"]["state"] == "down")
            assert out.stats()["gone"]["errors"] >= 1
            async with udp_sink(port) as sink:
                clock.now = 1.0
                out.send("gone", "/x", [2])
                out.flush()
                await sink.get()
                assert out.stats()["gone"]["state"] == "down"  # not yet: too soon
                clock.now = 3.5
                out.send("gone", "/x", [3])
                out.flush()
                data, _ = await sink.get()
                assert decode_packet(data) == OscMessage("/x", (3,))
                assert out.stats()["gone"]["state"] == "up"
        finally:
            await out.aclose()

    run(scenario())


def test_tcp_reconnects_after_peer_closes() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        received: asyncio.Queue[OscMessage] = asyncio.Queue()
        protocols: list[SlipCollector] = []

        def factory() -> SlipCollector:
            protocols.append(SlipCollector(received))
            return protocols[-1]

        server = await loop.create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        out = OscOutput(
            [OscTargetConfig("c", "127.0.0.1", port, transport="tcp")],
            reconnect_min_s=0.01,
            reconnect_max_s=0.02,
        )
        await out.start()
        try:
            out.send("c", "/one", [])
            out.flush()
            assert await received.get() == OscMessage("/one")
            first = protocols[0]
            assert first.transport is not None
            first.transport.close()
            await eventually(lambda: len(protocols) == 2 and out.stats()["c"]["state"] == "up")
            out.send("c", "/two", [])
            out.flush()
            assert await received.get() == OscMessage("/two")
        finally:
            await out.aclose()
            server.close()
            await server.wait_closed()

    run(scenario())
