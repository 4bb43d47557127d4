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
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from rehearsal.errors import RehearsalError
from show.cliargs import describe_os_error, host_port, number_in, port, positive_float, whole_in
from show.errors import ShowFileError, StovelightError
from show.qlab.control import QLabControl
from show.runtime.assemble import add_midi, add_sources, build_parts
from show.runtime.logsetup import configure_show_logging, flush_show_logging
from show.runtime.pairing import PairingError, follower_for, start_pairing
from show.runtime.pairing import add_arguments as add_pairing_arguments
from show.runtime.runner import ShowRunner
from show.runtime.tracking import InputLog
from show.showfile.access import exposure
from show.showfile.config import RelayConfig, Show
from show.showfile.load import load_show, parse_show
from show.web.snapshots import Snapshots

__all__ = ["register", "run_show"]

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


def _override(show: Show, args: argparse.Namespace) -> Show:
    web, control = show.web, show.control
    if args.web_port is not None:
        web = dataclasses.replace(web, port=args.web_port)
    if args.web_host:
        web = dataclasses.replace(web, host=args.web_host)
    if args.token:
        web = dataclasses.replace(web, console_token=args.token)
    if args.control_port is not None:
        control = dataclasses.replace(control, port=args.control_port)
    return dataclasses.replace(show, web=web, control=control)


def _run_cmd(args: argparse.Namespace) -> int:
    try:
        show = load_show(args.show)
    except ShowFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    return asyncio.run(run_show(_override(show, args), args))


def demo_show_text() -> str:
    """The demo show shipped inside the package."""
    return resources.files("show").joinpath("demo/demo.toml").read_text(encoding="utf-8")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_cmd(args: argparse.Namespace) -> int:
    if args.sim_port == 0:  # the show must know the port the simulator gets
        args.sim_port = _free_tcp_port()
    text = demo_show_text().replace("ws://127.0.0.1:8766/", f"ws://127.0.0.1:{args.sim_port}/")
    show = parse_show(text, "demo.toml")
    host, osc_port = args.osc_out
    desk = dataclasses.replace(show.osc_targets[0], host=host, port=osc_port)
    show = dataclasses.replace(show, osc_targets=(desk,))
    if not args.mqtt:
        return asyncio.run(run_show(_override(show, args), args, simulator=args))
    from rehearsal.broker import BrokerError
    from show.demo_mqtt import over_mqtt, with_broker

    def run_over(url: str) -> int:
        args.mqtt_url = url
        return asyncio.run(run_show(_override(over_mqtt(show, url), args), args, simulator=args))

    try:
        return with_broker(run_over)
    except BrokerError as exc:
        print(f"stovelight: {exc}", file=sys.stderr)
        return 1


class SetupError(StovelightError):
    """A show cannot start: one line for the operator, printed before the banner."""


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


