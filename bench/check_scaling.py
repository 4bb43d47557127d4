"""How ``stovelight check`` scales with hostile show files (issue #10, item 6).

Each case builds a show-file text of size N in memory and validates it with
``show.showfile.load.parse_show`` (what ``stovelight check`` does after reading the
file). A case at 10 N taking about 10 times as long as at N is linear; a
quadratic case would take about 100 times as long. Nesting cases must end in one
problem, never an exception.

Usage::

    .venv/bin/python bench/check_scaling.py                               # ~30 s
    .venv/bin/python bench/check_scaling.py --write docs/performance.md   # also the doc
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docsection import write_section
from show.errors import ShowFileError
from show.showfile.load import parse_show


def _cues(n: int) -> str:
    return "[[cue_lists]]\n" + "".join(f'[[cue_lists.cues]]\nnumber = "{i}"\n' for i in range(n))


def _duplicate_cues(n: int) -> str:
    return "[[cue_lists]]\n" + '[[cue_lists.cues]]\nnumber = "1"\n' * n


def _missing_refs(n: int) -> str:
    return "[[cue_lists]]\n" + "".join(
        f'[[cue_lists.cues]]\nnumber = "{i}"\ntype = "start"\ncue = "x{i}"\n' for i in range(n)
    )


def _pattern_inputs(n: int) -> str:
    signals = "".join(f'[signals."h{i}.t"]\n' for i in range(n))
    inputs = ", ".join(f'"h{i}.*"' for i in range(n))
    return f'{signals}[derived.d]\nop = "sum"\ninputs = [{inputs}]\n[[cue_lists]]\n'


def _unknown_inputs(n: int) -> str:
    return _pattern_inputs(n).replace('"h', '"z').replace('[signals."z', '[signals."h')


CASES: list[tuple[str, Callable[[int], str]]] = [
    ("cues", _cues),
    ("duplicate cue numbers", _duplicate_cues),
    ("references to missing cues", _missing_refs),
    ("signals + pattern inputs to one derived", _pattern_inputs),
    ("signals + unknown pattern inputs", _unknown_inputs),
]


def _time(text: str, repeat: int) -> tuple[float, str]:
    best = float("inf")
    outcome = ""
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            parse_show(text, "bench.toml")
            outcome = "ok"
        except ShowFileError as exc:
            outcome = f"{len(exc.problems):,} problems"
        except Exception as exc:  # a bench reports, it does not stop
            outcome = f"RAISED {type(exc).__name__}"
        best = min(best, time.perf_counter() - t0)
    return best, outcome


def run(small: int, big: int, repeat: int) -> str:
    lines = [
        f"Stovelight check scaling  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"Python {platform.python_version()}; best of {repeat} runs; N = {small:,} and {big:,}",
        "",
        f"{'case':40s} {'N s':>8s} {'10N s':>8s} {'ratio':>6s}  outcome at 10N",
        f"{'-' * 40} {'-' * 8} {'-' * 8} {'-' * 6}  {'-' * 20}",
    ]
    for name, build in CASES:
        t_small, _ = _time(build(small), repeat)
        t_big, outcome = _time(build(big), repeat)
        ratio = t_big / t_small if t_small > 0 else float("nan")
        lines.append(f"{name:40s} {t_small:8.3f} {t_big:8.3f} {ratio:6.1f}  {outcome}")
    for name, text in (
        ("arrays nested 5,000 deep", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
        ("inline tables nested 5,000 deep", "x = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n"),
    ):
        t, outcome = _time(text, repeat)
        lines.append(f"{name:40s} {t:8.3f} {'':8s} {'':6s}  {outcome}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000, help="the small size (default 1000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per case (default 2)")
    parser.add_argument("--write", type=Path, help="replace this section of a Markdown file")
    args = parser.parse_args()
    table = run(args.n, args.n * 10, args.repeat)
    print(table)
    if args.write is not None:
        write_section(
            args.write, "Show-file check at scale", table, "python bench/check_scaling.py"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
