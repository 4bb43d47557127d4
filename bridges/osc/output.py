"""OSC output to several named targets over UDP or TCP (SLIP), plus a memory twin.

Shape (after mido's ports): :class:`BaseOscOutput` owns validation, the
per-target :class:`~bridges.osc.conflate.ConflatingQueue`, counters and the
up/down bookkeeping; a backend overrides only ``_open``, ``_send`` and
``_close``. :class:`OscOutput` is the asyncio backend, :class:`MemoryOscOutput`
records packets for tests.

Contract for the engine side:

* :meth:`BaseOscOutput.send` never blocks and never raises: an unknown target
  or an unencodable message is counted as an error and logged (rate-limited).
  Messages wait per target, newest value per address wins.
* :meth:`BaseOscOutput.flush` is called once per engine tick with the tick's
  time. It sends what is due: one bundle per tick (split only if larger than
  ``max_packet_size``) for ``bundle=True`` targets, separate messages
  otherwise, at most ``max_rate_hz`` times per second per target.
* A target that is down never stalls another one. UDP targets keep sending
  (that is how recovery is noticed); TCP targets that are down drop what is
  due instead of replaying it later, because a stale ``/go`` must not fire a
  cue minutes after the operator pressed it. Both transitions are logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, cast

from bridges.osc.conflate import ConflatingQueue
from bridges.osc.errors import OscConfigError, OscEncodeError
from bridges.osc.framing import slip_encode
from bridges.osc.wire import (
    MidiPacket,
    OscArg,
    OscMessage,
    OscPacket,
    RgbaColor,
    TimeTag,
    bundle_from_encoded,
    decode_packet,
    encode_message,
    iter_messages,
    split_for_bundles,
)
from bridges.ratelimit import RateLimitedLogger

__all__ = [
    "BaseOscOutput",
    "MemoryOscOutput",
    "OscOutput",
    "OscTargetConfig",
    "TargetState",
]

logger = logging.getLogger(__name__)

Transport = Literal["udp", "tcp"]
_P = TypeVar("_P")

#: Largest UDP payload we put on the wire by default (fits a loopback or LAN
#: datagram without IP fragmentation trouble on most show networks).
DEFAULT_MAX_PACKET_SIZE = 8192


@dataclass(frozen=True, slots=True)
class OscTargetConfig:
    """Where and how to send OSC.

    Attributes:
        name: Unique name used by cues and in logs, e.g. ``"lights"``.
        host: Host name or IP address of the receiver.
        port: UDP or TCP port of the receiver.
        transport: ``"udp"`` or ``"tcp"`` (TCP uses OSC 1.1 SLIP framing).
        bundle: Send everything due in one tick as one bundle.
        max_rate_hz: At most this many sends (or bundles) per second, None for
            no limit; in between, newer values replace older ones per address.

    Raises:
        OscConfigError: If a field is invalid.
    """

    name: str
    host: str
    port: int
    transport: Transport = "udp"
    bundle: bool = False
    max_rate_hz: float | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise OscConfigError("OSC target name must not be empty")
        if not self.host:
            raise OscConfigError(f"OSC target {self.name!r}: host must not be empty")
        if not 0 < self.port < 65536:
            raise OscConfigError(f"OSC target {self.name!r}: port {self.port} is not 1-65535")
        if self.transport not in ("udp", "tcp"):
            raise OscConfigError(
                f"OSC target {self.name!r}: transport must be 'udp' or 'tcp', "
                f"not {self.transport!r}"
            )
        if self.max_rate_hz is not None and not self.max_rate_hz > 0:
            raise OscConfigError(f"OSC target {self.name!r}: max_rate_hz must be positive or None")

    def describe(self) -> str:
        """Human-readable ``name (udp host:port)`` for logs."""
        return f"{self.name!r} ({self.transport} {self.host}:{self.port})"


class TargetState(enum.Enum):
    """Connection state of one output target."""

    CLOSED = "closed"
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"


@dataclass(slots=True)
class _Target:
    """Mutable runtime state of one target (owned by the output)."""

    config: OscTargetConfig
    queue: ConflatingQueue
    state: TargetState = TargetState.CLOSED
    sent: int = 0
    packets: int = 0
    dropped: int = 0
    errors: int = 0
    last_error: str = ""
    last_error_at: float | None = None
    sent_since_error: int = 0
    discrete: int = 0
    backend: Any = field(default=None)


# Values that are iterable but are one OSC argument each.
_SINGLE_VALUE_TYPES = (str, bytes, bytearray, memoryview, OscArg, TimeTag, MidiPacket, RgbaColor)


class BaseOscOutput:
    """Validation, conflation, rate limiting and bookkeeping; no I/O."""

    def __init__(
        self,
        targets: Iterable[OscTargetConfig],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = 1024,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        """Create an output for ``targets``.

        Args:
            targets: Target configurations; names must be unique.
            clock: Returns seconds; used when :meth:`flush` gets no ``now``.
            max_pending: Most distinct addresses waiting per target.
            max_packet_size: Bundles are split to stay under this many bytes.

        Raises:
            OscConfigError: On duplicate target names.
        """
        self._clock = clock
        self._max_packet_size = max_packet_size
        self._targets: dict[str, _Target] = {}
        for config in targets:
            if config.name in self._targets:
                raise OscConfigError(f"duplicate OSC target name {config.name!r}")
            self._targets[config.name] = _Target(
                config, ConflatingQueue(config.max_rate_hz, max_pending)
            )
        self._warn = RateLimitedLogger(logger, interval_s=10.0, clock=clock)
        self._unknown_target_errors = 0
        self._started = False
        self._closed = False

    # ------------------------------------------------------------------ public API

    async def start(self) -> None:
        """Open every target (in configuration order)."""
        if self._started:
            return
        self._started = True
        for target in self._targets.values():
            target.state = TargetState.CONNECTING
        await asyncio.gather(*(self._open(t) for t in self._targets.values()))

    def send(self, target: str, address: str, args: Any = (), *, conflate: bool = True) -> bool:
        """Queue a message for ``target``; never blocks, never raises.

        Args:
            target: A configured target name.
            address: OSC address, e.g. ``"/stove/temp"``.
            args: Argument values (types inferred, see :mod:`bridges.osc.wire`),
                or one value that is not a sequence: ``send("viz", "/temp", 21.5)``.
                A ``str``, ``bytes``, :class:`~bridges.osc.wire.OscArg` or OSC
                tuple type (time tag, MIDI, colour) is one argument, never
                split; ``None`` is one Nil argument.
            conflate: True for continuous values (a newer message to the same
                address replaces a pending one); False for discrete messages
                such as a cue's ``/sound/cue``, which are all sent, in order.

        Returns:
            True if the message was queued, False if it was refused (unknown
            target, invalid message, queue full or output closed); refusals are
            counted in :meth:`stats` and logged at a limited rate.
        """
        entry = self._targets.get(target)
        if entry is None:
            self._unknown_target_errors += 1
            self._warn.warning(
                ("unknown", target),
                "OSC message %s for unknown target %r dropped; known targets: %s",
                address,
                target,
                ", ".join(self._targets) or "none",
            )
            return False
        if self._closed:
            entry.dropped += 1
            return False
        if isinstance(args, _SINGLE_VALUE_TYPES) or not isinstance(args, Iterable):
            args = (args,)
        try:
            packet = encode_message(address, args)
        except OscEncodeError as err:
            entry.errors += 1
            entry.last_error = str(err)
            self._warn.warning(
                ("encode", target, address),
                "OSC message %s for target %s dropped: %s",
                address,
                entry.config.describe(),
                err,
            )
            return False
        except Exception as err:  # a misbehaving argument type must not reach the engine
            entry.errors += 1
            entry.last_error = repr(err)
            self._warn.warning(
                ("encode", target, address),
                "OSC message %s for target %s dropped: cannot encode arguments (%r)",
                address,
                entry.config.describe(),
                err,
            )
            return False
        if not conflate:
            entry.discrete += 1
            key = f"{address}\x00{entry.discrete}"
        else:
            key = address
        if not entry.queue.put(key, packet):
            self._warn.warning(
                ("full", target),
                "OSC target %s has too many distinct addresses waiting; dropped %s",
                entry.config.describe(),
                address,
            )
            return False
        return True

    def flush(self, now: float | None = None) -> int:
        """Send what is due on every target; call once per engine tick.

        Args:
            now: The tick time in seconds (same origin as ``clock``); read from
                ``clock`` when omitted.

        Returns:
            The number of packets tried (failures are counted in :meth:`stats`).
        """
        if now is None:
            now = self._clock()
        handed = 0
        for target in self._targets.values():
            if not target.queue.due(now):
                continue
            messages = target.queue.take(now)
            if not self._ready(target, now):
                target.dropped += len(messages)
                continue
            if target.config.bundle:
                groups = [
                    (bundle_from_encoded(group), len(group))
                    for group in split_for_bundles(messages, self._max_packet_size)
                ]
            else:
                groups = [(m, 1) for m in messages]
            for packet, count in groups:
                handed += 1
                try:
                    self._send(target, packet)
                except (OSError, BufferError) as err:  # transport failure: count, keep going
                    target.dropped += count
                    self._report_error(target, err, now)
                    continue
                except Exception as err:  # a backend bug must not stop the engine tick
                    target.dropped += count
                    self._warn.log(
                        logging.ERROR,
                        ("bug", target.config.name),
                        "OSC target %s: unexpected error while sending; packet dropped",
                        target.config.describe(),
                        exc_info=err,
                    )
                    self._report_error(target, err, now)
                    continue
                target.packets += 1
                target.sent += count
                target.sent_since_error += 1
        return handed

    def next_due(self) -> float | None:
        """Earliest time any pending message may be sent (``-inf`` = now), or None."""
        times = [t for t in (e.queue.next_due() for e in self._targets.values()) if t is not None]
        return min(times) if times else None

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per-target counters and state as plain dicts, for the health display."""
        result: dict[str, dict[str, Any]] = {}
        for name, t in self._targets.items():
            result[name] = {
                "transport": t.config.transport,
                "host": t.config.host,
                "port": t.config.port,
                "state": t.state.value,
                "sent": t.sent,
                "packets": t.packets,
                "pending": len(t.queue),
                "conflated": t.queue.conflated,
                "dropped": t.dropped + t.queue.dropped,
                "errors": t.errors,
                "last_error": t.last_error,
            }
        return result

    @property
    def unknown_target_errors(self) -> int:
        """Messages refused because they named a target that is not configured."""
        return self._unknown_target_errors

    async def aclose(self, now: float | None = None) -> None:
        """Flush what is due at ``now``, then close targets in reverse order of opening."""
        if self._closed:
            return
        if self._started:
            self.flush(now)
        self._closed = True
        for target in reversed(list(self._targets.values())):
            target.dropped += target.queue.clear()
            if self._started:
                await self._close(target)
            target.state = TargetState.CLOSED

    async def __aenter__(self) -> BaseOscOutput:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ for backends

    def _ready(self, target: _Target, now: float) -> bool:
        """Whether due messages should be handed to the transport now."""
        return target.state is TargetState.UP

    def _mark_up(self, target: _Target) -> None:
        """Record that ``target`` works; logs once per recovery."""
        previous = target.state
        target.state = TargetState.UP
        if previous is TargetState.DOWN:
            logger.warning("OSC target %s is back up; sending resumed", target.config.describe())
        elif previous is not TargetState.UP:
            logger.info("OSC target %s is up", target.config.describe())

    def _mark_down(self, target: _Target, reason: str, action: str) -> None:
        """Record that ``target`` failed; logs once per outage."""
        if target.state is TargetState.DOWN or self._closed:
            return
        target.state = TargetState.DOWN
        logger.warning(
            "OSC target %s is down: %s; %s. Other targets are not affected.",
            target.config.describe(),
            reason,
            action,
        )

    def _report_error(self, target: _Target, err: BaseException, now: float) -> None:
        target.errors += 1
        target.last_error = _describe(err)
        target.last_error_at = now
        target.sent_since_error = 0
        self._on_error(target, err)

    def _on_error(self, target: _Target, err: BaseException) -> None:
        """Hook for backends: react to a send error (default: mark down)."""
        self._mark_down(target, target.last_error, "will retry")

    # ------------------------------------------------------------------ backend I/O

    async def _open(self, target: _Target) -> None:
        """Open the transport of ``target`` (may finish in the background)."""
        raise NotImplementedError

    def _send(self, target: _Target, packet: bytes) -> None:
        """Hand one packet to the transport of ``target``; may raise OSError."""
        raise NotImplementedError

    async def _close(self, target: _Target) -> None:
        """Close the transport of ``target``."""
        raise NotImplementedError


