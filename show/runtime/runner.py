"""The running show: one asyncio loop wiring sources -> engine -> outputs.

Start order: recorder, OSC, MIDI, renderers, the engine task, the control
server, the web server, then the telemetry sources. Shutdown runs in reverse,
so outputs are flushed and ports closed in reverse order of opening. Every task
is named and owned by the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, assert_never

from bridges.telemetry import Sample as TelemetrySample
from bridges.telemetry import SourceStatus
from bridges.telemetry.types import SampleValue as TelemetryValue
from cues.bindings import BoundInputs
from cues.commands import (
    ClearNotice,
    Command,
    CueStateChanged,
    Notice,
    PlayheadChanged,
    Report,
    ReportLevel,
    SendMidi,
    SendOsc,
    SetScene,
    SetVisualInput,
    SignalHealthChanged,
    TriggerFired,
)
from cues.engine import Engine
from cues.eventcodec import encode_event
from cues.events import (
    ArmCue,
    EditCue,
    Event,
    SourceHealth,
)
from cues.model import CueId, MidiSpec
from cues.stepping import Stepper
from show.runtime.commands import (
    BACKUP_REFUSAL,
    COMMAND_TABLE,
    CommandSpec,
    Handling,
    OperatorCommand,
    OperatorRequest,
    Reply,
    engine_event,
    find_cue,
    finite_refusal,
    list_refusal,
    parse_command,
    value_refusal,
)
from show.runtime.healthlog import HealthLog
from show.runtime.views import OutputStats
from show.showfile.config import Show

__all__ = ["OscSink", "RendererLike", "ShowRunner", "Sources"]

log = logging.getLogger(__name__)

_MAX_SLEEP = 0.25
_TIMER_GRAIN = 0.001
"""epoll's timeout is whole milliseconds, rounded up: the engine loop sleeps until this
long before a deadline and yields turn by turn for the rest, so it is not late by up to
a millisecond (about half a millisecond of CPU per deadline)."""
_MIDI_REFRESH = 3.0


class OscSink(Protocol):
    """What the runner needs from an OSC output (``bridges.osc.output``)."""

    def send(self, target: str, address: str, args: Any = (), *, conflate: bool = True) -> bool: ...
    def flush(self, now: float | None = None) -> int: ...
    def next_due(self) -> float | None: ...
    def stats(self) -> dict[str, dict[str, Any]]: ...
    async def start(self) -> None: ...
    async def aclose(self, now: float | None = None) -> None: ...


class RendererLike(Protocol):
    """What the runner needs from a renderer process (``visuals.process``)."""

    def set_scene(
        self,
        name_or_path: str,
        transition: str | None = None,
        duration: float = 0.0,
        curve: str = "linear",
    ) -> None: ...
    def set_input(self, name: str, value: Any) -> None: ...
    def set_test_pattern(self, on: bool) -> None: ...
    def identify(self, on: bool) -> None: ...
    def stats(self) -> Any: ...
    def latest_preview(self) -> bytes | None: ...
    async def start(self) -> None: ...
    async def aclose(self) -> None: ...


class Sources(Protocol):
    """A telemetry source (``bridges.telemetry``)."""

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...
    async def aclose(self) -> None: ...
    def stats(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class SourceInfo:
    """Per-source bookkeeping for health displays."""

    status: str = "connecting"
    detail: str = ""
    up: bool | None = None
    samples: int = 0
    last_sample: float = -math.inf


@dataclass(slots=True)
class NoticeInfo:
    """A message shown on the public dashboard."""

    id: str
    text: str
    level: str
    since: float


class InputTap(Protocol):
    """Receives every input the runner hands the engine, in order (``show.runtime.tracking``)."""

    def samples(self, now: float, source: str, pairs: list[tuple[str, TelemetryValue]]) -> None: ...
    def event(self, now: float, kind: str, event: Event, data: dict[str, Any]) -> None: ...


class MidiPorts(Protocol):
    """What the runner needs from the show's MIDI ports (``show.runtime.midi_hub``)."""

    @property
    def available(self) -> bool: ...

    def open(self, loop: asyncio.AbstractEventLoop) -> None: ...
    def refresh(self) -> None: ...
    def send(self, port: str, spec: MidiSpec) -> bool: ...
    def run_timecode(self, now: Callable[[], float]) -> Awaitable[None]: ...
    def stats(self) -> list[OutputStats]: ...
    def close(self) -> None: ...


