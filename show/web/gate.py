"""The door of the web port: admit or refuse a connection from its request line.

A refused connection must cost the show loop microseconds. The websockets
library does a lot per connection before our ``process_request`` hook runs (a
handshake task, a parser, a response object, log records), and asyncio makes a
transport, a protocol and a task for every connection it accepts, so the decision
is taken before either: the :class:`Door` accepts the connections itself (at most
:data:`ACCEPTS_PER_TURN` per turn of the event loop; the kernel queues up to
:data:`LISTEN_BACKLOG` more), reads the request's head (at most :data:`MAX_HEAD`
bytes) on the bare socket, and the :class:`Gate` asks :class:`Admission` (pure
bookkeeping, no I/O) about its request line (``GET /ws?token=... HTTP/1.1``). A
refusal is one pre-built HTTP response written to the socket, which is then
closed; nothing is left unread, and no transport, task, future or log record is
made: it is counted, and the server logs one summary line per reason at most
every 30 s. An admitted websocket is handed to asyncio and websockets with its
head and its seat, as a :class:`GatedConnection` (which can pass the gate itself
too, for a connection given to it without a seat). The gate decides for at most
:data:`DECISION_BUDGET_S` (and :data:`DECISIONS_PER_TURN` connections) per turn,
first come first decided; the rest of a burst waits for the next turn, so the
show's timers and a GO run in between.

Budgets (each websocket connection holds a seat from its request line until
its TCP connection closes):

* **console**: ``/console/ws?token=<console token>``; the operator's own
  budget, never shared with viewers and not subject to the per-address cap, so
  a full dashboard or a crowd behind the operator's NAT cannot lock them out;
* **viewer**: ``/ws`` and a ``/console/ws`` without the token in its URL (it
  must then authenticate with its first message); bounded in total and per
  client address.

Plain HTTP requests hold no seat. Once a request's head is complete, pages,
scripts and 404s are answered right at the door (the server's ``answer``
callable) on the bare socket and the connection closed, so a flood of page
requests costs no more than a refusal; only the sockets and the preview (which
read headers) reach websockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import enum
import logging
import math
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection

from show.showfile.config import WEB_HEAD_TIMEOUT_S

__all__ = [
    "ACCEPTS_PER_TURN",
    "DECISIONS_PER_TURN",
    "DECISION_BUDGET_S",
    "HEAD_TIMEOUT_S",
    "LISTEN_BACKLOG",
    "MAX_HEAD",
    "MAX_REQUEST_LINE",
    "Admission",
    "Door",
    "Gate",
    "GatedConnection",
    "Refusal",
    "Seat",
    "gated_connection_class",
    "parse_request_line",
]

MAX_REQUEST_LINE: Final = 8192
"""Longest request line read before the connection is refused with 414."""
MAX_HEAD: Final = 16384
"""Longest request head (line and headers) read before it is refused with 431."""
HEAD_TIMEOUT_S: Final = WEB_HEAD_TIMEOUT_S
"""Seconds a client has to send its request head (``[web]``'s default)."""
DECISIONS_PER_TURN: Final = 64
"""Door decisions per event-loop turn at most; a burst beyond it waits for the next turn."""
DECISION_BUDGET_S: Final = 0.0005
"""Time the door may spend deciding in one event-loop turn (a refusal's write to the
client is most of it); at least one connection is decided per turn."""
ACCEPTS_PER_TURN: Final = 16
"""New connections the :class:`Door` accepts per event-loop turn at most."""
LISTEN_BACKLOG: Final = 100
"""Connections the kernel queues before they are accepted (asyncio's default)."""

ACCEPT_RETRY_S: Final = 1.0
"""Pause before accepting again when the process is out of file descriptors."""

_log = logging.getLogger(__name__)

PUBLIC_WS: Final = "/ws"
CONSOLE_WS: Final = "/console/ws"


class Seat(enum.Enum):
    """Which budget an admitted connection counts against."""

    HTTP = "http"
    VIEWER = "viewer"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a connection is refused and what it is told.

    Attributes:
        counter: The stats counter it increments (``refused_capacity``, ...).
        status: HTTP status code of the response.
        text: Response body (one line).
    """

    counter: str
    status: int
    text: str


_PHRASES: Final = {
    400: "Bad Request",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def parse_request_line(line: bytes) -> tuple[str, str, str | None] | None:
    """Split an HTTP/1.1 request line into method, path and ``token`` query value.

    Args:
        line: The bytes before the first CRLF.

    Returns:
        ``(method, path, token)``, or ``None`` when the line is not a valid
        HTTP/1.x request line.
    """
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
        return None
    try:
        target = parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None
    if not target.startswith("/"):
        return None
    split = urlsplit(target)
    token = None
    if "token=" in split.query:
        values = parse_qs(split.query).get("token")
        token = values[0] if values else None
    return parts[0].decode("ascii"), split.path, token


def oversize_head(head: bytes, admission: Admission) -> Refusal | None:
    """The refusal for an incomplete request head that is already too long (counted),
    or ``None`` while it may still complete."""
    if len(head) > MAX_REQUEST_LINE and b"\r\n" not in head:
        return admission.refuse("refused_malformed", 414, "request line too long")
    if len(head) > MAX_HEAD:
        return admission.refuse("refused_malformed", 431, "request head too large")
    return None


class _AtDoor(Protocol):
    """A connection whose request head has arrived, waiting for the gate's decision."""

    loop: asyncio.AbstractEventLoop

    def decide(self) -> None: ...


class Admission:
    """Seat bookkeeping for the web port: pure, no I/O, no clock.

    Args:
        max_viewers: Viewer seats in total.
        max_per_address: Viewer seats per client address.
        max_consoles: Console seats (token in the socket URL).
        token_ok: Compares a presented token with the console token.
    """

    def __init__(
        self,
        *,
        max_viewers: int,
        max_per_address: int,
        max_consoles: int,
        token_ok: Callable[[str | None], bool],
    ) -> None:
        if min(max_viewers, max_per_address, max_consoles) < 1:
            raise ValueError("web connection caps must be >= 1")
        self.max_viewers = max_viewers
        self.max_per_address = max_per_address
        self.max_consoles = max_consoles
        self._token_ok = token_ok
        self.viewers = 0
        self.consoles = 0
        self.per_address: dict[str, int] = {}
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "refused_capacity",
                "refused_per_address",
                "refused_console_seats",
                "refused_malformed",
                "head_timeouts",
            ),
            0,
        )

    def admit(self, request_line: bytes, address: str) -> Seat | Refusal:
        """Decide on a connection from its request line; a seat is taken on success.

        Args:
            request_line: The bytes before the first CRLF.
            address: The client's IP address.

        Returns:
            The seat taken (release it with :meth:`release`), or the refusal
            (counted).
        """
        parsed = parse_request_line(request_line)
        if parsed is None:
            return self.refuse("refused_malformed", 400, "malformed HTTP request line")
        _, path, token = parsed
        if path == CONSOLE_WS and token is not None and self._token_ok(token):
            if self.consoles >= self.max_consoles:
                return self.refuse(
                    "refused_console_seats",
                    503,
                    f"{self.max_consoles} consoles are already connected",
                )
            self.consoles += 1
            return Seat.CONSOLE
        if path not in (PUBLIC_WS, CONSOLE_WS):
            return Seat.HTTP
        if self.viewers >= self.max_viewers:
            return self.refuse(
                "refused_capacity",
                503,
                f"dashboard full ({self.max_viewers} connections); try again shortly",
            )
        held = self.per_address.get(address, 0)
        if held >= self.max_per_address:
            return self.refuse(
                "refused_per_address",
                503,
                f"too many connections from {address} (max {self.max_per_address})",
            )
        self.viewers += 1
        self.per_address[address] = held + 1
        return Seat.VIEWER

    def release(self, seat: Seat, address: str) -> None:
        """Give back a seat taken by :meth:`admit`.

        Args:
            seat: The seat returned by :meth:`admit`.
            address: The same address.
        """
        if seat is Seat.CONSOLE:
            self.consoles -= 1
        elif seat is Seat.VIEWER:
            self.viewers -= 1
            left = self.per_address.get(address, 1) - 1
            if left > 0:
                self.per_address[address] = left
            else:
                self.per_address.pop(address, None)

    def refuse(self, counter: str, status: int, text: str) -> Refusal:
        """Count a refusal and describe it.

        Args:
            counter: Key of :attr:`counters` to increment.
            status: HTTP status code.
            text: One line for the client.

        Returns:
            The refusal.
        """
        self.counters[counter] += 1
        return Refusal(counter, status, text)


