"""The one composition root: a running show assembled from its show file and options.

``stovelight run`` and ``stovelight demo`` (:mod:`show.runcmd`), the runner tests
(``tests/show/live_support.py``) and the GO-latency bench all start a show through
:func:`start_show`. What differs between them is said in two typed values: the
:class:`RunOptions` (the command line, converted once at the edge) and the :class:`Seams`
(in-memory twins and switches tests and benches put in place of the real thing).

Start order: the demo's simulator, the runner with its outputs and engine
(:class:`show.runtime.runner.ShowRunner`; a tracking backup's follower first, as it is the
runner's clock), the show-file watch, QLab control, the tracking pair, then the web server
and the relay publisher. Sources are started last, by the caller, once the banner is out.
Everything started is registered with the runner, which closes it in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridges.midi.ports import MidiBackend
from rehearsal.errors import RehearsalError
from show.cliargs import describe_os_error
from show.errors import StovelightError
from show.qlab.control import QLabControl
from show.runtime.assemble import add_midi, add_sources, build_parts
from show.runtime.pairing import PairingError, PairingOptions, follower_for, start_pairing
from show.runtime.runner import RunnerParts, ShowRunner
from show.runtime.tracking import InputLog, TrackingFollower
from show.showfile.access import exposure
from show.showfile.config import RelayConfig, Show
from show.web.snapshots import Snapshots

__all__ = [
    "App",
    "RunOptions",
    "Seams",
    "SetupError",
    "SimulatorOptions",
    "start_show",
]

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


class SetupError(StovelightError):
    """A show cannot start: one line for the operator, printed before the banner."""


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """``stovelight demo``'s built-in simulator."""

    scenario: str = "malfunction"
    homes: int = 8
    port: int = 8766
    time_scale: float = 1.0
    mqtt_url: str = ""
    """Set: the simulator also publishes to this broker (``--mqtt``)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the command line says about a run (``stovelight run`` and ``demo``)."""

    record: Path | None = None
    headless: bool = False
    visuals: bool = True
    web_port: int | None = None
    web_host: str | None = None
    control_port: int | None = None
    token: str | None = None
    log_dir: Path | None = None
    duration: float | None = None
    go_at: tuple[float, ...] = ()
    watch: bool = False
    verbose: bool = False
    realtime: bool = True
    """Run the show's loop thread at real-time priority where permitted
    (:mod:`show.runtime.priority`); ``--no-realtime`` says False."""
    pairing: PairingOptions = field(default_factory=PairingOptions)
    simulator: SimulatorOptions | None = None

    def apply(self, show: Show) -> Show:
        """``show`` with the ports, host and token the command line overrides (also
        applied to every reloaded file)."""
        web, control = show.web, show.control
        if self.web_port is not None:
            web = dataclasses.replace(web, port=self.web_port)
        if self.web_host:
            web = dataclasses.replace(web, host=self.web_host)
        if self.token:
            web = dataclasses.replace(web, console_token=self.token)
        if self.control_port is not None:
            control = dataclasses.replace(control, port=self.control_port)
        return dataclasses.replace(show, web=web, control=control)


@dataclass(slots=True)
class Seams:
    """Where tests and benches put in-memory twins or leave a part out; the defaults are
    the real show."""

    parts: RunnerParts | None = None
    """The runner's outputs and recorder, built by the caller (default: the show file's)."""
    midi_backend: MidiBackend | None = None
    """The MIDI system (default: the real one, through mido)."""
    renderers: bool = True
    """False: no renderer process, whatever the options say."""
    web: bool = True
    """False: no web server and no relay publisher."""
    signals: bool = False
    """True: SIGINT/SIGTERM stop the show and SIGHUP reloads it (the command line)."""
    on_runner: Callable[[ShowRunner], None] | None = None
    """Called with the runner as soon as it exists (a bench's handle on it)."""


@dataclass(slots=True)
class App:
    """A started show: the runner and the services around it."""

    runner: ShowRunner
    control: QLabControl | None = None
    banner: list[str] = field(default_factory=list)
    """Lines for the operator: where the dashboard, console, control and outputs are."""


