"""Benchmark the rehearsal recorder, the replay reader and the dry run.

Writes a generated recording (default: two hours of 100 signals at 10 Hz = 7.2 million
samples) through :class:`rehearsal.recorder.Recorder` with its normal 100 ms batch commits,
then reads it back with :class:`rehearsal.recording.Recording`, then dry-runs a generated show
against it (:func:`rehearsal.dryrun.dry_run`: one mapping per signal, a few triggers, four
scene inputs bound to signals) with everything a live run records replayed: operator actions
(GOs, a refused GO, pause, resume, a cue edit, stop) and a source disconnect and reconnect.

    .venv/bin/python bench/rehearsal.py              # full two hours (7.2 M samples)
    .venv/bin/python bench/rehearsal.py --minutes 10 # smaller
    .venv/bin/python bench/rehearsal.py --minutes 10 --profile   # cProfile the dry run
    .venv/bin/python bench/rehearsal.py --write-docs docs/performance.md  # update its section

Reported: recorder throughput (samples/s, from the first add to the last commit), the cost
the live loop pays per sample in ``add_samples``, dropped rows (must be 0: the producer waits
when the batch is half full, as a live source at this rate never needs to), and replay read
speed as samples/s and as a multiple of real time, and the dry run's wall time (reading,
engine and report data; the report files are not written) as a multiple of real time
(target: two hours in 30 s or less, i.e. >= 240x).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import math
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.docsection import write_section
from bridges import eventloop
from cues.eventcodec import encode_event
from cues.events import EditCue, Event, Go, Pause, Resume, SourceHealth, Stop
from cues.model import CueId
from rehearsal.dryrun import dry_run
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from rehearsal.replay import Replayer
from show.showfile.load import parse_show

DRY_RUN_TARGET_X = 240.0
DOCS_TITLE = "Rehearsal: recorder, replay, dry run"


def bench_show(signals: int) -> str:
    """A show for the generated recording: one mapping per signal (range, s-curve; every tenth
    with EMA smoothing), four threshold triggers and a rate trigger, two cues."""
    parts = [
        '[show]\ntitle = "rehearsal bench"\n',
        '[sources.bench]\nkind = "stovelight"\nurl = "ws://127.0.0.1:9/"\n',
        '[signals."bench-*"]\nsource = "bench"\nstale_after = 1.0\nlost_after = 5.0\n',
        "[outputs.osc.desk]\nport = 9000\n",
        "[outputs.visuals.projector]\n"
        'inputs = { stove1 = "bench-00.s0", stove2 = "bench-01.s1", stove3 = "bench-02.s2",'
        ' stove4 = "bench-03.s3" }\n',
    ]
    for i in range(signals):
        smooth = "smooth = { ema = 0.2 }\n" if i % 10 == 0 else ""
        parts.append(
            f"[mappings.m{i:03d}]\n"
            f'signal = "bench-{i // 10:02d}.s{i % 10}"\n'
            f'to = {{ osc = "desk", address = "/bench/{i:03d}" }}\n'
            "range = { in = [-1, 1], out = [0.0, 1.0] }\n"
            f'curve = "s-curve"\nmax_rate_hz = 30\n{smooth}'
        )
    for i in range(4):
        parts.append(
            f'[[triggers]]\nname = "peak-{i}"\n'
            f'when = {{ signal = "bench-0{i}.s{i}", above = 0.99, hysteresis = 0.2 }}\n'
            'hold = 0.05\nstart = "1"\n'
        )
    parts.append(
        '[[triggers]]\nname = "falling"\n'
        'when = { signal = "bench-05.s5", rate_below = -0.9, window = 0.5 }\nstart = "1"\n'
    )
    parts.append(
        '[[cue_lists]]\nname = "Main"\n'
        '[[cue_lists.cues]]\nnumber = "1"\ntype = "memo"\n'
        '[[cue_lists.cues]]\nnumber = "2"\ntype = "osc"\ntarget = "desk"\naddress = "/go"\n'
    )
    return "".join(parts)


def bench_events(real_s: float) -> list[tuple[float, str, Event]]:
    """What a live run records besides samples: the source connecting, going away for 10 s
    and coming back, and the operator's actions (the second GO is refused by the guard)."""
    return [
        (0.0, "source", SourceHealth("bench", True)),
        (1.0, "operator", Go()),
        (1.1, "operator", Go()),
        (60.0, "operator", Pause()),
        (61.0, "operator", Resume()),
        (90.0, "operator", EditCue(CueId("Main/2"), prewait=0.5)),
        (real_s * 0.4, "source", SourceHealth("bench", False)),
        (real_s * 0.4 + 10.0, "source", SourceHealth("bench", True)),
        (real_s / 2, "operator", Go()),
        (real_s - 5.0, "operator", Stop()),
    ]


