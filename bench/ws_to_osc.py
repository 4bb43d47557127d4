"""Benchmark websocket telemetry -> OSC: Stovelight against Node-RED 4 and a bare relay.

Every pipeline does the same job: read JSON frames from a websocket (one frame per
message), map one numeric field (range [0, 2^24] -> [0, 2^24], clamped) and send it as
one OSC message over UDP to ``/bench/v0``. Each pipeline is a separate process:

* **stovelight**: the real ``stovelight run SHOW --no-visuals`` with a generated show:
  one JSON-pointer source (``kind = "json"``) with one signal ``gen.v0`` at
  ``/values/v0``, one mapping to one UDP OSC target (``bundle = false``, no target
  rate limit), mapping ``max_rate_hz`` set by ``--mapping-hz`` (default 1000),
  ``[web]`` and ``[control]`` disabled.
* **nodered**: Node-RED 4 running ``bench/nodered/flow.json`` (websocket in -> function
  -> node-red-contrib-osc -> udp out), installed from npm into ``--nodered-dir``.
* **relay**: ``RELAY`` below, a few lines of Python (websockets client -> json.loads ->
  hand-built OSC packet -> UDP send): the ceiling of this stack.

This process runs the load generator (a lean websocket server, one value per frame)
and, in a child process, the UDP receiver (``decode_packet``). The OSC value is the
sample's sequence number (exact in float32 below 2^24); the generator keeps each one's
send time (``perf_counter_ns``: CLOCK_MONOTONIC, shared by all processes) so arrival
minus send time is the latency. After a 1 s warm-up, two phases per pipeline: **paced**
(1,000 frames/s: p50/p99 latency) and **flood** (40,000 frames/s, or as fast as the
socket takes frames with ``--flood-rate 0``: samples in/s, OSC out/s, newest-value
age, backlog at the end, RSS, CPU). The printed notes define each column.

Usage::

    .venv/bin/python bench/ws_to_osc.py                    # all three, about 2 minutes
    .venv/bin/python bench/ws_to_osc.py --only stovelight --seconds 5
    .venv/bin/python bench/ws_to_osc.py --skip-nodered --profile /tmp/prof  # py-spy on PATH
    .venv/bin/python bench/ws_to_osc.py --write docs/performance.md  # also update the doc
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime
import hashlib
import importlib.metadata
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docblock import Tee, write_block
from bridges.osc.wire import decode_packet, iter_messages

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
KEYS = 1
FLOOD_RATE = 40_000.0
SPAN = 1 << 24  # float32 holds every integer below this exactly
PACED_RATE = 1000.0
WARMUP_S = 1.0
BATCH = 64  # frames per write in the flood phase
WRITE_HIGH = 64 * 1024  # generator's user-space buffer before it waits (websockets' order)
RSS_LIMIT_MB = 3000  # end a flood early if a pipeline grows past this (shared machine)
NODERED_DIR = Path("/tmp/stovelight-nodered")
HERE = Path(__file__).resolve().parent
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PIPELINES = ("stovelight", "nodered", "relay")

RELAY = """\
import asyncio, json, socket, struct, sys
import websockets

async def relay(url, port):
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.connect(("127.0.0.1", port))
    heads = {}
    async with websockets.connect(url, max_size=None, proxy=None) as ws:
        async for text in ws:
            frame = json.loads(text)
            for obj in frame if isinstance(frame, list) else [frame]:
                for key, value in obj["values"].items():
                    head = heads.get(key)
                    if head is None:
                        addr = f"/bench/{key}".encode()
                        head = heads[key] = addr + bytes(4 - len(addr) % 4) + b",f\\0\\0"
                    x = min(1.0, max(0.0, value / 16777216.0)) * 16777216.0
                    out.send(head + struct.pack(">f", x))

asyncio.run(relay(sys.argv[1], int(sys.argv[2])))
"""

SHOW_HEAD = """\
[show]
title = "ws-to-osc bench"
[control]
enabled = false
[web]
enabled = false
[sources.gen]
kind = "json"
url = "{url}"
[outputs.osc.bench]
host = "127.0.0.1"
port = {osc_port}
transport = "udp"
bundle = false
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""

