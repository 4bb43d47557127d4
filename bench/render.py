"""Frame-time benchmark for the visuals renderer.

Prints mean and p99 frame time for each shipped scene and a two-scene crossfade,
plus the CPU cost per frame of updating inputs::

    .venv/bin/python bench/render.py --size 1920x1080 --frames 60

The GPU target is 3840x2160 at 60 fps. On Mesa llvmpipe (software GL) the numbers
only show that the pipeline works; measure on the show machine for real figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from visuals.compositor import Compositor
from visuals.gl import create_context, describe_context
from visuals.render_cli import parse_size
from visuals.scenes import builtin_scene_names

INPUTS = {
    "heat": 0.7,
    "stove1": 0.9,
    "stove2": 0.4,
    "stove3": 0.2,
    "stove4": 0.6,
    "supply": 0.6,
    "demand": 0.5,
    "exchange": 0.3,
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(comp: Compositor, size: tuple[int, int], frames: int, warmup: int) -> list[float]:
    times = []
    for i in range(warmup + frames):
        start = time.perf_counter()
        comp.render(i / 60.0, size)
        comp.ctx.finish()  # include the GPU work, not just the submission
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000.0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args(argv)
    size = tuple(args.size)
    ctx = create_context()
    print(f"renderer: {describe_context(ctx)}   size: {size[0]}x{size[1]}   frames: {args.frames}")
    print(f"{'case':<28}{'mean ms':>10}{'p99 ms':>10}{'fps':>8}")
    rows: list[tuple[str, list[float]]] = []
    for name in builtin_scene_names():
        comp = Compositor(ctx)
        comp.set_inputs(INPUTS)
        comp.load_scene(name)
        rows.append((name, bench(comp, size, args.frames, args.warmup)))
        comp.release()
    comp = Compositor(ctx)
    comp.set_inputs(INPUTS)
    comp.load_scene("heat")
    comp.render(0.0, size)
    comp.load_scene("energy_flow", duration=1e9, curve="smoothstep")
    rows.append(("crossfade heat->energy_flow", bench(comp, size, args.frames, args.warmup)))
    for name, times in rows:
        mean = statistics.fmean(times)
        print(f"{name:<28}{mean:>10.2f}{_percentile(times, 0.99):>10.2f}{1000.0 / mean:>8.1f}")
    # CPU cost of a frame's worth of input updates (8 signals), without rendering.
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        for key, value in INPUTS.items():
            comp.set_input(key, value + (i % 7) * 0.01)
    per_frame_us = (time.perf_counter() - start) / n * 1e6
    print(f"input update CPU cost: {per_frame_us:.1f} us per frame ({len(INPUTS)} inputs)")
    comp.release()
    ctx.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