class Gate:
    """The admission state of one server plus the connections still at the door.

    Args:
        admission: The seat bookkeeping.
        on_refusal: Called with each refusal and the client address (the server
            logs a rate-limited summary there).
        head_timeout: Seconds a client has to send its request head.
        per_turn: Most door decisions in one turn of the event loop; the rest
            wait for the next turn, so a burst of connections is spread over
            several turns and the show's timers run in between.
        budget_s: Most time spent deciding in one turn (measured with ``clock``);
            the first decision of a turn is always taken.
        answer: Answers a plain request at the door: ``(method, path)`` to the
            whole HTTP response, or ``None`` to hand the request to websockets.
            Pages and scripts are answered there, so a flood of page requests
            costs no more than a refusal.
    """

    def __init__(
        self,
        admission: Admission,
        on_refusal: Callable[[Refusal, str], None],
        head_timeout: float = HEAD_TIMEOUT_S,
        per_turn: int = DECISIONS_PER_TURN,
        answer: Callable[[str, str], bytes | None] | None = None,
        budget_s: float = DECISION_BUDGET_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.admission = admission
        self.on_refusal = on_refusal
        self.head_timeout = head_timeout
        self.per_turn = per_turn
        self.budget_s = budget_s
        self.answer = answer
        self._clock = clock
        self._turn_ends = 0.0
        self.waiting: set[GatedConnection] = set()
        self.deferred = 0
        self._queue: deque[_AtDoor] = deque()
        self._used = 0
        self._turn_scheduled = False
        self._date = (0, "")

    def submit(self, connection: _AtDoor) -> None:
        """Have ``connection`` decided now, or in a later turn when this one's budget
        is spent (first come, first decided).

        Args:
            connection: A connection whose request head has arrived.
        """
        if not self._queue and self._room_this_turn():
            self._use(connection.loop)
            connection.decide()
            return
        self.deferred += 1
        self._queue.append(connection)
        if not self._turn_scheduled:
            self._turn_scheduled = True
            connection.loop.call_soon(self._next_turn, connection.loop)

    def _room_this_turn(self) -> bool:
        if self._used == 0:
            return True
        return self._used < self.per_turn and self._clock() < self._turn_ends

    def _use(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._turn_scheduled:
            # Runs at the start of the next turn: a fresh budget, then the queue.
            self._turn_scheduled = True
            loop.call_soon(self._next_turn, loop)
        if self._used == 0:
            self._turn_ends = self._clock() + self.budget_s
        self._used += 1

    def _next_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        self._turn_scheduled = False
        self._used = 0
        while self._queue and self._room_this_turn():
            self._use(loop)
            self._queue.popleft().decide()
        if self._queue and not self._turn_scheduled:
            self._turn_scheduled = True
            loop.call_soon(self._next_turn, loop)

    def response(self, refusal: Refusal) -> bytes:
        """Encode the HTTP response for a refusal (a few hundred bytes).

        Args:
            refusal: What to say.

        Returns:
            The whole response, ready to write.
        """
        second = int(time.time())
        if second != self._date[0]:
            self._date = (second, email.utils.formatdate(second, usegmt=True))
        body = (refusal.text + "\n").encode("utf-8")
        retry = "Retry-After: 5\r\n" if refusal.status == 503 else ""
        head = (
            f"HTTP/1.1 {refusal.status} {_PHRASES.get(refusal.status, 'Error')}\r\n"
            f"Date: {self._date[1]}\r\nServer: Stovelight\r\nConnection: close\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            f"Cache-Control: no-cache\r\n{retry}\r\n"
        )
        return head.encode("ascii") + body

    def close_waiting(self) -> None:
        """Drop every connection that has not sent its request head yet."""
        for connection in list(self.waiting):
            connection.abort_at_door()


class GatedConnection(ServerConnection):
    """A websockets server connection that first passes the :class:`Gate`.

    Until its request head has arrived and been admitted, websockets has not
    been told about the connection at all (no handler task exists). Use
    :func:`gated_connection_class` to bind a gate.
    """

    gate: ClassVar[Gate]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seat: Seat | None = None
        self.peer = ""
        self._head = b""
        self._queued = False
        self._door_transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._let_in: tuple[Seat, bytes] | None = None

    def admitted_at_door(self, seat: Seat, head: bytes) -> None:
        """The :class:`Door` read ``head`` and gave it ``seat``; it is carried into
        websockets (or answered) as soon as :meth:`connection_made` is called."""
        self._let_in = (seat, head)

    @property
    def door_seat_pending(self) -> bool:
        """A seat from :meth:`admitted_at_door` not taken over by a transport yet."""
        return self._let_in is not None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._door_transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)
        if self._let_in is not None:
            (seat, head), self._let_in = self._let_in, None
            self._enter(transport, seat, head)
            return
        self.gate.waiting.add(self)
        self._timer = self.loop.call_later(self.gate.head_timeout, self._head_timeout)

    def data_received(self, data: bytes) -> None:
        if self.seat is not None:
            super().data_received(data)
            return
        self._head += data
        if self._queued:
            return
        if b"\r\n\r\n" in self._head:  # the whole head: answering now leaves nothing unread
            self._queued = True
            self.gate.submit(self)
        elif (problem := oversize_head(self._head, self.gate.admission)) is not None:
            self._refuse(problem)

    def decide(self) -> None:
        """Admit, answer or refuse, from the request line (called by the :class:`Gate`)."""
        transport = self._door_transport
        if self.seat is not None or transport is None or transport.is_closing():
            return
        line = self._head[: self._head.find(b"\r\n")]
        verdict = self.gate.admission.admit(line, self.peer)
        if isinstance(verdict, Refusal):
            self._refuse(verdict)
            return
        self._leave_door()
        head, self._head = self._head, b""
        self._enter(transport, verdict, head)

    def _enter(self, transport: asyncio.Transport, seat: Seat, head: bytes) -> None:
        """Answer a page at the door, or hand the connection and its head to websockets."""
        if seat is Seat.HTTP and self.gate.answer is not None:
            parsed = parse_request_line(head[: head.find(b"\r\n")])
            reply = self.gate.answer(parsed[0], parsed[1]) if parsed is not None else None
            if reply is not None:
                transport.write(reply)
                transport.close()
                return
        self.seat = seat
        super().connection_made(transport)
        super().data_received(head)

    def eof_received(self) -> None:
        # At the door, returning None lets the transport close itself.
        if self.seat is not None:
            super().eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.seat is None:
            self._leave_door()
            return
        self.gate.admission.release(self.seat, self.peer)
        super().connection_lost(exc)

    def abort_at_door(self) -> None:
        """Drop the connection if it is still waiting at the door."""
        self._leave_door()
        if self.seat is None and self._door_transport is not None:
            self._door_transport.abort()

    def _refuse(self, refusal: Refusal) -> None:
        self._leave_door()
        transport = self._door_transport
        assert transport is not None
        transport.write(self.gate.response(refusal))
        transport.close()
        self.gate.on_refusal(refusal, self.peer)

    def _head_timeout(self) -> None:
        self._timer = None
        if self.seat is None:
            self.gate.admission.counters["head_timeouts"] += 1
            self.abort_at_door()

    def _leave_door(self) -> None:
        self.gate.waiting.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _RawVisitor:
    """A connection the :class:`Door` accepted, still a bare socket: no transport,
    protocol or task exists for it until it is admitted."""

    __slots__ = ("door", "head", "loop", "peer", "since", "sock")

    def __init__(self, door: Door, sock: socket.socket, peer: str, now: float) -> None:
        self.door = door
        self.sock = sock
        self.peer = peer
        self.since = now
        self.head = b""
        assert door.loop is not None
        self.loop = door.loop

    def decide(self) -> None:
        """Refuse on the socket, or hand it over (called by the :class:`Gate`)."""
        self.door.decide(self)


class _Rest(asyncio.Protocol):
    """Writes the rest of an answer the door began on the bare socket, then closes; a
    client that does not read it within ``deadline`` seconds is cut off, so visitors who
    never read cannot hold the show's file descriptors."""

    def __init__(self, rest: bytes, deadline: float) -> None:
        self._rest = rest
        self._deadline = deadline
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self._rest)
        transport.close()
        if transport.get_write_buffer_size():  # not all of it went: the client is slow
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._deadline, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()