# ---------------------------------------------------------------------- memory twin


class MemoryOscOutput(BaseOscOutput):
    """In-memory twin of :class:`OscOutput`: records packets instead of sending.

    ``sent`` holds ``(target name, packet bytes)`` in send order. Use
    :meth:`set_down` / :meth:`set_up` to simulate a failing receiver.
    """

    def __init__(
        self,
        targets: Iterable[OscTargetConfig],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = 1024,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        """Create the twin; arguments as for :class:`BaseOscOutput`."""
        super().__init__(
            targets, clock=clock, max_pending=max_pending, max_packet_size=max_packet_size
        )
        self.sent: list[tuple[str, bytes]] = []
        self._failing: dict[str, str] = {}

    def packets(self, target: str) -> list[OscPacket]:
        """Decoded packets sent to ``target``, in order."""
        return [decode_packet(p) for name, p in self.sent if name == target]

    def messages(self, target: str) -> list[OscMessage]:
        """Messages sent to ``target``, bundles unpacked, in order."""
        return [m for p in self.packets(target) for m in iter_messages(p)]

    def set_down(self, target: str, reason: str = "simulated failure") -> None:
        """Make sends to ``target`` fail with ``ConnectionRefusedError(reason)``."""
        self._failing[target] = reason

    def set_up(self, target: str) -> None:
        """Make ``target`` accept sends again and mark it up."""
        self._failing.pop(target, None)
        entry = self._targets[target]
        if self._started and not self._closed:
            self._mark_up(entry)

    async def _open(self, target: _Target) -> None:
        self._mark_up(target)

    def _ready(self, target: _Target, now: float) -> bool:
        return target.state in (TargetState.UP, TargetState.DOWN) and not self._closed

    def _send(self, target: _Target, packet: bytes) -> None:
        reason = self._failing.get(target.config.name)
        if reason is not None:
            raise ConnectionRefusedError(reason)
        self.sent.append((target.config.name, packet))
        if target.state is TargetState.DOWN:
            self._mark_up(target)

    async def _close(self, target: _Target) -> None:
        return None


# ---------------------------------------------------------------------- asyncio backend


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, output: OscOutput, target: _Target) -> None:
        self._output = output
        self._target = target
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable -> ConnectionRefusedError) land here.
        self._output._report_error(self._target, exc, self._output._clock())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class _TcpProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.reason = "connection closed by peer"

    def data_received(self, data: bytes) -> None:
        # Replies from the receiver are not used by the output; discard them.
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.reason = f"connection lost ({exc})"
        if not self.lost.done():
            self.lost.set_result(None)


