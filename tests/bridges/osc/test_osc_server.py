"""OSC server: liblo's oscsend as a real client, UDP/TCP replies, bad input."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridges.osc.errors import OscBindError, OscConfigError
from bridges.osc.framing import SlipDecoder, length_prefix_encode, slip_encode
from bridges.osc.server import OscPeer, OscServer, OscServerConfig
from bridges.osc.wire import OscBundle, OscMessage, decode_packet, encode_message
from tests.bridges.osc.osc_test_support import eventually, needs_liblo, run, run_oscsend, udp_sink

Received = asyncio.Queue[tuple[OscMessage, OscPeer]]


@contextlib.asynccontextmanager
async def serving(reply: bool = False, **config: Any) -> AsyncIterator[tuple[OscServer, Received]]:
    """A started server on free ports whose handler queues what it receives.

    With ``reply=True`` the handler answers every message with ``/reply <address>``.
    """
    received: Received = asyncio.Queue()

    def handler(message: OscMessage, peer: OscPeer) -> None:
        received.put_nowait((message, peer))
        if reply:
            peer.reply("/reply", [message.address])

    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0} | config
    server = OscServer(handler, OscServerConfig(**options))
    await server.start()
    try:
        yield server, received
    finally:
        await server.aclose()


async def next_message(received: Received, timeout: float = 5.0) -> tuple[OscMessage, OscPeer]:
    async with asyncio.timeout(timeout):
        return await received.get()


def udp_client() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def test_config_validation() -> None:
    with pytest.raises(OscConfigError):
        OscServerConfig(port=-1)
    with pytest.raises(OscConfigError):
        OscServerConfig(udp=False, tcp=False)
    with pytest.raises(OscConfigError):
        OscServerConfig(reply_port=0)


@needs_liblo
def test_oscsend_udp_go_fires_handler() -> None:
    async def scenario() -> None:
        async with serving() as (server, received):
            assert server.ports.udp is not None
            await run_oscsend("localhost", str(server.ports.udp), "/go")
            message, peer = await next_message(received)
            assert message == OscMessage("/go")
            assert peer.transport == "udp"
            assert peer.host == "127.0.0.1"
            await run_oscsend(
                "127.0.0.1", str(server.ports.udp), "/cue/12/start", "sfiT", "12", "0.5", "3"
            )
            message, _ = await next_message(received)
            assert message == OscMessage("/cue/12/start", ("12", 0.5, 3, True))
            assert server.stats()["messages"] == 2

    run(scenario())


@needs_liblo
def test_oscsend_tcp_length_prefixed_fires_handler() -> None:
    async def scenario() -> None:
        async with serving() as (server, received):
            await run_oscsend(f"osc.tcp://localhost:{server.ports.tcp}", "/go", "i", "7")
            message, peer = await next_message(received)
            assert message == OscMessage("/go", (7,))
            assert peer.transport == "tcp"

    run(scenario())


def test_port_zero_binds_same_number_for_udp_and_tcp() -> None:
    async def scenario() -> None:
        async with serving() as (server, _):
            udp, tcp = server.ports
            assert udp is not None and tcp is not None
            assert udp == tcp  # like QLab: one number for both transports
            assert server.running
        assert not server.running

    run(scenario())


def test_udp_reply_goes_to_configured_reply_port() -> None:
    async def scenario() -> None:
        async with (
            udp_sink() as replies,
            serving(reply=True, reply_port=replies.port) as (
                server,
                received,
            ),
        ):
            with udp_client() as client:
                client.sendto(encode_message("/go"), ("127.0.0.1", server.ports.udp))
                await next_message(received)
                data, addr = await replies.get()
            assert decode_packet(data) == OscMessage("/reply", ("/go",))
            assert addr[1] == server.ports.udp  # sent from the server's own socket

    run(scenario())


def test_udp_reply_to_sender_port_when_reply_port_is_none() -> None:
    async def scenario() -> None:
        async with (
            udp_sink() as client,
            serving(reply=True, reply_port=None) as (server, received),
        ):
            assert client.transport is not None
            client.transport.sendto(encode_message("/version"), ("127.0.0.1", server.ports.udp))
            await next_message(received)
            data, _ = await client.get()
            assert decode_packet(data) == OscMessage("/reply", ("/version",))

    run(scenario())


def test_tcp_slip_message_and_reply_on_same_connection() -> None:
    async def scenario() -> None:
        async with serving(reply=True) as (server, received):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            try:
                packet = slip_encode(encode_message("/cue/1/start"))
                writer.write(packet[:5])  # split across writes: decoder is incremental
                await writer.drain()
                writer.write(packet[5:])
                await writer.drain()
                message, peer = await next_message(received)
                assert message == OscMessage("/cue/1/start")
                assert peer.transport == "tcp"
                decoder = SlipDecoder()
                replies: list[bytes] = []
                async with asyncio.timeout(5):
                    while not replies:
                        replies += decoder.feed(await reader.read(1024))
                assert decode_packet(replies[0]) == OscMessage("/reply", ("/cue/1/start",))
                assert server.stats()["tcp_clients"] == 1
            finally:
                writer.close()
                await writer.wait_closed()

    run(scenario())


def test_tcp_length_prefixed_reply_uses_client_framing() -> None:
    async def scenario() -> None:
        async with serving(reply=True) as (server, received):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            try:
                writer.write(length_prefix_encode(encode_message("/go")))
                await writer.drain()
                await next_message(received)
                async with asyncio.timeout(5):
                    size = int.from_bytes(await reader.readexactly(4), "big")
                    body = await reader.readexactly(size)
                assert decode_packet(body) == OscMessage("/reply", ("/go",))
            finally:
                writer.close()
                await writer.wait_closed()

    run(scenario())


def test_bundles_are_unpacked_in_order() -> None:
    async def scenario() -> None:
        async with serving() as (server, received):
            inner = OscBundle(elements=(OscMessage("/b"), OscMessage("/c")))
            bundle = OscBundle(elements=(OscMessage("/a"), inner))
            with udp_client() as client:
                client.sendto(bundle.encode(), ("127.0.0.1", server.ports.udp))
                addresses = [(await next_message(received))[0].address for _ in range(3)]
            assert addresses == ["/a", "/b", "/c"]

    run(scenario())


def test_malformed_packets_counted_per_client_and_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bridges.osc.server")

    async def scenario() -> None:
        async with serving() as (server, received):
            with udp_client() as client:
                for garbage in (b"garbage!", b"/a\0\0,x\0\0", b"/a\0\0,i\0\0"):
                    client.sendto(garbage, ("127.0.0.1", server.ports.udp))
                # Datagrams from one socket arrive in order on loopback: once
                # /sync is handled, the garbage before it has been processed.
                client.sendto(encode_message("/sync"), ("127.0.0.1", server.ports.udp))
                message, _ = await next_message(received)
            assert message.address == "/sync"
            # A TCP client with a corrupt length prefix is disconnected, server lives on.
            reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            writer.write(b"\xff\xff\xff\xf0")
            await writer.drain()
            async with asyncio.timeout(5):
                assert await reader.read() == b""
            writer.close()
            stats = server.stats()
            assert stats["malformed"] == {"127.0.0.1": 4}
            assert stats["messages"] == 1

    run(scenario())
    warnings = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    # Rate-limited: one warning for the burst from the same client, not four.
    assert len(warnings) == 1
    assert "127.0.0.1" in warnings[0]


def test_allowlist_ignores_and_counts_other_clients() -> None:
    async def scenario() -> None:
        async with serving(allowed_clients=frozenset({"10.9.8.7"})) as (server, received):
            with udp_client() as client:
                client.sendto(encode_message("/go"), ("127.0.0.1", server.ports.udp))
            reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            async with asyncio.timeout(5):
                assert await reader.read() == b""  # connection dropped at once
            writer.close()

            def counted() -> bool:
                rejected: dict[str, int] = server.stats()["rejected"]
                return rejected.get("127.0.0.1") == 2

            async with asyncio.timeout(5):
                while not counted():
                    await asyncio.sleep(0.005)
            assert received.empty()
            assert server.stats()["messages"] == 0

    run(scenario())


def test_oversize_packets_dropped_and_counted() -> None:
    async def scenario() -> None:
        async with serving(max_packet_size=64) as (server, received):
            big = encode_message("/big", [b"x" * 200])
            with udp_client() as client:
                client.sendto(big, ("127.0.0.1", server.ports.udp))
                client.sendto(encode_message("/small"), ("127.0.0.1", server.ports.udp))
                message, _ = await next_message(received)
            assert message.address == "/small"
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            writer.write(slip_encode(big) + slip_encode(encode_message("/after")))
            await writer.drain()
            message, _ = await next_message(received)
            assert message.address == "/after"
            writer.close()
            assert server.stats()["oversize"] == {"127.0.0.1": 2}

    run(scenario())


def test_handler_exception_is_counted_and_server_continues() -> None:
    async def scenario() -> None:
        seen: asyncio.Queue[str] = asyncio.Queue()

        def handler(message: OscMessage, peer: OscPeer) -> None:
            seen.put_nowait(message.address)
            if message.address == "/boom":
                raise RuntimeError("handler bug")

        server = OscServer(handler, OscServerConfig(port=0, tcp=False))
        await server.start()
        try:
            assert server.ports.tcp is None
            with udp_client() as client:
                client.sendto(encode_message("/boom"), ("127.0.0.1", server.ports.udp))
                client.sendto(encode_message("/ok"), ("127.0.0.1", server.ports.udp))
                async with asyncio.timeout(5):
                    assert [await seen.get(), await seen.get()] == ["/boom", "/ok"]
            assert server.handler_errors == 1
        finally:
            await server.aclose()

    run(scenario())


def test_port_in_use_raises_bind_error() -> None:
    async def scenario() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            server = OscServer(lambda m, p: None, OscServerConfig(port=port))
            with pytest.raises(OscBindError, match=str(port)):
                await server.start()
            assert not server.running  # the UDP socket it did bind was released

    run(scenario())


def test_failed_replies_and_handler_errors_log_one_line_whatever_the_senders_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outsider cannot flood the log by varying its address: one line per kind."""
    caplog.set_level(logging.WARNING, logger="bridges.osc.server")

    async def scenario() -> None:
        def handler(message: OscMessage, peer: OscPeer) -> None:
            peer.reply("/reply" + message.address, ["x"])
            if message.address.startswith("/boom"):
                raise RuntimeError("handler bug")

        server = OscServer(handler, OscServerConfig(port=0, tcp=False))
        await server.start()
        try:
            shared = server._warn

            def closed(packet: bytes) -> None:
                raise RuntimeError("connection closed")

            for n in range(200):  # 200 peers whose replies cannot be delivered
                peer = OscPeer(f"10.0.{n // 250}.{n % 250}", 40000 + n, "tcp", closed, shared)
                assert peer.reply(f"/reply/from/{n}", []) is False
            with udp_client() as client:
                for n in range(50):
                    client.sendto(encode_message(f"/boom/{n}"), ("127.0.0.1", server.ports.udp))
                client.sendto(encode_message("/ok"), ("127.0.0.1", server.ports.udp))
                await eventually(lambda: server.messages == 51)
            assert server.handler_errors == 50
        finally:
            await server.aclose()

    run(scenario())
    failed = [r for r in caplog.records if "reply dropped" in r.getMessage()]
    handler_lines = [r for r in caplog.records if "OSC handler failed" in r.getMessage()]
    assert len(failed) == 1 and len(handler_lines) == 1


