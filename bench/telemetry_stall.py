"""How long one huge telemetry frame holds the show loop.

The hostile case: a producer sends good frames at 100 Hz (``{"source": "s", "values":
{"v": n}}``) and, every 2 s, one ~1 MB frame holding one object with 90,000 values.
A real show runs in this process (``ShowRunner`` with the show's websocket source, one
signal mapped to OSC over UDP); a probe task sleeps 1 ms at a time and records how late
each wake-up is (the loop-lag probe: what a cue, an OSC fade step or an operator's GO
would wait). The producer is a plain ``websockets`` server in a child process, so its
work never shows up as loop lag here.

On a shared machine the wall-clock lag is mostly other processes' time, so two CPU
figures sit beside it: **longest own stall**, the CPU time the show process (all its
threads: the loop and any decoder thread holding the interpreter lock) used during
one probe interval, which is how long the show itself kept the probe waiting, whatever
else the machine runs; and **longest callback CPU**, the loop's own work in one
callback. A decoder process's CPU is in neither: it runs on another core.

Rows (each ``--seconds`` long, default 8):

* **no big frames**: the 100 Hz frames alone (the machine's own noise).
* **default limits**: 64 KiB frame limit: the big frame is dropped by its length.
* **2 MiB limit, thread**: a show that raised ``max_frame_bytes``, with
  ``decoder = "thread"``: the frame is decoded in the decoder thread and its object
  dropped by the values-per-object limit.
* **legal, 100k values, thread**: ``max_values = 100000`` too: the 90,000 samples are
  legal and reach the engine in chunks.
* **legal, inline**: the same, with the decoder thread and the chunking switched off
  (what one frame cost before; for comparison only).
* **2 MiB limit, process** and **legal, 100k values, process**: the two thread rows
  again with ``decoder = "process"`` (what ``auto`` picks for a limit over 256 KiB):
  the connection, decoding and validation run in the source's decoder process, and
  the show reads batches of at most 512 samples, one per loop turn.
* **…, process, gc.freeze()**: the same with the show's heap frozen once it has
  started (``gc.freeze()``): 90,000 sample objects crossing into the show every 2 s
  make CPython run a full garbage collection about once per big frame, and a full
  collection walks the whole show (about 20 ms here); frozen objects are not walked.

Usage::

    .venv/bin/python bench/telemetry_stall.py [--seconds 8]
    .venv/bin/python bench/telemetry_stall.py --write docs/performance.md  # also the doc
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing as mp
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bridges.telemetry.connection as connection
from bench.docblock import Tee, write_block
from show.runtime.assemble import add_sources, build_parts
from show.runtime.runner import ShowRunner
from show.showfile.load import parse_show

__all__ = ["main"]

GOOD_HZ = 100.0
BIG_EVERY_S = 2.0
BIG_VALUES = 90_000
PROBE_S = 0.001

SHOW = """
[show]
title = "stall bench"
[control]
enabled = false
[web]
enabled = false
[sources.s]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/{path}"
{limits}
[signals."s.v"]
source = "s"
[outputs.osc.out]
host = "127.0.0.1"
port = {osc_port}
[mappings.v]
signal = "s.v"
to = {{ osc = "out", address = "/v" }}
range = {{ in = [0, 1000000], out = [0, 1000000] }}
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""

RAISED = "max_frame_bytes = 2097152"
LEGAL = "max_frame_bytes = 2097152\nmax_values = 100000"
THREAD = '\ndecoder = "thread"'
PROCESS = '\ndecoder = "process"'
#: name -> (producer path, source settings, decoder thread and chunking on, gc.freeze())
CASES: dict[str, tuple[str, str, bool, bool]] = {
    "no big frames (baseline)": ("plain", "", True, False),
    "default limits": ("big", "", True, False),
    "2 MiB limit, thread": ("big", RAISED + THREAD, True, False),
    "2 MiB limit, process": ("big", RAISED + PROCESS, True, False),
    "legal, 100k values, thread": ("big", LEGAL + THREAD, True, False),
    "legal, 100k values, process": ("big", LEGAL + PROCESS, True, False),
    "legal, 100k values, thread, gc.freeze()": ("big", LEGAL + THREAD, True, True),
    "legal, 100k values, process, gc.freeze()": ("big", LEGAL + PROCESS, True, True),
    "legal, inline": ("big", LEGAL + THREAD, False, False),
}


def big_frame() -> str:
    values = {f"k{i:05d}": i * 1.5 for i in range(BIG_VALUES)}
    return json.dumps({"source": "s", "values": values}, separators=(",", ":"))


def producer_main(conn: Any) -> None:
    """A websockets server: good frames at 100 Hz, a big frame every 2 s."""
    from websockets.asyncio.server import ServerConnection, serve

    big = big_frame()

    async def handler(ws: ServerConnection) -> None:
        loop = asyncio.get_running_loop()
        t0, n = loop.time(), 0
        next_big = (
            t0 + BIG_EVERY_S
            if ws.request is not None and ws.request.path == "/big"
            else float("inf")
        )
        with contextlib.suppress(Exception):
            while True:
                await ws.send(f'{{"source":"s","values":{{"v":{n}}}}}')
                n += 1
                if loop.time() >= next_big:
                    await ws.send(big)
                    next_big += BIG_EVERY_S
                await asyncio.sleep(max(0.0, t0 + n / GOOD_HZ - loop.time()))

    async def run() -> None:
        # no compression: the figures are the show's own work, not zlib's on either side
        async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
            conn.send(server.sockets[0].getsockname()[1])
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(run())