async def start_show(
    show: Show,
    options: RunOptions,
    *,
    seams: Seams | None = None,
    tail: Any = None,
    closers: list[Closer] | None = None,
) -> App:
    """Start everything but the sources (then call ``app.runner.start_sources()``).

    Args:
        show: The show, with ``options`` already applied (:meth:`RunOptions.apply`).
        options: The command line's options.
        seams: In-memory twins and switches for tests and benches.
        tail: The log tail the console shows (``show.runtime.logsetup``).
        closers: Filled with what to close if start-up fails part way.

    Raises:
        SetupError: Something the show needs cannot be had (a port, a recording file);
            ``closers`` then says how to close what had started.
    """
    seams = seams or Seams()
    closers = closers if closers is not None else []
    sim_closers = await _start_simulator(options.simulator, closers)
    follower = follower_for(show, options.pairing)
    runner = _build_runner(show, options, seams, follower)
    for name, closer in sim_closers:  # started first, so closed last
        runner.add_service(name, closer)
    closers[:] = [runner.aclose]  # the runner closes the simulator too
    try:
        await runner.start()
    except (OSError, sqlite3.Error, RehearsalError) as exc:
        what = (
            f"cannot record to {options.record}" if options.record else "cannot start the outputs"
        )
        raise SetupError(f"{what}: {exc}") from exc
    if seams.signals:
        _handle_signals(runner)
    if options.watch:
        _watch_file(runner, show.path)
    app = App(runner)
    status: list[Callable[[], dict[str, Any]]] = []
    if show.control.enabled:
        app.control = await _start_control(show, runner, app.banner)
        status.append(app.control.stats)
    try:
        app.banner.extend(await start_pairing(show, runner, options.pairing, follower, status))
    except PairingError as exc:
        raise SetupError(str(exc)) from exc
    if seams.web:
        await _start_web_side(show, runner, tail, status, app.banner)
    for target in show.osc_targets:
        app.banner.append(
            f"OSC out '{target.name}':   {target.transport} {target.host}:{target.port}"
        )
    return app


def _build_runner(
    show: Show, options: RunOptions, seams: Seams, follower: TrackingFollower | None
) -> ShowRunner:
    """The runner with its outputs, MIDI and sources (none started yet)."""
    loop = asyncio.get_running_loop()
    clock = loop.time if follower is None else follower.clock  # a backup: the main's clock
    parts = seams.parts
    if parts is None:
        parts = build_parts(
            show,
            clock=clock,
            recording=options.record,
            headless=True if options.headless else None,
            renderers=options.visuals and seams.renderers,
        )
    runner = ShowRunner(show, parts, clock=None if follower is None else follower.clock)
    if seams.on_runner is not None:
        seams.on_runner(runner)
    runner.overrides = options.apply
    if follower is not None:
        follower.attach(runner, InputLog())  # muted before any output opens
    add_midi(runner, backend=seams.midi_backend)
    add_sources(runner)
    return runner


async def _start_simulator(
    options: SimulatorOptions | None, closers: list[Closer]
) -> list[tuple[str, Closer]]:
    """The demo's simulator (and its MQTT publisher); returns them as services."""
    if options is None:
        return []
    from rehearsal.sim.model import NeighbourhoodModel, SimConfig
    from rehearsal.sim.server import SimulatorServer

    model = NeighbourhoodModel(
        SimConfig(scenario=options.scenario, homes=options.homes, time_scale=options.time_scale)
    )
    sim = SimulatorServer(model, rate_hz=10.0, port=options.port)
    try:
        await sim.start()
    except OSError as exc:
        raise SetupError(
            describe_os_error(exc, f"simulator port {options.port}") + " (--sim-port)"
        ) from exc
    closers.append(sim.close)
    log.info("simulator: scenario %s on ws://127.0.0.1:%d/", options.scenario, sim.port)
    services: list[tuple[str, Closer]] = [("simulator", sim.close)]
    if options.mqtt_url:
        from show.demo_mqtt import attach_publisher

        publishing = attach_publisher(sim, options.mqtt_url)
        closers.append(publishing)
        services.append(("MQTT publisher", publishing))
    return services


def _handle_signals(runner: ShowRunner) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.request_stop)
    loop.add_signal_handler(signal.SIGHUP, runner.request_reload, "SIGHUP")


def _watch_file(runner: ShowRunner, path: Path) -> None:
    watcher = asyncio.create_task(_watch(runner, path), name="show-file-watch")

    async def stop_watching() -> None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    runner.add_service("show file watch", stop_watching)


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


async def _start_control(show: Show, runner: ShowRunner, banner: list[str]) -> QLabControl:
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
    banner.append(
        f"QLab-compatible OSC control: udp/tcp port {control.server.ports.udp}"
        f" ({exposure(show.control)})"
    )
    return control


async def _start_web_side(
    show: Show,
    runner: ShowRunner,
    tail: Any,
    status: list[Callable[[], dict[str, Any]]],
    banner: list[str],
) -> None:
    """One Snapshots for the web server and the relay publisher: one set of histories and
    one listener on the runner's commands, however many readers."""
    if not show.web.enabled and show.relay is None:
        return
    snaps = Snapshots(runner, tail, status)
    if show.web.enabled:
        banner.extend(await _start_web(show, runner, snaps))
    if show.relay is not None:
        banner.append(_start_relay_publisher(show.relay, runner, snaps))


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
        dataclasses.replace(show.web, console_token=token),
        public_snapshot=snaps.public,
        console_snapshot=lambda: snaps.console(wire=True),  # idle rows encoded once
        control=web_control,
        preview=preview,
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
