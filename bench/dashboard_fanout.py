"""Benchmark the public dashboard fan-out: N websocket viewers of one WebServer.

The server runs in this process with a realistic snapshot (30 signals with
60-point histories by default) at 10 Hz. Viewers run in ``--procs`` separate
client processes, each holding many connections through a lean asyncio
websocket reader (handshake, frame parsing, pong replies), so the clients cost
little CPU and the numbers describe the server. Staleness is the time from the
snapshot's ``t`` (stamped by the server when it builds the snapshot, wall clock)
to the moment a viewer has the whole frame (same machine, same clock).

Usage::

    .venv/bin/python bench/dashboard_fanout.py                 # 100, 500, 1000, 2000
    .venv/bin/python bench/dashboard_fanout.py --clients 2000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import resource
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from show.showfile.config import WebConfig
from show.web import WebServer

__all__ = ["main"]


# ---------------------------------------------------------------- client side


_NUMBER_END = frozenset(b",}")


def _next_frame(buf: bytearray, pos: int) -> tuple[int, int, int] | None:
    """The whole websocket frame at ``pos`` as (opcode, payload start, payload end), or None."""
    n = len(buf)
    if n - pos < 2:
        return None
    b0, b1 = buf[pos], buf[pos + 1]
    length = b1 & 0x7F
    head = 2
    if length == 126:
        head = 4
    elif length == 127:
        head = 10
    if n - pos < head:
        return None
    if head > 2:
        length = int.from_bytes(buf[pos + 2 : pos + head], "big")
    if n - pos < head + length:
        return None
    return b0 & 0x0F, pos + head, pos + head + length


class Viewer(asyncio.Protocol):
    """A minimal websocket viewer: reads text frames and notes their staleness."""

    def __init__(self, host: str, port: int, window: tuple[float, float], done: asyncio.Event):
        self.host = host
        self.port = port
        self.window = window
        self.connected = done
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.open = False
        self.closed = False
        self.count = 0
        self.staleness: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.connected.set()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None and len(payload) < 126
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _handshake(self, buf: bytearray) -> bool:
        """Consume the server's HTTP answer; True once the websocket is open."""
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        if not buf.startswith(b"HTTP/1.1 101"):
            self.closed = True
            self.connected.set()
            assert self.transport is not None
            self.transport.close()
            return False
        del buf[: end + 4]
        self.open = True
        self.connected.set()
        return True

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf
        buf += data
        if not self.open and not self._handshake(buf):
            return
        pos = 0
        while (frame := _next_frame(buf, pos)) is not None:
            opcode, start, end = frame
            if opcode == 1:
                self._snapshot(buf, start, end, now)
            elif opcode == 9:
                self._send_frame(0xA, bytes(buf[start:end]))
            elif opcode == 8:
                assert self.transport is not None
                self.transport.close()
            pos = end
        if pos:
            del buf[:pos]

    def _snapshot(self, buf: bytearray, start: int, end: int, now: float) -> None:
        if not self.window[0] <= now <= self.window[1]:
            return
        # A relay's snapshot carries the show's own stamp ("published"): measure from
        # there, so the show -> broker -> relay hop counts too.
        i = buf.find(b'"published":', start, end)
        key = 12
        if i < 0:
            i, key = buf.find(b'"t":', start, end), 4
        j = i + key
        while j < end and buf[j] not in _NUMBER_END:
            j += 1
        self.count += 1
        self.staleness.append(now - float(buf[i + key : j]))


async def run_clients(host: str, port: int, count: int, start: float, end: float) -> dict[str, Any]:
    """Open ``count`` viewers, keep them until ``end``, report what they saw."""
    loop = asyncio.get_running_loop()
    viewers: list[Viewer] = []
    gate = asyncio.Semaphore(64)  # stay under the listen backlog

    async def one() -> None:
        async with gate:
            done = asyncio.Event()
            viewer = Viewer(host, port, (start, end), done)
            try:
                await loop.create_connection(lambda: viewer, host, port)
                await asyncio.wait_for(done.wait(), 30)
            except (OSError, TimeoutError):
                viewer.closed = True
            viewers.append(viewer)

    await asyncio.gather(*(one() for _ in range(count)))
    await asyncio.sleep(max(0.0, start - time.time()))
    cpu0 = time.process_time()
    await asyncio.sleep(max(0.0, end - time.time()))
    cpu = (time.process_time() - cpu0) / (end - start)
    await asyncio.sleep(0.3)
    held = [v for v in viewers if v.open and not v.closed]
    staleness = [s for v in held for s in v.staleness]
    for v in viewers:
        if v.transport is not None:
            v.transport.close()
    return {
        "held": len(held),
        "cpu": cpu,
        "counts": [v.count for v in held],
        "staleness_ms": [round(s * 1000, 2) for s in staleness],
    }


# ---------------------------------------------------------------- server side


