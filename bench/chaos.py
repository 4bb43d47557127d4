"""Chaos bench: a real ``stovelight run`` under each hostile case of issue #10.

One show process runs a generated show (its own temp folder and free ports): a
100 Hz fade to OSC (cue 1, started with ``--go-at``), a telemetry source ``chaos``
fed with 100 good frames a second (one value each, mapped to OSC ``/v``), a source
``crowd`` with 800 signals (one frame of 800 values every 0.5 s, ``crowd.s0``
mapped to ``/crowd``), QLab control on loopback and the web server (50 viewer seats,
a dashboard of three panels; ``--auto-dashboard`` leaves the default layout of one
panel per signal). Cases run one
after the other against that process:

* ``baseline``: nothing hostile (the reference row);
* ``big-frame``: a legal ~0.9 MB frame holding 90,000 values every 2 s among the
  good frames;
* ``oversize``: a 1.2 MB frame (over the 1 MiB ``max_frame_bytes``) every 0.5 s;
* ``inf-values``: ``/settings/general/minGoTime f inf`` and ``/cue/1/duration f inf``
  over UDP, then the guard read back;
* ``lan-control``: ``/go`` sent to the machine's non-loopback address;
* ``full-dashboard``: the dashboard filled (50 viewers), 10 more refused, then the
  operator connecting with the token and sending a command;
* ``handshakes``: 2,000 websocket handshakes from one address, all in flight at once,
  and the operator connecting with the token in the middle of it;
* ``page-flood``: 2,000 requests for the dashboard page from one address, at once;
* ``double-host``: 200 handshakes with two ``Host`` headers;
* ``crowd-drop``: the 800-signal source disconnects for 2 s and comes back;
* ``record-ro`` (own short run): ``run --record`` into a read-only folder.

A separate process receives the OSC output and probes the control port with a
``/thump`` round trip every 20 ms, so the bench's own work does not bend the
timings. Columns:

* ``stall ms``: the longest ``/thump`` round trip in the case (the show loop's stall);
* ``fade gap ms``: the longest gap between two ``/fade`` messages (100 Hz: 10 ms ideal);
* ``good %``: good frames sent in the case whose value reached OSC ``/v``;
* ``lag p99 ms``: from a good frame's sending to its value's arrival at ``/v``;
* ``recover s``: ``crowd-drop``: from the source's return to the next ``/crowd``;
* ``CPU %``: the show process's CPU time over the case's wall time (100 = one core
  busy all the time: the loop had no idle moment left);
* ``RSS MB``: the show's resident memory before -> after the case;
* ``log``: lines the show wrote to its log file during the case;
* ``tb``: tracebacks written (log file and stderr); ``up``: the show still running;
* ``outcome``: what the case observed (refusals, replies, reconnects).

Usage::

    .venv/bin/python bench/chaos.py                              # about a minute
    .venv/bin/python bench/chaos.py --write docs/reliability.md  # also update the doc
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import errno
import itertools
import json
import math
import multiprocessing as mp
import os
import platform
import select
import selectors
import shutil
import signal
import socket
import struct
import sys
import tempfile
import time
from array import array
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridges.osc.wire import decode_packet, iter_messages  # noqa: E402

TOKEN = "chaos-bench-token"
CROWD = 800
VIEWERS = 50
BEGIN = "<!-- chaos:begin -->"
END = "<!-- chaos:end -->"

SHOW = """\
[show]
title = "Chaos bench"

[sources.chaos]
kind = "stovelight"
url = "ws://127.0.0.1:{tel}/"

[sources.crowd]
kind = "stovelight"
url = "ws://127.0.0.1:{crowd}/"

[signals."chaos.v"]
source = "chaos"

[outputs.osc.sink]
host = "127.0.0.1"
port = {osc}
bundle = false

[mappings.v]
signal = "chaos.v"
to = {{ osc = "sink", address = "/v" }}
range = {{ in = [0, 16777216], out = [0, 16777216] }}
max_rate_hz = 1000

[mappings.crowd]
signal = "crowd.s0"
to = {{ osc = "sink", address = "/crowd" }}
range = {{ in = [0, 16777216], out = [0, 16777216] }}
max_rate_hz = 100

[control]
port = {ctl}
reply_port = 0

[web]
host = "127.0.0.1"
port = {web}
console_token = "{token}"
max_connections = {viewers}
max_per_address = {viewers}

[[cue_lists]]
name = "Main"

