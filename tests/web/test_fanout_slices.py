"""The running broadcaster writes its subscribers in short slices, one per event-loop
turn, and lets what reached the loop meanwhile (a GO, a fade step) run before the next
slice; every viewer still gets the very bytes websockets would have framed."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.protocol import State
from websockets.server import ServerProtocol

import show.web.fanout as fanout
import show.web.protocol as protocol
from bridges.eventloop import after_pending_io
from bridges.ratelimit import RateLimitedLogger
from show.web.fanout import Broadcaster


class _Transport:
    def __init__(self, log: list[Any], name: str, buffered: int) -> None:
        self.log = log
        self.name = name
        self.buffered = buffered
        self.written: list[bytes] = []

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self.log.append(("write", self.name))


class _Viewer:
    """What the broadcaster touches on a connection (hashable, like a real one)."""

    def __init__(self, log: list[Any], name: str, buffered: int = 0) -> None:
        self.protocol = SimpleNamespace(state=State.OPEN, extensions=[])
        self.send_in_progress = None
        self.transport = _Transport(log, name, buffered)


def _broadcaster(build: Any = dict) -> Broadcaster:
    return Broadcaster(
        "public",
        "snapshot",
        build,
        rate_hz=10.0,
        clock=time.time,
        warn=RateLimitedLogger(fanout.logger, 10.0),
    )


class _Socket:
    """A socket the loop watches: :meth:`arrive` makes it readable (a GO datagram
    reaching the show), and the loop's reader logs ``label`` when it runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop, log: list[Any]) -> None:
        self._ours, self._loops = socket.socketpair()
        self._loops.setblocking(False)
        self._log = log
        self._labels: list[str] = []
        loop.add_reader(self._loops, self._read)
        self._loop = loop

    def arrive(self, label: str) -> None:
        self._labels.append(label)
        self._ours.send(b"x")

    def _read(self) -> None:
        self._loops.recv(64)
        self._log.extend(self._labels)
        self._labels.clear()

    def close(self) -> None:
        self._loop.remove_reader(self._loops)
        self._ours.close()
        self._loops.close()


def _on_write(viewer: _Viewer, then: Callable[[], None]) -> None:
    real_write = viewer.transport.write

    def write(data: bytes) -> None:
        real_write(data)
        then()

    viewer.transport.write = write  # type: ignore[method-assign]


def _websockets_frame(data: bytes) -> bytes:
    protocol = ServerProtocol()
    protocol.state = State.OPEN
    protocol.send_text(data)
    return b"".join(protocol.data_to_send())


def test_what_arrives_during_a_slice_runs_before_the_next_slice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout, "SLICE_BUDGET_S", 0.0)  # one viewer per slice
    log: list[Any] = []
    broadcaster = _broadcaster()
    viewers = [_Viewer(log, f"v{i}") for i in range(4)]
    slow = _Viewer(log, "slow", buffered=100)
    for v in [*viewers, slow]:
        broadcaster.subscribe(v)  # type: ignore[arg-type]
    gone = viewers[-1]

    async def main() -> int:
        arrivals = _Socket(asyncio.get_running_loop(), log)

        def go_arrives() -> None:  # while the first slice is being written
            arrivals.arrive("GO")
            broadcaster.unsubscribe(gone)  # type: ignore[arg-type]  # and a viewer leaves

        _on_write(viewers[0], go_arrives)
        try:
            return await broadcaster.deliver_in_slices(b'{"type":"snapshot"}')
        finally:
            arrivals.close()

    sent = asyncio.run(main())
    assert log == [("write", "v0"), "GO", ("write", "v1"), ("write", "v2")]
    assert sent == 3
    assert broadcaster.stats.skipped == 1 and broadcaster.skipped_for(slow) == 1  # type: ignore[arg-type]
    assert broadcaster.stats.ticks == 1 and broadcaster.stats.delivered == 3
    assert broadcaster.last_message == b'{"type":"snapshot"}'


def test_every_viewer_gets_the_frame_websockets_would_send() -> None:
    log: list[Any] = []
    broadcaster = _broadcaster()
    viewers = [_Viewer(log, f"v{i}") for i in range(3)]
    closing = _Viewer(log, "closing")
    closing.protocol.state = State.CLOSING
    for v in [*viewers, closing]:
        broadcaster.subscribe(v)  # type: ignore[arg-type]
    for size in (10, 200, 70_000):  # 7-bit, 16-bit and 64-bit payload lengths
        data = b'{"x":"' + b"y" * size + b'"}'
        assert broadcaster.deliver(data) == 3
        for v in viewers:
            assert v.transport.written[-1] == _websockets_frame(data)
    assert closing.transport.written == []


def test_a_viewer_with_an_extension_is_framed_by_the_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent_by_library: list[Any] = []
    monkeypatch.setattr(
        fanout, "broadcast", lambda conns, data, text: sent_by_library.append((conns, data, text))
    )
    log: list[Any] = []
    broadcaster = _broadcaster()
    plain, compressed = _Viewer(log, "plain"), _Viewer(log, "deflate")
    compressed.protocol.extensions = [object()]
    for v in (plain, compressed):
        broadcaster.subscribe(v)  # type: ignore[arg-type]
    assert broadcaster.deliver(b"{}") == 2
    assert sent_by_library == [([compressed], b"{}", True)]
    assert plain.transport.written == [_websockets_frame(b"{}")]


def test_a_tick_builds_encodes_and_writes_in_separate_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[Any] = []
    real_encode = protocol.encode_message_bytes

    def encode(message: Any) -> bytes:
        log.append("encode")
        return real_encode(message)

    async def main() -> None:
        arrivals = _Socket(asyncio.get_running_loop(), log)

        def build() -> dict[str, Any]:
            log.append("build")
            arrivals.arrive("GO")  # while the snapshot is built
            return {"cues": []}

        def encode_then_go(message: Any) -> bytes:
            data = encode(message)
            arrivals.arrive("GO 2")  # while it is encoded
            return data

        broadcaster = _broadcaster(build)
        broadcaster.subscribe(_Viewer(log, "v0"))  # type: ignore[arg-type]
        monkeypatch.setattr(fanout, "encode_message_bytes", encode_then_go)
        try:
            await broadcaster._tick_in_steps()
        finally:
            arrivals.close()

    asyncio.run(main())
    assert log == ["build", "GO", "encode", "GO 2", ("write", "v0")]


def test_after_pending_io_lets_what_the_next_poll_finds_run_first() -> None:
    log: list[Any] = []

    async def main() -> None:
        arrivals = _Socket(asyncio.get_running_loop(), log)
        try:
            arrivals.arrive("arrived")
            await after_pending_io()
            log.append("resumed")
            arrivals.arrive("arrived again")
            await asyncio.sleep(0)  # the plain yield resumes before the poll's callbacks
            log.append("resumed again")
            await after_pending_io()
        finally:
            arrivals.close()

    asyncio.run(main())
    assert log == ["arrived", "resumed", "resumed again", "arrived again"]
