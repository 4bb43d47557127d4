"""Benchmark the command path: GO -> the cue's first byte on the wire, and timed actions.

A real show (``show.runcmd.run_show``: the same logging, control server, web server,
sources and outputs as ``stovelight run``) runs in a child process with a generated
show file: cues 1-400 each send one OSC message ``/bench/go <n>`` to a UDP receiver in
this process; cues 1001, 1002 ... (one per GO of a case) are groups that send a MIDI
note (in-memory MIDI port), cut the visual output to another scene (a 64x36 headless
renderer) and send ``/bench/go <n>``; ``min_go_interval = 0``. One GO every 20 ms, per
case:

* ``qlab-udp`` / ``qlab-tcp``: QLab ``/go`` to the control port over UDP / TCP (SLIP);
* ``console-ws``: the operator console's websocket ``{"type": "control", "command": "go"}``
  (the console is connected for this case only, receiving its 10 Hz snapshots);
* ``midi-note`` / ``midi-msc``: a note-on bound to GO / an MSC GO, delivered into the
  in-memory MIDI input from a thread of the show process (as rtmidi's callback would);
* ``osc+midi+visual``: QLab ``/go`` over UDP on the group cues.

GO time is taken just before the client's send, with the message already made (the
console's websocket frame too, written to its socket in one call as a browser's would
be; websockets' own client spends about 0.1 ms building and writing a frame); for MIDI
just before the delivery. Arrival time is the kernel's receive timestamp
(``SO_TIMESTAMPNS``) of the datagram, so neither side's scheduling after the fact
counts. Each load runs every case:

* ``idle``;
* ``telemetry``: a websocket feed offers 10,000 JSON frames/s to a ``json`` source
  whose signal drives a mapping (30 Hz OSC);
* ``viewers``: 500 public dashboard viewers connected (10 snapshots/s each).

The show runs as ``stovelight run`` does: its loop thread at real-time priority where
the system permits it (``show.runtime.priority``; the table's header says what it got),
``--no-realtime`` for normal priority. The feed and the viewers are other processes on
the same two cores, run at niceness
:data:`LOAD_NICE` (they stand for other machines: the meters, the phones), so the show
does all its own work for them (decoding every frame, writing every viewer's socket)
without waiting behind theirs.

Per load it then starts a timeline group of timed actions (20 pre-waits of 13-720 ms,
fades at 30, 60 and 100 Hz for 1.5 s) twice and reports each action's lateness on the
wire against its scheduled time (the group's start on the engine's clock plus the
action's offset).

Usage::

    .venv/bin/python bench/go_latency.py                  # about 2 minutes
    .venv/bin/python bench/go_latency.py --gos 100 --loads idle
    .venv/bin/python bench/go_latency.py --write-docs     # replace its section in
                                                          # docs/performance.md

After the show it measures the machine's floor the same way through bare relays
(``bench/relay_floor.py``: blocking UDP, asyncio UDP, websockets -> UDP; ``--no-floor``
skips them), so each GO case can be read against what merely waking a program on a
message and answering it costs here.
    GO_LATENCY_SLOW_MS=1 .venv/bin/python bench/go_latency.py --loads viewers
        # asyncio debug mode in the show: loop callbacks over 1 ms go to its log
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import json
import multiprocessing as mp
import os
import platform
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docsection import write_section
from bench.relay_floor import measure_floor, ws_text_frame
from bridges import eventloop
from bridges.osc.framing import slip_encode
from bridges.osc.wire import decode_packet, encode_message, iter_messages

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
SECTION = "GO latency and timed actions"
N_OSC = 400
MULTI_BASE = 1000
N_MULTI = 250
GO_INTERVAL = 0.02
FEED_RATE = 10_000
VIEWERS = 500
NOTE_GO = bytes([0x90, 60, 100])
MSC_GO = bytes([0xF0, 0x7F, 0x7F, 0x02, 0x7F, 0x01, 0xF7])  # all-call, all types, GO
FADES = {"f30": 30.0, "f60": 60.0, "f100": 100.0}
FADE_S = 1.5
PREWAITS = [round(0.013 + k * 0.037, 3) for k in range(20)]
EXPECTED = {"pre-wait ends": len(PREWAITS)} | {
    f"fade {int(r)} Hz": int(r * FADE_S) + 1 for r in FADES.values()
}
CASES = ("qlab-udp", "qlab-tcp", "console-ws", "midi-note", "midi-msc", "osc+midi+visual")
LOADS = ("idle", "telemetry", "viewers")
TOKEN = "go-latency-bench"
LOAD_NICE = 10
"""Scheduling niceness of the load generators (the telemetry feed, the 500 viewers): on a
show night the meters and the phones are other machines; here they share two cores with
the show, and at the same priority the viewers' process alone (parsing 5,000 snapshots
a second) kept the show's process off a CPU for 4-20 ms at a time."""
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