[[cue_lists.cues]]
number = "1"
type = "fade"
target = {{ osc = "sink", address = "/fade" }}
from = 0.0
to = 1.0
duration = 3600
rate_hz = 100

[[cue_lists.cues]]
number = "2"
type = "osc"
target = "sink"
address = "/went"
args = ["go obeyed"]
"""

DASHBOARD = """
[[dashboard.panels]]
kind = "signal"
signal = "chaos.v"

[[dashboard.panels]]
kind = "signal"
signal = "crowd.s0"

[[dashboard.panels]]
kind = "messages"
"""

CROWD_SIGNAL = """
[signals."crowd.s{i}"]
source = "crowd"
stale_after = 0.5
lost_after = 1.0
"""


# -- small helpers ------------------------------------------------------------------------


def free_port() -> int:
    """A port free for both TCP and UDP on loopback."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


def lan_address() -> str | None:
    """This machine's first non-loopback IPv4 address (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
            addr = str(s.getsockname()[0])
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def osc_packet(address: str, *args: tuple[str, Any]) -> bytes:
    """Encode an OSC message by hand (non-finite floats included, on purpose)."""

    def pad(raw: bytes) -> bytes:
        raw += b"\0"
        return raw + b"\0" * (-len(raw) % 4)

    tags = "," + "".join(tag for tag, _ in args)
    body = b"".join(struct.pack(">f", v) if tag == "f" else pad(v.encode()) for tag, v in args)
    return pad(address.encode()) + pad(tags.encode()) + body


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_lines(folder: Path) -> tuple[int, int]:
    """Lines and tracebacks in every log file of ``folder`` (rotated ones too)."""
    lines = tracebacks = 0
    for path in folder.glob("*.log*"):
        with path.open("rb") as f:
            for line in f:
                lines += 1
                if line.startswith(b"Traceback (most recent call last)"):
                    tracebacks += 1
    return lines, tracebacks


def tracebacks_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"Traceback (most recent call last)")
    except OSError:
        return 0


# -- the measuring process ----------------------------------------------------------------


class _Probe:
    """What the measuring process heard: OSC arrival times and values, ``/thump`` round
    trips (one outstanding at a time, every 20 ms)."""

    def __init__(self, ctl_port: int) -> None:
        self.ctl = ("127.0.0.1", ctl_port)
        self.thump = osc_packet("/thump")
        self.times: dict[str, array[float]] = {
            a: array("d") for a in ("/fade", "/v", "/crowd", "/went")
        }
        self.values: dict[str, array[float]] = {"/v": array("d"), "/crowd": array("d")}
        self.rtt_at, self.rtt = array("d"), array("d")
        self.pending: float | None = None
        self.next_probe = time.monotonic()

    def heard(self, sink: socket.socket, now: float) -> None:
        """Every OSC packet waiting on ``sink``, stamped ``now``."""
        while True:
            try:
                data = sink.recv(65536)
            except BlockingIOError:
                return
            try:
                messages = list(iter_messages(decode_packet(data)))
            except Exception:
                continue
            for msg in messages:
                if msg.address in self.times:
                    self.times[msg.address].append(now)
                    if msg.address in self.values and msg.args:
                        self.values[msg.address].append(float(msg.args[0]))

    def answered(self, probe: socket.socket, now: float) -> None:
        """The show's ``/thump`` replies: one round trip done."""
        while True:
            try:
                probe.recv(65536)
            except BlockingIOError:
                return
            if self.pending is not None:
                self._done(now)
                self.next_probe = self.rtt_at[-1] + 0.02

    def tick(self, probe: socket.socket, now: float) -> None:
        """Give up on a round trip after 3 s; send the next when due."""
        if self.pending is not None and now - self.pending > 3.0:
            self._done(now)
        if self.pending is None and now >= self.next_probe:
            with contextlib.suppress(OSError):
                probe.sendto(self.thump, self.ctl)
                self.pending = now

    def _done(self, now: float) -> None:
        assert self.pending is not None
        self.rtt_at.append(self.pending)
        self.rtt.append(now - self.pending)
        self.pending = None

    def result(self) -> dict[str, Any]:
        return {
            "times": {k: v.tobytes() for k, v in self.times.items()},
            "values": {k: v.tobytes() for k, v in self.values.items()},
            "rtt_at": self.rtt_at.tobytes(),
            "rtt": self.rtt.tobytes(),
        }


