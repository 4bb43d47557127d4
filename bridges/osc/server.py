"""OSC server transport: UDP and TCP listeners that decode and dispatch messages.

The server is the transport under Stovelight's QLab-compatible control API; it
knows nothing about cues. For every message received (bundles are unpacked in
order and their time tags ignored: messages are dispatched on arrival) it
calls ``handler(message, peer)``; ``peer.reply(address, args)`` answers:

* UDP: from the server's own socket to the sender's host at ``reply_port``
  (QLab's convention is 53001), or to the sender's own port when
  ``reply_port`` is None;
* TCP: on the same connection, framed the way the client frames its packets.

TCP framing is detected from the first byte of each connection: ``0xC0``
means SLIP (OSC 1.1, what QLab uses), anything else the OSC 1.0 int32 size
prefix (what liblo's ``oscsend osc.tcp://`` sends).

Malformed packets, and packets over a sender's rate (``max_packets_per_s``), are
counted per client host and logged at a limited rate;
they are never fatal. An optional allowlist of client hosts restricts who is
heard; others are counted and ignored. The handler is synchronous and runs on
the event loop; an exception from it is logged (rate-limited) and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, cast

from bridges.osc.errors import OscBindError, OscConfigError, OscDecodeError
from bridges.osc.framing import (
    END,
    LengthPrefixDecoder,
    SlipDecoder,
    length_prefix_encode,
    slip_encode,
)
from bridges.osc.wire import OscMessage, decode_packet, encode_message, iter_messages
from bridges.ratelimit import RateLimitedLogger

__all__ = [
    "OscHandler",
    "OscPeer",
    "OscServer",
    "OscServerConfig",
    "OscServerPorts",
]

logger = logging.getLogger(__name__)

#: QLab's OSC port; replies conventionally go to 53001.
QLAB_PORT = 53000
QLAB_REPLY_PORT = 53001

#: Per-host counter dicts stop growing here; further hosts are summed under "other".
_MAX_TRACKED_HOSTS = 256
#: Senders whose packet rate is tracked; the least recently heard are forgotten.
_MAX_BUCKETS = 4096


@dataclass(frozen=True, slots=True)
class OscServerConfig:
    """Where and how the OSC server listens.

    Attributes:
        host: IP address to bind (e.g. ``"127.0.0.1"`` or ``"0.0.0.0"``).
        port: Port for both UDP and TCP; 0 picks a free one (the same number
            for both when possible, see :attr:`OscServer.ports`).
        udp: Listen on UDP.
        tcp: Listen on TCP.
        reply_port: UDP replies go to the sender's host at this port; None
            means back to the sender's own port.
        allowed_clients: If given, only these client IP addresses are heard.
        max_packet_size: Larger packets are dropped and counted.
        max_tcp_clients: Further TCP connections are refused while this many
            are open.
        max_packets_per_s: Packets one sender (UDP address and port, or TCP
            connection) may send per second, with bursts of a fifth of that.
            Further UDP packets are dropped before decoding and counted; a TCP
            connection over the rate is read more slowly (nothing is lost).
            0: no limit.
    """

    host: str = "127.0.0.1"
    port: int = QLAB_PORT
    udp: bool = True
    tcp: bool = True
    reply_port: int | None = QLAB_REPLY_PORT
    allowed_clients: frozenset[str] | None = None
    max_packet_size: int = 65536
    max_tcp_clients: int = 32
    max_packets_per_s: float = 1000.0

    def __post_init__(self) -> None:
        if not 0 <= self.port < 65536:
            raise OscConfigError(f"OSC server port {self.port} is not 0-65535")
        if self.reply_port is not None and not 0 < self.reply_port < 65536:
            raise OscConfigError(f"OSC reply port {self.reply_port} is not 1-65535")
        if not (self.udp or self.tcp):
            raise OscConfigError("OSC server needs UDP, TCP or both enabled")
        if self.max_packet_size <= 0 or self.max_tcp_clients <= 0:
            raise OscConfigError("max_packet_size and max_tcp_clients must be positive")
        if not self.max_packets_per_s >= 0:
            raise OscConfigError("max_packets_per_s must be >= 0")
        if self.allowed_clients is not None:
            object.__setattr__(self, "allowed_clients", frozenset(self.allowed_clients))


class OscServerPorts(NamedTuple):
    """Bound ports of a started server (None where that transport is off)."""

    udp: int | None
    tcp: int | None


class OscPeer:
    """The client a message came from, and the way to answer it.

    Attributes:
        host: Client IP address.
        port: Client source port.
        transport: ``"udp"`` or ``"tcp"``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        transport: Literal["udp", "tcp"],
        send: Callable[[bytes], None],
        warn: RateLimitedLogger | None = None,
    ) -> None:
        """Create a peer; ``send`` delivers one encoded packet to the client.

        ``warn`` rate-limits the warning for a failed reply (one key for every
        client, so outsiders rotating their address cannot flood the log).
        """
        self.host = host
        self.port = port
        self.transport = transport
        self._send = send
        self._warn = warn or RateLimitedLogger(logger, interval_s=10.0)

    def reply(self, address: str, args: Iterable[Any] = ()) -> bool:
        """Send a message back to this client.

        Returns:
            True if the reply was handed to the transport, False if sending
            failed (logged; the connection may have closed).

        Raises:
            OscEncodeError: If ``address`` or ``args`` cannot be encoded (a bug
                in the caller, so it is not hidden).
        """
        packet = encode_message(address, args)
        try:
            self._send(packet)
        except (OSError, RuntimeError) as err:
            self._warn.warning(
                ("reply-failed", self.transport),
                "OSC reply %s to %s:%d (%s) failed: %s; reply dropped",
                address[:64],
                self.host,
                self.port,
                self.transport,
                err,
            )
            return False
        return True

    def __repr__(self) -> str:
        return f"OscPeer({self.transport} {self.host}:{self.port})"


