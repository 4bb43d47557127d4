"""Benchmark the rehearsal recorder and replay reader.

Writes a generated recording (default: two hours of 100 signals at 10 Hz = 7.2 million
samples) through :class:`rehearsal.recorder.Recorder` with its normal 100 ms batch commits,
then reads it back with :class:`rehearsal.recording.Recording`.

    .venv/bin/python bench/rehearsal.py              # full two hours (7.2 M samples)
    .venv/bin/python bench/rehearsal.py --minutes 10 # smaller

Reported: recorder throughput (samples/s, from the first add to the last commit), the cost
the live loop pays per sample in ``add_samples``, dropped rows (must be 0: the producer waits
when the batch is half full, as a live source at this rate never needs to), and replay read
speed as samples/s and as a multiple of real time.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rehearsal.recorder import Recorder
from rehearsal.recording import Recording


def bench(minutes: float, signals: int, rate_hz: float, directory: Path) -> list[tuple[str, str]]:
    path = directory / "bench.sqlite"
    ticks = int(minutes * 60 * rate_hz)
    names = [(f"bench-{i // 10:02d}", f"bench-{i // 10:02d}.s{i % 10}") for i in range(signals)]
    started = 1_764_230_400.0
    recorder = Recorder(path, show="bench", started=started).start()
    half = recorder.max_pending // 2
    in_add = 0.0
    waits = 0
    t_begin = time.perf_counter()
    for k in range(ticks):
        t = k / rate_hz
        wall = started + t
        rows = [
            (t, wall, source, signal, math.sin(t + j), wall)
            for j, (source, signal) in enumerate(names)
        ]
        if k % 50 == 0:
            while recorder.stats.pending > half:
                waits += 1
                time.sleep(0.001)
        a = time.perf_counter()
        recorder.add_samples(rows)
        in_add += time.perf_counter() - a
    recorder.flush(600)
    write_s = time.perf_counter() - t_begin
    stats = recorder.close()
    total = ticks * signals

    t_read = time.perf_counter()
    with Recording.open(path) as recording:
        read = 0
        for _sample in recording.samples():
            read += 1
        seek_t = time.perf_counter()
        recording.seek(minutes * 30)
        seek_s = time.perf_counter() - seek_t
    read_s = time.perf_counter() - t_read - seek_s
    real_s = ticks / rate_hz
    size_mb = path.stat().st_size / 1e6
    return [
        ("samples written", f"{total:,} ({signals} signals x {rate_hz:g} Hz x {minutes:g} min)"),
        ("recorder throughput", f"{total / write_s:,.0f} samples/s ({write_s:.1f} s)"),
        ("live-loop cost (add_samples)", f"{in_add / total * 1e6:.3f} us/sample"),
        ("commits (batches)", f"{stats.batches:,}"),
        ("dropped rows", f"{stats.dropped:,}"),
        ("producer waits (backpressure)", f"{waits:,}"),
        ("file size", f"{size_mb:,.0f} MB ({size_mb * 1e6 / max(total, 1):.1f} B/sample)"),
        ("replay read", f"{read / read_s:,.0f} samples/s ({read_s:.1f} s for {read:,})"),
        ("replay speed", f"{real_s / read_s:,.0f}x real time"),
        ("seek by time", f"{seek_s * 1e3:.2f} ms"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0, help="recording length")
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="samples per signal per second")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows = bench(args.minutes, args.signals, args.rate, Path(tmp))
    width = max(len(k) for k, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