async def run_show(show: Show, args: argparse.Namespace, simulator: Any = None) -> int:
    """Run ``show`` until Ctrl-C, SIGTERM or ``--duration``; returns the exit status.

    Anything the show needs that cannot be had (a recording file, a port) ends the run
    before the show starts, with one line on stderr and exit status 1. Rows the recorder
    had to drop are summarised at the end and give exit status 3.
    """
    if args.record is not None and (problem := _record_problem(args.record)) is not None:
        print(f"stovelight: {problem}", file=sys.stderr)
        return 1
    # the log goes next to the show file unless --log-dir says otherwise
    log_dir = args.log_dir if args.log_dir is not None else show.path.parent / show.log_dir
    tail, log_path = configure_show_logging(
        show.model.title, log_dir, verbose=bool(getattr(args, "verbose", False))
    )
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        runner, urls = await _start(show, args, simulator, tail, closers)
    except SetupError as exc:
        for closer in reversed(closers):  # what had started, in reverse order
            with contextlib.suppress(Exception):
                await closer()
        flush_show_logging()  # the reason is the last line on stderr
        print(f"stovelight: {exc}", file=sys.stderr)
        return 1
    if log_path is not None:
        urls.append(f"Log file:         {log_path}")
    print(f"\nStovelight is running {show.model.title!r}", flush=True)
    for line in urls:
        print(f"  {line}", flush=True)
    print("  Press Ctrl-C to stop.\n", flush=True)
    loop = asyncio.get_running_loop()
    # What start-up built (the show, the engine, the outputs) lives until the end:
    # frozen out of the collector, a full collection only scans what the show
    # allocates live, so a burst of garbage (a connection flood) cannot stall the
    # loop for a whole-heap scan.
    gc.collect()
    gc.freeze()
    if not runner.following:  # a tracking backup opens its sources when it takes over
        runner.start_sources()
    for t in args.go_at:
        loop.call_later(t, runner.control, "go", None, "", None, "--go-at")
    if args.duration is not None:
        loop.call_later(args.duration, runner.request_stop)
    await runner.wait()
    log.info("stopping: closing outputs in reverse order")
    await runner.aclose()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.remove_signal_handler(sig)
    flush_show_logging()
    status = 0
    rec = runner.parts.recorder
    if rec is not None and rec.stats.dropped:
        st = rec.stats
        print(
            f"stovelight: the recording {args.record} is incomplete: {st.dropped} rows dropped"
            f" ({st.write_errors} write errors; disk full or removed?)",
            file=sys.stderr,
        )
        status = 3
    print("Stovelight stopped cleanly." if status == 0 else "Stovelight stopped.", flush=True)
    return status


async def _start(
    show: Show,
    args: argparse.Namespace,
    simulator: Any,
    tail: Any,
    closers: list[Callable[[], Awaitable[None]]],
) -> tuple[ShowRunner, list[str]]:
    """Start everything but the sources; raises ``SetupError`` when something the show
    needs cannot be had (``closers`` then says how to close what had started)."""
    loop = asyncio.get_running_loop()
    sim = None
    publishing: Callable[[], Awaitable[None]] | None = None
    if simulator is not None:
        from rehearsal.sim.model import NeighbourhoodModel, SimConfig
        from rehearsal.sim.server import SimulatorServer

        model = NeighbourhoodModel(
            SimConfig(
                scenario=simulator.scenario, homes=simulator.homes, time_scale=simulator.time_scale
            )
        )
        sim = SimulatorServer(model, rate_hz=10.0, port=simulator.sim_port)
        try:
            await sim.start()
        except OSError as exc:
            raise SetupError(
                describe_os_error(exc, f"simulator port {simulator.sim_port}") + " (--sim-port)"
            ) from exc
        closers.append(sim.close)
        log.info("simulator: scenario %s on ws://127.0.0.1:%d/", simulator.scenario, sim.port)
        if getattr(simulator, "mqtt_url", ""):
            from show.demo_mqtt import attach_publisher

            publishing = attach_publisher(sim, simulator.mqtt_url)
            closers.append(publishing)
    follower = follower_for(show, args)  # a tracking backup runs on the main's clock
    parts = build_parts(
        show,
        clock=loop.time if follower is None else follower.clock,
        recording=args.record,
        headless=True if args.headless else None,
        renderers=not args.no_visuals,
    )
    runner = ShowRunner(show, parts, clock=None if follower is None else follower.clock)
    runner.overrides = lambda reloaded: _override(reloaded, args)
    if follower is not None:
        follower.attach(runner, InputLog())  # muted before any output opens
    add_midi(runner)
    add_sources(runner)
    if sim is not None:  # started first, so closed last
        runner.add_service("simulator", sim.close)
    if publishing is not None:
        runner.add_service("MQTT publisher", publishing)
    closers[:] = [runner.aclose]  # the runner closes the simulator too
    try:
        await runner.start()
    except (OSError, sqlite3.Error, RehearsalError) as exc:
        what = f"cannot record to {args.record}" if args.record else "cannot start the outputs"
        raise SetupError(f"{what}: {exc}") from exc
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.request_stop)
    loop.add_signal_handler(signal.SIGHUP, runner.request_reload, "SIGHUP")
    if getattr(args, "watch", False):
        watcher = asyncio.create_task(_watch(runner, show.path), name="show-file-watch")

        async def stop_watching() -> None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

        runner.add_service("show file watch", stop_watching)
    urls: list[str] = []
    control = None
    if show.control.enabled:
        control = QLabControl(runner, show.control)
        try:
            await control.start()
        except Exception as exc:  # the OSC bridge wraps the OSError in its own error
            cause = exc if isinstance(exc, OSError) else exc.__cause__
            why = (
                describe_os_error(cause, f"QLab control port {show.control.port}")
                if isinstance(cause, OSError)
                else f"QLab control could not start: {exc}"
            )
            raise SetupError(f"{why} (--control-port, or [control] port)") from exc
        runner.add_service("QLab control", control.aclose)
        urls.append(
            f"QLab-compatible OSC control: udp/tcp port {control.server.ports.udp}"
            f" ({exposure(show.control)})"
        )
    status = [control.stats] if control is not None else []
    try:
        urls.extend(await start_pairing(show, runner, args, follower, status))
    except PairingError as exc:
        raise SetupError(str(exc)) from exc
    # one Snapshots for the web server and the relay publisher: one set of histories
    # and one listener on the runner's commands, however many readers
    if show.web.enabled or show.relay is not None:
        snaps = Snapshots(runner, tail, status)
        if show.web.enabled:
            urls.extend(await _start_web(show, runner, snaps))
        if show.relay is not None:
            urls.append(_start_relay_publisher(show.relay, runner, snaps))
    for name, target in ((t.name, t) for t in show.osc_targets):
        urls.append(f"OSC out '{name}':   {target.transport} {target.host}:{target.port}")
    return runner, urls