SHOW_POINTER = """"gen.v{k}" = "/values/v{k}"
"""

SHOW_SIGNAL = """
[signals."gen.v{k}"]
source = "gen"

[mappings.v{k}]
signal = "gen.v{k}"
to = {{ osc = "bench", address = "/bench/v{k}" }}
range = {{ in = [0, {span}], out = [0, {span}] }}
max_rate_hz = {hz}
"""


# -- machine facts ---------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def command_version(*cmd: str) -> str:
    """First line a version command prints, or why it could not run."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout or done.stderr or f"exit {done.returncode}").strip().splitlines()[0]


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (VmRSS), NaN once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all threads), NaN once it is gone."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def udp_drops() -> int:
    """The kernel's UDP receive-buffer overflow counter (all sockets)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        lines = [x.split() for x in Path("/proc/net/snmp").read_text().splitlines()]
        head, vals = [x for x in lines if x[0] == "Udp:"][:2]
        return int(vals[head.index("RcvbufErrors")])
    return 0


# -- the UDP receiver (own process, so its timestamps never wait for the generator) ----------


def _decode(packets: list[bytes]) -> tuple[array[int], int]:
    seqs: array[int] = array("q")
    bad = 0
    for data in packets:
        try:
            msgs = list(iter_messages(decode_packet(data)))
            seqs.append(round(float(msgs[0].args[0])))
        except Exception:
            seqs.append(-1)
            bad += 1
    return seqs, bad


