"""The show's event loop: timed waits rounded up to whole milliseconds once, I/O as usual."""

from __future__ import annotations

import asyncio
import math
import selectors
import socket
from typing import Any

import pytest

from bridges import eventloop

pytestmark = pytest.mark.skipif(
    eventloop.PreciseEpollSelector is None, reason="epoll is Linux's; elsewhere the default loop"
)


def _epoll_ms(seconds: float) -> int:
    """The milliseconds CPython's ``epoll.poll`` waits for ``seconds``: to nanoseconds
    rounded up, then to milliseconds rounded up."""
    ns = math.ceil(seconds * 1e9)
    return -(-ns // 1_000_000)


class _RecordingEpoll:
    def __init__(self) -> None:
        self.timeouts: list[float] = []

    def poll(self, timeout: float, maxevents: int) -> list[tuple[int, int]]:
        self.timeouts.append(timeout)
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize("seconds", [1e-6, 0.0005, 0.001, 0.0088, 0.009, 0.0131, 0.25, 3.0])
def test_a_timed_wait_lasts_the_timeout_rounded_up_to_whole_milliseconds_once(
    seconds: float,
) -> None:
    selector = eventloop.PreciseEpollSelector()
    real, recording = selector._selector, _RecordingEpoll()  # type: ignore[attr-defined]
    selector._selector = recording  # type: ignore[attr-defined]
    try:
        assert selector.select(seconds) == []
    finally:
        selector._selector = real  # type: ignore[attr-defined]
        selector.close()
    [passed] = recording.timeouts
    assert _epoll_ms(passed) == math.ceil(seconds * 1e3)


def test_every_whole_millisecond_up_to_ten_seconds_survives_the_rounding() -> None:
    selector = eventloop.PreciseEpollSelector()
    real, recording = selector._selector, _RecordingEpoll()  # type: ignore[attr-defined]
    selector._selector = recording  # type: ignore[attr-defined]
    try:
        for ms in range(1, 10_001):
            selector.select(ms * 1e-3 - 1e-7)
    finally:
        selector._selector = real  # type: ignore[attr-defined]
        selector.close()
    assert [_epoll_ms(t) for t in recording.timeouts] == list(range(1, 10_001))


def test_readiness_errors_and_zero_timeouts_are_reported_as_before() -> None:
    selector = eventloop.PreciseEpollSelector()
    a, b = socket.socketpair()
    try:
        selector.register(a, selectors.EVENT_READ, "a")
        assert selector.select(0) == []
        assert selector.select(0.01) == []  # a timed wait with nothing to read
        b.send(b"x")
        [(key, mask)] = selector.select(0.5)
        assert (key.data, mask) == ("a", selectors.EVENT_READ)
        a.recv(1)
        b.close()  # the peer hangs up: the reader must hear of it
        [(key, mask)] = selector.select(0.5)
        assert (key.data, mask) == ("a", selectors.EVENT_READ)
        selector.modify(a, selectors.EVENT_WRITE, "a")
        [(key, mask)] = selector.select(None)
        assert mask == selectors.EVENT_WRITE
    finally:
        selector.close()
        a.close()


def test_run_serves_sockets_and_timers_on_the_precise_selector() -> None:
    async def main() -> tuple[str, bytes]:
        loop = asyncio.get_running_loop()
        received: asyncio.Future[bytes] = loop.create_future()

        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, transport: Any) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                self.transport.sendto(data.upper(), addr)

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                received.set_result(data)

        server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        port = server.get_extra_info("sockname")[1]
        client, _ = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
        await asyncio.sleep(0.0088)
        client.sendto(b"go")
        data = await asyncio.wait_for(received, 5)
        server.close()
        client.close()
        return type(loop._selector).__name__, data  # type: ignore[attr-defined]

    assert eventloop.run(main()) == ("PreciseEpollSelector", b"GO")
