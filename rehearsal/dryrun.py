"""Dry run: a show against a recording on the virtual clock, as fast as it goes.

The same engine the live runner drives (:class:`cues.engine.Engine`) is fed the recording's
samples at their recorded times and the operator's GOs, and advanced deadline to deadline in
between by :class:`cues.stepping.Stepper` (the rule the runner and the engine tests use)::

    for each instant t of the recording (samples with equal t_recv):
        events due at or before t:  run deadlines up to the event, handle(event), advance
        run every deadline <= t (advance at each)
        handle_samples(the instant's samples, t), then advance(t)

This is what :class:`show.runtime.runner.ShowRunner` does on the event loop clock, minus the
waiting, so both give the same cue firings and outputs (the tests check it against a recorded live
run). Show time equals recording time.

Events: a live run (``stovelight run --record``) records every event it hands the engine
(:mod:`cues.eventcodec`): operator actions (GO, refused GOs too, stop, pause, resume, panic,
playhead moves, the double-GO guard, cue edits) as ``operator`` and source connects and
disconnects as ``source``. Source events are always replayed; operator actions when asked
(``gos_from_recording``). Older recordings hold only the operator's command name: GO, stop,
pause, resume, panic, reset and the playhead moves are replayed from it. After every advance
scene inputs bound to signals follow their signals (:class:`cues.bindings.BoundInputs`, the
runner's own rule).

Sources: without recorded source events (recordings made by ``stovelight record`` or an older
version) the show's telemetry sources are reported connected at the start, as when the show
opens its websockets. A sample is handed to the engine under its recorded source name if that
is one of the show's sources; otherwise, when the show has exactly one source, under that one
(recordings made with ``stovelight record`` store the frame's source, e.g. ``central``).

Nothing here keeps every command: a :class:`Collector` counts outputs, keeps the cue, trigger
and health history (bounded) and bins the plotted signals into time buckets for the timeline,
so a two-hour recording of 100 signals fits in memory. ``on_command`` sees every command.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from cues.bindings import BoundInputs
from cues.commands import (
    ClearNotice,
    Command,
    CueStateChanged,
    Notice,
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
from cues.eventcodec import decode_event
from cues.events import (
    Event,
    Go,
    Panic,
    Pause,
    PlayheadNext,
    PlayheadPrevious,
    Reset,
    Resume,
    SourceHealth,
    Stop,
)
from cues.model import CueId, MscMessage, Value
from cues.stepping import Stepper
from rehearsal.recording import Recording
from rehearsal.replay import Replayer, resolve_start
from show.showfile.config import Show

__all__ = [
    "MAX_HISTORY",
    "Collector",
    "DryRunResult",
    "Lane",
    "OutputKey",
    "Progress",
    "dry_run",
    "plotted_signals",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Cue changes, trigger firings, health changes and reports kept (each); the rest is counted.
MAX_HISTORY = 100_000
#: Signal-valued keys of a dashboard panel.
_PANEL_KEYS = ("signal", "supply", "demand", "exchange", "balance", "temperature", "state")

#: Instants between two progress reports.
PROGRESS_EVERY = 20_000
#: Operator commands of recordings without engine events that are replayed, by name.
_LEGACY_COMMANDS: dict[str, Callable[[], Event]] = {
    "go": Go,
    "stop": Stop,
    "pause": Pause,
    "resume": Resume,
    "panic": Panic,
    "reset": Reset,
    "playhead_next": PlayheadNext,
    "playhead_previous": PlayheadPrevious,
}

Progress = Callable[[float, float, float], None]
"""Called as ``progress(show_time, start, end)`` while a long dry run goes on."""

OutputKey = tuple[str, str]
"""``(kind, name)`` of an output: ``("osc", "desk")``, ``("visual", "projector")``,
``("midi", "synth")`` or ``("dashboard", "notices")``."""


@dataclass(slots=True)
class Lane:
    """One plotted signal, binned into ``len(last)`` time buckets.

    Numbers and booleans (0/1) are plotted as they are; strings as categories numbered in
    order of appearance (``categories``). Each bucket keeps min, max and last value.
    """

    signal: str
    unit: str
    derived: bool
    lo: list[float]
    hi: list[float]
    last: list[float]
    categories: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    @classmethod
    def empty(cls, signal: str, unit: str, derived: bool, buckets: int) -> Lane:
        """A lane without data."""
        nan = math.nan
        return cls(signal, unit, derived, [nan] * buckets, [nan] * buckets, [nan] * buckets)

    def add(self, bucket: int, value: Value | None) -> None:
        """Bin one value (None is a gap and ignored)."""
        if value is None:
            return
        if isinstance(value, str):
            v = float(self.categories.setdefault(value, len(self.categories)))
        else:
            v = float(value)
            if not math.isfinite(v):
                return
        self.samples += 1
        lo = self.lo[bucket]
        if lo != lo or v < lo:  # NaN check without a call
            self.lo[bucket] = v
        hi = self.hi[bucket]
        if hi != hi or v > hi:
            self.hi[bucket] = v
        self.last[bucket] = v


@dataclass
class DryRunResult:
    """Everything a dry run found out, for the summary and the timeline.

    Times are show times in seconds (equal to recording times).
    """

    show_title: str
    show_file: str
    recording_file: str
    start: float
    end: float
    buckets: int
    samples: int = 0
    instants: int = 0
    gos: list[tuple[float, str]] = field(default_factory=list)
    operator: Counter[str] = field(default_factory=Counter)
    operator_skipped: Counter[str] = field(default_factory=Counter)
    go_refused_live: int = 0
    source_events: list[tuple[float, str, bool]] = field(default_factory=list)
    reloads: list[float] = field(default_factory=list)
    cue_changes: list[tuple[float, CueId, str]] = field(default_factory=list)
    cue_names: dict[CueId, str] = field(default_factory=dict)
    triggers: list[tuple[float, str, Value | None]] = field(default_factory=list)
    trigger_conditions: dict[str, str] = field(default_factory=dict)
    trigger_signals: dict[str, str] = field(default_factory=dict)
    health: list[tuple[float, str, str]] = field(default_factory=list)
    outputs: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    output_first: dict[tuple[str, str, str], tuple[float, tuple[Any, ...]]] = field(
        default_factory=dict
    )
    output_last: dict[tuple[str, str, str], tuple[Any, ...]] = field(default_factory=dict)
    output_buckets: dict[OutputKey, list[int]] = field(default_factory=dict)
    reports: list[tuple[float, str, str, str]] = field(default_factory=list)
    report_counts: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    refused: dict[str, int] = field(default_factory=dict)
    refused_names: dict[str, int] = field(default_factory=dict)
    go_rejected: int = 0
    lanes: list[Lane] = field(default_factory=list)
    unplotted: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def bucket_of(self, t: float) -> int:
        """The time bucket of show time ``t`` (clamped to the run)."""
        span = self.end - self.start
        if span <= 0:
            return 0
        b = int((t - self.start) / span * self.buckets)
        return 0 if b < 0 else self.buckets - 1 if b >= self.buckets else b

    def output_totals(self) -> Counter[OutputKey]:
        """Commands per output."""
        totals: Counter[OutputKey] = Counter()
        for (kind, name, _), n in self.outputs.items():
            totals[kind, name] += n
        return totals


class Collector:
    """Receives every command with its time and keeps what the report needs."""

    def __init__(
        self,
        result: DryRunResult,
        on_command: Callable[[float, Command], None] | None = None,
    ) -> None:
        self.result = result
        self.on_command = on_command
        self._bucket_cache: tuple[float, int] = (math.nan, 0)
        # OSC target -> ({address: [count, first time, first args, last command]}, buckets)
        self._osc: dict[str, tuple[dict[str, list[Any]], list[int]]] = {}

    def _bucket(self, t: float) -> int:
        cached_t, b = self._bucket_cache
        if cached_t != t:
            b = self.result.bucket_of(t)
            self._bucket_cache = (t, b)
        return b

    def _keep(self, what: str, items: list[_T], item: _T) -> None:
        if len(items) < MAX_HISTORY:
            items.append(item)
        else:
            self.result.dropped[what] += 1

    def collect(self, t: float, commands: Iterable[Command]) -> None:
        """Take the commands produced at show time ``t``."""
        hook = self.on_command
        # OSC, the bulk of a show's outputs, is counted in place; a run of commands to one
        # target looks the target up once and adds to its time bucket once
        target: str | None = None
        addresses: dict[str, list[Any]] = {}
        run = 0
        for cmd in commands:
            if hook is not None:
                hook(t, cmd)
            if type(cmd) is not SendOsc:
                self._other(t, cmd)
                continue
            if cmd.target != target:
                if run:
                    self._osc_bucket(target, t, run)
                    run = 0
                target = cmd.target
                addresses = self._osc_addresses(target)
            run += 1
            state = addresses.get(cmd.address)
            if state is None:
                addresses[cmd.address] = [1, t, cmd.args, cmd]
            else:
                state[0] += 1
                state[3] = cmd
        if run:
            self._osc_bucket(target, t, run)

    def _osc_addresses(self, target: str) -> dict[str, list[Any]]:
        """The per-address counts of OSC target ``target``."""
        per = self._osc.get(target)
        if per is None:
            per = self._osc[target] = ({}, [0] * self.result.buckets)
        return per[0]

    def _osc_bucket(self, target: str | None, t: float, n: int) -> None:
        """``n`` more OSC commands to ``target`` in the time bucket of ``t``."""
        self._osc[target or ""][1][self._bucket(t)] += n

    def finish(self) -> None:
        """Fold the OSC counts into the result (call once, after the last ``collect``)."""
        r = self.result
        for target, (addresses, buckets) in self._osc.items():
            r.output_buckets["osc", target] = buckets
            for address, (count, t, first, last) in addresses.items():
                key = ("osc", target, address)
                r.outputs[key] = count
                r.output_first[key] = (t, tuple(first))
                r.output_last[key] = tuple(last.args)
        self._osc.clear()

    def _other(self, t: float, cmd: Command) -> None:
        r = self.result
        key: tuple[str, str, str]
        payload: tuple[Any, ...]
        if isinstance(cmd, SetVisualInput):
            key = ("visual", cmd.output, f"input {cmd.name}")
            payload = (cmd.value,)
        elif isinstance(cmd, SendMidi):
            key = ("midi", cmd.port, cmd.message.kind)
            m = cmd.message
            if isinstance(m, MscMessage):  # reported as always: channel 1, SET's control or
                payload = (1, m.control or m.macro, m.value)  # FIRE's macro, SET's value
            else:
                payload = (m.channel, m.number, m.value)
        elif isinstance(cmd, SetScene):
            key = ("visual", cmd.output, "scene")
            payload = (cmd.scene or "black",)
        elif isinstance(cmd, Notice):
            key = ("dashboard", "notices", "notice")
            payload = (cmd.text,)
        elif isinstance(cmd, ClearNotice):
            key = ("dashboard", "notices", "clear")
            payload = (cmd.id,)
        else:
            self._record(t, cmd)
            return
        r.outputs[key] += 1
        r.output_last[key] = payload
        if key not in r.output_first:
            r.output_first[key] = (t, payload)
        okey = (key[0], key[1])
        counts = r.output_buckets.get(okey)
        if counts is None:
            counts = r.output_buckets[okey] = [0] * r.buckets
        counts[self._bucket(t)] += 1

    def _record(self, t: float, cmd: Command) -> None:
        r = self.result
        if isinstance(cmd, CueStateChanged):
            self._keep("cue changes", r.cue_changes, (t, cmd.cue, cmd.state.value))
        elif isinstance(cmd, TriggerFired):
            self._keep("trigger firings", r.triggers, (t, cmd.trigger, cmd.value))
        elif isinstance(cmd, SignalHealthChanged):
            self._keep("health changes", r.health, (t, cmd.signal, cmd.health.value))
        elif isinstance(cmd, Report):
            level = cmd.level.value
            r.report_counts[level] += 1
            if cmd.level is not ReportLevel.INFO:
                self._keep("reports", r.reports, (t, level, cmd.subject, cmd.message))


def plotted_signals(show: Show, recorded: Iterable[str]) -> list[str]:
    """Signals the show uses, most telling first: trigger and wait-for conditions, mapping
    inputs, then dashboard panels. Patterns are resolved against the recorded names; derived
    signals (computed by the engine) are included when the show uses them."""
    model = show.model
    recorded = sorted(recorded)
    derived = {d.name for d in model.derived}
    names: list[str] = [t.condition.signal for t in model.triggers if t.condition.signal]
    for cue in model.cues.values():
        if cue.wait is not None and cue.wait.condition.signal:
            names.append(cue.wait.condition.signal)
    names += [m.signal for m in model.mappings]
    for panel in show.web.panels:
        for key in _PANEL_KEYS:
            value = panel.get(key)
            if isinstance(value, str) and value:
                names.append(value)
    out: list[str] = []
    seen: set[str] = set()
    known = set(recorded)
    for name in names:
        if any(ch in name for ch in "*?["):
            matches = [r for r in recorded if fnmatchcase(r, name)]
        else:
            matches = [name] if name in known or name in derived else []
        for match in matches:
            if match not in seen:
                seen.add(match)
                out.append(match)
    return out


class _DryRun:
    """One pass of a show over a recording (see :func:`dry_run`)."""

    def __init__(self, show: Show, result: DryRunResult, collector: Collector) -> None:
        self.show = show
        self.result = result
        self.collector = collector
        self.engine = Engine(show.model, result.start)
        self.steps = Stepper(self.engine, result.start, self.drain)
        self.sources = [s.name for s in show.sources]
        self.source_of: dict[str, str] = {}
        self.bound = BoundInputs(
            (vis.name, inp, sig) for vis in show.visuals for inp, sig in vis.bindings
        )

    def drain(self, t: float) -> None:
        """Collect what the runner's drain would carry out at ``t``: bound scene inputs,
        then the engine's commands."""
        if self.bound:
            pushed = self.bound.poll(self.engine.signals.signals)
            if pushed:
                self.collector.collect(t, pushed)
        commands = self.engine.commands()
        if commands:
            self.collector.collect(t, commands)

    def engine_source(self, recorded: str) -> str:
        """The source name the live show would have handed the engine for ``recorded``."""
        name = self.source_of.get(recorded)
        if name is None:
            if recorded in self.sources or len(self.sources) != 1:
                name = recorded
            else:
                name = self.sources[0]
            self.source_of[recorded] = name
        return name

    def samples(self, t: float, frames: list[tuple[str, list[tuple[str, Any]]]]) -> int:
        """Hand the engine one instant's frames; consecutive frames the show hears from one
        source go in as one batch. Returns the number of samples."""
        handle_samples = self.engine.handle_samples
        source_of = self.source_of
        if len(frames) == 1:
            source, pairs = frames[0]
            handle_samples(pairs, t, source_of.get(source) or self.engine_source(source))
            return len(pairs)
        count = 0
        batch: list[tuple[str, Any]] = []
        batch_source = ""
        for source, pairs in frames:
            src = source_of.get(source) or self.engine_source(source)
            if src != batch_source and batch:
                handle_samples(batch, t, batch_source)
                batch = []
            batch_source = src
            batch += pairs
            count += len(pairs)
        handle_samples(batch, t, batch_source)
        return count

    def until(self, t: float) -> None:
        """Advance through every deadline at or before ``t`` (:mod:`cues.stepping`'s rule)."""
        if not self.steps.run_until(t):
            logger.warning("dry run: engine keeps asking for t = %.3f s; moving on", self.steps.now)

    def event(self, t: float, event: Event) -> None:
        """Hand in an operator or source event at ``t`` (deadlines before it run first)."""
        self.until(t)
        self.engine.handle(event, t)
        self.steps.advance(t)