def receiver_main(conn: Any) -> None:
    """Receive OSC datagrams; stamp each on arrival; decode when the bench collects them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    conn.send(sock.getsockname()[1])
    clock = time.perf_counter_ns
    times: array[int] = array("q")
    packets: list[bytes] = []
    received = 0
    while True:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            pass
        else:
            times.append(clock())
            packets.append(data)
            received += 1
            if received & 1023:
                continue
        if conn.poll():
            if conn.recv() == "stop":
                return
            seqs, bad = _decode(packets)
            conn.send((times, seqs, bad, time.process_time()))
            times, packets = array("q"), []


class Receiver:
    """The bench's handle on the receiver process."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=receiver_main, args=(child,), daemon=True)
        self._proc.start()
        self.port: int = self._conn.recv()
        self.cpu = 0.0  # the receiver's CPU seconds at the last collect

    def collect(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Arrival times (ns) and sequence numbers received since the last call."""
        self._conn.send("collect")
        times, seqs, bad, self.cpu = self._conn.recv()
        return np.frombuffer(times, np.int64), np.frombuffer(seqs, np.int64), bad

    def close(self) -> None:
        """Stop the process."""
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(2)
        if self._proc.is_alive():
            self._proc.kill()


# -- the load generator: a lean websocket server -----------------------------------------------


class _Conn(asyncio.Protocol):
    """One client: handshake, unmasked text frames out, pings answered, flow control."""

    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.closed = False
        self.writable = asyncio.Event()
        self.writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=WRITE_HIGH)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.writable.set()
        self.gen.lost += 1

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buf += data
        if not self.open:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            match = re.search(r"(?im)^sec-websocket-key:\s*(\S+)", head)
            if match is None:
                self.transport.close()
                return
            accept = base64.b64encode(hashlib.sha1(match[1].encode() + WS_GUID).digest())
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.open = True
            self.gen.connected(self)
        self._client_frames()

    def _client_frames(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            opcode, length, pos = buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                length, pos = int.from_bytes(buf[2:10], "big"), 10
            mask = bytes(buf[pos : pos + 4]) if buf[1] & 0x80 else b"\0\0\0\0"
            pos += 4 if buf[1] & 0x80 else 0
            if len(buf) < pos + length:
                return
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(buf[pos : pos + length]))
            del buf[: pos + length]
            if opcode == 9 and self.transport is not None:  # ping -> pong
                self.transport.write(bytes((0x8A, len(payload))) + payload)
            elif opcode == 8 and self.transport is not None:  # close -> close
                self.transport.write(bytes((0x88, len(payload))) + payload)
                self.transport.close()
                return


class Generator:
    """Websocket server sending ``{"source": "gen", "ts": .., "values": {"vK": seq}}``."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.conn: _Conn | None = None
        self.lost = 0
        self.send_ns: array[int] = array("q")  # send time of each sequence number
        self._ready = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: _Conn(self), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def connected(self, conn: _Conn) -> None:
        self.conn = conn
        self._ready.set()

    async def wait_client(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        return self.conn is not None

    @property
    def seq(self) -> int:
        return len(self.send_ns)

    def _frames(self, count: int) -> bytes:
        start = len(self.send_ns)
        ts = b"%.3f" % time.time()
        out = []
        for seq in range(start, start + count):
            payload = b'{"source":"gen","ts":%s,"values":{"v%d":%d}}' % (ts, seq % KEYS, seq)
            out.append(b"\x81%c%s" % (len(payload), payload))
        return b"".join(out)

    def _write(self, count: int) -> bool:
        conn = self.conn
        if conn is None or conn.closed or conn.transport is None:
            return False
        data = self._frames(count)
        now = time.perf_counter_ns()
        self.send_ns.extend([now] * count)
        conn.transport.write(data)
        return True

    async def paced(self, rate: float, seconds: float) -> int:
        """Send ``rate`` frames per second, one write per frame, on an absolute schedule."""
        loop = asyncio.get_running_loop()
        total, period = int(rate * seconds), 1.0 / rate
        t0, sent = loop.time(), 0
        while sent < total:
            delay = t0 + sent * period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            while sent < total and t0 + sent * period <= now:
                if not self._write(1):
                    return sent
                sent += 1
        return sent

    async def flood(self, seconds: float, watch: Any, cap: float) -> tuple[int, int, str]:
        """Write frames as fast as the socket takes them (or ``cap``/s if > 0).

        Returns (first sequence number, end time in ns, why it ended early or "").
        """
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        first, end = self.seq, t0 + seconds
        next_check, why = 0.0, ""
        while (now := loop.time()) < end:
            conn = self.conn
            if conn is None or conn.closed:
                why = "connection lost"
                break
            if now >= next_check:
                next_check, why = now + 0.1, watch()
                if why:
                    break
            if self.seq + BATCH >= SPAN:
                why = "sequence numbers exhausted"
                break
            if not conn.writable.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(0.1, max(0.0, end - now))):
                        await conn.writable.wait()
                continue
            if cap > 0 and (ahead := (self.seq - first + BATCH) / cap - (now - t0)) > 0:
                await asyncio.sleep(ahead)
                continue
            self._write(BATCH)
            await asyncio.sleep(0)
        return first, time.perf_counter_ns(), why

    async def close(self) -> None:
        transport = self.conn.transport if self.conn is not None else None
        if transport is not None and not transport.is_closing():
            transport.abort()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self.server.wait_closed()


# -- the pipelines ------------------------------------------------------------------------------


def venv_python() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def stovelight_cmd(url: str, osc_port: int, work: Path, mapping_hz: float) -> list[str]:
    show = SHOW_HEAD.format(url=url, osc_port=osc_port) + "[sources.gen.signals]\n"
    show += "".join(SHOW_POINTER.format(k=k) for k in range(KEYS))
    show += "".join(SHOW_SIGNAL.format(k=k, span=SPAN, hz=f"{mapping_hz:g}") for k in range(KEYS))
    path = work / "bench-show.toml"
    path.write_text(show, encoding="utf-8")
    exe = ROOT / ".venv" / "bin" / "stovelight"
    prefix = [str(exe)] if exe.exists() else [venv_python(), "-m", "show.cli"]
    return [*prefix, "run", str(path), "--no-visuals", "--log-dir", str(work / "logs")]


def nodered_install(folder: Path) -> tuple[str | None, str]:
    """Install Node-RED 4 and node-red-contrib-osc into ``folder``; (red.js, versions|why)."""
    red = folder / "node_modules" / "node-red" / "red.js"
    osc = folder / "node_modules" / "node-red-contrib-osc" / "package.json"

    def versions() -> str:
        nr = json.loads((red.parent / "package.json").read_text())["version"]
        return f"node-red {nr}, node-red-contrib-osc {json.loads(osc.read_text())['version']}"

    try:
        if red.exists() and osc.exists() and versions().startswith("node-red 4."):
            return str(red), versions()
        if shutil.which("npm") is None or shutil.which("node") is None:
            return None, "node/npm not found on PATH"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "nodered" / "package.json", folder / "package.json")
        print(f"installing Node-RED 4 into {folder} (npm) ...", flush=True)
        npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(npm, cwd=folder, capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not red.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, f"npm install failed (exit {done.returncode}): {' | '.join(tail)}"
        return str(red), versions()
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as exc:
        return None, f"install failed: {exc}"


def nodered_cmd(red_js: str, work: Path) -> list[str]:
    user = work / "nodered-user"
    user.mkdir(exist_ok=True)
    flow = user / "flow.json"
    shutil.copy(HERE / "nodered" / "flow.json", flow)  # Node-RED may write beside its flow
    settings = str(HERE / "nodered" / "settings.js")
    return ["node", red_js, "--settings", settings, "--userDir", str(user), str(flow)]


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One pipeline's results (NaN where not measured)."""

    name: str
    status: str = "ok"
    paced_sent: int = 0
    paced_delivered: float = float("nan")
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    gen_rate: float = float("nan")
    in_rate: float = float("nan")
    out_rate: float = float("nan")
    age_p50_ms: float = float("nan")
    age_p99_ms: float = float("nan")
    behind_s: float = float("nan")
    rss_start: float = float("nan")
    rss_end: float = float("nan")
    rss_peak: float = float("nan")
    cpu_pct: float = float("nan")
    udp_drops: int = 0
    gen_cpu: float = float("nan")
    recv_cpu: float = float("nan")
    notes: list[str] = field(default_factory=list)


def _ms(ns: np.ndarray, q: float) -> float:
    return float(np.percentile(ns, q)) / 1e6 if ns.size else float("nan")


def paced_metrics(row: Row, gen: Generator, times: np.ndarray, seqs: np.ndarray, lo: int) -> None:
    hi = gen.seq
    keep = (seqs >= lo) & (seqs < hi)
    sent_ns = np.frombuffer(gen.send_ns, np.int64)
    lat = times[keep] - sent_ns[seqs[keep]]
    row.paced_sent = hi - lo
    row.paced_delivered = np.unique(seqs[keep]).size / max(1, hi - lo)
    row.p50_ms, row.p99_ms = _ms(lat, 50), _ms(lat, 99)


def flood_metrics(
    row: Row, gen: Generator, times: np.ndarray, seqs: np.ndarray, first: int, end_ns: int
) -> None:
    sent_ns = np.frombuffer(gen.send_ns, np.int64)
    last = gen.seq
    t0 = int(sent_ns[first]) if last > first else end_ns
    keep = (seqs >= first) & (seqs < last) & (times <= end_ns)
    t, s = times[keep], seqs[keep]
    span = (end_ns - t0) / 1e9
    row.gen_rate = (last - first) / span if span > 0 else float("nan")
    ta = t0 + min(1e9, 0.25 * (end_ns - t0))  # skip the first second (or quarter)
    newest = np.maximum.accumulate(s) if s.size else s
    if s.size:
        before = newest[t <= ta]
        start_seq = int(before[-1]) if before.size else first
        window = (end_ns - ta) / 1e9
        row.in_rate = (int(newest[-1]) - start_seq) / window
        row.out_rate = int(np.count_nonzero(t > ta)) / window
        ages = t - sent_ns[s]
        row.age_p50_ms, row.age_p99_ms = _ms(ages, 50), _ms(ages, 99)
        row.behind_s = (end_ns - int(sent_ns[newest[-1]])) / 1e9
    else:
        row.in_rate = row.out_rate = 0.0
        row.behind_s = span


async def flood_phase(
    row: Row,
    gen: Generator,
    receiver: Receiver,
    proc: subprocess.Popen[bytes],
    name: str,
    args: argparse.Namespace,
) -> None:
    """Phase 2: flood the pipeline; its rates, ages, CPU and memory into ``row``."""
    loop = asyncio.get_running_loop()
    peak = [rss_mb(proc.pid)]

    def watch() -> str:
        rss = rss_mb(proc.pid)
        peak.append(rss)
        if proc.poll() is not None:
            return f"pipeline exited ({proc.returncode})"
        return f"RSS passed {RSS_LIMIT_MB} MiB" if rss > RSS_LIMIT_MB else ""

    profiler = start_profiler(name, proc.pid, args)
    drops0, cpu0, wall0 = udp_drops(), cpu_seconds(proc.pid), time.perf_counter()
    gen0, recv0 = time.process_time(), receiver.cpu
    row.rss_start = rss_mb(proc.pid)
    first, end_ns, why = await gen.flood(args.seconds, watch, args.flood_rate)
    row.rss_end = rss_mb(proc.pid)
    row.udp_drops = udp_drops() - drops0
    wall = time.perf_counter() - wall0
    row.cpu_pct = 100 * (cpu_seconds(proc.pid) - cpu0) / wall
    row.gen_cpu = 100 * (time.process_time() - gen0) / wall
    row.rss_peak = max([row.rss_end, *peak])
    if why:
        row.notes.append(f"flood ended early: {why}")
    await asyncio.sleep(0.2)
    times, seqs, bad = await loop.run_in_executor(None, receiver.collect)
    row.recv_cpu = 100 * (receiver.cpu - recv0) / wall  # decoding included: an upper bound
    flood_metrics(row, gen, times, seqs, first, end_ns)
    if bad:
        row.notes.append(f"{bad} undecodable datagrams in the flood")
    if gen.lost:
        row.notes.append(f"websocket dropped {gen.lost}x")
    if profiler is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            profiler.wait(timeout=args.seconds + 10)


async def run_pipeline(name: str, receiver: Receiver, args: argparse.Namespace) -> Row:
    """Start the pipeline against a fresh generator, run both phases, stop it."""
    row = Row(name)
    gen = Generator()
    await gen.start()
    env = {
        **os.environ,
        "STOVELIGHT_BENCH_WS_URL": gen.url,
        "STOVELIGHT_BENCH_OSC_PORT": str(receiver.port),
        "NODE_RED_DISABLE_TELEMETRY": "1",
    }
    with (Path(args.work) / f"{name}.log").open("wb") as log:
        cmd = pipeline_cmd(name, gen.url, receiver.port, args)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=args.work)
    loop = asyncio.get_running_loop()
    try:
        if not await gen.wait_client(60.0):
            row.status = "no connection"
            return row
        await gen.paced(PACED_RATE, WARMUP_S)
        await asyncio.sleep(0.3)
        times, _, _ = await loop.run_in_executor(None, receiver.collect)
        if times.size == 0:
            row.status = "no OSC out"
            return row
        # phase 1: paced
        lo = gen.seq
        await gen.paced(PACED_RATE, args.seconds)
        await asyncio.sleep(0.5)
        times, seqs, bad = await loop.run_in_executor(None, receiver.collect)
        paced_metrics(row, gen, times, seqs, lo)
        if bad:
            row.notes.append(f"{bad} undecodable datagrams while paced")
        await flood_phase(row, gen, receiver, proc, name, args)
        return row
    finally:
        await stop(proc)
        await gen.close()
        await asyncio.sleep(0.2)
        await loop.run_in_executor(None, receiver.collect)  # discard stragglers