class Door:
    """Accepts the web port's connections and refuses a flood on the bare socket.

    A connection is read at the door without an asyncio transport; once its request
    head is there the :class:`Gate` decides (within its budget per turn). A refusal,
    a page, a script or a 404 is written and the socket closed right there; an
    admitted socket (and a preview request) is handed over to asyncio and websockets
    with its head and its seat.

    Args:
        gate: The server's gate (its admission, budget, refusal text and log hook).
        hand_over: Gives an admitted socket, its request head, its seat and the
            client's address to the event loop (asyncio and websockets, through a
            :class:`GatedConnection` told :meth:`GatedConnection.admitted_at_door`);
            it gives the seat back if that fails.
        per_turn: Connections accepted per event-loop turn at most.
    """

    def __init__(
        self,
        gate: Gate,
        hand_over: Callable[[socket.socket, bytes, Seat, str], None],
        per_turn: int = ACCEPTS_PER_TURN,
    ) -> None:
        self.gate = gate
        self.per_turn = per_turn
        self.refused = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self._hand_over = hand_over
        self._listeners: list[socket.socket] = []
        self._visitors: dict[socket.socket, _RawVisitor] = {}
        self._finishing: set[asyncio.Task[None]] = set()
        self._sweep: asyncio.TimerHandle | None = None
        self._answer_failed_at = -math.inf

    @property
    def _sweep_every(self) -> float:
        return min(1.0, self.gate.head_timeout)

    @property
    def waiting(self) -> int:
        """Connections at the door whose request head has not been read yet."""
        return len(self._visitors)

    def open(self, sockets: Iterable[Any], backlog: int = LISTEN_BACKLOG) -> None:
        """Take over accepting on ``sockets`` from the running loop (an asyncio
        server's), with a kernel queue of ``backlog``.

        Args:
            sockets: Bound sockets (asyncio's ``TransportSocket`` or plain ones).
            backlog: The kernel's queue of connections not yet accepted.
        """
        self.loop = asyncio.get_running_loop()
        for sock in sockets:
            self.loop.remove_reader(sock.fileno())  # asyncio's accept
            own = socket.socket(sock.family, sock.type, fileno=socket.dup(sock.fileno()))
            own.setblocking(False)
            own.listen(backlog)
            self._listeners.append(own)
            self.loop.add_reader(own.fileno(), self._accept, own)

    def close(self) -> None:
        """Stop accepting and drop the connections still at the door."""
        loop, listeners, self._listeners = self.loop, self._listeners, []
        live = loop is not None and not loop.is_closed()
        for own in listeners:
            if live:
                loop.remove_reader(own.fileno())  # type: ignore[union-attr]
            own.close()
        for visitor in list(self._visitors.values()):
            self._drop(visitor)
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None

    def decide(self, visitor: _RawVisitor) -> None:
        """Refuse ``visitor`` on its socket, or hand it over.

        Args:
            visitor: A connection whose request head has been read.
        """
        if not self._listeners:  # the server stopped while it waited for its turn
            visitor.sock.close()
            return
        line = visitor.head[: visitor.head.find(b"\r\n")]
        verdict = self.gate.admission.admit(line, visitor.peer)
        if isinstance(verdict, Refusal):
            self._refuse(visitor, verdict)
            return
        if verdict is Seat.HTTP and self._answered(visitor, line):
            return
        self._hand_over(visitor.sock, visitor.head, verdict, visitor.peer)

    def _answered(self, visitor: _RawVisitor, line: bytes) -> bool:
        """Answer a page, a script or a 404 at the door (the gate's ``answer``), on the
        bare socket; what does not fit in one write goes out through asyncio."""
        parsed = parse_request_line(line)
        answer = self.gate.answer
        try:
            reply = answer(parsed[0], parsed[1]) if answer is not None and parsed else None
        except Exception:  # a bug answering a page: this visitor goes, the door stays open
            now = time.monotonic()
            if now - self._answer_failed_at > 60.0:  # once a minute: visitors can repeat it
                self._answer_failed_at = now
                _log.exception("web: answering %r failed; connection closed", line[:80])
            visitor.sock.close()
            return True
        if reply is None:
            return False  # the preview: websockets reads its headers
        try:
            sent = visitor.sock.send(reply)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # the client left
            visitor.sock.close()
            return True
        if sent == len(reply):
            visitor.sock.close()
        else:
            assert self.loop is not None
            task = self.loop.create_task(self._finish(visitor.sock, reply[sent:]))
            self._finishing.add(task)
            task.add_done_callback(self._finishing.discard)
        return True

    async def _finish(self, sock: socket.socket, rest: bytes) -> None:
        assert self.loop is not None
        try:
            deadline = self.gate.head_timeout
            await self.loop.connect_accepted_socket(lambda: _Rest(rest, deadline), sock)
        except OSError:
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        assert self.loop is not None
        now = self.loop.time()
        for _ in range(self.per_turn):
            try:
                conn, address = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as err:  # out of file descriptors: stop a while, as asyncio does
                self._pause(listener, err)
                return
            conn.setblocking(False)
            peer = str(address[0]) if isinstance(address, tuple) and address else str(address)
            visitor = _RawVisitor(self, conn, peer, now)
            if self._read(visitor):  # most clients sent their request with the connect
                self._wait(visitor)

    def _read(self, visitor: _RawVisitor) -> bool:
        """Read what has arrived; True while the head is still incomplete."""
        try:
            data = visitor.sock.recv(MAX_HEAD + 1)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            data = b""
        if not data:  # the client left
            visitor.sock.close()
            return False
        visitor.head += data
        if b"\r\n\r\n" in visitor.head:
            self.gate.submit(visitor)
            return False
        problem = oversize_head(visitor.head, self.gate.admission)
        if problem is not None:
            self._refuse(visitor, problem)
            return False
        return True

    def _wait(self, visitor: _RawVisitor) -> None:
        assert self.loop is not None
        self._visitors[visitor.sock] = visitor
        self.loop.add_reader(visitor.sock.fileno(), self._readable, visitor)
        if self._sweep is None:
            self._sweep = self.loop.call_later(self._sweep_every, self._sweep_slow)

    def _readable(self, visitor: _RawVisitor) -> None:
        self._leave(visitor)  # before the socket may be closed
        if self._read(visitor):
            self._wait(visitor)  # a head in several pieces (rare)

    def _leave(self, visitor: _RawVisitor) -> None:
        if self._visitors.pop(visitor.sock, None) is not None and self.loop is not None:
            self.loop.remove_reader(visitor.sock.fileno())

    def _drop(self, visitor: _RawVisitor) -> None:
        self._leave(visitor)
        visitor.sock.close()

    def _sweep_slow(self) -> None:
        """Drop connections that did not send their head within the head timeout
        (checked every second, or every head timeout if shorter)."""
        assert self.loop is not None
        self._sweep = None
        too_old = self.loop.time() - self.gate.head_timeout
        for visitor in [v for v in self._visitors.values() if v.since <= too_old]:
            self.gate.admission.counters["head_timeouts"] += 1
            self._drop(visitor)
        if self._visitors:
            self._sweep = self.loop.call_later(self._sweep_every, self._sweep_slow)

    def _refuse(self, visitor: _RawVisitor, refusal: Refusal) -> None:
        self.refused += 1
        with contextlib.suppress(OSError):
            visitor.sock.send(self.gate.response(refusal))  # a few hundred bytes: fits
        visitor.sock.close()
        self.gate.on_refusal(refusal, visitor.peer)

    def _pause(self, listener: socket.socket, err: OSError) -> None:
        loop = self.loop
        assert loop is not None
        _log.warning(
            "web: cannot accept connections (%s); trying again in %.0f s", err, ACCEPT_RETRY_S
        )
        loop.remove_reader(listener.fileno())

        def resume() -> None:
            if listener in self._listeners:
                loop.add_reader(listener.fileno(), self._accept, listener)

        loop.call_later(ACCEPT_RETRY_S, resume)


def gated_connection_class(gate: Gate) -> type[ServerConnection]:
    """Return a :class:`GatedConnection` subclass bound to ``gate``.

    Args:
        gate: The server's gate.

    Returns:
        A class to pass as ``create_connection`` to ``websockets`` ``serve``.
    """
    return type("BoundGatedConnection", (GatedConnection,), {"gate": gate})