def _recorded_event(data: dict[str, Any]) -> Event | None:
    """The engine event a recorded ``operator``/``source`` event stands for, if any."""
    encoded = data.get("event")
    if isinstance(encoded, dict):
        try:
            return decode_event(encoded)
        except ValueError as err:
            logger.warning("dry run: recorded event %r not replayed: %s", encoded, err)
            return None
    make = _LEGACY_COMMANDS.get(str(data.get("command", "")).lower())
    return None if make is None else make()


def _events(
    recording: Recording, go_at: Sequence[float], from_recording: bool, result: DryRunResult
) -> list[tuple[float, Event]]:
    """Every event to hand the engine, in time order; fills ``result.gos``, the operator
    and source counts."""
    events: list[tuple[float, Event]] = [(float(t), Go()) for t in go_at]
    gos = [(float(t), "--go-at") for t in go_at]
    if from_recording:
        for rec in recording.events(kind="operator"):
            command = str(rec.data.get("command", "")).lower() or "?"
            event = _recorded_event(rec.data)
            if event is None:
                result.operator_skipped[command] += 1
                continue
            events.append((rec.t, event))
            result.operator[command] += 1
            if isinstance(event, Go):
                gos.append((rec.t, "recording"))
                result.go_refused_live += bool(rec.data.get("refused"))
    for rec in recording.events(kind="note"):
        if rec.data.get("type") == "Reload":  # the show file changed: not replayed
            result.reloads.append(rec.t)
    for rec in recording.events(kind="source"):
        event = _recorded_event(rec.data)
        if isinstance(event, SourceHealth):
            events.append((rec.t, event))
            result.source_events.append((rec.t, event.source, event.up))
    gos.sort(key=lambda g: g[0])
    result.gos = gos
    events.sort(key=lambda e: e[0])  # stable: equal times keep the recorded order
    return events


