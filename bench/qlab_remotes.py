"""Remotes bench: what Companion-style remotes and control floods cost a running show.

A real ``stovelight run`` (own temp folder, free ports) plays a 100 Hz OSC fade
(cue 1, ``--go-at``) with 200 further cues and QLab control on loopback. A probe
process receives the fade and sends ``/thump`` to the control port every 20 ms.
Cases, one after the other:

* ``baseline``: the probe alone;
* ``companion xN``: N remotes over TCP/SLIP doing the Companion module's connect
  sequence, then its pulse: the running cue's 25-key ``valuesForKeys`` four times a
  second and the three window polls once a second (``tests/qlab/qlab_remote.py``);
* ``flood unknown``: one UDP sender, unknown addresses as fast as it can;
* ``flood valuesForKeys``: one UDP sender, 25-key queries as fast as it can;
* ``flood wrong passcodes``: ``/connect`` with wrong passcodes from 2,000 source ports
  (the show has a passcode; the probe and the remotes connect with it);
* ``flood mDNS queries``: ``PTR _qlab._tcp.local.`` questions to the mDNS group on
  loopback as fast as one sender can (the show advertises itself there).

Columns: ``sent/s`` messages the case sent per second; ``replies/s`` replies it got;
``thump max ms`` / ``p99 ms`` the answered ``/thump`` round trips; ``thump lost`` the
probes never answered (a flood fills the control socket's queue, so the kernel drops
datagrams, the probe's among them); ``fade gap ms`` the longest gap between ``/fade``
messages (10 ms ideal: the show loop's stall); ``show CPU`` the show process's CPU
use during the case (100 % is one core); ``log lines`` the show wrote.

Usage::

    .venv/bin/python bench/qlab_remotes.py                               # ~1 minute
    .venv/bin/python bench/qlab_remotes.py --write docs/performance.md   # also the doc
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import platform
import select
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridges.osc.wire import encode_message  # noqa: E402
from tests.qlab.qlab_remote import CUE_KEYS, CompanionRemote  # noqa: E402

BEGIN = "<!-- qlab-remotes:begin -->"
END = "<!-- qlab-remotes:end -->"
CASE_S = 6.0
PASSCODE = "bench-4711"

SHOW = """\
[show]
title = "Remotes bench"
min_go_interval = 0
[outputs.osc.sink]
host = "127.0.0.1"
port = {osc}
bundle = false
[control]
port = {ctl}
reply_port = 0
passcode = "{passcode}"
[web]
enabled = false
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
"""
# one DNS question: PTR _qlab._tcp.local. IN (RFC 6762/1035 wire format)
MDNS_QUERY = struct.pack("!6H", 0, 0, 1, 0, 0, 0) + b"\x05_qlab\x04_tcp\x05local\x00"
MDNS_QUERY += struct.pack("!2H", 12, 1)
MEMO = '[[cue_lists.cues]]\nnumber = "{n}"\nname = "Cue {n}"\ntype = "memo"\n'


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_main(osc_port: int, ctl_port: int, conn: Any) -> None:
    """Receive /fade, time /thump round trips; on each 'mark' report since the last."""
    fade = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fade.bind(("127.0.0.1", osc_port))
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    thump = encode_message("/connect", [PASSCODE])
    probe.sendto(thump, ("127.0.0.1", ctl_port))
    thump = encode_message("/thump")
    rtts: list[float] = []
    last_fade: float | None = None
    gap = 0.0
    sent_at: float | None = None
    next_probe = time.monotonic()
    while True:
        now = time.monotonic()
        if conn.poll():
            conn.recv()
            conn.send((rtts, gap))
            rtts, gap = [], 0.0
        if now >= next_probe and sent_at is None:
            sent_at = now
            probe.sendto(thump, ("127.0.0.1", ctl_port))
            next_probe = now + 0.02
        ready, _, _ = select.select([fade, probe], [], [], 0.005)
        for sock in ready:
            data = sock.recv(65536)
            t = time.monotonic()
            if sock is fade:
                if last_fade is not None:
                    gap = max(gap, t - last_fade)
                last_fade = t
            elif sent_at is not None and b"/reply/thump" in data:
                rtts.append(t - sent_at)
                sent_at = None
        if sent_at is not None and time.monotonic() - sent_at > 1.0:
            rtts.append(-1.0)  # no answer within 1 s: the datagram was lost
            sent_at = None


def _flood_packet(kind: str, n: int) -> bytes:
    """The ``n``-th datagram of a flood of ``kind``."""
    if kind == "unknown":
        return encode_message(f"/made/up/{n % 1000}")
    if kind == "values":
        return encode_message(f"/cue/{n % 200 + 2}/valuesForKeys", [CUE_KEYS])
    if kind == "mdns":
        return MDNS_QUERY
    return encode_message("/connect", [f"guess-{n}"])


def _stranger(strangers: list[socket.socket], n: int) -> socket.socket:
    """One of up to 2,000 sockets, each a new sender address (opened as needed)."""
    if len(strangers) < 2000:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        strangers.append(s)
    return strangers[n % len(strangers)]


def _drain_replies(socks: list[socket.socket]) -> int:
    """Read every waiting reply; how many there were."""
    replies = 0
    for s in socks:
        with contextlib.suppress(BlockingIOError):
            while s.recv(65536):
                replies += 1
    return replies


def flood_main(ctl_port: int, kind: str, seconds: float, conn: Any) -> None:
    """Send one kind of message as fast as possible; report (sent, replies)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    target = ("127.0.0.1", ctl_port)
    sent = replies = n = 0
    sock.sendto(encode_message("/connect", [PASSCODE]), target)
    if kind == "mdns":  # PTR _qlab._tcp.local. queries to the mDNS group, on loopback
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        target = ("224.0.0.251", 5353)
    end = time.monotonic() + seconds
    strangers: list[socket.socket] = []
    while time.monotonic() < end:
        n += 1
        packet = _flood_packet(kind, n)
        try:
            if kind == "strangers":
                _stranger(strangers, n).sendto(packet, target)
            else:
                sock.sendto(packet, target)
            sent += 1
        except BlockingIOError:
            pass
        if n % 64 == 0:
            time.sleep(0.001)
        replies += _drain_replies([sock, *strangers[-8:]])
    conn.send((sent, replies))
    for s in strangers:
        s.close()