def start_profiler(name: str, pid: int, args: argparse.Namespace) -> Any:
    if not args.profile or name == "nodered":
        return None
    spy = shutil.which("py-spy")
    if spy is None:
        print("  (--profile: py-spy not on PATH, skipped)", flush=True)
        return None
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(args.seconds)))]
    cmd += ["--rate", "500", "--format", "raw", "--output", str(out / f"{name}.txt")]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        for _ in range(30):
            await asyncio.sleep(0.1)
            if proc.poll() is not None:
                return
        proc.kill()
        proc.wait()


# -- reporting --------------------------------------------------------------------------------


def fmt(value: float, spec: str, unit: str = "") -> str:
    if value != value:  # NaN
        return "-"
    return f"{value:{spec}}{unit}"


HEADERS = ["pipeline", "samples in/s", "OSC out/s", "p50 @1k", "p99 @1k"]
HEADERS += ["newest-value age p99", "behind at end", "RSS start -> end", "CPU"]


def cells(row: Row) -> list[str]:
    if row.status != "ok":
        return [row.name, row.status, *["-"] * (len(HEADERS) - 2)]
    return [
        row.name,
        fmt(row.in_rate, ",.0f"),
        fmt(row.out_rate, ",.0f"),
        fmt(row.p50_ms, ".2f", " ms"),
        fmt(row.p99_ms, ".2f", " ms"),
        fmt(row.age_p99_ms, ".1f", " ms"),
        fmt(row.behind_s, ".3f", " s"),
        f"{fmt(row.rss_start, '.0f')} -> {fmt(row.rss_end, '.0f')} MiB",
        fmt(row.cpu_pct, ".0f", "%"),
    ]