def test_a_sender_over_its_packet_rate_is_dropped_before_decoding_others_are_not() -> None:
    async def scenario() -> None:
        now = [100.0]
        handled: list[tuple[str, int]] = []

        def handler(message: OscMessage, peer: OscPeer) -> None:
            handled.append((message.address, peer.port))

        config = OscServerConfig(port=0, tcp=False, max_packets_per_s=50.0)
        server = OscServer(handler, config, clock=lambda: now[0])
        await server.start()
        try:
            assert server.ports.udp is not None
            target = ("127.0.0.1", server.ports.udp)
            with udp_client() as flood, udp_client() as other:
                for _ in range(100):  # at one instant: the burst (10) passes
                    flood.sendto(encode_message("/flood"), target)
                other.sendto(encode_message("/other"), target)
                await eventually(lambda: ("/other", other.getsockname()[1]) in handled)
                await eventually(lambda: server.stats()["throttled"].get("127.0.0.1") == 90)
                assert handled.count(("/flood", flood.getsockname()[1])) == 10
                now[0] += 1.0  # a second later the bucket is full again: 10 more
                for _ in range(20):
                    flood.sendto(encode_message("/flood"), target)
                flood.sendto(encode_message("/sync"), target)
                await eventually(lambda: server.stats()["throttled"]["127.0.0.1"] == 101)
                assert handled.count(("/flood", flood.getsockname()[1])) == 20
        finally:
            await server.aclose()

    run(scenario())


def test_a_fast_tcp_sender_is_slowed_down_not_dropped() -> None:
    async def scenario() -> None:
        async with serving(max_packets_per_s=200.0) as (server, received):
            assert server.ports.tcp is not None
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
            writer.write(b"".join(slip_encode(encode_message(f"/n/{i}")) for i in range(300)))
            await writer.drain()
            got = [(await next_message(received, timeout=10))[0].address for _ in range(300)]
            assert got == [f"/n/{i}" for i in range(300)]
            assert server.stats()["throttled"] == {}
            assert server.stats()["tcp_slowed"] >= 1  # it was read more slowly
            writer.close()

    run(scenario())


def test_a_client_reconnecting_in_a_loop_is_summarised_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bridges.osc.server")

    async def scenario() -> None:
        async with serving() as (server, _received):
            assert server.ports.tcp is not None
            for _ in range(50):
                _reader, writer = await asyncio.open_connection("127.0.0.1", server.ports.tcp)
                writer.close()
                await writer.wait_closed()
            await eventually(lambda: server.stats()["tcp_clients"] == 0)

    run(scenario())
    lines = [r.getMessage() for r in caplog.records if "OSC TCP client" in r.getMessage()]
    assert 1 <= len(lines) <= 2, lines
