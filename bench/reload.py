"""What a show-file reload costs, and how much of it the show loop waits for.

``stovelight run`` reads, checks and compares the edited file in a worker thread
(``parse`` below: the loop goes on meanwhile) and then applies the changes on the
show loop (``apply``: the loop's stall). Each case is a show with N cues (one fade running
while it reloads), N/10 mappings and N/10 triggers, reloaded with one cue edited.

Usage::

    .venv/bin/python bench/reload.py                             # ~20 s
    .venv/bin/python bench/reload.py --write docs/performance.md # also the doc
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docsection import write_section
from cues.engine import Engine
from cues.events import Go, Sample
from cues.reload import plan_reload
from show.showfile.load import parse_show


def _show(n: int, edited: bool) -> str:
    parts = ["[outputs.osc.desk]\nport = 9000\n"]
    for i in range(max(1, n // 10)):
        parts.append(
            f'[signals."s{i}"]\n[mappings.m{i}]\nsignal = "s{i}"\n'
            f'to = {{ osc = "desk", address = "/m/{i}" }}\n'
            f'[[triggers]]\nname = "t{i}"\nwhen = {{ signal = "s{i}", above = 5 }}\nstart = "1"\n'
        )
    parts.append('[[cue_lists]]\nname = "Main"\n')
    parts.append(
        '[[cue_lists.cues]]\nnumber = "0"\ntype = "fade"\n'
        'target = { osc = "desk", address = "/fade" }\nto = 1.0\nduration = 60\n'
    )
    for i in range(1, n):
        address = "/edited" if edited and i == n // 2 else f"/c/{i}"
        parts.append(
            f'[[cue_lists.cues]]\nnumber = "{i}"\ntype = "osc"\ntarget = "desk"\n'
            f'address = "{address}"\n'
        )
    return "".join(parts)


def _case(n: int, repeat: int) -> tuple[float, float, str]:
    parse_best = apply_best = float("inf")
    summary = ""
    for _ in range(repeat):
        engine = Engine(parse_show(_show(n, False), "bench.toml").model)
        engine.handle(Go(), 0.0)
        for i in range(max(1, n // 10)):
            engine.handle(Sample(f"s{i}", 1.0), 0.5)
        engine.advance(1.0)
        engine.commands()
        t0 = time.perf_counter()
        model = parse_show(_show(n, True), "bench.toml").model
        plan = plan_reload(engine.show, model)
        t1 = time.perf_counter()
        result = engine.reload(model, 2.0, plan)
        t2 = time.perf_counter()
        parse_best, apply_best = min(parse_best, t1 - t0), min(apply_best, t2 - t1)
        summary = result.summary()
    return parse_best, apply_best, summary


def run(sizes: list[int], repeat: int) -> str:
    lines = [
        f"Stovelight reload cost  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"Python {platform.python_version()}; best of {repeat} runs",
        "",
        f"{'cues':>7s} {'mappings':>8s} {'parse+diff s (thread)':>21s}"
        f" {'apply ms (loop)':>15s}  result",
        f"{'-' * 7} {'-' * 8} {'-' * 21} {'-' * 15}  {'-' * 30}",
    ]
    for n in sizes:
        parse_s, apply_s, summary = _case(n, repeat)
        lines.append(f"{n:7,d} {n // 10:8,d} {parse_s:21.3f} {apply_s * 1000:15.2f}  {summary}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per size (default 2)")
    parser.add_argument("--write", type=Path, help="replace this section of a Markdown file")
    args = parser.parse_args()
    table = run([100, 1_000, 10_000], args.repeat)
    print(table)
    if args.write is not None:
        write_section(args.write, "Show-file reload", table, "python bench/reload.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