def bench_dry_run(
    path: Path, minutes: float, signals: int, profile: bool
) -> tuple[list[tuple[str, str]], str]:
    """Dry-run :func:`bench_show` against the recording at ``path``."""
    show = parse_show(bench_show(signals), "bench.toml")
    real_s = minutes * 60
    profiler = cProfile.Profile() if profile else None
    with Recording.open(path) as recording:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        if profiler is not None:
            profiler.enable()
        result = dry_run(show, recording, gos_from_recording=True)
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    outputs = sum(result.outputs.values())
    multiple = real_s / wall
    rows = [
        (
            "dry run",
            f"{wall:.1f} s for {result.samples:,} samples ({result.samples / wall:,.0f}/s)",
        ),
        ("dry run CPU time", f"{cpu:.1f} s ({real_s / cpu:,.0f}x real time on CPU time)"),
        ("dry run speed", f"{multiple:,.0f}x real time (target >= {DRY_RUN_TARGET_X:.0f}x)"),
        ("dry run, two hours at this speed", f"{7200 / multiple:.1f} s (target <= 30 s)"),
        ("dry run outputs", f"{outputs:,} commands, {len(result.triggers):,} trigger firings"),
        (
            "dry run events replayed",
            f"{sum(result.operator.values())} operator actions ({result.go_rejected} GO"
            f" refused), {len(result.source_events)} source events",
        ),
        ("dry run result", "MEETS TARGET" if multiple >= DRY_RUN_TARGET_X else "BELOW TARGET"),
    ]
    report = ""
    if profiler is not None:
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("tottime").print_stats(25)
        report = buf.getvalue()
    return rows, report


def bench(
    minutes: float, signals: int, rate_hz: float, directory: Path, profile: bool = False
) -> tuple[list[tuple[str, str]], str]:
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
    for t, kind, event in bench_events(minutes * 60):
        command = type(event).__name__.lower() if kind == "operator" else ""
        recorder.add_event(t, kind, {"command": command, "event": encode_event(event)})
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
    dry_rows, profile_report = bench_dry_run(path, minutes, signals, profile)
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
        *dry_rows,
    ], profile_report


def bench_replay_timing(directory: Path, frames: int = 200) -> list[tuple[str, str]]:
    """Replay at 1x on the real event-loop clock: how far each frame lands from its
    recorded time (irregular spacing of 5-50 ms)."""
    path = directory / "timing.sqlite"
    rnd = random.Random(7)
    t = 0.0
    with Recorder(path, show="timing", started=1_764_230_400.0) as recorder:
        for i in range(frames):
            recorder.add_samples([(t, 1_764_230_400.0 + t, "a", "a.x", float(i), None)])
            t += rnd.uniform(0.005, 0.05)

    async def run() -> list[float]:
        loop = asyncio.get_running_loop()
        with Recording.open(path) as rec:
            start = loop.time()
            replayer = Replayer(rec, speed=1.0, anchor=start)
            return [abs(loop.time() - start - f.t) async for f in replayer.play()]

    errors = sorted(eventloop.run(run()))  # the loop `stovelight replay` runs on
    p99 = errors[min(len(errors) - 1, int(0.99 * len(errors)))]
    return [
        (
            "replay at 1x, timing error",
            f"p50 {errors[len(errors) // 2] * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms,"
            f" max {errors[-1] * 1e3:.2f} ms over {len(errors)} frames",
        )
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120.0, help="recording length")
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0, help="samples per signal per second")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: temp)")
    parser.add_argument("--profile", action="store_true", help="cProfile the dry run")
    parser.add_argument(
        "--write-docs", type=Path, default=None, help="replace this file's rehearsal section"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows, profile_report = bench(args.minutes, args.signals, args.rate, Path(tmp), args.profile)
        rows += bench_replay_timing(Path(tmp))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows.append(
        ("conditions", f"{stamp}, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    )
    width = max(len(k) for k, _ in rows)
    table = [f"{'metric':<{width}}  value", f"{'-' * width}  {'-' * 40}"]
    table += [f"{key:<{width}}  {value}" for key, value in rows]
    print("\n".join(table))
    if args.write_docs is not None:
        argv = " ".join(a for a in sys.argv[1:] if a not in ("--write-docs", str(args.write_docs)))
        command = ".venv/bin/python bench/rehearsal.py" + (f" {argv}" if argv else "")
        write_section(args.write_docs, DOCS_TITLE, "\n".join(table), command)
    if profile_report:
        print("\ndry run profile (top 25 by own time):")
        print(profile_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