OscHandler = Callable[[OscMessage, OscPeer], None]


def _client_host(address: Any) -> tuple[str, int]:
    host, port = str(address[0]), int(address[1])
    if host.startswith("::ffff:"):  # IPv4-mapped IPv6 address
        host = host[7:]
    return host, port


class _UdpServerProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: OscServer) -> None:
        self._server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's selector datagram transport is not a DatagramTransport subclass
        # on Python 3.11, so no isinstance check here.)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        host, port = _client_host(addr)
        server = self._server
        if not server._allowed(host, "udp"):
            return
        if len(data) > server.config.max_packet_size:
            server._count(server._oversize, host)
            server._warn.warning(
                ("oversize",),
                "OSC datagram of %d bytes from %s:%d exceeds %d bytes; ignored",
                len(data),
                host,
                port,
                server.config.max_packet_size,
            )
            return
        reply_port = server.config.reply_port or port
        transport = self.transport

        def send(packet: bytes) -> None:
            if transport is None or transport.is_closing():
                raise RuntimeError("server is closed")
            transport.sendto(packet, (host, reply_port))

        peer = OscPeer(host, port, "udp", send, server._warn)
        if server._within_rate(peer):
            server._dispatch(data, peer)

    def error_received(self, exc: Exception) -> None:
        # E.g. ICMP port unreachable after a reply to a client that left.
        self._server._warn.warning(
            ("udp-error", type(exc)), "OSC server UDP socket error: %s; still listening", exc
        )