def text_table(rows: list[Row]) -> str:
    body = [HEADERS, *[cells(r) for r in rows]]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(x, widths, strict=True))
        )
        for x in body
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["--:"] * 8) + "|"]
    out += ["| " + " | ".join(cells(r)) + " |" for r in rows]
    return "\n".join(out)


def details(row: Row) -> str:
    if row.status != "ok":
        return f"  {row.name}: {row.status}" + "".join(f"; {n}" for n in row.notes)
    parts = [
        f"paced: {row.paced_sent} sent, {100 * row.paced_delivered:.1f}% delivered",
        f"flood: generator wrote {fmt(row.gen_rate, ',.0f')} frames/s",
        f"CPU generator {fmt(row.gen_cpu, '.0f')}% receiver <= {fmt(row.recv_cpu, '.0f')}%",
        f"newest-value age p50 {fmt(row.age_p50_ms, '.1f')} ms",
        f"RSS peak {fmt(row.rss_peak, '.0f')} MiB",
        f"UDP receive drops {row.udp_drops}",
        *row.notes,
    ]
    return f"  {row.name}: " + "; ".join(parts)


NOTES = """\
Notes
  * One frame = one object with one numeric value (key v0, {keys} key(s)); one OSC
    float per value to /bench/<key> on 127.0.0.1 (UDP). The value is the sample's
    sequence number, mapped [0, 2^24] -> [0, 2^24] (identity, clamped) by every pipeline.
  * samples in/s: how fast the newest sample that came out advances through the input
    stream during the flood (first second skipped) = samples consumed per second, sent
    or conflated away. OSC out/s: datagrams received per second in the same window.
    Node-RED and the relay send one message per sample, so the two are equal for them
    (unless UDP drops); Stovelight keeps only the newest value per address per engine
    tick and at most max_rate_hz per mapping, so OSC out/s <= in/s by design; out/s
    divided by the {keys} addresses is about how often its engine ran during the flood.
  * p50/p99 @1k: per-sample latency (generator write -> OSC datagram received) at a
    paced 1,000 frames/s (event-loop timer, +-1 ms), 100/s per address.
  * flood: the generator writes batches of {batch} frames as fast as the socket accepts
    them (it waits above {high} KiB of user-space buffer, like a websockets producer;
    kernel socket buffers are the OS defaults). newest-value age: arrival - send time
    of the value each datagram carries. behind at end: when the generator stops, how
    old the newest value delivered so far is. A pipeline slower than the generator is
    behind by what the kernel socket buffers hold (MBs on loopback) plus its own queue.
    --flood-rate caps the generator to see a pipeline that keeps up. RSS from
    /proc/PID/status (VmRSS) at the start and end of the flood; CPU: pipeline CPU time
    / wall time (all threads).
  * Stovelight: `stovelight run --no-visuals`, web and control off, mapping
    max_rate_hz = {hz:g} per address ({keys} addresses), OSC target bundle = false with
    no target rate limit. Node-RED: bench/nodered/flow.json, no editor or HTTP server.
    Relay: the RELAY source in bench/ws_to_osc.py (websockets client, hand-built OSC).
  * The generator and receiver share this machine's cores with the pipeline under test,
    as the issue's reference numbers did."""


