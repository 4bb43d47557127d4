"""``stovelight run`` and ``stovelight demo``: a show on the live clock."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from bridges import eventloop
from show.app import RunOptions, Seams, SetupError, SimulatorOptions, start_show
from show.cliargs import host_port, number_in, port, positive_float, whole_in
from show.errors import ShowFileError
from show.runtime.logsetup import configure_show_logging, flush_show_logging
from show.runtime.pairing import PairingOptions
from show.runtime.pairing import add_arguments as add_pairing_arguments
from show.runtime.priority import loop_priority
from show.runtime.runner import ShowRunner
from show.showfile.config import Show
from show.showfile.load import load_show, parse_show

__all__ = ["demo_show_text", "register", "run_options", "run_show"]

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``run`` and ``demo`` to the CLI."""
    run = sub.add_parser("run", help="run a show against live telemetry")
    run.add_argument("show", help="show file (TOML)")
    run.add_argument(
        "--watch",
        action="store_true",
        help="reload the show file whenever it is saved (SIGHUP, OSC /reload and the"
        " console's Reload button always do)",
    )
    _common(run)
    add_pairing_arguments(run)
    run.set_defaults(func=_run_cmd)
    demo = sub.add_parser(
        "demo", help="the built-in simulator and demo show, with dashboard and console"
    )
    from rehearsal.sim.scenarios import SCENARIOS

    demo.add_argument(
        "--scenario",
        default="malfunction",
        choices=sorted(SCENARIOS),
        help="simulator scenario: %(choices)s (default %(default)s)",
    )
    demo.add_argument(
        "--homes", type=whole_in(1, 9999), default=8, help="simulated home stovetops, 1..9999"
    )
    demo.add_argument(
        "--sim-port",
        "--port",
        dest="sim_port",
        type=port,
        default=8766,
        help="simulator websocket port (default 8766; --port is the same flag)",
    )
    demo.add_argument(
        "--time-scale", type=positive_float, default=1.0, help="stretch the scenario (> 0)"
    )
    demo.add_argument(
        "--osc-out",
        type=host_port,
        default=("127.0.0.1", 9000),
        metavar="HOST:PORT",
        help="where the demo's sound and light desk messages go (default 127.0.0.1:9000)",
    )
    demo.add_argument(
        "--mqtt",
        action="store_true",
        help="carry the simulated telemetry through a private Mosquitto broker (MQTT)",
    )
    _common(demo)
    demo.set_defaults(func=_demo_cmd)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record", type=Path, help="record everything into this SQLite file")
    p.add_argument("--headless", action="store_true", help="render without a window")
    p.add_argument("--no-visuals", action="store_true", help="do not start the renderer")
    p.add_argument(
        "--web-port", type=port, help="dashboard/console port, 0..65535 (show file or 8765)"
    )
    p.add_argument("--web-host", help="dashboard/console interface")
    p.add_argument(
        "--control-port", type=port, help="QLab-compatible OSC port, 0..65535 (default 53000)"
    )
    p.add_argument("--token", help="console token (default: show file, else random)")
    p.add_argument("--log-dir", type=Path, help="where the rotating log file goes")
    p.add_argument(
        "--duration", type=positive_float, default=None, help="stop after N seconds (> 0)"
    )
    p.add_argument(
        "--go-at",
        type=number_in(0.0, 1e9),
        action="append",
        default=[],
        metavar="SECONDS",
        help="press GO this many seconds after start (repeatable; for unattended runs)",
    )
    p.add_argument(
        "--no-realtime",
        action="store_true",
        help="keep the show's loop at normal priority (by default it runs at real-time"
        " priority where Linux permits it)",
    )


def run_options(args: argparse.Namespace) -> RunOptions:
    """The options of ``run`` or ``demo`` (the only place that reads their namespace)."""
    return RunOptions(
        record=args.record,
        headless=args.headless,
        visuals=not args.no_visuals,
        web_port=args.web_port,
        web_host=args.web_host,
        control_port=args.control_port,
        token=args.token,
        log_dir=args.log_dir,
        duration=args.duration,
        go_at=tuple(args.go_at),
        watch=getattr(args, "watch", False),
        verbose=bool(getattr(args, "verbose", False)),
        realtime=not args.no_realtime,
        pairing=PairingOptions.from_args(args) if args.command == "run" else PairingOptions(),
    )


def _run_cmd(args: argparse.Namespace) -> int:
    try:
        show = load_show(args.show)
    except ShowFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    options = run_options(args)
    return eventloop.run(run_show(options.apply(show), options))