def _last_time(recording: Recording, start: float, events: list[tuple[float, Event]]) -> float:
    """The last sample or event of the recording, or the last replayed event."""
    span = recording.time_range()
    last_event = recording.last_event_time()
    return max(
        [start]
        + ([span[1]] if span else [])
        + ([last_event] if last_event is not None else [])
        + [t for t, _ in events]
    )


def _describe(show: Show, recording: Recording, result: DryRunResult, max_lanes: int) -> None:
    """The names, conditions and plotted lanes the report needs from the show."""
    model = show.model
    result.cue_names = {cid: cue.name for cid, cue in model.cues.items()}
    result.trigger_conditions = {t.name: t.condition.describe() for t in model.triggers}
    result.trigger_signals = {t.name: t.condition.signal for t in model.triggers}
    units = {s.name: s.unit for s in model.signals} | {d.name: d.unit for d in model.derived}
    derived = {d.name for d in model.derived}
    wanted = plotted_signals(show, recording.signals())
    result.unplotted = wanted[max_lanes:]
    for name in wanted[:max_lanes]:
        unit = units.get(name) or next(
            (s.unit for s in model.signals if fnmatchcase(name, s.name)), ""
        )
        result.lanes.append(Lane.empty(name, unit, name in derived, result.buckets))


def _with_connects(
    sources: list[str], result: DryRunResult, replayed: list[tuple[float, Event]]
) -> list[tuple[float, Event]]:
    """``replayed`` with the show's sources connecting at the start, unless the recording
    has their connects and disconnects."""
    recorded_sources = {name for _, name, _ in result.source_events}
    events: list[tuple[float, Event]] = [
        (result.start, SourceHealth(name, True)) for name in sources if name not in recorded_sources
    ]
    events += replayed
    events.sort(key=lambda e: e[0])
    return events