# -- main ---------------------------------------------------------------------------------------


def pipeline_cmd(name: str, url: str, osc_port: int, args: argparse.Namespace) -> list[str]:
    """The command line that starts pipeline ``name`` against the generator at ``url``."""
    work = Path(args.work)
    if name == "stovelight":
        return stovelight_cmd(url, osc_port, work, args.mapping_hz)
    if name == "relay":
        return [venv_python(), "-c", RELAY, url, str(osc_port)]
    return nodered_cmd(args.red_js, work)


async def run_all(args: argparse.Namespace, names: list[str]) -> list[Row]:
    receiver = Receiver()
    rows: list[Row] = []
    try:
        for name in names:
            if name == "nodered" and args.red_js is None:
                rows.append(Row(name, status=f"not run: {args.nodered_info}"))
                continue
            print(f"running {name} ...", flush=True)
            row = await run_pipeline(name, receiver, args)
            if row.status != "ok":
                log = (Path(args.work) / f"{name}.log").read_text(errors="replace").splitlines()
                row.notes.append("log: " + " | ".join(log[-3:]))
            print(details(row), flush=True)
            rows.append(row)
    finally:
        receiver.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--only", choices=PIPELINES, help="run one pipeline")
    parser.add_argument("--skip-nodered", action="store_true", help="leave Node-RED out")
    parser.add_argument("--mapping-hz", type=float, default=1000.0, help="Stovelight max_rate_hz")
    parser.add_argument(
        "--flood-rate", type=float, default=FLOOD_RATE, help="flood frames/s (0: uncapped)"
    )
    parser.add_argument("--nodered-dir", default=str(NODERED_DIR), help="npm scratch folder")
    parser.add_argument("--profile", help="folder for py-spy raw profiles of Python pipelines")
    parser.add_argument("--write", type=Path, help="replace this bench's block in a Markdown file")
    args = parser.parse_args()
    names = [args.only] if args.only else list(PIPELINES)
    if args.skip_nodered and "nodered" in names:
        names.remove("nodered")
    args.red_js, args.nodered_info = None, "skipped"
    if "nodered" in names:
        args.red_js, args.nodered_info = nodered_install(Path(args.nodered_dir))
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    sec = f"{args.seconds:g} s"
    cap = f", capped at {args.flood_rate:,.0f} frames/s" if args.flood_rate > 0 else ""
    facts = {
        "CPU": f"{cpu_model()}, {os.cpu_count()} cores, load average {load()}",
        "Linux": platform.release(),
        "Python": f"{platform.python_version()} ({venv_python()})",
        "websockets": importlib.metadata.version("websockets"),
        "Node": command_version("node", "--version"),
        "Node-RED": args.nodered_info,
        "phases": f"warm-up {WARMUP_S:g} s, paced {sec}, flood {sec}{cap}",
    }
    tee = Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        rows = run_and_report(args, names, now, facts)
    if args.write is not None:
        printed = tee.text()
        write_block(args.write, "ws_to_osc", printed[: printed.index("\nMarkdown:")].rstrip())
    return 0 if all(r.status == "ok" or r.status.startswith("not run") for r in rows) else 1


def run_and_report(
    args: argparse.Namespace, names: list[str], now: str, facts: dict[str, str]
) -> list[Row]:
    """Run the pipelines and print the facts, the table, the notes and Markdown."""
    print(f"ws -> OSC bench, {now}")
    print("\n".join(f"{k:<11}{v}" for k, v in facts.items()) + "\n")
    with tempfile.TemporaryDirectory(prefix="stovelight-ws-osc-") as work:
        args.work = work
        rows = asyncio.run(run_all(args, names))
    print()
    print(text_table(rows))
    print(f"(load average at the end: {load()})")
    print()
    print(NOTES.format(batch=BATCH, high=WRITE_HIGH // 1024, hz=args.mapping_hz, keys=KEYS))
    print("\nMarkdown:\n")
    print(markdown_table(rows))
    return rows


if __name__ == "__main__":
    sys.exit(main())