# ---------------------------------------------------------------------- the show


def show_text(
    osc_port: int, control_port: int, web_port: int, feed_port: int, renderer: bool, n_multi: int
) -> str:
    """The generated show file."""
    out = [
        "[show]",
        'title = "GO latency bench"',
        "min_go_interval = 0",
        "",
        "[control]",
        'host = "127.0.0.1"',
        f"port = {control_port}",
        "reply_port = 0",
        "discovery = false",
        "",
        "[web]",
        'host = "127.0.0.1"',
        f"port = {web_port}",
        f'console_token = "{TOKEN}"',
        "max_per_address = 2000",
        "max_connections = 3000",
        "",
        "[sources.feed]",
        'kind = "json"',
        f'url = "ws://127.0.0.1:{feed_port}/"',
        "[sources.feed.signals]",
        '"feed.v" = "/v"',
        '[signals."feed.v"]',
        'source = "feed"',
        "",
        "[outputs.osc.bench]",
        'host = "127.0.0.1"',
        f"port = {osc_port}",
        "",
        "[outputs.midi.bench]",
        'port = "bench"',
        "input = true",
        "msc_device = 1",
        "[[outputs.midi.bench.bindings]]",
        'message = "note"',
        "number = 60",
        'action = "go"',
        "",
        "[mappings.feed_level]",
        'signal = "feed.v"',
        'to = { osc = "bench", address = "/bench/map" }',
        "range = { in = [0, 1], out = [0, 1] }",
        "",
    ]
    if renderer:
        out += ["[outputs.visuals.screen]", 'scene = "black"', "size = [64, 36]", "headless = true"]
        out += ["preview_fps = 0", ""]
    out += ["[[cue_lists]]", 'name = "Main"']
    for n in range(1, N_OSC + 1):
        out += ["[[cue_lists.cues]]", f'number = "{n}"', 'type = "osc"', 'target = "bench"']
        out += ['address = "/bench/go"', f"args = [{n}]"]
    for k in range(1, n_multi + 1):
        n = MULTI_BASE + k
        out += ["[[cue_lists.cues]]", f'number = "{n}"', 'type = "group"', 'mode = "timeline"']
        out += ["  [[cue_lists.cues.children]]", f'  number = "{n}.1"', '  type = "midi"']
        out += ['  port = "bench"', f"  message = {{ type = 'note_on', note = {k % 128} }}"]
        if renderer:
            scene = "heat" if k % 2 else "black"
            out += ["  [[cue_lists.cues.children]]", f'  number = "{n}.2"', '  type = "visual"']
            out += [f'  scene = "{scene}"', '  transition = "cut"']
        out += ["  [[cue_lists.cues.children]]", f'  number = "{n}.3"', '  type = "osc"']
        out += ['  target = "bench"', '  address = "/bench/go"', f"  args = [{n}]"]
    out += ["", "[[cue_lists]]", 'name = "Timed"', "[[cue_lists.cues]]", 'number = "T"']
    out += ['type = "group"', 'mode = "timeline"']
    for name, rate in FADES.items():
        out += ["  [[cue_lists.cues.children]]", f'  number = "T.{name}"', '  type = "fade"']
        out += [f'  target = {{ osc = "bench", address = "/bench/{name}" }}', "  from = 0.0"]
        out += [f"  to = {rate * FADE_S}", f"  duration = {FADE_S}", f"  rate_hz = {rate}"]
    for k, wait in enumerate(PREWAITS):
        out += ["  [[cue_lists.cues.children]]", f'  number = "T.p{k}"', '  type = "osc"']
        out += ['  target = "bench"', '  address = "/bench/pw"', f"  args = [{k}]"]
        out += [f"  prewait = {wait}"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------- show process


def child_main(show_path: Path, device_port: int, work: Path, realtime: bool) -> int:
    """Run the show as ``stovelight run`` would, with an in-memory MIDI port.

    A device thread listens on ``device_port`` (UDP) and plays the MIDI input: it
    stamps the time and delivers a note or MSC GO, as rtmidi's thread would. It also
    answers where the timed group started (``start T``), in wall-clock seconds.
    """
    from bridges.midi.memory import MemoryMidiBackend
    from show.app import RunOptions, Seams
    from show.runcmd import run_show
    from show.runtime.runner import ShowRunner
    from show.showfile.load import load_show

    backend = MemoryMidiBackend(outputs=["bench"], inputs=["bench"])
    runners: list[ShowRunner] = []
    # the show's own assembly, with the in-memory MIDI system and a handle on the runner
    seams = Seams(midi_backend=backend, on_runner=runners.append)
    stamps: list[int] = []
    gc_pauses: list[float] = []
    gc_started = [0.0]

    def gc_watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info.get("generation") == 2:
            gc_pauses.append((time.perf_counter() - gc_started[0]) * 1000.0)

    gc.callbacks.append(gc_watch)

    device = _Device(device_port, backend, runners, stamps, gc_pauses)
    threading.Thread(target=device.run, name="bench-midi-device", daemon=True).start()
    show = load_show(show_path)
    options = RunOptions(headless=True, log_dir=work, realtime=realtime)
    slow = os.environ.get("GO_LATENCY_SLOW_MS")  # diagnosis: log loop callbacks over this
    trace = os.environ.get("GO_LATENCY_TRACE_MS")  # diagnosis: what holds the loop

    async def run() -> int:
        if trace:
            _trace_loop(asyncio.get_running_loop(), float(trace) / 1000.0, work / "trace.json")
        if slow:
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = float(slow) / 1000.0
        return await run_show(show, options, seams)

    return eventloop.run(run())  # the loop `stovelight run` uses


class _Device:
    """The bench's side door into the show process: plays the MIDI input (stamps the
    time and delivers a note or MSC GO, as rtmidi's thread would) and answers
    questions (GO stamps, where the timed group started, full GC pauses)."""

    def __init__(
        self,
        port: int,
        backend: Any,
        runners: list[Any],
        stamps: list[int],
        gc_pauses: list[float],
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.backend = backend
        self.runners = runners
        self.stamps = stamps
        self.gc_pauses = gc_pauses

    def run(self) -> None:
        while True:
            data, addr = self.sock.recvfrom(256)
            if data in (b"note", b"msc"):
                self.stamps.append(time.time_ns())
                self.backend.deliver("bench", NOTE_GO if data == b"note" else MSC_GO)
            else:
                self.sock.sendto(self.answer(data), addr)

    def answer(self, data: bytes) -> bytes:
        from cues.model import CueId

        if data == b"stamps":
            out, self.stamps[:] = list(self.stamps), []
            return json.dumps(out).encode()
        if data.startswith(b"start "):
            runner = self.runners[0]
            run = runner.engine.runs[CueId(f"Timed/{data[6:].decode()}")]
            wall = _wall_minus_monotonic() + runner._t0 + run.started_at
            return json.dumps(wall).encode()
        if data == b"gc":
            out_gc, self.gc_pauses[:] = list(self.gc_pauses), []
            return json.dumps(out_gc).encode()
        return b"pong"


def _wall_minus_monotonic() -> float:
    """The wall clock minus the monotonic clock (the loop's), from the closest of a few
    readings: a thread switch between two clock reads would shift every timed action of
    a run by as much."""
    best = (float("inf"), 0.0)
    for _ in range(7):
        a = time.monotonic()
        wall = time.time()
        b = time.monotonic()
        best = min(best, (b - a, wall - (a + b) / 2))
    return best[1]


def _callback_name(handle: asyncio.Handle) -> str:
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f":{frame.f_lineno}" if frame is not None else ""
        return f"task {owner.get_name()} {getattr(coro, '__qualname__', coro)}{where}"
    return getattr(callback, "__qualname__", repr(callback))


def _trace_loop(loop: asyncio.AbstractEventLoop, threshold: float, out: Path) -> None:
    """Diagnosis (``GO_LATENCY_TRACE_MS``): every loop callback that used more than
    ``threshold`` seconds of CPU, by name (CPU time, so a busy machine's preemption does
    not count), the turns that did, and loop turns whose wall time exceeded their CPU
    time by more than ``threshold`` (the thread waited: another thread held the
    interpreter lock, or the OS ran something else). Written to ``out`` at exit."""
    import atexit
    import selectors

    slow: dict[str, list[float]] = {}
    waits: list[float] = []
    turns: list[float] = []
    handle_run = asyncio.events.Handle._run

    def run(self: asyncio.Handle) -> None:
        t0 = time.thread_time()
        handle_run(self)
        spent = time.thread_time() - t0
        if spent > threshold:
            slow.setdefault(_callback_name(self), []).append(spent * 1000.0)

    asyncio.events.Handle._run = run  # type: ignore[method-assign]
    selector = loop._selector  # type: ignore[attr-defined]
    select = selector.select
    in_select = [0.0]

    def timed_select(timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        t0 = time.perf_counter()
        try:
            return select(timeout)  # type: ignore[no-any-return]
        finally:
            in_select[0] = time.perf_counter() - t0

    selector.select = timed_select
    run_once = loop._run_once  # type: ignore[attr-defined]

    def timed_run_once() -> None:
        w0, c0 = time.perf_counter(), time.thread_time()
        run_once()
        wall = time.perf_counter() - w0 - in_select[0]
        cpu = time.thread_time() - c0
        if cpu > threshold:
            turns.append(cpu * 1000.0)
        if wall - cpu > threshold:
            waits.append((wall - cpu) * 1000.0)

    loop._run_once = timed_run_once  # type: ignore[attr-defined]

    def dump() -> None:
        rows = {
            k: [len(v), round(sum(v), 2), round(max(v), 2)]
            for k, v in sorted(slow.items(), key=lambda kv: -sum(kv[1]))
        }
        waits.sort()
        turns.sort()
        out.write_text(
            json.dumps({"slow": rows, "waits": waits[-50:], "n_waits": len(waits), "turns": turns})
        )

    atexit.register(dump)


# ---------------------------------------------------------------------- load helpers


def feed_main(conn: Any, on: Any, rate: float) -> None:
    """A websocket server offering ``rate`` JSON frames/s while ``on`` is set (at
    :data:`LOAD_NICE`)."""
    from websockets.asyncio.server import serve

    os.nice(LOAD_NICE)
    count = [0]

    async def handler(ws: Any) -> None:
        period = 0.005
        batch = int(rate * period)
        next_t = time.monotonic()
        while True:
            if not on.value:
                await asyncio.sleep(0.05)
                next_t = time.monotonic()
                continue
            for _ in range(batch):
                count[0] += 1
                await ws.send(f'{{"v": {(count[0] % 1000) / 1000:.4f}, "seq": {count[0]}}}')
            next_t += period
            await asyncio.sleep(max(0.0, next_t - time.monotonic()))

    async def run() -> None:
        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            conn.send(server.sockets[0].getsockname()[1])
            loop = asyncio.get_running_loop()
            while True:
                msg = await loop.run_in_executor(None, conn.recv)
                if msg == "count":
                    conn.send(count[0])
                else:
                    return

    asyncio.run(run())


def viewers_main(port: int, count: int, conn: Any) -> None:
    """Hold ``count`` public dashboard viewers until told to stop (at :data:`LOAD_NICE`)."""
    os.nice(LOAD_NICE)
    sys.path.insert(0, str(ROOT / "bench"))
    from dashboard_fanout import Viewer

    async def run() -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(64)
        viewers: list[Any] = []

        async def one() -> None:
            async with gate:
                done = asyncio.Event()
                viewer = Viewer("127.0.0.1", port, (0.0, 0.0), done)
                with contextlib.suppress(OSError, TimeoutError):
                    await loop.create_connection(lambda: viewer, "127.0.0.1", port)
                    await asyncio.wait_for(done.wait(), 30)
                viewers.append(viewer)

        await asyncio.gather(*(one() for _ in range(count)))
        conn.send(sum(1 for v in viewers if v.open and not v.closed))
        await loop.run_in_executor(None, conn.recv)
        conn.send(sum(1 for v in viewers if v.open and not v.closed))

    asyncio.run(run())


# ---------------------------------------------------------------------- receiver


class Receiver:
    """UDP receiver for the show's OSC, with kernel receive timestamps (ns, wall clock)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.records: list[tuple[str, float, int]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="bench-receiver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(65536, 1024)
            except OSError:
                return
            stamp = time.time_ns()
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", payload[:16])
                    stamp = sec * 1_000_000_000 + nsec
            try:
                packet = decode_packet(data)
            except Exception:
                continue
            with self._lock:
                for m in iter_messages(packet):
                    if m.args and m.address != "/bench/map":
                        self.records.append((m.address, float(m.args[0]), stamp))

    def take(self) -> list[tuple[str, float, int]]:
        with self._lock:
            out, self.records = self.records, []
        return out


# ---------------------------------------------------------------------- GO clients


class Clients:
    """One client per input path; ``go(case)`` sends one GO and returns its time (ns)."""

    def __init__(self, control_port: int, web_port: int, device_port: int) -> None:
        self.control_port = control_port
        self.device_port = device_port
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.connect(("127.0.0.1", control_port))
        self.tcp = socket.create_connection(("127.0.0.1", control_port))
        self.tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.device = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.device.connect(("127.0.0.1", device_port))
        self.device.settimeout(5)
        self.web_port = web_port
        self.ws: Any = None
        self._ws_ctx = contextlib.ExitStack()
        self._go_udp = encode_message("/go", [])
        self._go_tcp = slip_encode(self._go_udp)
        self._ids = 0
        self._stop = False
        self._drain = threading.Thread(target=self._drain_all, name="bench-drain", daemon=True)
        self._drain.start()

    def _drain_all(self) -> None:
        socks = [self.udp, self.tcp]
        while not self._stop:
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                with contextlib.suppress(OSError):
                    s.recv(65536)

    def console(self, on: bool) -> None:
        """Open (and log in) or close the operator console's websocket."""
        if not on:
            self._ws_ctx.close()
            self.ws = None
            return
        from websockets.sync.client import connect

        self._ws_ctx = contextlib.ExitStack()
        url = f"ws://127.0.0.1:{self.web_port}/console/ws"
        # no keepalive pings: a GO's frame is written to the socket directly (see go)
        ws = connect(url, compression=None, max_size=None, ping_interval=None)
        self.ws = self._ws_ctx.enter_context(ws)
        self.ws.send(json.dumps({"type": "auth", "token": TOKEN}))
        ws = self.ws
        threading.Thread(target=self._ws_drain, args=(ws,), daemon=True).start()

    @staticmethod
    def _ws_drain(ws: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                ws.recv()

    def send_osc(self, address: str, args: list[Any] | None = None) -> None:
        self.udp.send(encode_message(address, args or []))

    def go(self, case: str) -> int:
        if case in ("qlab-udp", "osc+midi+visual"):
            t = time.time_ns()
            self.udp.send(self._go_udp)
        elif case == "qlab-tcp":
            t = time.time_ns()
            self.tcp.sendall(self._go_tcp)
        elif case == "console-ws":
            self._ids += 1
            frame = ws_text_frame(b'{"type":"control","id":%d,"command":"go"}' % self._ids)
            t = time.time_ns()
            self.ws.socket.sendall(frame)  # as a browser hands its kernel the frame
        else:
            self.device.send(b"note" if case == "midi-note" else b"msc")
            t = 0  # stamped in the show process, just before delivery
        return t

    def ask(self, request: bytes) -> Any:
        self.device.send(request)
        return json.loads(self.device.recv(1 << 20))

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(Exception):
            self._ws_ctx.close()
        for s in (self.udp, self.tcp, self.device):
            s.close()


# ---------------------------------------------------------------------- measuring


@dataclass
class Stats:
    """Latencies of one case, in ms."""

    values: list[float] = field(default_factory=list)
    missing: int = 0

    def q(self, p: float) -> float:
        v = sorted(self.values)
        if not v:
            return float("nan")
        return v[min(len(v) - 1, round(p * (len(v) - 1)))]

    def cells(self) -> list[str]:
        return [f"{self.q(0.5):.3f}", f"{self.q(0.99):.3f}", f"{max(self.values, default=0):.3f}"]


def run_case(clients: Clients, receiver: Receiver, case: str, gos: int) -> Stats:
    if case == "console-ws":
        clients.console(True)
        try:
            return _run_case(clients, receiver, case, gos)
        finally:
            clients.console(False)
    return _run_case(clients, receiver, case, gos)


def _run_case(clients: Clients, receiver: Receiver, case: str, gos: int) -> Stats:
    first = MULTI_BASE + 1 if case == "osc+midi+visual" else 1
    clients.send_osc(f"/select/{first}")
    time.sleep(0.1)
    receiver.take()
    sent: dict[int, int] = {}
    t_next = time.monotonic()
    for i in range(gos):
        t_next += GO_INTERVAL
        sent[first + i] = clients.go(case)
        time.sleep(max(0.0, t_next - time.monotonic()))
    time.sleep(0.2)
    if case.startswith("midi"):
        stamps = clients.ask(b"stamps")
        sent = {first + i: s for i, s in enumerate(stamps)}
    arrivals: dict[int, list[int]] = {}
    for address, value, t in receiver.take():
        if address == "/bench/go":
            arrivals.setdefault(int(value), []).append(t)
    stats = Stats()
    for cue, t0 in sent.items():
        # a straggler of an earlier case for the same cue arrived before this GO
        after = [t for t in arrivals.get(cue, []) if t >= t0]
        if after:
            stats.values.append((min(after) - t0) / 1e6)
        else:
            stats.missing += 1
    return stats


def run_timed(clients: Clients, receiver: Receiver, repeats: int) -> dict[str, Stats]:
    """Start the timed group ``repeats`` times; lateness of every action on the wire."""
    out = {
        name: Stats() for name in ("pre-wait ends", *(f"fade {int(r)} Hz" for r in FADES.values()))
    }
    for _ in range(repeats):
        receiver.take()
        clients.send_osc("/cue/T/start")
        time.sleep(FADE_S + 0.4)
        start = float(clients.ask(b"start T"))
        for address, value, t in receiver.take():
            name = address.rsplit("/", 1)[-1]
            if name == "pw":
                scheduled = start + PREWAITS[int(value)]
                key = "pre-wait ends"
            elif name in FADES:
                rate = FADES[name]
                scheduled = start + round(value) / rate
                key = f"fade {int(rate)} Hz"
            else:
                continue
            out[key].values.append((t / 1e9 - scheduled) * 1000.0)
    return out


# ---------------------------------------------------------------------- main


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        port = int(u.getsockname()[1])
    with socket.socket() as t:  # the control port needs UDP and TCP on one number
        t.bind(("127.0.0.1", port))
    return port


def wait_ready(proc: subprocess.Popen[str], timeout: float) -> None:
    end = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the show process ended before it was ready")
        if "Press Ctrl-C" in line:
            return
    raise RuntimeError("the show did not start in time")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load}; Python {platform.python_version()}"


def table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = [head, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in out
    )


def _one_load(
    args: argparse.Namespace,
    load: str,
    clients: Clients,
    receiver: Receiver,
    pid: int,
    go_rows: list[list[str]],
) -> str:
    """Every GO case under one load; returns the note on GC pauses and CPU."""
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    for case in args.cases:
        stats = run_case(clients, receiver, case, args.gos)
        row = [load, case, str(len(stats.values)), *stats.cells(), str(stats.missing)]
        go_rows.append(row)
        if sys.stderr.isatty():
            print("  ".join(row), file=sys.stderr)
    cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    pauses = clients.ask(b"gc")
    gc_note = f"{len(pauses)} full GC pauses, longest {max(pauses):.1f} ms, " if pauses else ""
    return f"{gc_note}show process CPU {cpu:.0%} while GOs ran"


def _timed_rows(
    args: argparse.Namespace, load: str, clients: Clients, receiver: Receiver
) -> list[list[str]]:
    rows = []
    for name, stats in run_timed(clients, receiver, args.timed_repeats).items():
        n = f"{len(stats.values)}/{args.timed_repeats * EXPECTED[name]}"
        rows.append([load, name, n, *stats.cells()])
    return rows


@contextlib.contextmanager
def _load_on(
    load: str, ctx: Any, feed_conn: Any, feed_on: Any, web_port: int
) -> Iterator[list[str]]:
    """``load`` on (telemetry flowing or viewers connected) for one phase; yields the
    phase's notes, to which it adds what the load was."""
    notes: list[str] = []
    viewers = None
    if load == "telemetry":
        feed_on.value = 1
        feed_conn.send("count")
        before, t_before = feed_conn.recv(), time.monotonic()
    if load == "viewers":
        vconn, vchild = ctx.Pipe()
        viewers = ctx.Process(target=viewers_main, args=(web_port, VIEWERS, vchild))
        viewers.start()
        notes.append(f"{vconn.recv()} viewers held")
    time.sleep(1.0)
    yield notes
    if load == "telemetry":
        feed_conn.send("count")
        rate = (feed_conn.recv() - before) / (time.monotonic() - t_before)
        notes.append(f"feed offered {rate:,.0f} frames/s")
        feed_on.value = 0
    if viewers is not None:
        vconn.send("stop")
        notes.append(f"{vconn.recv()} still held at the end")
        viewers.join(10)


def measure(args: argparse.Namespace) -> tuple[str, list[list[str]], list[list[str]]]:
    ctx = mp.get_context("spawn")
    receiver = Receiver()
    feed_conn, feed_child = ctx.Pipe()
    feed_on = ctx.Value("b", 0)
    feed = ctx.Process(target=feed_main, args=(feed_child, feed_on, FEED_RATE), daemon=True)
    feed.start()
    feed_port = feed_conn.recv()
    control_port, web_port, device_port = free_port(), free_port(), free_port()
    work = Path(tempfile.mkdtemp(prefix="go-latency-"))
    show_path = work / "bench.toml"
    show_path.write_text(
        show_text(receiver.port, control_port, web_port, feed_port, not args.no_renderer, args.gos)
    )
    cmd = [sys.executable, __file__, "--child", str(show_path), "--device-port", str(device_port)]
    cmd += ["--no-realtime"] if args.no_realtime else []
    stderr = (work / "stderr.log").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT)
    go_rows: list[list[str]] = []
    late_rows: list[list[str]] = []
    clients: Clients | None = None
    loop_note = ""
    try:
        wait_ready(proc, 60)
        clients = Clients(control_port, web_port, device_port)
        print(f"show process {proc.pid}; its log in {work}", file=sys.stderr)
        time.sleep(3.0)  # the renderer child starts its GL context meanwhile
        clients.ask(b"gc")  # forget the start-up collections (run_show collects once)
        loop_note = f"the show's loop thread: {_loop_policy(proc.pid)}"
        for load in args.loads:
            with _load_on(load, ctx, feed_conn, feed_on, web_port) as notes:
                notes.append(_one_load(args, load, clients, receiver, proc.pid, go_rows))
                late_rows += _timed_rows(args, load, clients, receiver)
            note = ", ".join(filter(None, notes))
            if sys.stderr.isatty():
                print(f"{load}: {note}", file=sys.stderr)
            go_rows[-1].append(f"{load}: {note}")
            time.sleep(0.5)
    finally:
        if clients is not None:
            clients.close()
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        if proc.poll() is None:
            proc.kill()
        feed_conn.send("stop")
        feed.join(5)
        if feed.is_alive():
            feed.kill()
    return f"{machine()}\n{loop_note}", go_rows, late_rows


def _loop_policy(pid: int) -> str:
    """How the kernel schedules the show's loop (its main thread), as its banner says it."""
    policy = os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK
    if policy == os.SCHED_FIFO:
        return f"real-time priority (SCHED_FIFO {os.sched_getparam(pid).sched_priority})"
    return "normal priority"


async def _go_costs(
    runner: Any, first: int, gos: int, handed: list[float], sink: socket.socket
) -> list[str]:
    """``gos`` GOs from cue ``first``, 2 ms apart: p50 and best until the datagram is
    handed to the kernel, p50 until ``control`` returns; then as many 20 ms apart (the
    bench's pace: the caches go cold in between), p50 to the kernel (microseconds)."""
    cells: list[str] = []
    for gap in (0.002, GO_INTERVAL):
        runner.control("set_playhead", str(first))
        wire, whole = [], []
        for _ in range(gos):
            handed.clear()
            t0 = time.perf_counter()
            runner.control("go", origin="bench")
            whole.append(time.perf_counter() - t0)
            wire.append(handed[0] - t0)
            await asyncio.sleep(gap)
            sink.recv(65536)
        wire.sort()
        whole.sort()
        p50 = f"{wire[len(wire) // 2] * 1e6:.0f}"
        if gap == GO_INTERVAL:
            cells.append(p50)
        else:
            cells += [p50, f"{wire[0] * 1e6:.0f}", f"{whole[len(whole) // 2] * 1e6:.0f}"]
    return cells


def path_cost(gos: int) -> tuple[list[list[str]], list[list[str]]]:
    """In this process, without sockets in between: ``runner.control("go")`` on the
    bench show (real OSC output, in-memory MIDI, the show's logging; no renderer) until
    the cue's datagram is handed to the kernel, and until ``control`` returns; and the
    console snapshot each console tick builds on the loop."""
    from bridges.midi.memory import MemoryMidiBackend
    from show.runtime import logsetup
    from show.runtime.assemble import build_parts
    from show.runtime.midi_hub import MidiHub
    from show.runtime.runner import ShowRunner
    from show.showfile.load import parse_show

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    work = Path(tempfile.mkdtemp(prefix="go-latency-path-"))
    text = show_text(sink.getsockname()[1], 0, 0, 9, True, gos)
    show = parse_show(text, str(work / "bench.toml"))
    logsetup.configure_show_logging(show.model.title, work)
    rows: list[list[str]] = []
    snap_rows: list[list[str]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        parts = build_parts(show, clock=loop.time, renderers=False)
        backend = MemoryMidiBackend(outputs=["bench"], inputs=["bench"])
        parts.midi = MidiHub(show.midi_ports, lambda *a: None, backend=backend)
        runner = ShowRunner(show, parts)
        await runner.start()
        assert parts.osc is not None
        transport = parts.osc._targets["bench"].backend.transport  # type: ignore[attr-defined]
        handed: list[float] = []
        real_sendto = transport.sendto

        def sendto(data: bytes, *addr: Any) -> None:
            handed.append(time.perf_counter())
            real_sendto(data, *addr)

        transport.sendto = sendto
        for first, label in ((1, "OSC cue"), (MULTI_BASE + 1, "OSC+MIDI+visual group")):
            rows.append([label, *await _go_costs(runner, first, gos, handed, sink)])
        await runner.aclose()
        for label, n_multi in ((f"this show ({gos} groups)", gos), ("400 OSC cues only", 0)):
            small = parse_show(show_text(9, 0, 0, 9, True, n_multi))
            snap_rows.append(await _console_snapshot(label, small))

    try:
        asyncio.run(run())
    finally:
        stop = getattr(logsetup, "stop_show_logging", None)  # (older trees: none)
        if stop is not None:
            stop()
        sink.close()
    return rows, snap_rows


async def _console_snapshot(label: str, show: Any) -> list[str]:
    """Build and encode the console's snapshot as its broadcaster does each tick."""
    from show.runtime.runner import RunnerParts, ShowRunner
    from show.web.protocol import encode_message_bytes
    from show.web.snapshots import Snapshots

    runner = ShowRunner(show, RunnerParts())
    snaps = Snapshots(runner, None)
    best = (float("inf"), 0.0, 0)
    for _ in range(10):
        t0 = time.perf_counter()
        body = snaps.console(wire=True)  # as the console's broadcaster builds it
        t1 = time.perf_counter()
        size = len(encode_message_bytes(body))
        t2 = time.perf_counter()
        best = min(best, (t2 - t0, t1 - t0, size))
    total, build, size = best
    return [label, f"{build * 1e3:.1f}", f"{(total - build) * 1e3:.1f}", f"{size / 1024:.0f}"]


def render(
    info: str,
    go_rows: list[list[str]],
    late_rows: list[list[str]],
    path: tuple[list[list[str]], list[list[str]]],
    floor: list[list[str]] | None = None,
) -> str:
    notes = [r[-1] for r in go_rows if len(r) > 7]
    go_rows = [r[:7] for r in go_rows]
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"GO -> first byte on the wire, {stamp}", info]
    if go_rows:
        head = ["load", "case", "GOs", "p50 ms", "p99 ms", "max ms", "lost"]
        out += ["", table(go_rows, head)]
    if late_rows:
        out += ["", "timed actions: lateness on the wire against the scheduled time"]
        out += ["(seen/expected: a fade step that fell due with a newer one is replaced by it)"]
        out.append(table(late_rows, ["load", "action", "seen", "p50 ms", "p99 ms", "max ms"]))
    if notes:
        out += ["", *notes]
    if floor:
        out += ["", "the machine's floor: the same client, pacing and clock through a bare relay"]
        out += ["(bench/relay_floor.py: a child process that forwards each message to UDP)"]
        out.append(table(floor, ["relay", "messages", "p50 ms", "p99 ms", "max ms"]))
    path_rows, snap_rows = path
    if path_rows:
        out += ["", "in one process: control('go') -> the cue's datagram handed to the kernel"]
        head = ["GO on", "to wire p50 us", "min us", "control() p50 us", "20 ms apart: to wire"]
        out.append(table(path_rows, head))
    if snap_rows:
        out += ["", "the console's snapshot, built on the loop every tick while a console is open"]
        out.append(table(snap_rows, ["show", "build ms", "encode ms", "KiB"]))
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--gos", type=int, default=200, help="GOs per case (<= 250)")
    parser.add_argument("--loads", type=lambda s: s.split(","), default=list(LOADS))
    parser.add_argument("--cases", type=lambda s: s.split(","), default=list(CASES))
    parser.add_argument("--timed-repeats", type=int, default=2)
    parser.add_argument("--no-renderer", action="store_true", help="no visual output process")
    parser.add_argument(
        "--no-realtime",
        action="store_true",
        help="the show's loop at normal priority, as `stovelight run --no-realtime`",
    )
    parser.add_argument(
        "--path-only", action="store_true", help="only the in-process GO path (seconds)"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the bare relays (bench/relay_floor.py)"
    )
    parser.add_argument("--write-docs", action="store_true", help=f"update {DOC.name}")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--device-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child_main(args.child, args.device_port, args.child.parent, not args.no_realtime)
    args.gos = max(10, min(args.gos, N_MULTI))
    if args.path_only:
        print(render(machine(), [], [], path_cost(args.gos)))
        return 0
    info, go_rows, late_rows = measure(args)
    floor = None if args.no_floor else measure_floor(args.gos)
    cmd = ".venv/bin/python bench/go_latency.py " + " ".join(sys.argv[1:])
    text = render(info, go_rows, late_rows, path_cost(args.gos), floor)
    print(text)
    if args.write_docs:
        write_section(DOC, SECTION, text, cmd.replace(" --write-docs", "").strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