def probe_main(osc_port: int, ctl_port: int, conn: Any) -> None:
    """Receive the show's OSC and time ``/thump`` round trips until told to stop."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sink.bind(("127.0.0.1", osc_port))
    sink.setblocking(False)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    probe.setblocking(False)
    state = _Probe(ctl_port)
    conn.send("ready")
    while True:
        if conn.poll():
            if conn.recv() != "peek":
                break
            conn.send(len(state.times["/went"]))
        ready, _, _ = select.select([sink, probe], [], [], 0.005)
        now = time.monotonic()
        if sink in ready:
            state.heard(sink, now)
        if probe in ready:
            state.answered(probe, now)
        state.tick(probe, now)
    conn.send(state.result())


# -- clients that run in a worker process (floods must not slow the bench loop) ---------


def _answer_status(conn: socket.socket) -> str:
    """The status code of the answer on ``conn``, or what went wrong instead."""
    try:
        head = conn.recv(200)
    except OSError as err:
        return f"error {errno.errorcode.get(err.errno or 0, err.errno)}"
    if not head:
        return "closed"
    parts = head.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 else f"short answer {head[:20]!r}"


def flood_handshakes(port: int, count: int, path: str, extra: str) -> dict[str, int]:
    """Open ``count`` handshakes at once (non-blocking, all in flight together), read
    every answer; status code -> how many. Admitted sockets stay open until the end."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Upgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    statuses: dict[str, int] = {}
    sel = selectors.DefaultSelector()
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE)
            socks.append(s)
        pending = count
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for key, events in sel.select(1.0):
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                if events & selectors.EVENT_WRITE:
                    try:
                        conn.sendall(request)
                    except OSError:
                        status = "send failed"
                    else:
                        sel.modify(conn, selectors.EVENT_READ)
                        continue
                else:
                    status = _answer_status(conn)
                sel.unregister(conn)
                statuses[status] = statuses.get(status, 0) + 1
                pending -= 1
        if pending:
            statuses["no answer"] = pending
    finally:
        sel.close()
        for s in socks:
            s.close()
    return statuses


