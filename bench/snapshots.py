"""Cost of building the web snapshots on the show loop.

The public snapshot is built once per broadcast tick while any viewer is connected
(the same bytes go to every viewer); the console snapshot once per tick while a
console is connected. This builds both for the demo show fed with simulated homes,
after GO, a waiting cue and a PANIC have happened, and prints the time per build and
the JSON size. One command; ``--write`` puts the table into docs/performance.md.

Usage::

    .venv/bin/python bench/snapshots.py                # 8, 50, 200 homes
    .venv/bin/python bench/snapshots.py --write
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import load_show
from show.web.snapshots import Snapshots

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- snapshots:begin -->", "<!-- snapshots:end -->"


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _feed(runner: ShowRunner, homes: int, t: float) -> None:
    from bridges.telemetry import Sample

    values: list[tuple[str, float | str]] = [("central.temp_c", 180.0 + t % 7)]
    values.append(("central.state", "on"))
    for h in range(homes):
        values += [
            (f"home-{h:03d}.temp_c", 20.0 + (h + t) % 5),
            (f"home-{h:03d}.state", "off"),
            (f"home-{h:03d}.power_w", 100.0 * (h % 3)),
        ]
    values += [
        ("grid.supply_kw", 5.0 + t % 3),
        ("grid.demand_kw", 5.5),
        ("grid.exchange_kw", 0.2),
        ("grid.balance_kw", -0.5),
        ("grid.frequency_hz", 50.0),
    ]
    runner.on_samples("neighbourhood", [Sample(name, v, None) for name, v in values])


async def _measure(homes: int, ticks: int) -> dict[str, float]:
    clock = _Clock()
    runner = ShowRunner(load_show(ROOT / "show" / "demo" / "demo.toml"), RunnerParts(), clock=clock)
    snaps = Snapshots(runner)
    for step in range(120):  # two minutes of history at 1 Hz, with GOs on the way
        clock.t = float(step)
        _feed(runner, homes, clock.t)
        runner._drain(clock.t)
        if step in (5, 10, 15, 20):
            runner.control("go")
    pub: list[float] = []
    con: list[float] = []
    pub_bytes = con_bytes = 0
    for i in range(ticks):
        clock.t = 120.0 + i * 0.1
        if i % 10 == 0:
            _feed(runner, homes, clock.t)
            runner._drain(clock.t)
        if i == ticks // 2:
            runner.control("panic")
        t0 = time.perf_counter()
        p = snaps.public()
        t1 = time.perf_counter()
        c = snaps.console()
        t2 = time.perf_counter()
        pub.append(t1 - t0)
        con.append(t2 - t1)
        pub_bytes += len(json.dumps(p))
        con_bytes += len(json.dumps(c))
    q = statistics.quantiles
    return {
        "homes": homes,
        "signals": len(runner.engine.signals.signals),
        "pub_ms": statistics.median(pub) * 1e3,
        "pub_p99": q(pub, n=100)[98] * 1e3,
        "pub_kb": pub_bytes / ticks / 1024,
        "con_ms": statistics.median(con) * 1e3,
        "con_p99": q(con, n=100)[98] * 1e3,
        "con_kb": con_bytes / ticks / 1024,
    }


def _table(rows: list[dict[str, float]], ticks: int) -> str:
    head = (
        f"`python bench/snapshots.py` on {platform.machine()}, Python "
        f"{platform.python_version()}, {date.today().isoformat()}, {ticks} ticks per row:\n\n"
        "| homes | signals | public ms (median / p99) | public KiB per tick (mean)"
        " | console ms (median / p99) | console KiB per tick (mean) |\n|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['homes']:.0f} | {r['signals']:.0f} | {r['pub_ms']:.2f} / {r['pub_p99']:.2f}"
        f" | {r['pub_kb']:.1f} | {r['con_ms']:.2f} / {r['con_p99']:.2f} | {r['con_kb']:.1f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main() -> int:
    """Run the benchmark; print the table (and write it with ``--write``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--homes", type=int, nargs="*", default=[8, 50, 200])
    ap.add_argument("--ticks", type=int, default=300)
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # the PANIC the bench presses is not news
    rows = [asyncio.run(_measure(h, args.ticks)) for h in args.homes]
    table = _table(rows, args.ticks)
    sys.stdout.write(table)
    if args.write:
        doc = DOC.read_text()
        if BEGIN in doc:
            before, rest = doc.split(BEGIN, 1)
            doc = before + BEGIN + "\n" + table + END + rest.split(END, 1)[1]
            DOC.write_text(doc)
        else:
            sys.stderr.write(f"no {BEGIN} section in {DOC}; table not written\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
