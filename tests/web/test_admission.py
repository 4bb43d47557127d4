"""The web port's door: seats, the operator's own budget, floods and bad handshakes.

Refusals are tried with raw sockets (what a flood sends), a real websocket client
(websockets' own) and headless Chromium running the console page. Log lines are
counted through the root logger: a flood must not write one line per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import select
import socket
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from show.web.gate import (
    Admission,
    Door,
    Gate,
    GatedConnection,
    Refusal,
    Seat,
    _RawVisitor,
    parse_request_line,
)
from show.web.protocol import token_matches
from tests.web.webtest_support import (
    TOKEN,
    FakeShow,
    ServerThread,
    concurrent_handshakes,
    wait_for,
)

WAIT_MS = 20_000

HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n{extra}\r\n"
)


def raw_request(port: int, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection and read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
            if b"HTTP/1.1 101" in chunks[0]:
                break
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def web_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("show.web")]


@contextlib.contextmanager
def console_socket(srv: ServerThread, path: str) -> Iterator[ClientConnection]:
    with connect(srv.ws + path, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "auth", "token": TOKEN}))
        while json.loads(ws.recv(timeout=10))["type"] != "hello":
            pass
        yield ws


# ---------------------------------------------------------------- pure bookkeeping


def test_request_line_parsing() -> None:
    assert parse_request_line(b"GET /ws HTTP/1.1") == ("GET", "/ws", None)
    assert parse_request_line(b"GET /console/ws?token=a%2Bb&x=1 HTTP/1.1") == (
        "GET",
        "/console/ws",
        "a+b",
    )
    for bad in (b"", b"GET /ws", b"GET  /ws HTTP/1.1", b"GET ws HTTP/1.1", b"G3T / HTTP/1.1"):
        assert parse_request_line(bad) is None
    assert parse_request_line(b"GET / SPDY/3") is None
    assert parse_request_line("GET /é HTTP/1.1".encode()) is None


def test_console_seats_are_separate_from_viewer_seats() -> None:
    seats = Admission(
        max_viewers=2,
        max_per_address=1,
        max_consoles=1,
        token_ok=lambda given: token_matches(given, "secret"),
    )
    assert seats.admit(b"GET /ws HTTP/1.1", "10.0.0.1") is Seat.VIEWER
    refusal = seats.admit(b"GET /ws HTTP/1.1", "10.0.0.1")
    assert isinstance(refusal, Refusal) and refusal.counter == "refused_per_address"
    assert seats.admit(b"GET /ws HTTP/1.1", "10.0.0.2") is Seat.VIEWER
    full = seats.admit(b"GET /ws HTTP/1.1", "10.0.0.3")
    assert isinstance(full, Refusal) and full.counter == "refused_capacity"
    # The operator, from an address at its cap while the dashboard is full:
    assert seats.admit(b"GET /console/ws?token=secret HTTP/1.1", "10.0.0.1") is Seat.CONSOLE
    # A wrong token is an ordinary viewer seat (and the dashboard is full).
    wrong = seats.admit(b"GET /console/ws?token=guess HTTP/1.1", "10.0.0.9")
    assert isinstance(wrong, Refusal) and wrong.counter == "refused_capacity"
    again = seats.admit(b"GET /console/ws?token=secret HTTP/1.1", "10.0.0.1")
    assert isinstance(again, Refusal) and again.counter == "refused_console_seats"
    assert seats.admit(b"GET /static/console.js HTTP/1.1", "10.0.0.1") is Seat.HTTP
    seats.release(Seat.CONSOLE, "10.0.0.1")
    seats.release(Seat.VIEWER, "10.0.0.1")
    assert seats.per_address == {"10.0.0.2": 1}
    assert seats.admit(b"GET /ws HTTP/1.1", "10.0.0.1") is Seat.VIEWER
    assert seats.admit(b"GET /console/ws?token=secret HTTP/1.1", "10.0.0.1") is Seat.CONSOLE
    assert seats.counters == {
        "refused_capacity": 2,
        "refused_per_address": 1,
        "refused_console_seats": 1,
        "refused_malformed": 0,
        "head_timeouts": 0,
    }


# ---------------------------------------------------------------- the operator gets in


def test_operator_gets_in_when_the_dashboard_is_full_and_the_address_at_its_cap(
    show: FakeShow,
) -> None:
    srv = ServerThread(show, max_connections=3, max_per_address=2, max_consoles=2)
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(2):
                stack.enter_context(connect(srv.ws + "/ws", open_timeout=10))
            with pytest.raises(InvalidStatus) as info:
                connect(srv.ws + "/ws", open_timeout=10)
            assert info.value.response.status_code == 503
            # Without the token in the URL a console socket is just another viewer seat.
            with pytest.raises(InvalidStatus) as info:
                connect(srv.ws + "/console/ws", open_timeout=10)
            assert info.value.response.status_code == 503
            ws = stack.enter_context(console_socket(srv, f"/console/ws?token={TOKEN}"))
            ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
            while (reply := json.loads(ws.recv(timeout=10)))["type"] != "reply":
                pass
            assert reply["ok"] is True
            assert show.control_commands() == ["go"]
            stack.enter_context(console_socket(srv, f"/console/ws?token={TOKEN}"))
            # The console budget is bounded too.
            with pytest.raises(InvalidStatus) as info:
                connect(srv.ws + f"/console/ws?token={TOKEN}", open_timeout=10)
            assert info.value.response.status_code == 503
            assert b"2 consoles are already connected" in info.value.response.body
            stats = srv.stats()
            assert stats["console_seats"] == 2 and stats["viewer_seats"] == 2
            assert stats["consoles"] == 2
            assert stats["refused_per_address"] == 2
            assert stats["refused_console_seats"] == 1
        wait_for(lambda: srv.stats()["viewer_seats"] == 0 and srv.stats()["console_seats"] == 0)
    finally:
        srv.shutdown()


def test_console_page_gets_in_while_a_flood_holds_the_address(show: FakeShow, browser: Any) -> None:
    srv = ServerThread(show, max_connections=4, max_per_address=4)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(4):
                stack.enter_context(connect(srv.ws + "/ws", open_timeout=10))
            page = context.new_page()
            page.goto(srv.http + f"/console?token={TOKEN}")
            page.wait_for_selector("#console", state="visible", timeout=WAIT_MS)
            page.keyboard.press("Space")
            wait_for(lambda: show.control_commands() == ["go"], what="GO from the console")
            assert srv.stats()["refused_capacity"] == 0
    finally:
        context.close()
        srv.shutdown()


# ---------------------------------------------------------------- floods


def test_handshake_flood_is_refused_quietly(
    show: FakeShow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    srv = ServerThread(show, max_per_address=2)
    try:
        with contextlib.ExitStack() as stack:
            for _ in range(2):
                stack.enter_context(connect(srv.ws + "/ws", open_timeout=10))
            request = HANDSHAKE.format(path="/ws", extra="").encode()
            answers = [raw_request(srv.port, request) for _ in range(300)]
            assert {status_of(a) for a in answers} == {503}
            assert all(b"Retry-After: 5" in a and b"too many connections" in a for a in answers)
            assert srv.stats()["refused_per_address"] == 300
            assert srv.stats()["viewer_seats"] == 2
    finally:
        srv.shutdown()
    refusals = [r for r in web_records(caplog) if "refusing connections" in r.getMessage()]
    assert len(refusals) == 1  # one summary, not 300 lines
    assert not [r for r in caplog.records if r.exc_info]


def test_a_refused_flood_is_answered_on_the_bare_socket(show: FakeShow) -> None:
    srv = ServerThread(show, max_per_address=1)
    door = srv.server._door
    try:
        with connect(srv.ws + "/ws", open_timeout=10):
            request = HANDSHAKE.format(path="/ws", extra="").encode()
            answers = [raw_request(srv.port, request) for _ in range(20)]
            assert {status_of(a) for a in answers} == {503}
            assert door.refused == 20  # no transport, protocol or task was made for them
            # a head that arrives in pieces waits at the door, still a bare socket
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
                sock.sendall(request[:20])
                wait_for(lambda: door.waiting == 1)
                sock.sendall(request[20:])
                assert status_of(sock.recv(200)) == 503
            assert door.refused == 21 and door.waiting == 0
            assert srv.stats()["refused_per_address"] == 21
            assert srv.stats()["viewer_seats"] == 1
        wait_for(lambda: srv.stats()["viewer_seats"] == 0)
    finally:
        srv.shutdown()


@pytest.mark.parametrize("path", ["/ws", "/console/ws", f"/console/ws?token={TOKEN}"])
def test_repeated_host_headers_get_400_without_a_traceback(
    show: FakeShow, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    srv = ServerThread(show)
    try:
        request = HANDSHAKE.format(path=path, extra="Host: evil.example\r\n").encode()
        answers = [raw_request(srv.port, request) for _ in range(200)]
        assert {status_of(a) for a in answers} == {400}
        assert b"repeated header" in answers[0]
        assert srv.stats()["refused_malformed"] == 200
        assert srv.stats()["sessions"] == 0
        # The server still works.
        with connect(srv.ws + "/ws", open_timeout=10) as ws:
            ws.recv(timeout=10)
    finally:
        srv.shutdown()
    assert not [r for r in caplog.records if r.exc_info]
    assert sum("repeated header" in r.getMessage() for r in web_records(caplog)) == 1


def test_bad_request_lines_and_silent_clients_are_dropped(show: FakeShow) -> None:
    srv = ServerThread(show, head_timeout=0.2)
    try:
        assert status_of(raw_request(srv.port, b"HELLO\r\n\r\n")) == 400
        assert status_of(raw_request(srv.port, b"GET /" + b"a" * 9000)) == 414
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as silent:
            assert silent.recv(100) == b""  # closed by the server, nothing said
        stats = srv.stats()
        assert stats["refused_malformed"] == 2
        assert stats["head_timeouts"] == 1
    finally:
        srv.shutdown()


def test_floods_of_bad_clients_write_one_line_per_kind(
    show: FakeShow, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    srv = ServerThread(show, max_per_address=100)
    try:
        for _ in range(20):
            with connect(srv.ws + "/console/ws", open_timeout=10) as ws:
                ws.send(json.dumps({"type": "auth", "token": "guess"}))
                assert closed_code(ws) == 1008
            with connect(srv.ws + "/ws", open_timeout=10) as ws:
                ws.send("hello")
                assert closed_code(ws) == 1008
            with connect(srv.ws + "/ws", open_timeout=10, max_size=None) as ws:
                ws.send("x" * 10_000)
                assert closed_code(ws) == 1009
            with pytest.raises(InvalidStatus):
                connect(srv.ws + "/console/ws", origin=Origin("http://evil.example"))
        wait_for(lambda: srv.stats()["refused_oversize"] == 20)
        stats = srv.stats()
        assert stats["auth_failures"] == 20
        assert stats["refused_public_messages"] == 20
        assert stats["refused_origin"] == 20
    finally:
        srv.shutdown()
    lines = [r.getMessage() for r in web_records(caplog)]
    kinds = ("console login", "sent a message", "frame over limit", "from origin")
    # One line per kind, whatever else a loaded machine makes the server say.
    assert [sum(kind in line for line in lines) for kind in kinds] == [1, 1, 1, 1], lines


def test_websockets_library_messages_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    library = logging.getLogger("show.web.server.ws")
    for _ in range(100):
        library.warning("skipped broadcast: failed to write message: %s", "test-only reason")
    assert len([r for r in caplog.records if "test-only reason" in r.getMessage()]) == 1


def closed_code(ws: ClientConnection) -> int:
    with contextlib.suppress(Exception):
        while True:
            ws.recv(timeout=10)
    assert ws.close_code is not None
    return ws.close_code


def test_concurrent_handshakes_cannot_race_past_the_cap(show: FakeShow) -> None:
    srv = ServerThread(show, max_per_address=4)
    try:
        got = concurrent_handshakes(srv.port, 200)
        # Seats are taken from the request line: exactly the cap gets through.
        assert got == Counter({"101": 4, "503": 196})
        wait_for(lambda: srv.stats()["viewer_seats"] == 0)
    finally:
        srv.shutdown()


def test_a_burst_is_decided_a_few_per_loop_turn_in_arrival_order() -> None:
    decided: list[int] = []

    class Waiting:
        def __init__(self, n: int, loop: asyncio.AbstractEventLoop) -> None:
            self.n, self.loop = n, loop

        def decide(self) -> None:
            decided.append(self.n)

    async def burst() -> list[list[int]]:
        seats = Admission(
            max_viewers=1, max_per_address=1, max_consoles=1, token_ok=lambda _t: False
        )
        gate = Gate(seats, lambda _r, _a: None, per_turn=2)
        loop = asyncio.get_running_loop()
        for n in range(5):
            gate.submit(cast(GatedConnection, Waiting(n, loop)))
        turns = [list(decided)]
        for _ in range(3):
            await asyncio.sleep(0)  # one turn of the loop
            turns.append(list(decided))
        assert gate.deferred == 3
        return turns

    # Its own thread: the module's Chromium fixture keeps Playwright's loop running here.
    with ThreadPoolExecutor(1) as pool:
        turns = pool.submit(asyncio.run, burst()).result(20)
    assert turns == [[0, 1], [0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]


def test_pages_are_answered_at_the_door(show: FakeShow) -> None:
    srv = ServerThread(show)
    try:
        page = raw_request(srv.port, b"GET /?projector HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = page.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"Server: Stovelight" in head
        assert b"Content-Security-Policy: default-src 'self'" in head
        assert b"/static/dashboard.js" in body
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        assert length == len(body)
        only_head = raw_request(srv.port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert only_head.startswith(b"HTTP/1.1 200 OK")
        assert f"Content-Length: {length}\r\n".encode() in only_head
        assert only_head.endswith(b"\r\n\r\n")  # no body
        assert status_of(raw_request(srv.port, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")) == 404
        assert status_of(raw_request(srv.port, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")) == 405
        script = b"GET /static/common.js HTTP/1.1\r\n\r\n"
        for _ in range(100):
            assert status_of(raw_request(srv.port, script)) == 200
        stats = srv.stats()
        assert stats["answered_at_door"] == 104
        assert stats["http_requests"] == 104
        # The preview reads a header, so websockets handles it.
        assert status_of(raw_request(srv.port, b"GET /console/preview.jpg HTTP/1.1\r\n\r\n")) == 403
        assert srv.stats()["answered_at_door"] == 104
    finally:
        srv.shutdown()


def test_the_door_decides_for_at_most_its_time_budget_per_loop_turn() -> None:
    decided: list[int] = []
    now = [0.0]

    def clock() -> float:
        now[0] += 0.1  # each look at the clock: 0.1 s of deciding went by
        return now[0]

    class Waiting:
        def __init__(self, n: int, loop: asyncio.AbstractEventLoop) -> None:
            self.n, self.loop = n, loop

        def decide(self) -> None:
            decided.append(self.n)

    async def burst() -> list[list[int]]:
        seats = Admission(
            max_viewers=1, max_per_address=1, max_consoles=1, token_ok=lambda _t: False
        )
        gate = Gate(seats, lambda _r, _a: None, per_turn=64, budget_s=0.25, clock=clock)
        loop = asyncio.get_running_loop()
        for n in range(7):
            gate.submit(cast(GatedConnection, Waiting(n, loop)))
        turns = [list(decided)]
        for _ in range(3):
            await asyncio.sleep(0)  # one turn of the loop
            turns.append(list(decided))
        return turns

    with ThreadPoolExecutor(1) as pool:
        turns = pool.submit(asyncio.run, burst()).result(20)
    # budget 0.25 s: the turn's first decision starts the budget, two more fit in it
    assert turns == [[0, 1, 2], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 6], list(range(7))]


def test_the_kernel_queues_connections_that_the_door_has_not_accepted_yet() -> None:
    async def main() -> None:
        with socket.create_server(("127.0.0.1", 0), backlog=1) as server:
            door = Door(_gate(), lambda sock, _head, _seat, _peer: sock.close())
            door.open([server], backlog=16)  # the door listens with its own queue
            door.close()  # and accepts nothing: only the kernel's queue holds them
            port = server.getsockname()[1]
            clients = [socket.socket() for _ in range(8)]
            try:
                for client in clients:
                    client.setblocking(False)
                    client.connect_ex(("127.0.0.1", port))
                for client in clients:
                    _, writable, _ = select.select([], [client], [], 5.0)
                    assert writable == [client]
                    assert client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            finally:
                for client in clients:
                    client.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result(30)


def _gate(max_per_address: int = 1) -> Gate:
    seats = Admission(
        max_viewers=10,
        max_per_address=max_per_address,
        max_consoles=1,
        token_ok=lambda t: t == "right",
    )
    return Gate(seats, lambda _r, _a: None)


def test_a_page_larger_than_one_write_is_answered_whole() -> None:
    page = bytes(range(256)) * 4096  # 1 MiB: more than the socket takes at once

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        with _page_visitor(_gate(), page) as (door, visitor, _ours, theirs):
            door.decide(visitor)
            return await loop.run_in_executor(None, _read_to_end, theirs)

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, main()).result(30) == page


@contextlib.contextmanager
def _page_visitor(
    gate: Gate, page: bytes
) -> Iterator[tuple[Door, _RawVisitor, socket.socket, socket.socket]]:
    """A door answering ``GET /`` with ``page``, and a visitor who asked for it (not yet
    decided on): the door, the visitor, its socket on the door's side and the client's
    end. The door is closed after the block."""
    gate.answer = lambda method, path: page if (method, path) == ("GET", "/") else None
    door = Door(gate, lambda sock, _head, _seat, _peer: sock.close())
    with socket.create_server(("127.0.0.1", 0)) as listening:
        door.open([listening])
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        visitor = _RawVisitor(door, ours, "127.0.0.1", asyncio.get_running_loop().time())
        visitor.head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        try:
            yield door, visitor, ours, theirs
        finally:
            door.close()


def _read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    with sock:
        sock.settimeout(20)
        while data := sock.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def test_a_visitor_who_never_reads_a_page_is_cut_off_at_the_head_timeout() -> None:
    """The rest of a page that did not fit in one write goes out through asyncio; a client
    that never reads it must not hold the show's socket for ever."""
    page = bytes(range(256)) * 4096  # 1 MiB: more than the socket takes at once

    async def main() -> int:
        loop = asyncio.get_running_loop()
        gate = Gate(_gate().admission, lambda _r, _a: None, head_timeout=0.3)
        with _page_visitor(gate, page) as (door, visitor, ours, theirs):
            door.decide(visitor)
            await asyncio.sleep(1.0)  # the visitor reads nothing meanwhile
            cut = ours.fileno() == -1
            received = await loop.run_in_executor(None, _read_until_closed, theirs)
        assert cut, "the door still holds the socket of a visitor who never read"
        return received

    with ThreadPoolExecutor(1) as pool:
        received = pool.submit(asyncio.run, main()).result(30)
    assert received < len(page)


def _read_until_closed(sock: socket.socket) -> int:
    """Bytes read until the other end closed or reset the connection."""
    total = 0
    with sock:
        sock.settimeout(5)
        try:
            while data := sock.recv(65536):
                total += len(data)
        except ConnectionResetError:
            pass
    return total