def demo_show_text() -> str:
    """The demo show shipped inside the package."""
    return resources.files("show").joinpath("demo/demo.toml").read_text(encoding="utf-8")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_cmd(args: argparse.Namespace) -> int:
    sim_port = args.sim_port or _free_tcp_port()  # the show must know the simulator's port
    text = demo_show_text().replace("ws://127.0.0.1:8766/", f"ws://127.0.0.1:{sim_port}/")
    show = parse_show(text, "demo.toml")
    host, osc_port = args.osc_out
    desk = dataclasses.replace(show.osc_targets[0], host=host, port=osc_port)
    show = dataclasses.replace(show, osc_targets=(desk,))
    sim = SimulatorOptions(args.scenario, args.homes, sim_port, args.time_scale)
    options = dataclasses.replace(run_options(args), simulator=sim)
    if not args.mqtt:
        return eventloop.run(run_show(options.apply(show), options))
    from rehearsal.broker import BrokerError
    from show.demo_mqtt import over_mqtt, with_broker

    def run_over(url: str) -> int:
        over = dataclasses.replace(options, simulator=dataclasses.replace(sim, mqtt_url=url))
        return eventloop.run(run_show(over.apply(over_mqtt(show, url)), over))

    try:
        return with_broker(run_over)
    except BrokerError as exc:
        print(f"stovelight: {exc}", file=sys.stderr)
        return 1


def _record_problem(path: Path) -> str | None:
    """Why a recording cannot be written at ``path``, or None if it looks writable."""
    folder = path.expanduser().resolve().parent
    if not folder.is_dir():
        return f"cannot record to {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot record to {path}: the folder {folder} is not writable"
    if path.is_dir():
        return f"cannot record to {path}: it is a folder; give a file name"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot record to {path}: the file is read-only"
    return None


async def run_show(show: Show, options: RunOptions, seams: Seams | None = None) -> int:
    """Run ``show`` until Ctrl-C, SIGTERM or ``--duration``; returns the exit status.

    Anything the show needs that cannot be had (a recording file, a port) ends the run
    before the show starts, with one line on stderr and exit status 1. Rows the recorder
    had to drop are summarised at the end and give exit status 3.
    """
    if options.record is not None and (problem := _record_problem(options.record)) is not None:
        print(f"stovelight: {problem}", file=sys.stderr)
        return 1
    # the log goes next to the show file unless --log-dir says otherwise
    log_dir = options.log_dir if options.log_dir is not None else show.path.parent / show.log_dir
    tail, log_path = configure_show_logging(show.model.title, log_dir, verbose=options.verbose)
    closers: list[Callable[[], Awaitable[None]]] = []
    seams = dataclasses.replace(seams or Seams(), signals=True)
    try:
        app = await start_show(show, options, seams=seams, tail=tail, closers=closers)
    except SetupError as exc:
        for closer in reversed(closers):  # what had started, in reverse order
            with contextlib.suppress(Exception):
                await closer()
        flush_show_logging()  # the reason is the last line on stderr
        print(f"stovelight: {exc}", file=sys.stderr)
        return 1
    runner = app.runner
    # The threads and processes start-up made keep normal priority; so does anything
    # started later (the priority resets on fork).
    with loop_priority(options.realtime) as priority:
        _print_banner(show, [*app.banner, f"Show loop:        {priority.detail}"], log_path)
        log.info("show loop: %s", priority.detail)
        await _run_until_stopped(runner, options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.remove_signal_handler(sig)
    flush_show_logging()
    status = _recording_status(runner, options.record)
    print("Stovelight stopped cleanly." if status == 0 else "Stovelight stopped.", flush=True)
    return status


async def _run_until_stopped(runner: ShowRunner, options: RunOptions) -> None:
    """Open the sources, run until stopped, close the outputs."""
    loop = asyncio.get_running_loop()
    # What start-up built (the show, the engine, the outputs) lives until the end:
    # frozen out of the collector, a full collection only scans what the show
    # allocates live, so a burst of garbage (a connection flood) cannot stall the
    # loop for a whole-heap scan.
    gc.collect()
    gc.freeze()
    if not runner.following:  # a tracking backup opens its sources when it takes over
        runner.start_sources()
    for t in options.go_at:
        loop.call_later(t, runner.control, "go", None, "", None, "--go-at")
    if options.duration is not None:
        loop.call_later(options.duration, runner.request_stop)
    await runner.wait()
    log.info("stopping: closing outputs in reverse order")
    await runner.aclose()


def _print_banner(show: Show, lines: list[str], log_path: Path | None) -> None:
    if log_path is not None:
        lines = [*lines, f"Log file:         {log_path}"]
    print(f"\nStovelight is running {show.model.title!r}", flush=True)
    for line in lines:
        print(f"  {line}", flush=True)
    print("  Press Ctrl-C to stop.\n", flush=True)


def _recording_status(runner: ShowRunner, record: Path | None) -> int:
    """3 when the recorder had to drop rows (said on stderr), else 0."""
    rec = runner.parts.recorder
    if rec is None or not rec.stats.dropped:
        return 0
    st = rec.stats
    print(
        f"stovelight: the recording {record} is incomplete: {st.dropped} rows dropped"
        f" ({st.write_errors} write errors; disk full or removed?)",
        file=sys.stderr,
    )
    return 3