def _start_relay_publisher(relay: RelayConfig, runner: ShowRunner, snaps: Snapshots) -> str:
    """Publish the public dashboard for ``stovelight relay`` processes ([relay])."""
    from show.web.publish import SnapshotPublisher

    publisher = SnapshotPublisher(relay, snaps.public)
    task = asyncio.create_task(publisher.run(), name="relay-publisher")

    async def close() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    runner.add_service("relay publisher", close)
    return f"Dashboard relays: {relay.broker} topic {relay.topic}"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


async def _watch(runner: ShowRunner, path: Path, interval: float = 1.0) -> None:
    """Reload when the show file changes (polled: no extra dependency, any editor).
    A half-written file is refused like any bad edit; the next save reloads."""
    last = _stamp(path)
    while True:
        await asyncio.sleep(interval)
        stamp = _stamp(path)
        if stamp is not None and stamp != last:
            last = stamp
            runner.request_reload("file change")


async def _start_web(show: Show, runner: ShowRunner, snaps: Snapshots) -> list[str]:
    from show.web import WebServer, new_console_token

    token = show.web.console_token or new_console_token()

    def preview() -> bytes | None:
        for rend in runner.parts.renderers.values():
            return rend.latest_preview()
        return None

    async def web_control(message: dict[str, Any]) -> dict[str, Any]:
        return runner.control(
            str(message.get("command", "")),
            message.get("cue"),
            str(message.get("list") or ""),
            origin="console",
        )

    web = WebServer(
        show.web.host,
        show.web.port,
        public_snapshot=snaps.public,
        console_snapshot=snaps.console,
        control=web_control,
        console_token=token,
        preview=preview,
        rate_hz=show.web.rate_hz,
        max_connections=show.web.max_connections,
        max_per_address=show.web.max_per_address,
        max_consoles=show.web.max_consoles,
        allowed_origins=list(show.web.allowed_origins) or None,
    )
    try:
        await web.start()
    except OSError as exc:
        raise SetupError(
            describe_os_error(exc, f"web server port {show.web.port}")
            + " (--web-port, or [web] port)"
        ) from exc
    runner.add_service("web server", web.aclose)
    host = "127.0.0.1" if show.web.host in ("0.0.0.0", "") else show.web.host
    return [
        f"Dashboard:        http://{host}:{web.port}/",
        f"Operator console: http://{host}:{web.port}/console?token={token}",
    ]