def _describe(err: BaseException) -> str:
    """Operator-readable text for an exception, never empty."""
    text = str(err)
    if isinstance(err, ConnectionRefusedError):
        return f"connection refused{f' ({text})' if text else ''}"
    return text or type(err).__name__


def _same(value: _P) -> _P:
    """Protocol factory helper: return the protocol instance built beforehand."""
    return value


@dataclass(slots=True)
class _Link:
    """The asyncio side of one target: its task and current transport."""

    task: asyncio.Task[None] | None = None
    transport: asyncio.DatagramTransport | asyncio.Transport | None = None
    protocol: _UdpProtocol | _TcpProtocol | None = None
    first_attempt: asyncio.Event = field(default_factory=asyncio.Event)


class OscOutput(BaseOscOutput):
    """OSC output over UDP and TCP (SLIP) using asyncio.

    Each target gets one named task (``osc-output:<name>``) owned by this
    object that opens its transport and, for TCP, reconnects with capped
    exponential backoff. :meth:`start` waits for every target's first attempt
    (at most ``connect_timeout_s``) and returns; unreachable targets keep
    retrying in the background.
    """

    def __init__(
        self,
        targets: Iterable[OscTargetConfig],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_pending: int = 1024,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        reconnect_min_s: float = 0.5,
        reconnect_max_s: float = 30.0,
        connect_timeout_s: float = 3.0,
        udp_recover_s: float = 2.0,
        max_write_buffer: int = 256 * 1024,
    ) -> None:
        """Create the output.

        Args:
            targets: Target configurations; names must be unique.
            clock: Returns seconds, same origin as the ``now`` given to flush.
            max_pending: Most distinct addresses waiting per target.
            max_packet_size: Largest bundle/datagram to build, in bytes.
            reconnect_min_s: First retry delay after a failure.
            reconnect_max_s: Cap of the exponential retry delay.
            connect_timeout_s: Give up one connection attempt after this long.
            udp_recover_s: A down UDP target is reported up again once packets
                were sent and no error arrived for this long.
            max_write_buffer: TCP bytes allowed to queue in the kernel-side
                transport buffer before new packets are dropped.
        """
        super().__init__(
            targets, clock=clock, max_pending=max_pending, max_packet_size=max_packet_size
        )
        self._reconnect_min = reconnect_min_s
        self._reconnect_max = reconnect_max_s
        self._connect_timeout = connect_timeout_s
        self._udp_recover = udp_recover_s
        self._max_write_buffer = max_write_buffer

    # -- BaseOscOutput hooks

    def _ready(self, target: _Target, now: float) -> bool:
        link: _Link | None = target.backend
        if link is None or link.transport is None or link.transport.is_closing():
            return False
        if target.config.transport == "udp":
            # UDP keeps sending while down: a quiet spell after sends means it is back.
            if (
                target.state is TargetState.DOWN
                and target.sent_since_error > 0
                and target.last_error_at is not None
                and now - target.last_error_at >= self._udp_recover
            ):
                self._mark_up(target)
            return True
        return target.state is TargetState.UP

    def _on_error(self, target: _Target, err: BaseException) -> None:
        if isinstance(err, BufferError):
            self._warn.warning(
                ("slow", target.config.name),
                "OSC target %s is not reading fast enough (%s); dropping new packets "
                "until it catches up",
                target.config.describe(),
                err,
            )
        elif target.config.transport == "udp":
            self._mark_down(
                target,
                target.last_error,
                "still sending to it and will report when it stops refusing",
            )
        else:
            link: _Link | None = target.backend
            if link is not None and link.transport is not None:
                link.transport.abort()  # the connection task notices and reconnects

    async def _open(self, target: _Target) -> None:
        link = _Link()
        target.backend = link
        link.task = asyncio.create_task(
            self._run_target(target, link), name=f"osc-output:{target.config.name}"
        )
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._connect_timeout + 0.5):
                await link.first_attempt.wait()

    def _send(self, target: _Target, packet: bytes) -> None:
        link: _Link = target.backend
        transport = link.transport
        if transport is None:
            raise ConnectionError("not connected")
        if target.config.transport == "udp":
            cast(asyncio.DatagramTransport, transport).sendto(packet)
            return
        transport = cast(asyncio.Transport, transport)
        if transport.get_write_buffer_size() > self._max_write_buffer:
            raise BufferError(
                f"receiver is not reading: {transport.get_write_buffer_size()} bytes "
                "already waiting to be sent"
            )
        transport.write(slip_encode(packet))

    async def _close(self, target: _Target) -> None:
        link: _Link | None = target.backend
        if link is None:
            return
        if link.task is not None:
            link.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await link.task
        transport, protocol = link.transport, link.protocol
        link.transport = None
        if transport is not None:
            transport.close()  # TCP: written data is flushed before the socket closes
            if protocol is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await protocol.lost

    # -- connection tasks

    async def _run_target(self, target: _Target, link: _Link) -> None:
        config = target.config
        loop = asyncio.get_running_loop()
        delay = self._reconnect_min
        while True:
            protocol: _UdpProtocol | _TcpProtocol
            transport: asyncio.DatagramTransport | asyncio.Transport
            try:
                async with asyncio.timeout(self._connect_timeout):
                    if config.transport == "udp":
                        udp = _UdpProtocol(self, target)
                        transport, protocol = await loop.create_datagram_endpoint(
                            functools.partial(_same, udp),
                            remote_addr=(config.host, config.port),
                        )
                    else:
                        tcp = _TcpProtocol()
                        transport, protocol = await loop.create_connection(
                            functools.partial(_same, tcp),
                            config.host,
                            config.port,
                        )
            except (OSError, TimeoutError) as err:
                reason = _describe(err)
                if isinstance(err, TimeoutError):
                    reason = f"no answer within {self._connect_timeout:g} s"
                target.errors += 1
                target.last_error = reason
                self._mark_down(
                    target,
                    reason,
                    f"retrying with backoff up to every {self._reconnect_max:g} s; "
                    "messages due meanwhile are dropped",
                )
                logger.debug("OSC target %s: retry in %.2f s", config.describe(), delay)
                link.first_attempt.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max)
                continue
            link.transport, link.protocol = transport, protocol
            delay = self._reconnect_min
            target.sent_since_error = 0
            self._mark_up(target)
            link.first_attempt.set()
            # Shielded: cancelling this task on close must not cancel the future
            # that _close() awaits to know the socket is closed.
            await asyncio.shield(protocol.lost)
            link.transport = link.protocol = None
            reason = protocol.reason if isinstance(protocol, _TcpProtocol) else "socket closed"
            target.last_error = reason
            self._mark_down(target, reason, "reconnecting in the background")
            await asyncio.sleep(self._reconnect_min)