def _bin_lanes(result: DryRunResult, signals: Mapping[str, Any], t: float) -> None:
    """The plotted signals' values at ``t`` into their time bucket."""
    b = result.bucket_of(t)
    for lane in result.lanes:
        sig = signals.get(lane.signal)
        if sig is not None and (lane.derived or sig.time == t):
            lane.add(b, sig.value)


def _replay_instants(
    run: _DryRun,
    recording: Recording,
    events: list[tuple[float, Event]],
    progress: Progress | None,
) -> tuple[int, int, int]:
    """Every instant of the recording up to the end, with the events due before each;
    returns (samples, instants, index of the first event not handed in)."""
    result = run.result
    stop = result.end
    ei = 0
    n_events = len(events)
    step = run.steps.advance
    hand_in = run.samples
    next_progress = PROGRESS_EVERY if progress is not None else -1
    samples = instants = 0
    replayer = Replayer(recording, speed=None, start=result.start)
    only_sources = replayer.sources
    signals = run.engine.signals.signals
    lanes = bool(result.lanes)
    for t, frames in recording.instant_frames(start=replayer.origin, end=replayer.end):
        if only_sources is not None:
            frames = [f for f in frames if f[0] in only_sources]
            if not frames:
                continue
        if t > stop:
            break
        while ei < n_events and events[ei][0] <= t:
            te, ev = events[ei]
            ei += 1
            run.event(te, ev)
        run.until(t)
        samples += hand_in(t, frames)
        step(t)  # advance to t, then collect (the runner's drain)
        if lanes:
            _bin_lanes(result, signals, t)
        instants += 1
        if instants == next_progress and progress is not None:
            next_progress += PROGRESS_EVERY
            progress(t, result.start, stop)
    return samples, instants, ei