RecordedSample = tuple[float, float, str, str, Any, float | None]
"""``(show time, wall clock, source, signal, value, source timestamp)``."""


class RecorderCounts(Protocol):
    """A recorder's loss counters (``rehearsal.recorder.RecorderStats``)."""

    @property
    def dropped(self) -> int: ...
    @property
    def write_errors(self) -> int: ...


class RecorderLike(Protocol):
    """What the runner needs from a recorder (``rehearsal.recorder``)."""

    @property
    def stats(self) -> RecorderCounts: ...

    def start(self) -> object: ...
    def add_event(self, t: float, kind: str, data: Mapping[str, Any]) -> bool: ...
    def add_samples(self, rows: Iterable[RecordedSample]) -> int: ...
    def close(self, timeout: float | None = ...) -> object: ...


@dataclass
class RunnerParts:
    """The I/O pieces a runner drives; any may be absent."""

    osc: OscSink | None = None
    midi: MidiPorts | None = None
    renderers: dict[str, RendererLike] = field(default_factory=dict)
    sources: list[Sources] = field(default_factory=list)
    recorder: RecorderLike | None = None


class ShowRunner:
    """Runs one show until asked to stop. See the module docstring."""

    def __init__(
        self,
        show: Show,
        parts: RunnerParts,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.show = show
        self.parts = parts
        self._clock = clock
        self._t0 = 0.0
        self.engine = Engine(show.model, 0.0)
        self._steps = Stepper(self.engine, 0.0)  # the one deadline rule (cues.stepping)
        self.sources: dict[str, SourceInfo] = {}
        self.notices: dict[str, NoticeInfo] = {}
        self.listeners: list[Callable[[Command], None]] = []
        self.services: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._bound = BoundInputs(
            (vis.name, inp, sig) for vis in show.visuals for inp, sig in vis.bindings
        )
        self._closing = False
        self._reloading = False
        # what the command line changed (ports, token): applied to a reloaded file too
        self.overrides: Callable[[Show], Show] | None = None
        self.projector_aids: dict[str, bool] = {}
        self._health_log = HealthLog(log)
        self._pending_loss: dict[str, asyncio.TimerHandle] = {}
        # Redundancy (show.runtime.tracking): a tracking backup follows the main's inputs with
        # its outputs muted; the main hands every engine input to its taps.
        self.muted = False
        self.following = False
        self.input_taps: list[InputTap] = []
        self.takeover: Callable[[str], dict[str, Any]] | None = None
        self._held: dict[tuple[str, str], Command] = {}
        # scene changes and scene inputs of this turn, handed to the renderers after the
        # turn's OSC has left (see _act)
        self._for_renderers: list[SetVisualInput | SetScene] = []

    # -- time --------------------------------------------------------------------

    def now(self) -> float:
        """Show time in seconds since start (event-loop clock)."""
        clock = self._clock or asyncio.get_running_loop().time
        return clock() - self._t0

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Open outputs and start the engine task; then call ``start_sources``."""
        loop = asyncio.get_running_loop()
        self._t0 = (self._clock or loop.time)()
        p = self.parts
        if p.recorder is not None:
            p.recorder.start()
            self.services.append(("recorder", self._close_recorder))
        if p.osc is not None:
            await p.osc.start()
            self.services.append(("OSC output", self._close_osc))
        if p.midi is not None:
            p.midi.open(loop)
            self.services.append(("MIDI", self._close_midi))
            self._spawn(self._midi_refresh(), "midi-refresh")
            self._spawn(p.midi.run_timecode(self.now), "midi-timecode")
        for name, renderer in p.renderers.items():
            try:
                await renderer.start()
            except Exception as exc:  # the show runs without the projector
                log.error(
                    "visual output %s: renderer failed to start (%s); show continues", name, exc
                )
                continue
            self.services.append((f"renderer {name}", renderer.aclose))
            vis = next((v for v in self.show.visuals if v.name == name), None)
            if vis is not None and vis.scene:
                renderer.set_scene(vis.scene)
        self._spawn(self._engine_loop(), "engine")

    def start_sources(self) -> None:
        """Connect the telemetry sources (last, once every output is ready)."""
        for src in self.parts.sources:
            self.sources.setdefault(src.name, SourceInfo())
            self._spawn(src.run(), f"source:{src.name}")

    def add_service(self, name: str, closer: Callable[[], Awaitable[None]]) -> None:
        """Register something started outside (control server, web server) for shutdown."""
        self.services.append((name, closer))

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %s ended with %r; show continues", task.get_name(), exc)

    def request_stop(self) -> None:
        """Ask ``wait`` to return (signal handlers call this)."""
        self._stop.set()

    async def wait(self) -> None:
        """Until ``request_stop``."""
        await self._stop.wait()

    async def aclose(self) -> None:
        """Stop sources, then flush and close everything in reverse order."""
        self._closing = True
        for src in self.parts.sources:
            with contextlib.suppress(Exception):
                await src.aclose()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._drain(self.now())
        if self.parts.recorder is not None:  # the dry run of this recording ends here too
            self.parts.recorder.add_event(self.now(), "note", {"text": "show stopped"})
        for name, closer in reversed(self.services):
            try:
                await closer()
                log.info("closed %s", name)
            except Exception as exc:
                log.warning("closing %s failed: %s", name, exc)
        self.services.clear()

    async def _close_osc(self) -> None:
        if self.parts.osc is not None:
            await self.parts.osc.aclose()

    async def _close_midi(self) -> None:
        if self.parts.midi is not None:
            self.parts.midi.close()

    async def _close_recorder(self) -> None:
        rec = self.parts.recorder
        if rec is not None:
            await asyncio.to_thread(rec.close)

    # -- the engine loop ---------------------------------------------------------------

    async def _engine_loop(self) -> None:
        loop = asyncio.get_running_loop()
        clock = self._clock or loop.time
        while True:
            self._drain(clock() - self._t0)
            if self.following:  # a tracking backup: the main's clock moves the engine
                self._wake.clear()
                await self._wake.wait()
                continue
            t = clock()  # loop time; the engine's deadlines are in show time (t - t0)
            sleep = _MAX_SLEEP
            step = self._steps.next_step()
            if step is not None:
                sleep = min(sleep, max(0.0, step - (t - self._t0)))
            osc_due = self.parts.osc.next_due() if self.parts.osc is not None else None
            if osc_due is not None:
                sleep = min(sleep, max(0.0, osc_due - t))
            self._wake.clear()
            end = loop.time() + sleep
            if sleep > _TIMER_GRAIN:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(end - _TIMER_GRAIN):
                        await self._wake.wait()
            # The last stretch one loop turn at a time (sockets are still served), as
            # the selector would round the rest up to a whole millisecond.
            await asyncio.sleep(0)
            while not self._wake.is_set() and loop.time() < end:
                await asyncio.sleep(0)

    def _drain(self, now: float) -> None:
        """Advance the engine to ``now`` and carry out what it asks for."""
        self._note(self._act(now), now)

    def _act(self, now: float) -> list[Command]:
        """Advance the engine to ``now`` and send its outputs: MIDI at once, then the
        OSC flushed, then the scene changes handed to the renderers; returns the
        commands for :meth:`_note`. Nothing else runs between an event and its packets:
        log lines, listeners (control replies, update pushes) and the recorder come
        after.

        The renderers come last because handing one a change wakes another process
        (on a two-core machine it took the CPU from the show's own OSC send: an
        OSC + MIDI + visual cue reached the wire 0.1-0.2 ms later than an OSC cue),
        while the picture changes at its next frame either way."""
        self._steps.advance(now)
        self._push_bound_inputs(now)
        commands = self.engine.commands()
        for cmd in commands:
            self._output(cmd, now)
        if self.parts.osc is not None:
            try:
                self.parts.osc.flush()
            except Exception as exc:
                log.error("OSC flush failed: %s; show continues", exc)
        self._hand_to_renderers()
        return commands

    def _hand_to_renderers(self) -> None:
        """Hand the renderers the scene changes and inputs :meth:`_perform` set aside."""
        if not self._for_renderers:
            return
        pending, self._for_renderers = self._for_renderers, []
        renderers = self.parts.renderers
        for cmd in pending:
            r = renderers.get(cmd.output)
            if r is None:
                continue
            try:
                _to_renderer(r, cmd)
            except Exception as exc:
                log.error("could not carry out %s: %s; show continues", cmd, exc)

    def _note(self, commands: list[Command], now: float) -> None:
        """Log, tell the listeners and record what :meth:`_act` carried out."""
        for cmd in commands:
            self._log_command(cmd)
            self._tell(cmd, now)

    def _execute(self, cmd: Command, now: float) -> None:
        self._output(cmd, now)
        self._log_command(cmd)
        self._tell(cmd, now)

    def _output(self, cmd: Command, now: float) -> None:
        try:
            self._perform(cmd, now)
        except Exception as exc:
            log.error("could not carry out %s: %s; show continues", cmd, exc)

    def _tell(self, cmd: Command, now: float) -> None:
        for listener in self.listeners:
            try:
                listener(cmd)
            except Exception as exc:
                log.error("listener failed on %s: %s", type(cmd).__name__, exc)
        rec = self.parts.recorder
        if rec is not None and not isinstance(cmd, SignalHealthChanged):
            rec.add_event(now, _event_kind(cmd), _event_data(cmd))

    def _perform(self, cmd: Command, now: float) -> None:
        p = self.parts
        if self.muted and isinstance(cmd, SendOsc | SendMidi | SetVisualInput | SetScene):
            self._hold(cmd)
            return
        if isinstance(cmd, SendOsc):
            if p.osc is not None:
                p.osc.send(cmd.target, cmd.address, cmd.args, conflate=cmd.continuous)
        elif isinstance(cmd, SendMidi):
            if p.midi is not None:
                p.midi.send(cmd.port, cmd.message)
        elif isinstance(cmd, SetVisualInput | SetScene):
            self._for_renderers.append(cmd)  # after the OSC: see _act
        elif isinstance(cmd, Notice):
            self.notices[cmd.id] = NoticeInfo(cmd.id, cmd.text, cmd.level, now)
        elif isinstance(cmd, ClearNotice):
            self.notices.pop(cmd.id, None)

    def _hold(self, cmd: Command) -> None:
        """Muted: keep the latest scene and scene inputs for :meth:`unmute`."""
        if isinstance(cmd, SetScene):
            self._held[(cmd.output, "")] = cmd
        elif isinstance(cmd, SetVisualInput):
            self._held[(cmd.output, cmd.name)] = cmd

    def _log_command(self, cmd: Command) -> None:
        """The operator's log line for a command (none for plain outputs)."""
        if isinstance(cmd, SetScene):
            log.info(
                "visual %s: scene %s (%s, %.1f s)",
                cmd.output,
                cmd.scene or "black",
                cmd.transition,
                cmd.duration,
            )
        elif isinstance(cmd, Notice):
            log.info("dashboard: %s %r", cmd.level, cmd.text)
        elif isinstance(cmd, CueStateChanged):
            cue = self.show.model.cues.get(cmd.cue)
            name = f" {cue.name!r}" if cue is not None and cue.name else ""
            log.info("cue %s%s: %s", cmd.cue, name, cmd.state.value)
        elif isinstance(cmd, PlayheadChanged):
            log.info("list %s: standby %s", cmd.cue_list, cmd.cue or "(end of list)")
        elif isinstance(cmd, SignalHealthChanged):
            sig = self.engine.signals.signals.get(cmd.signal)
            self._health_log.note(cmd.signal, cmd.health, sig.source if sig is not None else "")
        elif isinstance(cmd, TriggerFired):
            log.info("trigger %s fired (value %r)", cmd.trigger, cmd.value)
        elif isinstance(cmd, Report):
            level = {ReportLevel.ERROR: logging.ERROR, ReportLevel.WARNING: logging.WARNING}.get(
                cmd.level, logging.INFO
            )
            log.log(level, "%s: %s", cmd.subject, cmd.message)

    def _push_bound_inputs(self, now: float) -> None:
        """Scene inputs bound to signals (derived ones too) follow their newest value,
        pushed at most once per tick, as commands (recorded, so a dry run repeats them)."""
        if self._bound:
            for cmd in self._bound.poll(self.engine.signals.signals):
                self._execute(cmd, now)

    def _projector_aid(self, command: str, value: float | None, origin: str) -> dict[str, Any]:
        """Projector set-up aids: the test pattern and the identify overlay. ``value``
        1/0 switches on/off; without it the aid toggles."""
        if not self.parts.renderers:
            return {"ok": False, "error": "no visual output in this show"}
        current = self.projector_aids.get(command, False)
        on = (not current) if value is None else bool(value)
        self.projector_aids[command] = on
        for renderer in self.parts.renderers.values():
            if command == "test_pattern":
                renderer.set_test_pattern(on)
            else:
                renderer.identify(on)
        log.info(
            "projector %s %s (%s)",
            command.replace("_", " "),
            "on" if on else "off",
            origin or "operator",
        )
        return {"ok": True, command: on}

    async def _midi_refresh(self) -> None:
        midi = self.parts.midi
        while midi is not None and midi.available:
            await asyncio.sleep(_MIDI_REFRESH)
            midi.refresh()

    # -- telemetry in (the TelemetrySink protocol) ------------------------------------

    def on_samples(self, source_name: str, samples: list[TelemetrySample]) -> None:
        """Feed samples to the engine; the newest value per signal wins downstream."""
        now = self.now()
        engine = self.engine
        info = self.sources.get(source_name)
        if info is None:
            info = self.sources[source_name] = SourceInfo()
        pairs = [(s.signal, s.value) for s in samples]
        engine.handle_samples(pairs, now, source_name)
        for tap in self.input_taps:
            tap.samples(now, source_name, pairs)
        info.samples += len(samples)
        info.last_sample = now
        rec = self.parts.recorder
        if rec is not None:
            wall = time.time()
            # "unavailable" (None) too: the engine acted on it, so a dry run must see it
            rec.add_samples([(now, wall, source_name, s.signal, s.value, s.ts) for s in samples])
        self._wake.set()

    def on_status(
        self, source_name: str, status: SourceStatus, detail: str, *, confirmed: bool = False
    ) -> None:
        """A source connected or went away.

        A loss reaches the engine only once it has lasted as long as the shortest stale
        window of the source's signals (``_loss_grace``): a reconnect quicker than that
        leaves its signals live and fires no ``lost`` trigger. A failure is at once.
        """
        if self._closing:
            return
        info = self.sources.setdefault(source_name, SourceInfo())
        if not confirmed:
            info.status, info.detail = status.value, detail
        up: bool | None = None
        if status is SourceStatus.CONNECTED:
            up = True
            pending = self._pending_loss.pop(source_name, None)
            if pending is not None:  # back within its grace: the engine never saw it go
                pending.cancel()
        elif status in (SourceStatus.DISCONNECTED, SourceStatus.FAILED):
            up = False
            if source_name in self._pending_loss and status is SourceStatus.FAILED:
                self._pending_loss.pop(source_name).cancel()
            elif info.up and not confirmed and status is SourceStatus.DISCONNECTED:
                if source_name not in self._pending_loss:
                    grace = self._loss_grace(source_name)
                    self._pending_loss[source_name] = asyncio.get_running_loop().call_later(
                        grace, self._loss_due, source_name, self.now() + grace
                    )
                return
        # only changes reach the engine: a source retrying every second is one loss
        if up is not None and up != info.up:
            info.up = up
            now = self.now()
            event = SourceHealth(source_name, up)
            self.engine.handle(event, now)
            self._record_event(now, "source", event, detail=detail)
            self._wake.set()

    def _loss_grace(self, source_name: str) -> float:
        """Seconds a source may be away before its signals are lost: the shortest
        stale window of its signals (none: at once)."""
        windows = [
            sig.definition.stale_after
            for sig in self.engine.signals.signals.values()
            if sig.source == source_name
        ]
        return min(windows, default=0.0)

    def _loss_due(self, source_name: str, due: float) -> None:
        """The grace of a lost source ran out (re-armed if show time runs slower)."""
        left = due - self.now()
        if left > 1e-3:
            loop = asyncio.get_running_loop()
            self._pending_loss[source_name] = loop.call_later(
                left, self._loss_due, source_name, due
            )
            return
        self._pending_loss.pop(source_name, None)
        info = self.sources.get(source_name)
        detail = info.detail if info is not None else ""
        self.on_status(source_name, SourceStatus.DISCONNECTED, detail, confirmed=True)

    # -- control in ---------------------------------------------------------------------

    def cue_id(self, number: str, cue_list: str = "") -> CueId | None:
        """Resolve a cue number (or ``List/number``) to its id."""
        return find_cue(self.show.model, number, cue_list)

    def control(
        self,
        command: str,
        cue: str | None = None,
        cue_list: str = "",
        value: float | None = None,
        origin: str = "",
    ) -> Reply:
        """Carry out an operator command given by its wire name (see :meth:`submit`);
        returns ``{"ok": bool, ...}``. Never raises."""
        op = parse_command(command)
        if op is None:
            refusal = finite_refusal(str(command), value)
            if refusal is None and self.following:
                refusal = {"ok": False, "error": BACKUP_REFUSAL}
            refusal = refusal or list_refusal(self.show.model, cue_list)
            return refusal or {"ok": False, "error": f"unknown command {command!r}"}
        return self.submit(OperatorRequest(op, cue, cue_list, value, origin))

    def submit(self, request: OperatorRequest) -> Reply:
        """Carry out an operator command as :data:`show.runtime.commands.COMMAND_TABLE`
        says; returns ``{"ok": bool, ...}``. Never raises.

        ``value`` must be a finite number: a panic time is clamped to 0-60 s, and a
        minimum GO time outside the show file's 0-10 s is refused.
        """
        spec = COMMAND_TABLE[request.command]
        refusal = value_refusal(request, spec)
        if refusal is not None:
            return refusal
        if self.following and not spec.for_backup:  # one engine decides: the main's
            return {"ok": False, "error": BACKUP_REFUSAL}
        match spec.handling:
            case Handling.ENGINE:
                return self._engine_command(request, spec)
            case Handling.RELOAD:
                return self.request_reload(request.origin)
            case Handling.TAKEOVER:
                if self.takeover is None:
                    return {"ok": False, "error": "this machine is not a tracking backup"}
                return self.takeover(f"operator ({request.origin or 'console'})")
            case Handling.PROJECTOR_AID:
                return self._projector_aid(request.command.value, request.value, request.origin)
            case _:
                assert_never(spec.handling)

    def _engine_command(self, request: OperatorRequest, spec: CommandSpec) -> Reply:
        """Hand the engine a command's event, send what it asks for at once, then log
        and record it; a refused GO says why."""
        event = engine_event(self.show.model, request, spec)
        if isinstance(event, dict):
            return event
        now = self.now()
        rejected_before = self.engine.stats.go_rejected
        self.engine.handle(event, now)
        commands = self._act(now)  # the cue's packets leave before any bookkeeping
        command, origin = request.command.value, request.origin
        if origin:
            log.info("operator %s from %s", command, origin)
        refused = (
            request.command is OperatorCommand.GO
            and self.engine.stats.go_rejected > rejected_before
        )
        self._record_event(
            now, "operator", event, command=command, cue=request.cue, origin=origin, refused=refused
        )
        self._note(commands, now)
        self._wake.set()
        return self._go_refusal(now) if refused else {"ok": True}

    def _go_refusal(self, now: float) -> dict[str, Any]:
        """Why GO was refused: a PANIC in progress or the double-GO guard, with time left."""
        e = self.engine
        if e.panic_until is not None:
            left = max(0.0, e.panic_until - now)
            return {
                "ok": False,
                "refused": "panic",
                "remaining": round(left, 2),
                "error": f"GO refused: PANIC in progress ({left:.1f} s left)",
            }
        left = max(0.0, e.last_go + e.min_go_interval - now)
        return {
            "ok": False,
            "refused": "guard",
            "remaining": round(left, 2),
            "error": f"GO refused by the double-GO guard ({left:.1f} s left)",
        }

    def edit(self, event: EditCue | ArmCue, origin: str = "") -> None:
        """Change a cue while the show runs (QLab's cue setters), recorded like an operator
        action so a dry run makes the same change at the same time. A tracking backup
        refuses: its cues change only as the main's do."""
        if self.following:
            log.warning("tracking backup: a cue edit from %s refused; edit on the main", origin)
            return
        now = self.now()
        self.engine.handle(event, now)
        self._record_event(now, "operator", event, command="edit", origin=origin)
        self._drain(now)

    # -- reload (see show.runtime.reload and cues.reload) -----------------------------------------

    def request_reload(self, origin: str = "") -> dict[str, Any]:
        """Reload the show file in the background (SIGHUP, OSC, the console); the
        outcome goes to the log. One reload at a time."""
        if self._reloading:
            return {"ok": False, "error": "a reload is already under way"}
        if self.following:  # its show changes only as the main's does
            log.warning("tracking backup: reload from %s refused", origin)
            return {"ok": False, "error": "a tracking backup reloads by restarting"}
        if self.input_taps:  # a backup follows this engine's inputs, not its file
            return {
                "ok": False,
                "error": "this show has a tracking backup: restart both machines with the new"
                " file instead of reloading",
            }
        from show.runtime.reload import reload_from_file

        self._reloading = True

        async def run() -> None:
            try:
                await reload_from_file(self, origin)
            finally:
                self._reloading = False

        self._spawn(run(), "reload")
        log.info("reload of %s asked by %s", self.show.path, origin or "operator")
        return {"ok": True, "reloading": str(self.show.path)}

    def reload(self, new: Show, origin: str = "", plan: Any = None) -> dict[str, Any]:
        """Apply an edited, validated show while it runs: cues, lists, signals,
        mappings, triggers and scene bindings at once; outputs, sources, [control] and
        [web] keep running as they are. Never raises."""
        from show.runtime.reload import io_changes

        refused, later = io_changes(self.show, new)
        if refused:
            message = "reload refused: " + "; ".join(refused) + "; restart the show to apply it"
            log.warning(message)
            return {"ok": False, "error": message}
        now = self.now()
        result = self.engine.reload(new.model, now, plan)
        if result.ok:
            bound = {v.name: v.bindings for v in new.visuals}
            visuals = tuple(
                dataclasses.replace(v, bindings=bound[v.name]) for v in self.show.visuals
            )
            self.show = dataclasses.replace(self.show, model=new.model, visuals=visuals)
            self._bound = BoundInputs(
                (vis.name, inp, sig) for vis in visuals for inp, sig in vis.bindings
            )
        if later:
            log.warning("reload: changes to %s apply at the next start", ", ".join(later))
        rec = self.parts.recorder
        if rec is not None:
            rec.add_event(now, "note", {"type": "Reload", "message": result.summary()})
        self._drain(now)
        self._wake.set()
        if not result.ok:
            return {"ok": False, "error": result.summary()}
        return {"ok": True, "summary": result.summary(), "next_start": later}

    def _record_event(self, now: float, kind: str, event: Event, **data: Any) -> None:
        """Record an event handed to the engine (``data["event"]``, see
        :mod:`cues.eventcodec`) with what the operator or source did."""
        rec = self.parts.recorder
        if rec is not None:
            rec.add_event(now, kind, {**data, "event": encode_event(event)})
        for tap in self.input_taps:
            tap.event(now, kind, event, data)

    # -- redundancy (see show.runtime.tracking) ---------------------------------------------------

    def mute(self) -> None:
        """Stop sending OSC, MIDI and visuals (a tracking backup, or a demoted main); the
        engine runs on and the latest scene and scene inputs are kept for :meth:`unmute`."""
        self.muted = True

    def unmute(self) -> None:
        """Send again, starting with the scenes and scene inputs held while muted (scenes
        as cuts: the crossfades already ran on the other machine)."""
        self.muted = False
        held, self._held = self._held, {}
        now = self.now()
        for cmd in held.values():
            if isinstance(cmd, SetScene):
                cmd = dataclasses.replace(cmd, transition="cut", duration=0.0)
            self._output(cmd, now)
        self._hand_to_renderers()
        self._wake.set()

    def follow_to(self, now: float) -> None:
        """A tracking backup's clock moved to ``now``: advance and act (muted)."""
        self._drain(now)

    def apply_input(self, event: Event, kind: str, data: dict[str, Any]) -> None:
        """Hand the engine an input the main handed its own (operator actions, edits,
        source health), at the show time the caller's clock says."""
        now = self.now()
        if isinstance(event, SourceHealth):
            info = self.sources.setdefault(event.source, SourceInfo())
            info.up = event.up
            info.status = "connected" if event.up else "disconnected"
        self.engine.handle(event, now)
        commands = self._act(now)
        self._record_event(now, kind, event, **data)
        self._note(commands, now)
        self._wake.set()


def _to_renderer(renderer: RendererLike, cmd: SetVisualInput | SetScene) -> None:
    """Hand a scene input or a scene change to its renderer: a cut is a zero-length
    change, a crossfade the renderer's default transition."""
    if isinstance(cmd, SetVisualInput):
        renderer.set_input(cmd.name, cmd.value)
        return
    transition = None if cmd.transition in ("", "crossfade") else cmd.transition
    if cmd.transition == "cut":
        transition, duration = None, 0.0
    else:
        duration = cmd.duration
    renderer.set_scene(cmd.scene or "black", transition, duration, cmd.curve)


def _event_kind(cmd: Command) -> str:
    if isinstance(cmd, CueStateChanged):
        return "cue_state"
    if isinstance(cmd, TriggerFired):
        return "trigger"
    if isinstance(cmd, SendOsc | SendMidi | SetScene | SetVisualInput):
        return "output"
    return "note"


def _event_data(cmd: Command) -> dict[str, Any]:
    if isinstance(cmd, CueStateChanged):
        return {
            "cue": cmd.cue.split("/", 1)[1],
            "list": cmd.cue.split("/", 1)[0],
            "state": cmd.state.value,
        }
    if isinstance(cmd, SendOsc):
        return {
            "osc": cmd.target,
            "address": cmd.address,
            "args": [a if not isinstance(a, bytes) else a.hex() for a in cmd.args],
        }
    if isinstance(cmd, SendMidi):
        return {"midi": cmd.port, "kind": cmd.message.kind, "value": cmd.message.value}
    if isinstance(cmd, SetVisualInput):
        return {"visual": cmd.output, "input": cmd.name, "value": cmd.value}
    if isinstance(cmd, SetScene):
        return {"visual": cmd.output, "scene": cmd.scene, "duration": cmd.duration}
    if isinstance(cmd, TriggerFired):
        v = cmd.value
        return {
            "trigger": cmd.trigger,
            "value": v if not isinstance(v, float) or math.isfinite(v) else None,
        }
    out: dict[str, Any] = {"type": type(cmd).__name__}
    for key in ("id", "text", "level", "subject", "message", "cue_list", "cue", "signal"):
        if hasattr(cmd, key):
            value = getattr(cmd, key)
            out[key] = value.value if hasattr(value, "value") else value
    return out