def viewers_main(port: int, count: int, extra: int, conn: Any) -> None:
    """Fill the dashboard with ``count`` viewers that read (and discard) every byte,
    try ``extra`` more, report (admitted, refused) and hold on until told to stop."""
    request = (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    held: list[socket.socket] = []
    refused = 0
    for i in range(count + extra):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        head = s.recv(200)
        if head.startswith(b"HTTP/1.1 101"):
            s.setblocking(False)
            held.append(s)
        else:
            refused += i >= count
            s.close()
    conn.send((len(held), refused))
    while not conn.poll():
        ready, _, _ = select.select(held, [], [], 0.05)
        for s in ready:
            with contextlib.suppress(OSError):
                s.recv(1 << 20)
    for s in held:
        s.close()


def double_host(port: int, count: int) -> dict[str, int]:
    """``count`` handshakes one after the other, each with two Host headers."""
    out: dict[str, int] = {}
    for _ in range(count):
        got = flood_handshakes(port, 1, "/console/ws", "Host: evil.example\r\n")
        for k, v in got.items():
            out[k] = out.get(k, 0) + v
    return out


# -- telemetry producers ------------------------------------------------------------------


class Feed:
    """A websocket telemetry server the show connects to; counts its connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.clients: set[ServerConnection] = set()
        self.connections = 0
        self.away = False
        self._server: Server | None = None

    async def _handler(self, ws: ServerConnection) -> None:
        if self.away:
            await ws.close(1001, "source away")
            return
        self.connections += 1
        self.clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            self.clients.discard(ws)

    async def start(self) -> None:
        self._server = await serve(
            self._handler, "127.0.0.1", self.port, compression=None, max_size=None
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def go_away(self) -> None:
        """Drop every client and turn new ones away until :meth:`come_back`."""
        self.away = True
        for ws in list(self.clients):
            await ws.close(1001, "source away")

    def come_back(self) -> None:
        self.away = False

    def send(self, text: str) -> None:
        broadcast(self.clients, text)

    async def wait_client(self, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not self.clients:
                await asyncio.sleep(0.02)


@dataclass
class Case:
    """One row of the table."""

    name: str
    t0: float = 0.0
    t1: float = 0.0
    rss: tuple[float, float] = (math.nan, math.nan)
    cpu: float = math.nan
    log: int = 0
    tb: int = 0
    up: bool = True
    recover: float | None = None
    outcome: str = ""
    good: float | None = None
    lag: float | None = None
    stall: float | None = None
    gap: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    """Owns the show process, the feeds and the cases."""

    def __init__(
        self,
        work: Path,
        quick: bool,
        auto_dashboard: bool = False,
        only: set[str] | None = None,
    ) -> None:
        self.work = work
        self.quick = quick
        self.only = only
        self.auto_dashboard = auto_dashboard
        self.ports = {k: free_port() for k in ("tel", "crowd", "osc", "ctl", "web")}
        self.chaos = Feed(self.ports["tel"])
        self.crowd = Feed(self.ports["crowd"])
        self.sent_at: dict[int, float] = {}
        self.seq = 0
        self.crowd_seq = 0
        self.cases: list[Case] = []
        self.proc: asyncio.subprocess.Process | None = None
        self.pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
        self.logs = work / "logs"
        self.stderr = work / "stderr.txt"

    def write_show(self) -> Path:
        text = SHOW.format(token=TOKEN, viewers=VIEWERS, **self.ports)
        text += "".join(CROWD_SIGNAL.format(i=i) for i in range(CROWD))
        if not self.auto_dashboard:
            text += DASHBOARD
        path = self.work / "chaos.toml"
        path.write_text(text, encoding="utf-8")
        return path

    async def start_show(self, show: Path) -> None:
        exe = ROOT / ".venv" / "bin" / "stovelight"
        cmd = [str(exe), "run", str(show), "--no-visuals", "--log-dir", str(self.logs)]
        self.proc = await asyncio.create_subprocess_exec(
            *cmd,
            "--go-at",
            "0.3",
            stdout=(self.work / "stdout.txt").open("wb"),
            stderr=self.stderr.open("wb"),
        )
        deadline = time.monotonic() + 30
        while b"Stovelight is running" not in (self.work / "stdout.txt").read_bytes():
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the show did not start:\n" + self.stderr.read_text(errors="replace")[-3000:]
                )
            await asyncio.sleep(0.05)

    async def good_frames(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            self.seq += 1
            self.sent_at[self.seq] = time.monotonic()
            self.chaos.send(json.dumps({"source": "chaos", "values": {"v": self.seq}}))
            deadline += 0.01
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def crowd_frames(self) -> None:
        while True:
            self.crowd_seq += 1
            values = {f"s{i}": self.crowd_seq for i in range(CROWD)}
            self.crowd.send(json.dumps({"source": "crowd", "values": values}))
            await asyncio.sleep(0.5)

    @contextlib.asynccontextmanager
    async def case(self, name: str) -> Any:
        assert self.proc is not None
        row = Case(name)
        lines0, tb0 = count_lines(self.logs)
        err0 = tracebacks_in(self.stderr)
        rss0 = rss_mb(self.proc.pid)
        cpu0 = cpu_seconds(self.proc.pid)
        row.t0 = time.monotonic()
        try:
            yield row
        finally:
            await asyncio.sleep(0.3)  # let the last effects reach the log and OSC
            row.t1 = time.monotonic()
            lines1, tb1 = count_lines(self.logs)
            row.log = lines1 - lines0
            row.tb = tb1 - tb0 + tracebacks_in(self.stderr) - err0
            row.rss = (rss0, rss_mb(self.proc.pid))
            row.cpu = 100.0 * (cpu_seconds(self.proc.pid) - cpu0) / (row.t1 - row.t0)
            row.up = self.proc.returncode is None
            self.cases.append(row)
            print(f"  {name}: done ({row.t1 - row.t0:.1f} s)", file=sys.stderr)

    async def run_cases(self) -> None:
        cases = {
            "baseline": self.baseline,
            "big-frame": self.big_frame,
            "oversize": self.oversize,
            "inf-values": self.inf_values_case,
            "lan-control": self.lan_control_case,
            "full-dashboard": self.full_dashboard_case,
            "handshakes": self.handshakes,
            "page-flood": self.page_flood,
            "double-host": self.double_host_case,
            "crowd-drop": self.crowd_drop,
        }
        for name, body in cases.items():
            if self.only is None or name in self.only:
                async with self.case(name) as row:
                    row.outcome = await body(row)

    async def baseline(self, row: Case) -> str:
        await asyncio.sleep(3 * (0.5 if self.quick else 1.0))
        return "nothing hostile"

    async def big_frame(self, row: Case) -> str:
        keys = {f"{i:x}": 1 for i in range(90_000)}
        big = json.dumps({"source": "chaos", "values": keys}, separators=(",", ":"))
        conns = self.chaos.connections
        for _ in range(2 if self.quick else 4):
            self.chaos.send(big)
            await asyncio.sleep(2.0)
        return (
            f"{len(big) / 1e6:.2f} MB frame x{2 if self.quick else 4};"
            f" reconnects {self.chaos.connections - conns}"
        )

    async def oversize(self, row: Case) -> str:
        over = json.dumps({"source": "chaos", "values": {"x": "y" * 1_200_000}})
        conns = self.chaos.connections
        for _ in range(6 if self.quick else 12):
            self.chaos.send(over)
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        return (
            f"{len(over) / 1e6:.1f} MB frames x{6 if self.quick else 12};"
            f" reconnects {self.chaos.connections - conns}"
        )

    async def inf_values_case(self, row: Case) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self.inf_values)

    async def lan_control_case(self, row: Case) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self.lan_control)

    async def full_dashboard_case(self, row: Case) -> str:
        return await self.full_dashboard()

    async def handshakes(self, row: Case) -> str:
        loop = asyncio.get_running_loop()
        flood = loop.run_in_executor(
            self.pool, flood_handshakes, self.ports["web"], 2000, "/ws", ""
        )
        await asyncio.sleep(0.2)  # the flood is under way
        operator = await self.operator(f"ws://127.0.0.1:{self.ports['web']}")
        got = await flood
        return (
            "2000 at once: "
            + ", ".join(f"{k}x{v}" for k, v in sorted(got.items()))
            + f"; meanwhile {operator}"
        )

    async def page_flood(self, row: Case) -> str:
        got = await asyncio.get_running_loop().run_in_executor(
            self.pool, flood_handshakes, self.ports["web"], 2000, "/", ""
        )
        return "2000 GET / at once: " + ", ".join(f"{k}x{v}" for k, v in sorted(got.items()))

    async def double_host_case(self, row: Case) -> str:
        got = await asyncio.get_running_loop().run_in_executor(
            self.pool, double_host, self.ports["web"], 200
        )
        return "200 requests: " + ", ".join(f"{k}x{v}" for k, v in sorted(got.items()))

    async def crowd_drop(self, row: Case) -> str:
        await self.crowd.go_away()
        await asyncio.sleep(2.0)
        row.extra["back"] = time.monotonic()
        self.crowd.come_back()
        await asyncio.sleep(3.0)
        return f"{CROWD} signals: source away 2 s, then back"

    def udp_ask(self, packet: bytes, host: str = "127.0.0.1", bind: str = "127.0.0.1") -> str:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((bind, 0))
            s.settimeout(1.0)
            s.sendto(packet, (host, self.ports["ctl"]))
            try:
                data = s.recv(65536)
            except (TimeoutError, ConnectionRefusedError, OSError):
                return "no reply"
        try:
            msg = next(iter_messages(decode_packet(data)))
            text = str(msg.args[0])
        except Exception:
            return "undecodable reply"

        def strict(const: str) -> Any:
            raise ValueError(const)

        try:
            body = json.loads(text, parse_constant=strict)
        except ValueError:
            return "NON-STRICT JSON reply"
        return f"{body.get('status')} {json.dumps(body.get('data'))[:40]}"

    def inf_values(self) -> str:
        inf = float("inf")
        a = self.udp_ask(osc_packet("/settings/general/minGoTime", ("f", inf)))
        b = self.udp_ask(osc_packet("/cue/1/duration", ("f", inf)))
        c = self.udp_ask(osc_packet("/settings/general/minGoTime"))
        return f"minGoTime inf -> {a}; duration inf -> {b}; guard now -> {c}"

    def lan_control(self) -> str:
        addr = lan_address()
        if addr is None:
            return "skipped: no non-loopback address"
        before = self._went()
        reply = self.udp_ask(osc_packet("/go"), host=addr, bind=addr)
        time.sleep(0.5)
        obeyed = self._went() > before
        return f"/go to {addr}: {reply}; obeyed: {'YES' if obeyed else 'no'}"

    def _went(self) -> int:
        self.probe.send("peek")
        return int(self.probe.recv())

    async def full_dashboard(self) -> str:
        url = f"ws://127.0.0.1:{self.ports['web']}"
        parent, child = mp.get_context("fork").Pipe()
        viewers = mp.get_context("fork").Process(
            target=viewers_main, args=(self.ports["web"], VIEWERS, 10, child), daemon=True
        )
        viewers.start()
        loop = asyncio.get_running_loop()
        admitted_viewers, refused = await loop.run_in_executor(None, parent.recv)
        try:
            await asyncio.sleep(1.0)  # the full dashboard's snapshots going out meanwhile
            admitted = await self.operator(url, snapshot=True)
        finally:
            parent.send("stop")
            viewers.join(10)
        return (
            f"{admitted_viewers} viewers admitted (reading), 10 more: {refused} refused; {admitted}"
        )

    async def operator(self, url: str, snapshot: bool = False) -> str:
        """Open the console with the token, send one command; say how it went."""
        started = time.monotonic()
        try:
            async with connect(f"{url}/console/ws?token={TOKEN}", open_timeout=10) as ws:
                await ws.send(json.dumps({"type": "auth", "token": TOKEN}))
                async with asyncio.timeout(10):
                    while json.loads(await ws.recv())["type"] != "hello":
                        pass
                    await ws.send(
                        json.dumps({"type": "control", "id": 1, "command": "playhead_previous"})
                    )
                    while json.loads(await ws.recv())["type"] != "reply":
                        pass
                    took = (time.monotonic() - started) * 1e3
                    if not snapshot:
                        return f"operator admitted, reply in {took:.0f} ms"
                    while (msg := json.loads(await ws.recv()))["type"] != "console":
                        pass
        except Exception as err:
            return f"OPERATOR REFUSED ({type(err).__name__}: {err})"
        web = msg.get("web", {})
        return (
            f"operator admitted, reply in {took:.0f} ms; public snapshot"
            f" {web.get('snapshot_bytes', 0) / 1e3:.1f} kB built in"
            f" {web.get('last_build_ms', math.nan):.0f} ms"
        )

    async def main(self) -> int:
        show = self.write_show()
        await self.chaos.start()
        await self.crowd.start()
        parent, child = mp.get_context("fork").Pipe()
        self.probe = parent
        prober = mp.get_context("fork").Process(
            target=probe_main, args=(self.ports["osc"], self.ports["ctl"], child), daemon=True
        )
        prober.start()
        parent.recv()
        tasks = [
            asyncio.create_task(self.good_frames(), name="chaos.good-frames"),
            asyncio.create_task(self.crowd_frames(), name="chaos.crowd-frames"),
        ]
        try:
            await self.start_show(show)
            await self.chaos.wait_client()
            await self.crowd.wait_client()
            await asyncio.sleep(1.0)
            await self.run_cases()
        finally:
            for task in tasks:
                task.cancel()
            if self.proc is not None and self.proc.returncode is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    async with asyncio.timeout(15):
                        await self.proc.wait()
                except TimeoutError:
                    self.proc.kill()
                    await self.proc.wait()
            parent.send("stop")
            results = parent.recv()
            prober.join(5)
            await self.chaos.stop()
            await self.crowd.stop()
            self.pool.shutdown()
        self.measure(results)
        if self.only is None or "record-ro" in self.only:
            self.cases.append(await record_read_only(self.work))
        return 0

    def measure(self, results: dict[str, Any]) -> None:
        def arr(raw: bytes) -> array[float]:
            out = array("d")
            out.frombytes(raw)
            return out

        times = {k: arr(v) for k, v in results["times"].items()}
        v_values = arr(results["values"]["/v"])
        rtt_at, rtt = arr(results["rtt_at"]), arr(results["rtt"])
        seen = {round(v) for v in v_values}
        v_times = times["/v"]
        for row in self.cases:
            stalls = [r for t, r in zip(rtt_at, rtt, strict=True) if row.t0 <= t <= row.t1]
            row.stall = max(stalls) * 1e3 if stalls else None
            fade = [t for t in times["/fade"] if row.t0 <= t <= row.t1]
            gaps = [b - a for a, b in itertools.pairwise(fade)]
            row.gap = max(gaps) * 1e3 if gaps else None
            sent = [n for n, t in self.sent_at.items() if row.t0 <= t <= row.t1 - 0.3]
            row.good = 100.0 * sum(n in seen for n in sent) / len(sent) if sent else None
            lags = sorted(
                t - self.sent_at[round(v)]
                for t, v in zip(v_times, v_values, strict=True)
                if row.t0 <= t <= row.t1 and round(v) in self.sent_at
            )
            row.lag = lags[int(0.99 * (len(lags) - 1))] * 1e3 if lags else None
            back = row.extra.get("back")
            if back is not None:
                after = [t for t in times["/crowd"] if t >= back]
                row.recover = after[0] - back if after else None


# -- the read-only recording case -----------------------------------------------------------


async def record_read_only(work: Path) -> Case:
    """``stovelight run --record`` into a folder the show cannot write."""
    row = Case("record-ro")
    folder = work / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    target = folder / "rec.sqlite"
    if os.geteuid() == 0:  # root writes through file modes; use a read-only file system
        target = Path("/sys/stovelight-chaos/rec.sqlite")
    show = work / "record.toml"
    show.write_text(
        '[show]\ntitle = "ro"\n[control]\nenabled = false\n[web]\nenabled = false\n'
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "memo"\n',
        encoding="utf-8",
    )
    exe = ROOT / ".venv" / "bin" / "stovelight"
    logs = work / "ro-logs"
    row.t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        str(exe),
        "run",
        str(show),
        "--no-visuals",
        "--record",
        str(target),
        "--duration",
        "2",
        "--log-dir",
        str(logs),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    row.t1 = time.monotonic()
    lines, tb = count_lines(logs)
    row.log = lines
    row.tb = tb + err.count(b"Traceback (most recent call last)")
    row.up = False
    first = next((x for x in err.decode(errors="replace").splitlines() if x.strip()), "")
    started = b"Stovelight is running" in out
    row.outcome = (
        f"{target.parent}: exit {proc.returncode}, {'started' if started else 'not started'},"
        f" {len(err.splitlines())} stderr lines: {first[:90]!r}"
    )
    folder.chmod(0o755)
    return row


# -- output ------------------------------------------------------------------------------


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None or math.isnan(value) else format(value, spec)


def table(cases: list[Case]) -> str:
    head = "| case | stall ms | fade gap ms | good % | lag p99 ms | recover s | CPU % | RSS MB |"
    rows = [
        head + " log | tb | up | outcome |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for c in cases:
        rss = "-" if c.name == "record-ro" else f"{fmt(c.rss[0])} -> {fmt(c.rss[1])}"
        rows.append(
            f"| {c.name} | {fmt(c.stall)} | {fmt(c.gap)} | {fmt(c.good, '.1f')} | {fmt(c.lag)} |"
            f" {fmt(c.recover, '.2f')} | {fmt(c.cpu)} | {rss} | {c.log} | {c.tb} |"
            f" {'yes' if c.up else 'no'} | {c.outcome} |"
        )
    return "\n".join(rows)


def conditions() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{when}; {cpu}, {os.cpu_count()} cores, load average {load};"
        f" Python {platform.python_version()}"
    )


def write_doc(path: Path, text: str, begin: str = BEGIN, end_mark: str = END) -> None:
    """Replace what lies between two marker lines of a Markdown file."""
    doc = path.read_text(encoding="utf-8")
    start, end = doc.index(begin) + len(begin), doc.index(end_mark)
    path.write_text(doc[:start] + "\n" + text + "\n" + doc[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter cases (smoke run)")
    parser.add_argument("--write", type=Path, help="replace the table in this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--auto-dashboard",
        action="store_true",
        help="no [dashboard] panels: the default layout, one panel per signal (801)",
    )
    parser.add_argument(
        "--only",
        type=lambda s: set(s.split(",")),
        help="run only these cases, comma-separated (e.g. baseline,handshakes); not for docs",
    )
    args = parser.parse_args(argv)
    if args.only is not None and args.write is not None:
        parser.error("--write needs every case; leave out --only")
    work = Path(tempfile.mkdtemp(prefix="stovelight-chaos-"))
    started = time.monotonic()
    bench = Bench(work, args.quick, args.auto_dashboard, args.only)
    try:
        asyncio.run(bench.main())
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = (
        f"Command: `.venv/bin/python bench/chaos.py{' --quick' if args.quick else ''}"
        f"{' --auto-dashboard' if args.auto_dashboard else ''}"
        f"{' --only ' + ','.join(sorted(args.only)) if args.only else ''}`"
        f" ({time.monotonic() - started:.0f} s; {conditions()})\n\n" + table(bench.cases)
    )
    print(text)
    if args.write is not None:
        write_doc(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
