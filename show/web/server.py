"""The show's web server: public dashboard, operator console, one port.

HTTP pages and both websockets share one port through
``websockets.asyncio.server.serve`` with a ``process_request`` hook:

* ``GET /`` public dashboard page, ``/ws`` its read-only snapshot socket;
* ``GET /console`` operator console page, ``/console/ws`` its socket (token);
* ``GET /console/preview.jpg?token=...`` latest visuals preview;
* ``GET /static/<file>`` scripts and styles.

The runner gives the server callables and never hands it an object to poke at;
see ``docs/web.md`` for the snapshot shapes it is expected to return.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeAlias
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import MultipleValuesError
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bridges.ratelimit import RateLimitedLogger
from show.showfile.config import WEB_PORT, WebConfig
from show.web.fanout import Broadcaster
from show.web.gate import (
    CONSOLE_WS,
    PUBLIC_WS,
    Admission,
    Door,
    Gate,
    GatedConnection,
    Refusal,
    Seat,
    gated_connection_class,
)
from show.web.http import (
    StaticFile,
    load_static,
    make_response,
    origin_allowed,
)
from show.web.protocol import (
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    COMMANDS,
    ProtocolError,
    check_auth,
    encode_message,
    error_reply,
    parse_control,
    reply_message,
    token_matches,
)

__all__ = [
    "DEFAULT_PORT",
    "ControlCallable",
    "PreviewCallable",
    "SnapshotCallable",
    "WebServer",
    "new_console_token",
]

logger = logging.getLogger(__name__)


class _OncePerInterval(logging.Filter):
    """Let each distinct message of the websockets library through once per interval.

    The library logs per connection (a failed broadcast write, a parser error); a
    client that provokes one of those repeatedly must not fill the show's log.
    """

    def __init__(self, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self._interval = interval_s
        self._clock = clock
        self._seen: dict[str, list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = self._clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self._interval:
            seen[1] += 1
            return False
        if seen is not None and seen[1] and isinstance(record.args, tuple):
            record.msg = f"{record.msg} (%d similar messages suppressed)"
            record.args = (*record.args, int(seen[1]))
        if len(self._seen) > 256:
            self._seen.clear()
        self._seen[key] = [now, 0]
        return True


_LIBRARY_LOG = logging.getLogger(__name__ + ".ws")
_LIBRARY_LOG.addFilter(_OncePerInterval())

DEFAULT_PORT: Final = WEB_PORT
"""Port the show serves the dashboard and console on unless the show file says otherwise."""

SnapshotCallable: TypeAlias = Callable[[], Mapping[str, Any]]
ControlCallable: TypeAlias = Callable[
    [dict[str, Any]], Awaitable[Mapping[str, Any] | None] | Mapping[str, Any] | None
]
PreviewCallable: TypeAlias = Callable[[], bytes | None]

# Headers a websocket handshake must not repeat; websockets reads some of them
# itself, we read Host and Origin.
_SINGLE_HEADERS: Final = (
    "Host",
    "Origin",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Authorization",
)
_PAGES: Final[Mapping[str, str]] = {
    "/": "index.html",
    "/index.html": "index.html",
    "/console": "console.html",
    "/console/": "console.html",
}


def new_console_token() -> str:
    """Return a fresh random console token (for shows that do not set one).

    Returns:
        A URL-safe token of 128 random bits.
    """
    return secrets.token_urlsafe(16)


def _query_token(request: Request) -> str | None:
    values = parse_qs(urlsplit(request.path).query).get("token")
    if values:
        return values[0]
    auth = request.headers.get("Authorization")
    if auth is not None and auth.startswith("Bearer "):
        return auth[len("Bearer ") :].strip()
    return None


class WebServer:
    """Serve the public dashboard and the operator console for a running show.

    Args:
        config: Where to listen and every limit (``[web]``, see
            :class:`~show.showfile.config.WebConfig`); ``console_token`` must not be
            empty. ``port`` 0 picks a free port (see :attr:`port`); ``console`` False
            serves the public pages only and answers 404 for every ``/console`` path
            (a dashboard relay).
        public_snapshot: Returns the public snapshot body (``docs/web.md``), called
            once per tick on the event loop while at least one viewer is connected.
        console_snapshot: Returns the console snapshot body, called once per tick
            while at least one authenticated console is connected.
        control: Receives ``{"command", "cue"?, "list"?}`` from an authenticated
            console; may be sync or async; its returned dict is sent back as
            ``{"type": "reply", "id", "ok": True, ...}`` (``ok`` may be overridden).
        preview: Returns the latest visuals preview as JPEG bytes, or ``None``.
        clock: Wall clock stamped as ``t`` into snapshots (``time.time``).

    Raises:
        ValueError: The console token is empty or ``max_message_bytes`` is under 64.
    """

    def __init__(
        self,
        config: WebConfig,
        *,
        public_snapshot: SnapshotCallable,
        console_snapshot: SnapshotCallable,
        control: ControlCallable,
        preview: PreviewCallable | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not config.console_token:
            raise ValueError("console_token must not be empty; use new_console_token()")
        if config.max_message_bytes < 64:
            raise ValueError("max_message_bytes must be >= 64")
        self.config = config
        console_token = config.console_token
        self._host = config.host
        self._requested_port = config.port
        self._serves_console = config.console
        self._control = control
        self._token = console_token
        self._preview = preview
        self._admission = Admission(
            max_viewers=config.max_connections,
            max_per_address=config.max_per_address,
            max_consoles=config.max_consoles,
            token_ok=lambda given: token_matches(given, console_token),
        )
        self._gate = Gate(
            self._admission, self._refused, config.head_timeout, answer=self._door_answer
        )
        self._door = Door(self._gate, self._hand_over)
        self._handovers: set[asyncio.Task[None]] = set()
        self._max_message_bytes = config.max_message_bytes
        self._allowed_origins = config.allowed_origins or None
        self._ping_interval = config.ping_interval
        self._ping_timeout = config.ping_timeout
        self._auth_timeout = config.auth_timeout
        self._auth_failure_delay = config.auth_failure_delay
        self._control_timeout = config.control_timeout
        self._send_buffer_bytes = config.send_buffer_bytes
        rate_hz = config.rate_hz
        self._warn = RateLimitedLogger(logger, 30.0, time.monotonic)
        self._public = Broadcaster(
            "public", "snapshot", public_snapshot, rate_hz=rate_hz, clock=clock, warn=self._warn
        )
        self._console = Broadcaster(
            "console",
            "console",
            lambda: {**console_snapshot(), "web": self.stats()},
            rate_hz=rate_hz,
            clock=clock,
            warn=self._warn,
        )
        self._static: dict[str, StaticFile] = {}
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sessions: set[ServerConnection] = set()
        self._counters: dict[str, int] = dict.fromkeys(
            (
                "refused_public_messages",
                "refused_oversize",
                "refused_origin",
                "auth_failures",
                "control_requests",
                "control_errors",
                "http_requests",
                "answered_at_door",
            ),
            0,
        )
        self._peak_sessions = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """The bound TCP port (useful with ``port=0``).

        Raises:
            RuntimeError: Before :meth:`start`.
        """
        if self._server is None:
            raise RuntimeError("WebServer.port is only known after start()")
        sockname = self._server.sockets[0].getsockname()
        return int(sockname[1])

    async def start(self) -> None:
        """Bind the port and start the two broadcaster tasks.

        Raises:
            RuntimeError: When already started.
            OSError: When the port cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("WebServer already started")
        self._static = load_static()
        self._server = await serve(
            self._session,
            self._host,
            self._requested_port,
            process_request=self._process_request,
            create_connection=gated_connection_class(self._gate),
            compression=None,
            max_size=self._max_message_bytes,
            max_queue=4,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            close_timeout=2.0,
            server_header="Stovelight",
            logger=_LIBRARY_LOG,
        )
        self._door.open(self._server.sockets)
        for broadcaster in (self._public, self._console):
            task = asyncio.create_task(
                broadcaster.run(), name=f"web.{broadcaster.name}-broadcaster"
            )
            self._tasks.append(task)
        logger.info(
            "web: dashboard on http://%s:%d/ and console on /console"
            " (%d viewers, %d per address, %d consoles)",
            self._host,
            self.port,
            self._admission.max_viewers,
            self._admission.max_per_address,
            self._admission.max_consoles,
        )

    async def aclose(self) -> None:
        """Stop broadcasting, close every socket with code 1001 and unbind. Idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in reversed(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server, self._server = self._server, None
        self._door.close()
        for handover in list(self._handovers):
            handover.cancel()
        self._gate.close_waiting()
        if server is not None:
            server.close(close_connections=True, reason="show server stopped")
            await server.wait_closed()
            logger.info("web: server stopped")

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def stats(self) -> dict[str, Any]:
        """Counters for the console's health panel and for tests.

        Returns:
            Viewer and console counts, refusals by reason, and fan-out counters.
        """
        public = self._public.stats
        return {
            "viewers": self._public.subscribers,
            "consoles": self._console.subscribers,
            "sessions": len(self._sessions),
            "peak_sessions": self._peak_sessions,
            "viewer_seats": self._admission.viewers,
            "console_seats": self._admission.consoles,
            **self._admission.counters,
            **self._counters,
            "snapshots": public.ticks,
            "snapshot_bytes": public.last_bytes,
            "snapshot_build_errors": public.build_errors + self._console.stats.build_errors,
            "delivered": public.delivered,
            "skipped_slow_viewer": public.skipped,
            "last_build_ms": round(public.last_build_s * 1000.0, 3),
            "last_send_ms": round(public.last_send_s * 1000.0, 3),
            # seen by the broadcasters as they wrote (no pass over every session here:
            # the console asks for these stats every tick)
            "max_pending_bytes": max(
                public.max_pending_bytes, self._console.stats.max_pending_bytes
            ),
        }

    # ------------------------------------------------------------------ HTTP

    def _address(self, connection: ServerConnection) -> str:
        if isinstance(connection, GatedConnection):
            return connection.peer
        remote = connection.remote_address
        if isinstance(remote, tuple) and remote:
            return str(remote[0])
        return str(remote)

    def _refused(self, refusal: Refusal, address: str) -> None:
        # One summary line per reason every 30 s at most, however hard the flood.
        self._warn.warning(
            refusal.counter,
            "web: refusing connections (%s), the latest from %s: %s; %d so far",
            refusal.counter,
            address,
            refusal.text,
            self._admission.counters[refusal.counter],
        )

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            return self._route(request)
        except MultipleValuesError as err:
            # e.g. two Host headers: the client's mistake, not ours; no traceback.
            self._admission.counters["refused_malformed"] += 1
            self._warn.warning(
                "malformed-headers",
                "web: refused a request from %s with a repeated header %s; %d so far",
                self._address(connection),
                err,
                self._admission.counters["refused_malformed"],
            )
            return make_response(400, f"malformed request: repeated header {err}\n")
        except Exception as err:
            self._warn.warning(
                "route-error",
                "web: request for %r failed: %s",  # the path only: a query may hold the token
                urlsplit(request.path).path,
                err,
                exc_info=True,
            )
            return make_response(500, "request failed\n")

    def _page(self, method: str, path: str) -> Response | None:
        """The answer to a request that needs nothing but its method and path, or
        ``None`` for the sockets and the preview (they read headers)."""
        if not self._serves_console and path.startswith("/console"):
            return make_response(404, "no console here: this serves the public dashboard only\n")
        if path in (PUBLIC_WS, CONSOLE_WS):
            return None
        if method not in ("GET", "HEAD"):
            return make_response(405, "method not allowed\n", extra_headers=(("Allow", "GET"),))
        if path == "/console/preview.jpg":
            return None
        if path in _PAGES:
            return self._static_response(_PAGES[path])
        if path.startswith("/static/"):
            return self._static_response(path[len("/static/") :])
        if path == "/favicon.ico":
            return make_response(204, b"")
        return make_response(404, "not found\n")

    def _door_answer(self, method: str, path: str) -> bytes | None:
        # Pages, scripts and 404s are answered at the door, before websockets.
        page = self._page(method, path)
        if page is None:
            return None
        self._counters["http_requests"] += 1
        self._counters["answered_at_door"] += 1
        page.headers["Server"] = "Stovelight"
        data = page.serialize()
        return data[: len(data) - len(page.body)] if method == "HEAD" else data

    def _route(self, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        page = self._page(request.method, path)
        if page is not None:
            self._counters["http_requests"] += 1
            return page
        if path in (PUBLIC_WS, CONSOLE_WS):
            for name in _SINGLE_HEADERS:
                request.headers.get(name)  # raises MultipleValuesError when repeated
            if path == CONSOLE_WS and not origin_allowed(
                request.headers.get("Origin"), request.headers.get("Host"), self._allowed_origins
            ):
                self._counters["refused_origin"] += 1
                self._warn.warning(
                    "origin",
                    "web: refused console socket from origin %r",
                    request.headers.get("Origin"),
                )
                return make_response(403, "console socket refused: origin not allowed\n")
            return None
        self._counters["http_requests"] += 1
        return self._preview_response(request)

    def _static_response(self, name: str) -> Response:
        item = self._static.get(name)
        if item is None:
            return make_response(404, "not found\n")
        return make_response(200, item.body, item.content_type)

    def _preview_response(self, request: Request) -> Response:
        if not token_matches(_query_token(request), self._token):
            self._counters["auth_failures"] += 1
            return make_response(403, "console token required\n")
        if self._preview is None:
            return make_response(404, "no preview configured\n")
        try:
            image = self._preview()
        except Exception as err:
            self._warn.warning("preview", "web: preview callable failed: %s", err, exc_info=True)
            return make_response(500, "preview failed\n")
        if image is None:
            return make_response(404, "no preview yet\n")
        return make_response(200, image, "image/jpeg", (("Cache-Control", "no-store"),))

    # ------------------------------------------------------------------ websockets

    def _hand_over(self, sock: socket.socket, head: bytes, seat: Seat, peer: str) -> None:
        """Give a socket the door admitted to asyncio and websockets, as their own
        accept would, with its request head and its seat."""
        task = asyncio.get_running_loop().create_task(
            self._connect(sock, head, seat, peer), name="web.admitted-connection"
        )
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    async def _connect(self, sock: socket.socket, head: bytes, seat: Seat, peer: str) -> None:
        assert self._server is not None
        # websockets' own factory: a ServerProtocol and a GatedConnection with
        # serve()'s settings (asyncio keeps it on the server it was created with)
        factory = self._server.server._protocol_factory  # type: ignore[attr-defined]
        made: list[GatedConnection] = []

        def connection() -> GatedConnection:
            made.append(factory())
            made[-1].admitted_at_door(seat, head)
            return made[-1]

        try:
            await asyncio.get_running_loop().connect_accepted_socket(connection, sock)
        except OSError:  # the client left meanwhile
            self._give_back(sock, made, seat, peer)
        except asyncio.CancelledError:  # the server is stopping
            self._give_back(sock, made, seat, peer)
            raise

    def _give_back(
        self, sock: socket.socket, made: list[GatedConnection], seat: Seat, peer: str
    ) -> None:
        sock.close()
        if not made or made[-1].door_seat_pending:  # no transport took the seat over
            self._admission.release(seat, peer)

    async def _session(self, connection: ServerConnection) -> None:
        address = self._address(connection)
        self._sessions.add(connection)
        self._peak_sessions = max(self._peak_sessions, len(self._sessions))
        self._tune_socket(connection)
        try:
            path = urlsplit(connection.request.path).path if connection.request else ""
            if path == CONSOLE_WS:
                await self._console_session(connection, address)
            else:
                await self._public_session(connection)
        except ConnectionClosed as closed:
            if closed.sent is not None and closed.sent.code == CLOSE_TOO_BIG:
                self._counters["refused_oversize"] += 1
                self._warn.warning(
                    "oversize", "web: closed a socket from %s: frame over limit", address
                )
        finally:
            self._public.unsubscribe(connection)
            self._console.unsubscribe(connection)
            self._sessions.discard(connection)

    def _tune_socket(self, connection: ServerConnection) -> None:
        if self._send_buffer_bytes is None:
            return
        sock = connection.transport.get_extra_info("socket")
        if sock is None:
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self._send_buffer_bytes)
        except OSError as err:
            self._warn.warning("sndbuf", "web: could not set SO_SNDBUF: %s", err)

    async def _public_session(self, connection: ServerConnection) -> None:
        self._public.subscribe(connection)
        # Viewers only listen. The first frame they send ends the session.
        await connection.recv()
        self._counters["refused_public_messages"] += 1
        self._warn.warning(
            "public-message",
            "web: a dashboard viewer from %s sent a message; socket closed (read-only)",
            self._address(connection),
        )
        await connection.close(CLOSE_POLICY, "read-only dashboard: viewers cannot send messages")

    async def _console_session(self, connection: ServerConnection, address: str) -> None:
        try:
            async with asyncio.timeout(self._auth_timeout):
                first = await connection.recv()
        except TimeoutError:
            await connection.close(CLOSE_POLICY, "authentication timed out")
            return
        try:
            ok = check_auth(first, self._token)
        except ProtocolError as err:
            ok, reason = False, str(err)
        else:
            reason = "wrong console token"
        if not ok:
            self._counters["auth_failures"] += 1
            self._warn.warning("auth", "web: console login from %s refused: %s", address, reason)
            await asyncio.sleep(self._auth_failure_delay)
            await connection.close(CLOSE_POLICY, reason)
            return
        logger.info("web: console connected from %s", address)
        await connection.send(encode_message({"type": "hello", "commands": sorted(COMMANDS)}))
        self._console.subscribe(connection)
        async for data in connection:
            await connection.send(encode_message(await self._handle_control(data)))

    async def _handle_control(self, data: str | bytes) -> dict[str, Any]:
        self._counters["control_requests"] += 1
        try:
            request = parse_control(data)
        except ProtocolError as err:
            self._counters["control_errors"] += 1
            return error_reply(err.message_id, str(err))
        try:
            async with asyncio.timeout(self._control_timeout):
                result = self._control(request.as_dict())
                if inspect.isawaitable(result):
                    result = await result
        except TimeoutError:
            self._counters["control_errors"] += 1
            self._warn.warning(
                "control-timeout", "web: control %r timed out", request.command.value
            )
            return error_reply(request.id, f"{request.command}: the show did not answer in time")
        except Exception as err:
            self._counters["control_errors"] += 1
            logger.exception("web: control %r from the console failed", request.command.value)
            return error_reply(request.id, f"{request.command} failed: {err}")
        if result is None:
            result = {}
        if not isinstance(result, Mapping):
            self._counters["control_errors"] += 1
            logger.error("web: control callable returned %r, not a dict", type(result).__name__)
            return error_reply(request.id, f"{request.command}: invalid answer from the show")
        return reply_message(request.id, result)