class CallbackCpu:
    """Times every loop callback in CPU seconds of the loop thread (``thread_time``).

    Unlike the wall-clock probe this leaves out time the OS gave to other processes
    and time spent waiting for the interpreter lock: it is the work done on the loop
    in one piece.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self._run = asyncio.events.Handle._run

    def __enter__(self) -> CallbackCpu:
        run, clock = self._run, time.thread_time

        def timed(handle: asyncio.events.Handle) -> None:
            start = clock()
            run(handle)
            self.longest = max(self.longest, clock() - start)

        asyncio.events.Handle._run = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._run  # type: ignore[method-assign]


async def measure(
    path: str, limits: str, offload: bool, freeze: bool, seconds: float, ws_port: int
) -> dict[str, Any]:
    """Run the show against the producer; return the probe's figures and the counters."""
    saved = connection.OFF_LOOP_BYTES, connection.DELIVERY_CHUNK
    if not offload:
        connection.OFF_LOOP_BYTES = connection.DELIVERY_CHUNK = 1 << 62
    osc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    osc.bind(("127.0.0.1", 0))
    osc.setblocking(False)
    osc_port = osc.getsockname()[1]
    show = parse_show(SHOW.format(ws_port=ws_port, path=path, osc_port=osc_port, limits=limits))
    loop = asyncio.get_running_loop()
    runner = ShowRunner(show, build_parts(show, clock=loop.time, renderers=False))
    add_sources(runner)
    lags: list[float] = []
    busy: list[float] = []
    gaps: list[float] = []
    try:
        await runner.start()
        runner.start_sources()
        source = runner.parts.sources[0]
        async with asyncio.timeout(30):  # a decoder process takes a moment to start
            while source.stats()["status"] != "connected":
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # warm up
        if freeze:
            gc.freeze()
        last_osc = None
        end = loop.time() + seconds
        with CallbackCpu() as cpu:
            while (t := loop.time()) < end:
                used = time.process_time()
                await asyncio.sleep(PROBE_S)
                lags.append(loop.time() - t - PROBE_S)
                busy.append(time.process_time() - used)
                with contextlib.suppress(BlockingIOError):
                    while osc.recv(2048):
                        now = loop.time()
                        if last_osc is not None:
                            gaps.append(now - last_osc)
                        last_osc = now
        await asyncio.sleep(0.3)  # a decoder process's counters come with its heartbeat
        stats = source.stats()
    finally:
        await runner.aclose()
        osc.close()
        connection.OFF_LOOP_BYTES, connection.DELIVERY_CHUNK = saved
        gc.unfreeze()
    lags.sort()
    return {
        "max_lag_ms": 1000 * lags[-1],
        "own_ms": 1000 * max(busy),
        "p99_lag_ms": 1000 * lags[int(0.99 * (len(lags) - 1))],
        "osc_gap_ms": 1000 * max(gaps, default=float("nan")),
        "cpu_ms": 1000 * cpu.longest,
        "stats": stats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each case")
    parser.add_argument("--write", type=Path, help="replace this bench's block in a Markdown file")
    parser.add_argument(
        "--only", action="append", help="run the cases whose name contains this (repeatable)"
    )
    args = parser.parse_args()
    tee = Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        report(args.seconds, args.only)
    if args.write is not None:
        printed = tee.text()
        write_block(args.write, "telemetry_stall", printed[: printed.index("\nMarkdown:")].rstrip())
    return 0


def report(seconds: float, only: list[str] | None = None) -> None:
    """Run every case (or those named in ``only``) against a producer; print the table."""
    cases = {
        name: case for name, case in CASES.items() if not only or any(part in name for part in only)
    }
    ctx = mp.get_context("spawn")
    conn, child = ctx.Pipe()
    proc = ctx.Process(target=producer_main, args=(child,), daemon=True)
    proc.start()
    ws_port = conn.recv()
    print(f"telemetry stall bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; big frame "
        f"{len(big_frame()):,} bytes, {BIG_VALUES:,} values, every {BIG_EVERY_S:g} s "
        f"among {GOOD_HZ:g} Hz good frames; {seconds:g} s per case"
    )
    head = [
        "case",
        "longest loop stall",
        "longest own stall",
        "p99 stall",
        "longest callback CPU",
        "longest OSC gap",
        "good frames in",
        "big frames",
        "rejected",
        "off-loop",
        "connects",
    ]
    rows = []
    try:
        for name, (path, limits, offload, freeze) in cases.items():
            result = asyncio.run(measure(path, limits, offload, freeze, seconds, ws_port))
            st = result["stats"]
            rejected = ", ".join(f"{k} {v}" for k, v in st["rejected"].items()) or "-"
            big = st["off_loop_frames"] or st["rejected"].get("oversize", 0)
            rows.append(
                [
                    name,
                    f"{result['max_lag_ms']:.1f} ms",
                    f"{result['own_ms']:.1f} ms",
                    f"{result['p99_lag_ms']:.2f} ms",
                    f"{result['cpu_ms']:.1f} ms",
                    f"{result['osc_gap_ms']:.0f} ms",
                    f"{st['frames']:,}",
                    str(big),
                    rejected,
                    str(st["off_loop_frames"]),
                    str(st["connects"]),
                ]
            )
            print(f"  {name}: done", file=sys.stderr, flush=True)
    finally:
        conn.send("stop")
        proc.join(2)
        if proc.is_alive():
            proc.kill()
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print()
    for r in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print("\nMarkdown:\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(["---"] * len(head)) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    sys.exit(main())
