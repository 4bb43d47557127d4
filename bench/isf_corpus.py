"""Run every ISF file of a folder through the parser and the GL compiler (headless EGL).

    .venv/bin/python bench/isf_corpus.py DIR [DIR ...]   # e.g. a checkout of Vidvox/ISF-Files

Each ``.fs`` file is loaded with :func:`visuals.isf.load_isf` (with its ``.vs`` companion
and imported images), translated and compiled into a :class:`visuals.renderer.SceneRenderer`
and rendered once at 64x36. Prints how many compile, and for each failure the first line of
its error; ``--failures`` lists every failing file. The corpus is read where it lies, nothing
is copied.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visuals.errors import VisualsError
from visuals.gl import create_context
from visuals.isf import load_isf
from visuals.renderer import SceneRenderer


def check(path: Path, ctx: object) -> str | None:
    """None when ``path`` parses, compiles and renders; else the error's first line."""
    try:
        document = load_isf(path)
        renderer = SceneRenderer(ctx, document)  # type: ignore[arg-type]
        try:
            renderer.render(0.5, (64, 36))
        finally:
            renderer.release()
    except VisualsError as err:
        return str(err).splitlines()[0][:300]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="folders searched for .fs files")
    parser.add_argument("--failures", action="store_true", help="list every failing file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    files = sorted(p for d in args.dirs for p in d.rglob("*.fs"))
    ctx = create_context()
    failures: dict[Path, str] = {}
    for path in files:
        problem = check(path, ctx)
        if problem is not None:
            failures[path] = problem
        _ = ctx.error  # a failed compile leaves the GL error flag set
    ok = len(files) - len(failures)
    print(f"ISF corpus: {ok} of {len(files)} files compile and render ({len(failures)} fail)")
    kinds = Counter(problem.split(":", 2)[-1].strip()[:60] for problem in failures.values())
    for kind, n in kinds.most_common(10):
        print(f"  {n:4d}  {kind}")
    if args.failures:
        for path, problem in failures.items():
            print(f"{path}: {problem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