class _TcpServerProtocol(asyncio.Protocol):
    def __init__(self, server: OscServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._decoder: SlipDecoder | LengthPrefixDecoder | None = None
        self._peer: OscPeer | None = None
        self._oversize_seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)
        server = self._server
        host, port = _client_host(transport.get_extra_info("peername"))
        if not server._allowed(host, "tcp"):
            transport.close()
            return
        if len(server._connections) >= server.config.max_tcp_clients:
            server._warn.warning(
                ("tcp-full",),
                "OSC TCP connection from %s:%d refused: %d clients already connected",
                host,
                port,
                len(server._connections),
            )
            transport.close()
            return
        self._transport = transport
        server._connections.add(transport)
        self._peer = OscPeer(host, port, "tcp", self._send, server._warn)
        # a client that keeps reconnecting is summarised, not logged each time
        server._warn.log(
            logging.INFO, ("tcp-connect", host), "OSC TCP client %s:%d connected", host, port
        )

    def _send(self, packet: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise RuntimeError("connection closed")
        if isinstance(self._decoder, LengthPrefixDecoder):
            transport.write(length_prefix_encode(packet))
        else:
            transport.write(slip_encode(packet))

    def data_received(self, data: bytes) -> None:
        peer, transport, server = self._peer, self._transport, self._server
        if peer is None or transport is None or not data:
            return
        if self._decoder is None:
            size = server.config.max_packet_size
            self._decoder = SlipDecoder(size) if data[0] == END else LengthPrefixDecoder(size)
        try:
            packets = self._decoder.feed(data)
        except OscDecodeError as err:
            server._malformed_packet(peer, err)
            logger.warning(
                "Closing OSC TCP connection from %s:%d: stream framing is corrupt (%s)",
                peer.host,
                peer.port,
                err.reason,
            )
            transport.close()
            return
        if self._decoder.oversize != self._oversize_seen:
            for _ in range(self._decoder.oversize - self._oversize_seen):
                server._count(server._oversize, peer.host)
            self._oversize_seen = self._decoder.oversize
            server._warn.warning(
                ("oversize",),
                "OSC TCP packet from %s:%d exceeds %d bytes; ignored",
                peer.host,
                peer.port,
                server.config.max_packet_size,
            )
        debt = 0.0
        for packet in packets:
            debt = server._tcp_debt(peer)
            server._dispatch(packet, peer)
        if debt > 0 and not transport.is_closing():
            server.tcp_slowed += 1
            transport.pause_reading()
            asyncio.get_running_loop().call_later(debt, self._resume)

    def _resume(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._server._connections.discard(self._transport)
            if self._peer is not None:
                self._server._warn.log(
                    logging.INFO,
                    ("tcp-disconnect", self._peer.host),
                    "OSC TCP client %s:%d disconnected%s",
                    self._peer.host,
                    self._peer.port,
                    f" ({exc})" if exc else "",
                )
        self._transport = None


class OscServer:
    """UDP + TCP OSC listener that calls ``handler(message, peer)``.

    Usage::

        server = OscServer(handler, OscServerConfig(port=53000))
        await server.start()
        ...
        await server.aclose()

    The server owns its sockets; it runs no tasks of its own (asyncio
    protocols deliver data to it on the event loop).
    """

    def __init__(
        self,
        handler: OscHandler,
        config: OscServerConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a stopped server.

        Args:
            handler: Called for every received message, on the event loop.
            config: Listening configuration; defaults to QLab's ports on localhost.
            clock: Seconds, for the per-sender packet rate and rate-limited warnings.
        """
        self.config = config or OscServerConfig()
        self._handler = handler
        self._warn = RateLimitedLogger(logger, interval_s=10.0, clock=clock)
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[asyncio.Transport] = set()
        self._ports = OscServerPorts(None, None)
        self.messages = 0
        self.handler_errors = 0
        self.tcp_slowed = 0
        self._malformed: dict[str, int] = {}
        self._rejected: dict[str, int] = {}
        self._oversize: dict[str, int] = {}
        self._throttled: dict[str, int] = {}
        self._clock = clock
        # sender -> [tokens, time of last refill]; oldest senders forgotten first
        self._buckets: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()

    @property
    def ports(self) -> OscServerPorts:
        """The bound UDP and TCP ports (useful after starting on port 0)."""
        return self._ports

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`aclose`."""
        return self._udp is not None or self._tcp is not None

    async def start(self) -> None:
        """Bind and start listening.

        Raises:
            OscBindError: If a socket cannot be bound (e.g. port in use).
        """
        if self.running:
            return
        cfg = self.config
        attempts = 5 if (cfg.port == 0 and cfg.udp and cfg.tcp) else 1
        try:
            for attempt in range(attempts):
                try:
                    await self._bind(cfg.port)
                    break
                except OSError as err:
                    await self._close_sockets()
                    if attempts == 1 or err.errno != errno.EADDRINUSE:
                        raise
                    if attempt == attempts - 1:
                        # Could not get one number for both: let TCP pick its own.
                        await self._bind(0, tcp_port=0)
        except OSError as err:
            await self._close_sockets()
            raise OscBindError(f"OSC server cannot listen on {cfg.host}:{cfg.port}: {err}") from err
        logger.info(
            "OSC server listening on %s (udp %s, tcp %s)",
            cfg.host,
            self._ports.udp if cfg.udp else "off",
            self._ports.tcp if cfg.tcp else "off",
        )

    async def _bind(self, port: int, tcp_port: int | None = None) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        udp_port: int | None = None
        bound_tcp: int | None = None
        if cfg.udp:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpServerProtocol(self), local_addr=(cfg.host, port)
            )
            self._udp = transport
            udp_port = int(transport.get_extra_info("sockname")[1])
        if cfg.tcp:
            wanted = tcp_port if tcp_port is not None else (udp_port or port)
            self._tcp = await loop.create_server(lambda: _TcpServerProtocol(self), cfg.host, wanted)
            bound_tcp = int(self._tcp.sockets[0].getsockname()[1])
        self._ports = OscServerPorts(udp_port, bound_tcp)

    async def _close_sockets(self) -> None:
        if self._tcp is not None:
            self._tcp.close()
            for transport in list(self._connections):
                transport.close()
            self._connections.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    await self._tcp.wait_closed()
            self._tcp = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    async def aclose(self) -> None:
        """Stop listening and close every client connection."""
        if not self.running:
            return
        await self._close_sockets()
        logger.info("OSC server on %s stopped", self.config.host)

    async def __aenter__(self) -> OscServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def stats(self) -> dict[str, Any]:
        """Counters as plain data for the health display."""
        return {
            "udp_port": self._ports.udp,
            "tcp_port": self._ports.tcp,
            "messages": self.messages,
            "handler_errors": self.handler_errors,
            "tcp_slowed": self.tcp_slowed,
            "tcp_clients": len(self._connections),
            "malformed": dict(self._malformed),
            "rejected": dict(self._rejected),
            "oversize": dict(self._oversize),
            "throttled": dict(self._throttled),
        }

    # ---------------------------------------------------------------- internals

    @staticmethod
    def _count(counter: dict[str, int], host: str) -> None:
        key = host if host in counter or len(counter) < _MAX_TRACKED_HOSTS else "other"
        counter[key] = counter.get(key, 0) + 1

    def _allowed(self, host: str, transport: str) -> bool:
        allowed = self.config.allowed_clients
        if allowed is None or host in allowed:
            return True
        self._count(self._rejected, host)
        self._warn.warning(
            ("rejected",),
            "OSC %s packet from %s ignored: client not in the allowlist",
            transport,
            host,
        )
        return False

    def _malformed_packet(self, peer: OscPeer, err: OscDecodeError) -> None:
        self._count(self._malformed, peer.host)
        self._warn.warning(
            ("malformed",),
            "Ignored malformed OSC packet from %s:%d (%s): %s",
            peer.host,
            peer.port,
            peer.transport,
            err,
        )

    def _tokens(self, peer: OscPeer) -> list[float]:
        """The sender's token bucket ``[tokens, last refill]``, refilled to now."""
        rate = self.config.max_packets_per_s
        now = self._clock()
        key = (peer.host, peer.port, peer.transport)
        burst = max(rate / 5.0, 10.0)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [burst, now]
            if len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
        return bucket

    def _tcp_debt(self, peer: OscPeer) -> float:
        """Charge one TCP packet; seconds to stop reading that connection (0: none).
        TCP is never dropped: a fast sender is slowed down instead."""
        if not self.config.max_packets_per_s:
            return 0.0
        bucket = self._tokens(peer)
        bucket[0] -= 1.0
        return max(0.0, -bucket[0] / self.config.max_packets_per_s)

    def _within_rate(self, peer: OscPeer) -> bool:
        """UDP: True if this packet may be handled; over the rate it is dropped."""
        rate = self.config.max_packets_per_s
        if not rate:
            return True
        bucket = self._tokens(peer)
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return True
        self._count(self._throttled, peer.host)
        self._warn.warning(
            ("throttled",),
            "OSC packets from %s:%d (%s) over %g per second dropped",
            peer.host,
            peer.port,
            peer.transport,
            rate,
        )
        return False

    def _dispatch(self, data: bytes, peer: OscPeer) -> None:
        try:
            packet = decode_packet(data)
        except OscDecodeError as err:
            self._malformed_packet(peer, err)
            return
        for message in iter_messages(packet):
            self.messages += 1
            try:
                self._handler(message, peer)
            except Exception as err:
                self.handler_errors += 1
                self._warn.log(
                    logging.ERROR,
                    ("handler",),
                    "OSC handler failed for %s from %s:%d; message ignored, server continues",
                    message.address,
                    peer.host,
                    peer.port,
                    exc_info=err,
                )
