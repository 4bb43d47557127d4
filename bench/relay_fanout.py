"""Benchmark dashboard relays: a show publishing through Mosquitto to 1 or 2 relays.

A publisher in this process plays the running show (the realistic 30-signal snapshot
of ``dashboard_fanout.py``, at 10 Hz, retained, through ``SnapshotPublisher``); a
private Mosquitto carries it; each relay is a real ``stovelight relay`` process; the
viewers are ``dashboard_fanout.py``'s lean websocket clients in separate processes.
Staleness is measured end to end: from the show's own stamp (``published``) to the
moment a viewer has the whole frame (one machine, one clock).

Usage::

    .venv/bin/python bench/relay_fanout.py                      # 1 relay, then 2 relays
    .venv/bin/python bench/relay_fanout.py --clients 2000 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard_fanout import RealisticShow, percentile, raise_fd_limit  # noqa: E402

from rehearsal.broker import MosquittoBroker  # noqa: E402
from show.showfile.config import RelayConfig  # noqa: E402
from show.web.publish import SnapshotPublisher  # noqa: E402

FANOUT = ROOT / "bench" / "dashboard_fanout.py"
TOPIC = "bench/dashboard"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_relay(broker: str, viewers: int) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "show.cli",
        "relay",
        "--broker",
        broker,
        "--topic",
        TOPIC,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--max-viewers",
        str(viewers + 100),
        "--max-per-address",
        str(viewers + 100),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    while line := (await proc.stdout.readline()).decode():
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))
    raise RuntimeError("relay did not start")


async def measure(
    ports: list[int], pids: list[int], clients: int, seconds: float
) -> list[dict[str, Any]]:
    """``clients`` viewers split evenly over the relays; one result per relay."""
    per_relay = [
        clients // len(ports) + (1 if i < clients % len(ports) else 0) for i in range(len(ports))
    ]
    start = time.time() + 3.0 + clients / 400
    end = start + seconds
    children = []
    for port, n in zip(ports, per_relay, strict=True):
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(FANOUT),
                "--client",
                f"127.0.0.1:{port}:{n}:{start}:{end}",
                stdout=asyncio.subprocess.PIPE,
            )
        )
    await asyncio.sleep(max(0.0, start - time.time()))
    cpu0 = [cpu_seconds(pid) for pid in pids]
    await asyncio.sleep(seconds)
    cpu1 = [cpu_seconds(pid) for pid in pids]
    out = []
    for i, child in enumerate(children):
        r = json.loads((await child.communicate())[0])
        counts = r["counts"]
        stale = r["staleness_ms"]
        out.append(
            {
                "relay": i + 1,
                "clients": per_relay[i],
                "held": r["held"],
                "rate": statistics.fmean(counts) / seconds if counts else 0.0,
                "p50": percentile(stale, 0.5),
                "p99": percentile(stale, 0.99),
                "max": max(stale, default=math.nan),
                "cpu": (cpu1[i] - cpu0[i]) / seconds * 100,
            }
        )
    return out


async def bench(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.clients.split(",")]
    raise_fd_limit(max(counts) + 512)
    show = RealisticShow(30, 60)
    with MosquittoBroker() as broker:
        publisher = SnapshotPublisher(
            RelayConfig(broker.url, TOPIC, rate_hz=args.rate), show.snapshot
        )
        publishing = asyncio.create_task(publisher.run())
        print(f"show -> Mosquitto -> stovelight relay -> viewers; snapshot at {args.rate:g} Hz")
        print(
            f"{'relays':>6} {'relay':>5} {'clients':>7} {'held':>5} {'Hz/client':>9} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'relay CPU':>9}"
        )
        for relays in (1, 2):
            for n in counts:
                procs = [await start_relay(broker.url, n) for _ in range(relays)]
                await asyncio.sleep(1.0)
                results = await measure(
                    [port for _, port in procs], [p.pid for p, _ in procs], n, args.seconds
                )
                for r in results:
                    print(
                        f"{relays:>6} {r['relay']:>5} {r['clients']:>7} {r['held']:>5} "
                        f"{r['rate']:>9.2f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.1f} "
                        f"{r['cpu']:>8.0f}%",
                        flush=True,
                    )
                for proc, _ in procs:
                    proc.terminate()
                    await proc.wait()
        print(f"snapshot: {publisher.last_bytes} bytes; published {publisher.published}")
        publishing.cancel()
        await asyncio.gather(publishing, return_exceptions=True)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="500,1000,2000", help="viewers in total per run")
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window")
    parser.add_argument("--rate", type=float, default=10.0, help="snapshots per second")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
