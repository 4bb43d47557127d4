"""``stovelight run`` and ``stovelight demo``: a show on the live clock."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from show.assemble import add_midi, add_sources, build_parts
from show.config import Show
from show.errors import ShowFileError
from show.logsetup import configure_show_logging
from show.qlab import QLabControl
from show.runner import ShowRunner
from show.showfile import load_show, parse_show
from show.snapshots import Snapshots

__all__ = ["register", "run_show"]

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``run`` and ``demo`` to the CLI."""
    run = sub.add_parser("run", help="run a show against live telemetry")
    run.add_argument("show", help="show file (TOML)")
    _common(run)
    run.set_defaults(func=_run_cmd)
    demo = sub.add_parser(
        "demo", help="the built-in simulator and demo show, with dashboard and console"
    )
    demo.add_argument("--scenario", default="malfunction", help="simulator scenario")
    demo.add_argument("--homes", type=int, default=8, help="simulated home stovetops")
    demo.add_argument("--sim-port", type=int, default=8766, help="simulator websocket port")
    demo.add_argument("--time-scale", type=float, default=1.0, help="stretch the scenario")
    demo.add_argument(
        "--osc-out",
        default="127.0.0.1:9000",
        metavar="HOST:PORT",
        help="where the demo's sound and light desk messages go (default 127.0.0.1:9000)",
    )
    _common(demo)
    demo.set_defaults(func=_demo_cmd)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record", type=Path, help="record everything into this SQLite file")
    p.add_argument("--headless", action="store_true", help="render without a window")
    p.add_argument("--no-visuals", action="store_true", help="do not start the renderer")
    p.add_argument("--web-port", type=int, help="dashboard/console port (show file or 8765)")
    p.add_argument("--web-host", help="dashboard/console interface")
    p.add_argument("--control-port", type=int, help="QLab-compatible OSC port (default 53000)")
    p.add_argument("--token", help="console token (default: show file, else random)")
    p.add_argument("--log-dir", type=Path, help="where the rotating log file goes")
    p.add_argument("--duration", type=float, default=None, help="stop after N seconds")
    p.add_argument(
        "--go-at",
        type=float,
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


def _demo_cmd(args: argparse.Namespace) -> int:
    text = demo_show_text().replace("ws://127.0.0.1:8766/", f"ws://127.0.0.1:{args.sim_port}/")
    show = parse_show(text, "demo.toml")
    host, _, port = str(args.osc_out).rpartition(":")
    if not host or not port.isdigit():
        print(f"--osc-out wants HOST:PORT, got {args.osc_out!r}", file=sys.stderr)
        return 2
    desk = dataclasses.replace(show.osc_targets[0], host=host, port=int(port))
    show = dataclasses.replace(show, osc_targets=(desk,))
    return asyncio.run(run_show(_override(show, args), args, simulator=args))


async def run_show(show: Show, args: argparse.Namespace, simulator: Any = None) -> int:
    """Run ``show`` until Ctrl-C, SIGTERM or ``--duration``; returns the exit status."""
    # the log goes next to the show file unless --log-dir says otherwise
    log_dir = args.log_dir if args.log_dir is not None else show.path.parent / show.log_dir
    tail, log_path = configure_show_logging(
        show.model.title, log_dir, verbose=bool(getattr(args, "verbose", False))
    )
    loop = asyncio.get_running_loop()
    sim = None
    if simulator is not None:
        from rehearsal.sim.model import NeighbourhoodModel, SimConfig
        from rehearsal.sim.server import SimulatorServer

        model = NeighbourhoodModel(
            SimConfig(
                scenario=simulator.scenario, homes=simulator.homes, time_scale=simulator.time_scale
            )
        )
        sim = SimulatorServer(model, rate_hz=10.0, port=simulator.sim_port)
        await sim.start()
        log.info("simulator: scenario %s on ws://127.0.0.1:%d/", simulator.scenario, sim.port)
    parts = build_parts(
        show,
        clock=loop.time,
        recording=args.record,
        headless=True if args.headless else None,
        renderers=not args.no_visuals,
    )
    runner = ShowRunner(show, parts)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.request_stop)
    add_midi(runner)
    add_sources(runner)
    if sim is not None:  # started first, so closed last
        runner.add_service("simulator", sim.close)
    await runner.start()
    urls: list[str] = []
    control = None
    if show.control.enabled:
        control = QLabControl(runner, show.control)
        try:
            await control.start()
            runner.add_service("QLab control", control.aclose)
            urls.append(f"QLab-compatible OSC control: udp/tcp port {control.server.ports.udp}")
        except Exception as exc:
            log.error("QLab control could not start (%s); show continues without it", exc)
            control = None
    if show.web.enabled:
        from show.web import WebServer, new_console_token

        token = show.web.console_token or new_console_token()
        snaps = Snapshots(runner, tail, [control.stats] if control is not None else [])

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
            runner.add_service("web server", web.aclose)
            host = "127.0.0.1" if show.web.host in ("0.0.0.0", "") else show.web.host
            urls.append(f"Dashboard:        http://{host}:{web.port}/")
            urls.append(f"Operator console: http://{host}:{web.port}/console?token={token}")
        except OSError as exc:
            log.error("web server could not start on port %s (%s)", show.web.port, exc)
    for name, target in ((t.name, t) for t in show.osc_targets):
        urls.append(f"OSC out '{name}':   {target.transport} {target.host}:{target.port}")
    if log_path is not None:
        urls.append(f"Log file:         {log_path}")
    print(f"\nStovelight is running {show.model.title!r}", flush=True)
    for line in urls:
        print(f"  {line}", flush=True)
    print("  Press Ctrl-C to stop.\n", flush=True)
    runner.start_sources()
    for t in args.go_at:
        loop.call_later(t, runner.control, "go", None, "", None, "--go-at")
    if args.duration is not None:
        loop.call_later(args.duration, runner.request_stop)
    await runner.wait()
    log.info("stopping: closing outputs in reverse order")
    await runner.aclose()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
    print("Stovelight stopped cleanly.", flush=True)
    return 0