class RealisticShow:
    """About 30 signals with 60-point histories that move like telemetry."""

    def __init__(self, signals: int, history: int) -> None:
        self.names = [f"grid.home{i:02d}_kw" for i in range(signals - 6)] + [
            "grid.supply_kw",
            "grid.demand_kw",
            "grid.exchange_kw",
            "stove.central.temp_c",
            "stove.north.temp_c",
            "stove.south.temp_c",
        ]
        self.values = {name: random.uniform(0.5, 200.0) for name in self.names}
        self.history = {
            name: deque((round(v, 2) for v in [self.values[name]] * history), maxlen=history)
            for name in self.names
        }
        self.ticks = 0

    def snapshot(self) -> dict[str, Any]:
        self.ticks += 1
        for name in self.names:
            self.values[name] += random.gauss(0, 0.5)
            if self.ticks % 10 == 0:
                self.history[name].append(round(self.values[name], 2))
        return {
            "title": "Stove Night",
            "layout": [
                {
                    "kind": "balance",
                    "title": "Neighbourhood energy",
                    "signals": {
                        "supply": "grid.supply_kw",
                        "demand": "grid.demand_kw",
                        "exchange": "grid.exchange_kw",
                    },
                },
                {"kind": "messages"},
            ],
            "history_period_s": 1.0,
            "signals": {
                name: {
                    "value": round(self.values[name], 2),
                    "unit": "°C" if "temp" in name else "kW",
                    "health": "live",
                    "age": 0.1,
                    "history": list(self.history[name]),
                }
                for name in self.names
            },
            "alerts": [],
            "messages": [{"id": "m1", "text": "Soup is served at 7", "level": "info"}],
        }


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(server: WebServer, clients: int, procs: int, seconds: float) -> dict[str, Any]:
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    warmup = 3.0 + clients / 400  # connecting takes a moment
    start = time.time() + warmup
    end = start + seconds
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client",
            f"127.0.0.1:{server.port}:{n}:{start}:{end}",
            stdout=asyncio.subprocess.PIPE,
        )
        for n in per
        if n
    ]
    await asyncio.sleep(max(0.0, start - time.time()))
    cpu0, stats0 = time.process_time(), server.stats()
    await asyncio.sleep(seconds)
    cpu1, stats1 = time.process_time(), server.stats()
    results = [json.loads((await child.communicate())[0]) for child in children]
    counts = [c for r in results for c in r["counts"]]
    staleness = [s for r in results for s in r["staleness_ms"]]
    return {
        "clients": clients,
        "held": sum(r["held"] for r in results),
        "rate_mean": statistics.fmean(counts) / seconds if counts else 0.0,
        "rate_p1": percentile([c / seconds for c in counts], 0.01),
        "p50": percentile(staleness, 0.50),
        "p99": percentile(staleness, 0.99),
        "max": max(staleness, default=math.nan),
        "server_cpu": (cpu1 - cpu0) / seconds * 100,
        "client_cpu": sum(r["cpu"] for r in results) * 100,
        "skipped": stats1["skipped_slow_viewer"] - stats0["skipped_slow_viewer"],
        "bytes": stats1["snapshot_bytes"],
        "send_ms": stats1["last_send_ms"],
    }


async def bench(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.clients.split(",")]
    raise_fd_limit(max(counts) + 512)
    show = RealisticShow(args.signals, args.history)
    config = WebConfig(
        host="127.0.0.1",
        port=0,
        console_token="bench",
        rate_hz=args.rate,
        max_connections=max(counts) + 100,
        max_per_address=max(counts) + 100,
    )
    server = WebServer(
        config,
        public_snapshot=show.snapshot,
        console_snapshot=dict,
        control=lambda request: {"ok": False, "error": "benchmark"},
    )
    await server.start()
    try:
        header = (
            f"{'clients':>7} {'held':>5} {'Hz/client':>9} {'Hz p1':>6} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'srv CPU':>7} {'cli CPU':>7} {'skipped':>7} "
            f"{'send ms':>7}"
        )
        print(f"snapshot: {args.signals} signals x {args.history} points, {args.rate:g} Hz")
        print(header)
        for n in counts:
            r = await measure(server, n, args.procs, args.seconds)
            print(
                f"{r['clients']:>7} {r['held']:>5} {r['rate_mean']:>9.2f} {r['rate_p1']:>6.1f} "
                f"{r['p50']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} {r['server_cpu']:>6.0f}% "
                f"{r['client_cpu']:>6.0f}% "
                f"{r['skipped']:>7} {r['send_ms']:>7.1f}",
                flush=True,
            )
            while server.stats()["sessions"]:
                await asyncio.sleep(0.2)
        print(f"snapshot size: {server.stats()['snapshot_bytes']} bytes")
    finally:
        await server.aclose()


def client_main(spec: str) -> None:
    host, port, count, start, end = spec.split(":")
    raise_fd_limit(int(count) + 256)
    result = asyncio.run(run_clients(host, int(port), int(count), float(start), float(end)))
    sys.stdout.write(json.dumps(result))


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="100,500,1000,2000", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--rate", type=float, default=10.0, help="snapshots per second")
    parser.add_argument("--signals", type=int, default=30)
    parser.add_argument("--history", type=int, default=60)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client)
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