def dry_run(
    show: Show,
    recording: Recording,
    *,
    go_at: Sequence[float] = (),
    gos_from_recording: bool = False,
    until: float | None = None,
    buckets: int = 1200,
    max_lanes: int = 10,
    on_command: Callable[[float, Command], None] | None = None,
    progress: Progress | None = None,
) -> DryRunResult:
    """Run ``show`` against ``recording`` on the virtual clock.

    Args:
        show: the parsed show (``show.showfile.load.load_show``).
        recording: an open recording.
        go_at: show times at which the operator presses GO.
        gos_from_recording: also replay the operator actions of the recording (GOs,
            refused ones too, stop, pause, resume, panic, playhead moves, cue edits) at
            their recorded times.
        until: stop at this show time (default: the last sample or event).
        buckets: time buckets for the plotted curves and output marks.
        max_lanes: plotted signals at most (the rest are listed in ``unplotted``).
        on_command: called with ``(time, command)`` for every engine command.
        progress: called every :data:`PROGRESS_EVERY` instants and at the end.

    Returns:
        The :class:`DryRunResult`.
    """
    wall0 = time.perf_counter()
    start = resolve_start(recording, None)
    result = DryRunResult(
        show_title=show.model.title,
        show_file=show.path.name,
        recording_file=recording.path.name,
        start=start,
        end=start,
        buckets=max(1, buckets),
    )
    replayed = _events(recording, go_at, gos_from_recording, result)
    result.end = until if until is not None else _last_time(recording, start, replayed)
    _describe(show, recording, result, max_lanes)
    collector = Collector(result, on_command)
    run = _DryRun(show, result, collector)
    store = run.engine.signals
    events = _with_connects(run.sources, result, replayed)
    samples, instants, ei = _replay_instants(run, recording, events, progress)
    stop = result.end
    for te, ev in events[ei:]:
        if te <= stop:
            run.event(te, ev)
    run.until(stop)
    if run.steps.now < stop:
        run.steps.advance(stop)
    if progress is not None:
        progress(stop, result.start, stop)

    collector.finish()
    result.samples = samples
    result.instants = instants
    result.refused = dict(store.rejected)
    result.refused_names = dict(store.rejected_names)
    result.go_rejected = run.engine.stats.go_rejected
    result.wall_s = time.perf_counter() - wall0
    logger.info(
        "dry run of %s against %s: %d samples, %.1f s of show in %.2f s",
        result.show_file,
        result.recording_file,
        samples,
        result.end - result.start,
        result.wall_s,
    )
    return result
