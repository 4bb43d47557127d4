"""A tracking backup cue laptop: a second machine follows the main, muted, ready to
take over where the main was.

The main (``stovelight run SHOW --tracking-port 8767``) keeps a numbered log of every
input it hands its engine (telemetry it accepted, operator actions with refusals,
cue edits, source health) plus a clock tick every 50 ms, and streams it over a
websocket to its backup. The backup (``stovelight run SHOW --backup-of MAIN:8767``)
runs the same show file (checked by its SHA-256 at pairing) and hands its own engine
the same inputs at the same show times, so cue states, playheads, fades and mapping
filters match the main's; its OSC, MIDI and visuals stay muted, its telemetry
sources stay closed.

Takeover (the console's TAKEOVER button, the ``takeover`` command, OSC
``/stovelight/takeover``, or automatically after ``--takeover-after`` seconds
without the main's heartbeat) unmutes the backup where the main is: its clock
continues from the main's last tick plus the time since the main was heard, so running
fades go on at their current values and no cue fires again; it opens its own
telemetry sources and listens for a backup of its own. A main
whose backup took over mutes itself when it hears so; a machine started as main
first asks ``--peer`` whether that machine already runs the show as main and then
refuses to start, so two mains never run at once (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import math
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, WebSocketException

from bridges.eventloop import after_pending_io
from bridges.ratelimit import RateLimitedLogger
from bridges.telemetry import Sample as TelemetrySample
from bridges.telemetry.config import BackoffPolicy
from bridges.telemetry.types import SampleValue
from cues.eventcodec import decode_event, encode_event
from cues.events import Event
from show.runtime.runner import ShowRunner

__all__ = [
    "DEFAULT_TRACKING_PORT",
    "InputLog",
    "TrackingFollower",
    "TrackingServer",
    "main_at",
    "pairing_proof",
    "show_digest",
]

log = logging.getLogger(__name__)

DEFAULT_TRACKING_PORT = 8767
HEARTBEAT_S = 0.05
"""The main's clock tick: how often the backup's engine time moves when nothing else does."""
MAX_LOG_BYTES = 256 << 20
"""The main keeps this much of its input log for a backup that joins late or reconnects."""
_MAX_BEHIND_BYTES = 32 << 20
"""A backup whose connection holds more unsent log than this is dropped; it reconnects
and catches up from its last entry."""


def pairing_proof(digest: str, nonce: str) -> str:
    """What a backup sends to prove it has the show file without revealing its digest:
    HMAC-SHA-256 of the main's one-time nonce, keyed by the digest."""
    return hmac.new(digest.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def show_digest(path: Path) -> str:
    """SHA-256 of the show file's bytes: both machines must run the same file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class InputLog:
    """The main's numbered engine inputs, encoded once, kept for backups.

    Entries are JSON arrays ``[seq, t, wall, kind, ...]``: ``"s"`` samples
    ``[source, [[signal, value], ...]]``, ``"e"`` an event ``[kind, event, data]``,
    ``"t"`` a clock tick. Beyond ``max_bytes`` the oldest entries are dropped; a backup
    that needs them is refused with a clear reason.
    """

    def __init__(self, clock: Callable[[], float] = time.time, max_bytes: int = MAX_LOG_BYTES):
        self._entries: deque[bytes] = deque()
        self.first_seq = 1
        self.next_seq = 1
        self.bytes = 0
        self.max_bytes = max_bytes
        self._clock = clock
        self.listeners: list[Callable[[bytes], None]] = []

    def _append(self, t: float, kind: str, *body: Any) -> None:
        # orjson: on the main's live path for every telemetry batch (non-finite numbers
        # would be written as null; samples() has already made them "no value")
        entry = orjson.dumps([self.next_seq, t, self._clock(), kind, *body])
        self.next_seq += 1
        self._entries.append(entry)
        self.bytes += len(entry)
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            self.bytes -= len(self._entries.popleft())
            self.first_seq += 1
        for listener in self.listeners:
            listener(entry)

    # the runner's InputTap
    def samples(self, now: float, source: str, pairs: list[tuple[str, SampleValue]]) -> None:
        """Telemetry the main's engine accepted (a non-finite number, which the sources
        refuse, would go as "no value" rather than break the log)."""
        if any(isinstance(v, float) and not math.isfinite(v) for _, v in pairs):
            pairs = [(n, _finite_or_none(v)) for n, v in pairs]
        self._append(now, "s", source, pairs)

    def event(self, now: float, kind: str, event: Event, data: dict[str, Any]) -> None:
        """An operator action, edit or source-health change the engine was handed."""
        self._append(now, "e", kind, encode_event(event), _plain(data))

    def tick(self, now: float) -> None:
        """The main's clock, so the backup's fades and timers move in step."""
        self._append(now, "t")

    def since(self, seq: int) -> list[bytes] | None:
        """Entries from ``seq`` on, or None when they are no longer kept."""
        if seq < self.first_seq:
            return None
        skip = seq - self.first_seq
        return list(self._entries)[skip:]


def _finite_or_none(value: SampleValue) -> SampleValue:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool | None)}


class TrackingServer:
    """The main's side: serve the input log to one backup at a time (or several).

    Args:
        runner: The main's runner (its log is attached as an input tap).
        digest: :func:`show_digest` of the show file.
        host: Interface to listen on.
        port: Port; 0 picks a free one.
        input_log: The input log to serve (a backup that took over serves the one it kept
            while following); a new one by default.
    """

    def __init__(
        self,
        runner: ShowRunner,
        digest: str,
        host: str = "0.0.0.0",
        port: int = 0,
        input_log: InputLog | None = None,
    ):
        self.runner = runner
        self.digest = digest
        self.host = host
        self.requested_port = port
        self.log = input_log if input_log is not None else InputLog()
        self._server: Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.backups: dict[ServerConnection, dict[str, Any]] = {}
        self.demoted = False
        self._warn = RateLimitedLogger(log, 30.0)

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Tap the runner's inputs and listen for backups.

        Raises:
            OSError: The port is busy.
        """
        if self.log not in self.runner.input_taps:
            self.runner.input_taps.append(self.log)
        self._server = await serve(
            self._session,
            self.host,
            self.requested_port,
            max_size=4096,
            compression=None,
            ping_interval=1.0,
            ping_timeout=2.0,
            logger=logging.getLogger(__name__ + ".ws"),
        )
        self._ticker = asyncio.create_task(self._tick(), name="tracking-ticker")
        log.info("tracking: backups may follow this show on port %d", self.port)

    async def aclose(self) -> None:
        """Stop listening and drop the backups."""
        if self.log in self.runner.input_taps:
            self.runner.input_taps.remove(self.log)
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _tick(self) -> None:
        while True:
            self.log.tick(self.runner.now())
            await asyncio.sleep(HEARTBEAT_S)

    def stats(self) -> dict[str, Any]:
        """The pairing, for the console's health line."""
        if self.demoted:
            text = "muted: the backup took over"
            return {"name": "pairing", "kind": "redundancy", "state": "down", "text": text}
        if not self.backups:
            return {
                "name": "pairing",
                "kind": "redundancy",
                "state": "warn",
                "text": "no backup connected",
                "log": self.log.next_seq - 1,
            }
        info = next(iter(self.backups.values()))
        behind = self.log.next_seq - 1 - int(info.get("acked", 0))
        return {
            "name": "pairing",
            "kind": "redundancy",
            "state": "ok",
            "text": f"backup connected ({info['peer']}), {behind} entries behind",
            "log": self.log.next_seq - 1,
        }

    async def _session(self, ws: ServerConnection) -> None:
        peer = str(ws.remote_address[0]) if ws.remote_address else "?"
        start = await self._admit(ws, peer)
        if start is None:
            return
        history = self.log.since(start)
        if history is None:
            await ws.close(
                1008, "the log it needs is no longer kept; start backups before the show"
            )
            return
        await self._stream(ws, peer, start, history)

    async def _admit(self, ws: ServerConnection, peer: str) -> int | None:
        """Challenge a connecting backup; the log entry it wants first, or None (answered)."""
        nonce = secrets.token_hex(16)
        try:
            await ws.send(json.dumps({"type": "challenge", "nonce": nonce}))
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        except (TimeoutError, ValueError, ConnectionClosed):
            return None
        if not isinstance(hello, dict):
            await ws.close(1008, "expected a hello")
            return None
        if hello.get("type") == "probe":  # a would-be main asking who runs the show
            role = "demoted" if self.demoted else "main"
            # the role only: the show file's digest is what a backup proves it has
            await ws.send(json.dumps({"type": "role", "role": role}))
            return None
        proof = hello.get("proof")
        expected = pairing_proof(self.digest, nonce)
        if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
            self._warn.warning(
                "refused", "tracking: refused a backup from %s: its show file differs", peer
            )
            await ws.close(1008, "show files differ: copy this machine's show file")
            return None
        start = hello.get("from_seq", 1)
        if not isinstance(start, int) or isinstance(start, bool) or start < 1:
            await ws.close(1008, "bad hello")
            return None
        return start

    async def _stream(
        self, ws: ServerConnection, peer: str, start: int, history: list[bytes]
    ) -> None:
        """Send the backup its catch-up, then every new entry, until it goes."""
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        info: dict[str, Any] = {"peer": peer, "acked": start - 1, "queued": 0}

        def offer(entry: bytes) -> None:
            info["queued"] += len(entry)
            queue.put_nowait(entry)

        self.log.listeners.append(offer)
        self.backups[ws] = info
        await ws.send(json.dumps({"type": "welcome", "head": self.log.next_seq - 1}))
        log.info("tracking: backup %s connected from entry #%d", peer, start)
        reader = asyncio.create_task(self._read_backup(ws, info), name="tracking-backup-read")
        try:
            for i, entry in enumerate(history):
                await ws.send(entry.decode())
                if i % 200 == 199:  # a long catch-up must not hold the show loop
                    await after_pending_io()
            while True:
                entry = await queue.get()
                info["queued"] -= len(entry)
                if info["queued"] > _MAX_BEHIND_BYTES:
                    await ws.close(1013, "backup too far behind; reconnect and catch up")
                    return
                await ws.send(entry.decode())
        except ConnectionClosed:
            pass
        finally:
            self.log.listeners.remove(offer)
            # let the reader see what the backup said last (a takeover) before it ends
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(reader, 1.0)
            self.backups.pop(ws, None)
            log.warning("tracking: backup %s disconnected", peer)

    async def _read_backup(self, ws: ServerConnection, info: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in ws:
                try:
                    message = json.loads(text)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                seq = message.get("seq")
                if message.get("type") == "ack" and isinstance(seq, int):
                    info["acked"] = seq
                elif message.get("type") == "takeover":
                    self._demote(str(info["peer"]))

    def _demote(self, peer: str) -> None:
        """The backup took over: mute this machine so there is only one main."""
        if self.demoted:
            return
        self.demoted = True
        self.runner.mute()
        log.error(
            "TAKEOVER: the backup at %s is now the main; this machine is muted. To follow "
            "it, restart here with --backup-of %s",
            peer,
            peer,
        )


async def main_at(address: str, timeout: float = 2.0) -> str | None:
    """Ask ``HOST:PORT`` who runs the show there: ``"main"``, ``"demoted"`` or None."""
    try:
        async with connect(f"ws://{address}/", open_timeout=timeout, proxy=None) as ws:
            await asyncio.wait_for(ws.recv(), timeout)  # the challenge
            await ws.send(json.dumps({"type": "probe"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    except (OSError, TimeoutError, ValueError, WebSocketException):
        return None
    return str(reply.get("role")) if isinstance(reply, dict) else None


class TrackingFollower:
    """The backup's side: follow the main's log; take over on request or on silence.

    Build the runner with :meth:`clock` as its clock (and its OSC output's), then
    :meth:`attach` it before it starts; add its sources but do not start them.

    Args:
        address: The main's ``HOST:PORT``.
        digest: :func:`show_digest` of this machine's show file.
        takeover_after: Seconds without the main's heartbeat before taking over by
            itself; None (the default) waits for the operator.
        on_takeover: Called after a takeover (e.g. to start listening for a backup).
    """

    def __init__(
        self,
        address: str,
        digest: str,
        *,
        takeover_after: float | None = None,
        on_takeover: Callable[[], None] | None = None,
    ) -> None:
        self.address = address
        self.digest = digest
        self.takeover_after = takeover_after
        self.on_takeover = on_takeover
        self.main_time = 0.0
        self.seq = 0
        self.behind_s = math.nan
        self.last_heard = time.monotonic()
        self.connected = False
        self.took_over = False
        self.refused = ""
        self.catching_up_to = 0
        self._base: tuple[float, float] | None = None  # (main time, loop time) at takeover
        self._warn = RateLimitedLogger(log, 10.0)
        self._runner: ShowRunner | None = None
        #: This machine's own copy of the log (``TrackingServer.log``), kept while
        #: following so that after a takeover a new backup can follow from the start.
        self.local_log: InputLog | None = None

    @property
    def runner(self) -> ShowRunner:
        """The attached runner."""
        assert self._runner is not None, "attach() the runner first"
        return self._runner

    def attach(self, runner: ShowRunner, local_log: InputLog | None = None) -> None:
        """Follow with ``runner``: muted, its engine moved by the main's clock."""
        self._runner = runner
        self.local_log = local_log
        if local_log is not None and local_log not in runner.input_taps:
            runner.input_taps.append(local_log)
        runner.mute()
        runner.following = True
        runner.takeover = self.takeover

    def clock(self) -> float:
        """The runner's clock: the main's show time while following, then real time
        continuing from where the main was."""
        if self._base is None:
            return self.main_time
        main_time, loop_time = self._base
        return main_time + (asyncio.get_running_loop().time() - loop_time)

    def stats(self) -> dict[str, Any]:
        """The pairing, for the console's health line."""
        if self.took_over:
            return {
                "name": "pairing",
                "kind": "redundancy",
                "state": "ok",
                "text": "took over: this machine is the main",
            }
        if self.refused:
            return {
                "name": "pairing",
                "kind": "redundancy",
                "state": "down",
                "text": self.refused,
                # a backup that stopped following may still take over by hand
                "takeover": self.refused.startswith("cannot follow"),
            }
        if not self.connected:
            return {
                "name": "pairing",
                "kind": "redundancy",
                "state": "down",
                "text": f"main {self.address} unreachable, muted (log #{self.seq})",
                "takeover": True,
            }
        behind = "?" if math.isnan(self.behind_s) else f"{self.behind_s * 1000:.0f} ms"
        return {
            "name": "pairing",
            "kind": "redundancy",
            "state": "ok",
            "text": f"tracking main, {behind} behind, log #{self.seq}",
            "takeover": True,
        }

    async def run(self) -> None:
        """Follow until taken over or cancelled; reconnect with backoff."""
        backoff = BackoffPolicy(initial=0.1, cap=1.0)
        attempt = 0
        watchdog = asyncio.create_task(self._watch(), name="tracking-watchdog")
        try:
            while not self.took_over:
                try:
                    async with connect(
                        f"ws://{self.address}/", open_timeout=2.0, max_size=None, proxy=None
                    ) as ws:
                        attempt = 0
                        await self._follow(ws)
                except (OSError, TimeoutError, ValueError, WebSocketException) as err:
                    self._warn.warning(
                        "main", "tracking: main %s unreachable: %s", self.address, err
                    )
                finally:
                    self.connected = False
                if self.refused:
                    return
                await asyncio.sleep(backoff.delay(attempt, random.random()))
                attempt += 1
        finally:
            watchdog.cancel()

    async def _follow(self, ws: ClientConnection) -> None:
        if not await self._greet(ws):
            return
        self.connected = True
        self.last_heard = time.monotonic()
        log.info("tracking: following the main at %s from entry #%d", self.address, self.seq + 1)
        acked = time.monotonic()
        applied = 0
        async for text in ws:
            if self.took_over:  # tell the main, so that it mutes itself
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(json.dumps({"type": "takeover"}))
                return
            if not self._apply_text(text):
                return
            applied += 1
            if applied % 200 == 0:  # catching up: let keepalives and the console through
                await after_pending_io()
            now = time.monotonic()
            if now - acked > 0.2:
                acked = now
                await ws.send(json.dumps({"type": "ack", "seq": self.seq}))

    async def _greet(self, ws: ClientConnection) -> bool:
        """Answer the main's challenge; True once it welcomed this backup."""
        challenge = json.loads(await asyncio.wait_for(ws.recv(), 5))
        nonce = challenge.get("nonce") if isinstance(challenge, dict) else None
        if not isinstance(nonce, str):
            return False
        proof = pairing_proof(self.digest, nonce)
        await ws.send(json.dumps({"type": "hello", "proof": proof, "from_seq": self.seq + 1}))
        try:
            welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
        except ConnectionClosed as closed:
            if closed.rcvd is not None and closed.rcvd.code == 1008:
                self.refused = f"main refused: {closed.rcvd.reason}"
                log.error("tracking: %s", self.refused)
            return False
        if not isinstance(welcome, dict) or welcome.get("type") != "welcome":
            return False
        head = welcome.get("head")
        self.catching_up_to = head if isinstance(head, int) else 0
        return True

    def _apply_text(self, text: str | bytes) -> bool:
        """Apply one log entry as received; False (and stop following) if it cannot be."""
        try:
            self.apply(json.loads(text))
        except ConnectionError:
            raise
        except (ValueError, KeyError, IndexError, TypeError) as err:
            self._cannot_follow(f"log entry #{self.seq + 1} could not be applied ({err})")
            return False
        return True

    def _cannot_follow(self, why: str) -> None:
        """Stop following (a main of another version?): muted, no automatic takeover,
        which would make a second main while the first still runs."""
        self.refused = f"cannot follow the main: {why}"
        self.takeover_after = None
        log.error("tracking: %s; automatic takeover is off, TAKEOVER still works", self.refused)

    def apply(self, entry: list[Any]) -> None:
        """Hand one log entry to this machine's engine at the main's time."""
        seq, t, wall, kind = entry[0], float(entry[1]), float(entry[2]), entry[3]
        if seq != self.seq + 1:
            raise ConnectionError(f"log entry #{seq} after #{self.seq}")
        self.seq = seq
        self.last_heard = time.monotonic()
        self.behind_s = max(0.0, time.time() - wall)
        self.main_time = max(self.main_time, t)
        runner = self.runner
        if kind == "s":
            source, pairs = entry[4], entry[5]
            samples = [TelemetrySample(name, value, None) for name, value in pairs]
            runner.on_samples(source, samples)
        elif kind == "e":
            event_kind, event, data = entry[4], entry[5], entry[6]
            runner.apply_input(decode_event(event), event_kind, data)
        else:  # the main's clock: fades and timers move in step with it
            if self.local_log is not None:
                self.local_log.tick(t)
            runner.follow_to(self.main_time)

    async def _watch(self) -> None:
        while not self.took_over:
            await asyncio.sleep(0.05)
            silent = time.monotonic() - self.last_heard
            if self.takeover_after is not None and silent > self.takeover_after and self.seq:
                self.takeover(f"automatic: no heartbeat from the main for {silent:.1f} s")
                return

    def takeover(self, reason: str) -> dict[str, Any]:
        """Become the main where the main was: unmute, open the sources, tell the main."""
        if self.took_over:
            return {"ok": False, "error": "this machine has already taken over"}
        if self.connected and self.seq < self.catching_up_to:
            left = self.catching_up_to - self.seq
            return {
                "ok": False,
                "error": f"still catching up with the main ({left} log entries to go)",
            }
        self.took_over = True
        runner = self.runner
        # the show goes on from where the main is by now: its last tick plus the time
        # since it was heard (a running fade resumes at its current value, not late)
        silent = max(0.0, time.monotonic() - self.last_heard)
        self._base = (self.main_time + silent, asyncio.get_running_loop().time())
        runner.following = False
        runner.unmute()
        runner.start_sources()
        runner.takeover = None
        log.error(
            "TAKEOVER (%s): this machine is now the main, at show time %.3f s, log #%d",
            reason,
            self._base[0],
            self.seq,
        )
        if self.on_takeover is not None:
            self.on_takeover()
        return {"ok": True, "took_over": True, "show_time": round(self._base[0], 3)}