@dataclass
class Row:
    name: str
    sent: float = 0.0
    replies: float = 0.0
    rtts: list[float] = field(default_factory=list)
    gap: float = 0.0
    log: int = 0
    cpu: float = 0.0

    def cells(self) -> list[str]:
        rtts = sorted(r for r in self.rtts if r >= 0) or [float("nan")]
        lost = sum(1 for r in self.rtts if r < 0)
        p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
        return [
            self.name,
            f"{self.sent:,.0f}",
            f"{self.replies:,.0f}",
            f"{rtts[-1] * 1000:.1f}",
            f"{p99 * 1000:.1f}",
            f"{100 * lost / max(1, len(self.rtts)):.0f} %",
            f"{self.gap * 1000:.1f}",
            f"{self.cpu:.0f} %",
            str(self.log),
        ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_lines(folder: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in folder.glob("*.log"))


async def companion(port: int, stop: asyncio.Event, counts: list[int]) -> None:
    remote = await CompanionRemote.tcp(port)
    try:
        await remote.connect_sequence(passcode=PASSCODE)
        beat = 0
        while not stop.is_set():
            remote.send("/cue/active/valuesForKeys", CUE_KEYS)
            counts[0] += 1
            if beat % 4 == 0:
                for a in ("/overrideWindow", "/alwaysAudition", "/auditionMonitors"):
                    remote.send(a)
                    counts[0] += 1
            beat += 1
            await asyncio.sleep(0.25)
        counts[1] += remote.received.replies.qsize()
    finally:
        remote.close()


async def idle() -> tuple[int, int]:
    """No remote at all: the baseline."""
    await asyncio.sleep(CASE_S)
    return 0, 0


def companions(ctl: int, n: int) -> Callable[[], Awaitable[tuple[int, int]]]:
    """``n`` Companion-like remotes polling the control port for one case."""

    async def go() -> tuple[int, int]:
        stop, counts = asyncio.Event(), [0, 0]
        tasks = [asyncio.create_task(companion(ctl, stop, counts)) for _ in range(n)]
        await asyncio.sleep(CASE_S)
        stop.set()
        await asyncio.gather(*tasks)
        return counts[0], counts[1]

    return go


def flood(ctl: int, kind: str) -> Callable[[], Awaitable[tuple[int, int]]]:
    """A flood of ``kind`` from another process for one case."""

    async def go() -> tuple[int, int]:
        parent, child_conn = mp.Pipe()
        p = mp.Process(target=flood_main, args=(ctl, kind, CASE_S, child_conn))
        p.start()
        sent, replies = await asyncio.to_thread(parent.recv)
        p.join()
        return int(sent), int(replies)

    return go


@dataclass
class Cases:
    """The running show and its probe: runs one case and keeps its row."""

    proc: asyncio.subprocess.Process
    logs: Path
    probe: Any
    rows: list[Row] = field(default_factory=list)

    async def run(self, name: str, load: Callable[[], Awaitable[tuple[int, int]]]) -> None:
        row = Row(name)
        before = log_lines(self.logs)
        t0, cpu0 = time.monotonic(), cpu_seconds(self.proc.pid)
        sent, replies = await load()
        dt = time.monotonic() - t0
        row.cpu = 100 * (cpu_seconds(self.proc.pid) - cpu0) / dt
        self.probe.send("mark")
        row.rtts, row.gap = self.probe.recv()
        row.sent, row.replies = sent / dt, replies / dt
        row.log = log_lines(self.logs) - before
        self.rows.append(row)
        print(" | ".join(row.cells()), flush=True)


async def main(write: Path | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="qlab-remotes-"))
    logs = work / "logs"
    osc, ctl = free_port(), free_port()
    show = work / "bench.toml"
    text = SHOW.format(osc=osc, ctl=ctl, passcode=PASSCODE)
    show.write_text(text + "".join(MEMO.format(n=n) for n in range(2, 202)))
    probe_conn, child = mp.Pipe()
    probe = mp.Process(target=probe_main, args=(osc, ctl, child), daemon=True)
    probe.start()
    exe = ROOT / ".venv" / "bin" / "stovelight"
    proc = await asyncio.create_subprocess_exec(
        str(exe),
        "run",
        str(show),
        "--no-visuals",
        "--log-dir",
        str(logs),
        "--go-at",
        "0.3",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    cases = Cases(proc, logs, probe_conn)
    try:
        await asyncio.sleep(2.0)
        probe_conn.send("mark")
        probe_conn.recv()
        print("case | sent/s | replies/s | thump max/p99 | lost | fade gap | CPU | log", flush=True)
        await cases.run("baseline", idle)
        await cases.run("companion x4", companions(ctl, 4))
        await cases.run("companion x32", companions(ctl, 32))
        await cases.run("flood unknown", flood(ctl, "unknown"))
        await cases.run("flood valuesForKeys", flood(ctl, "values"))
        await cases.run("flood wrong passcodes, 2,000 ports", flood(ctl, "strangers"))
        await cases.run("flood mDNS queries (zeroconf advert on)", flood(ctl, "mdns"))
    finally:
        proc.terminate()
        await proc.wait()
        probe.terminate()
    table = render(cases.rows, await asyncio.to_thread(handler_costs))
    print(table)
    if write is not None:
        doc = write.read_text(encoding="utf-8")
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        write.write_text(doc[:start] + "\n" + table + doc[end:], encoding="utf-8")


def handler_costs() -> list[tuple[str, float]]:
    """Microseconds per message for the control handler alone, in this process: the
    bench show's 201 cues, replies built and strict-JSON encoded, not sent."""
    from bridges.osc.wire import OscMessage
    from show.qlab.control import QLabControl
    from show.runtime.runner import RunnerParts, ShowRunner
    from show.showfile.load import parse_show

    class Peer:
        host, port, transport = "127.0.0.1", 1, "udp"

        def reply(self, address: str, args: Any = ()) -> bool:
            encode_message(address, args)
            return True

    text = SHOW.format(osc=9, ctl=0, passcode="")
    text += "".join(MEMO.format(n=n) for n in range(2, 202))

    async def measure() -> list[tuple[str, float]]:
        runner = ShowRunner(parse_show(text, "bench.toml"), RunnerParts())
        control = QLabControl(runner, runner.show.control)
        out = []
        for address, args, n in (
            ("/cueLists", (), 200),
            ("/cue/5/valuesForKeys", (CUE_KEYS,), 3000),
            ("/made/up", (), 10000),
            ("/thump", (), 10000),
        ):
            message = OscMessage(address, args)
            t = time.perf_counter()
            for _ in range(n):
                control._handle(message, Peer())  # type: ignore[arg-type]
            out.append((address, (time.perf_counter() - t) / n * 1e6))
        return out

    return asyncio.run(measure())


def render(rows: list[Row], costs: list[tuple[str, float]]) -> str:
    head = ["case", "sent/s", "replies/s", "thump max ms", "thump p99 ms", "thump lost"]
    head += ["fade gap ms", "show CPU", "log lines"]
    lines = [
        f"`python bench/qlab_remotes.py` on {platform.machine()}, {mp.cpu_count()} CPUs,"
        f" Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}, load average"
        f" {os.getloadavg()[0]:.1f} at the end:",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    lines += ["", "Handler cost per message (no socket):", ""]
    lines += ["| message | µs |", "|---|---|"]
    lines += [f"| `{address}` | {us:.1f} |" for address, us in costs]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, help="replace the table in this Markdown file")
    asyncio.run(main(parser.parse_args().write))
