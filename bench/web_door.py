"""Cost of refusing websocket handshakes at the web server's door, in-process.

A :class:`show.web.WebServer` with trivial snapshots runs on this process's event
loop next to a 100 Hz ticker (standing in for the show's fade); a child process
opens ``--count`` websocket handshakes from one address, all in flight at once.
The per-address cap (50) admits 50; the rest are refused at the door
(``show/web/gate.py``). Printed: the answers, the server's CPU time per
handshake, the longest gap of the 100 Hz ticker, the longest single event-loop
turn in CPU time (what the loop itself spent; the wall-clock gap also holds
whatever the OS scheduler took on a shared machine), and full (generation 2)
garbage collections.

Usage::

    .venv/bin/python bench/web_door.py            # 2,000 handshakes, a few seconds
    .venv/bin/python bench/web_door.py --count 5000
    .venv/bin/python bench/web_door.py --path /       # 2,000 page requests instead
    .venv/bin/python bench/web_door.py --write docs/reliability.md
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaos import conditions, flood_handshakes, write_doc

from show.showfile.config import WebConfig
from show.web import WebServer


def timed_loop() -> tuple[asyncio.AbstractEventLoop, list[float]]:
    """An event loop that records the CPU time of each of its turns."""
    turns: list[float] = []

    class Loop(asyncio.SelectorEventLoop):
        def _run_once(self) -> None:
            started = time.thread_time()
            super()._run_once()  # type: ignore[misc]
            turns.append(time.thread_time() - started)

    return Loop(), turns


async def flood(count: int, path: str, turns: list[float]) -> str:
    server = WebServer(
        WebConfig(host="127.0.0.1", port=0, console_token="bench", max_per_address=50),
        public_snapshot=dict,
        console_snapshot=dict,
        control=lambda _m: {},
    )
    await server.start()
    gc.collect()
    gc.freeze()  # as stovelight run does before the show starts
    gaps: list[float] = []

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            gaps.append(now - last)
            last = now

    full = [0]

    def count_full(phase: str, info: dict[str, int]) -> None:
        full[0] += phase == "stop" and info["generation"] == 2

    tick = asyncio.create_task(ticker(), name="bench.ticker")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
        await loop.run_in_executor(pool, abs, 0)  # the worker is up
        await asyncio.sleep(0.2)
        gaps.clear()
        turns.clear()
        gc.callbacks.append(count_full)
        cpu = time.process_time()
        got = await loop.run_in_executor(pool, flood_handshakes, server.port, count, path, "")
        cpu = time.process_time() - cpu
        gc.callbacks.remove(count_full)
    tick.cancel()
    stats = server.stats()
    await server.aclose()
    answers = ", ".join(f"{k} x{v}" for k, v in sorted(got.items()))
    return (
        f"| {count} `{path}` | {answers} | {stats['refused_per_address']} |"
        f" {cpu / count * 1e6:.0f} | {max(gaps) * 1e3:.0f} | {max(turns) * 1e3:.1f} | {full[0]} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--path", default="/ws", help="/ws (refused), or / (the page)")
    parser.add_argument("--write", type=Path, help="replace the door table in this Markdown file")
    args = parser.parse_args()
    loop, turns = timed_loop()
    try:
        row = loop.run_until_complete(flood(args.count, args.path, turns))
    finally:
        loop.close()
    text = "\n".join(
        [
            f"Command: `.venv/bin/python bench/web_door.py --count {args.count}"
            f" --path {args.path}` ({conditions()})",
            "",
            "| handshakes | answers | refused at the door | server CPU us each |"
            " longest 100 Hz gap ms | longest loop turn CPU ms | full GCs |",
            "|---:|---|---:|---:|---:|---:|---:|",
            row,
        ]
    )
    print(text)
    if args.write is not None:
        write_doc(args.write, text, "<!-- door:begin -->", "<!-- door:end -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
