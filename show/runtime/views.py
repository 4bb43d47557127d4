"""Read-only, typed views of the running show for the dashboard and the QLab layer.

:class:`RunnerView` and :class:`EngineView` are the only places the web snapshots
(:mod:`show.web.snapshots`, :mod:`show.web.consoleview`) and the QLab layer
(:mod:`show.qlab`) read runner and engine state. They hand out the live objects
typed by read-only protocols (:class:`CueRunView`, :class:`SignalView`, ...): no
copies, so the snapshots built on the show loop every tick cost what they did, and
mypy refuses a write through them. Whatever the engine's inside becomes, only this
module follows it.

Output statistics come in one typed shape, :class:`OutputStats` (OSC targets, MIDI
ports), and :class:`RendererStatus` for the renderer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from cues.commands import Command, CueState
from cues.engine import Engine
from cues.model import (
    CueDef,
    CueId,
    Health,
    MappingDef,
    ShowModel,
    SignalDef,
    TriggerDef,
    Value,
)

if TYPE_CHECKING:  # the runner imports OutputStats from here
    from show.runtime.runner import ShowRunner
    from show.showfile.config import Show

__all__ = [
    "CueRunView",
    "EngineView",
    "MappingView",
    "NoticeView",
    "OutputStats",
    "PhaseView",
    "RendererStatus",
    "RunnerView",
    "SignalView",
    "SourceView",
    "TriggerView",
    "osc_outputs",
]


class PhaseView(Protocol):
    """One phase of a cue (pre-wait, action, post-wait): time spent and its length."""

    @property
    def elapsed(self) -> float: ...
    @property
    def total(self) -> float | None: ...


class CueRunView(Protocol):
    """A cue's live state (``cues.runtime.CueRun``), read-only."""

    @property
    def cue(self) -> CueDef: ...
    @property
    def state(self) -> CueState: ...
    @property
    def armed(self) -> bool: ...
    @property
    def active(self) -> bool: ...
    @property
    def starts(self) -> int: ...
    @property
    def started_at(self) -> float: ...
    @property
    def action_at(self) -> float | None: ...
    @property
    def action_end(self) -> float | None: ...
    @property
    def action_done(self) -> bool: ...
    @property
    def continue_at(self) -> float | None: ...
    @property
    def wait_deadline(self) -> float | None: ...
    @property
    def wait_since(self) -> float | None: ...
    @property
    def paused_at(self) -> float | None: ...
    def phases(self, now: float) -> tuple[PhaseView, PhaseView, PhaseView]: ...


class SignalView(Protocol):
    """A signal's latest value, health and history (``cues.signals.Signal``)."""

    @property
    def name(self) -> str: ...
    @property
    def definition(self) -> SignalDef: ...
    @property
    def source(self) -> str: ...
    @property
    def value(self) -> Value | None: ...
    @property
    def time(self) -> float: ...
    @property
    def health(self) -> Health: ...
    def history(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
    def value_at(self, t: float) -> tuple[float, float] | None: ...


class MappingView(Protocol):
    """A mapping's live state (``cues.mappings.MappingState``)."""

    @property
    def definition(self) -> MappingDef: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def level(self) -> float: ...
    @property
    def raw(self) -> float | None: ...
    @property
    def last_sent(self) -> float | None: ...
    @property
    def sent(self) -> int: ...


class TriggerView(Protocol):
    """A trigger's live state (``cues.conditions.TriggerState``)."""

    @property
    def definition(self) -> TriggerDef: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def holding(self) -> bool: ...
    @property
    def since(self) -> float: ...
    @property
    def fired(self) -> bool: ...
    @property
    def last_fired(self) -> float: ...
    @property
    def fire_count(self) -> int: ...


class NoticeView(Protocol):
    """A message on the public dashboard (``show.runtime.runner.NoticeInfo``)."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def level(self) -> str: ...


class SourceView(Protocol):
    """A telemetry source's connection, as the runner saw it (``SourceInfo``)."""

    @property
    def status(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def samples(self) -> int: ...


class _RendererStats(Protocol):
    @property
    def running(self) -> bool: ...
    @property
    def fps(self) -> float: ...
    @property
    def restarts(self) -> int: ...
    @property
    def scene(self) -> str | None: ...
    @property
    def last_error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class OutputStats:
    """One output for the console (an OSC target, a MIDI port).

    Attributes:
        name: The output's name in the show file.
        kind: ``osc`` or ``midi``.
        state: ``ok``, or the output's own word for what is wrong.
        sent: Messages sent (None: not known yet).
        errors: Messages that could not go out (None: not known yet).
        labels: Further descriptions shown before the state (a MIDI port's pattern).
    """

    name: str
    kind: str
    state: str
    sent: int | None = None
    errors: int | None = None
    labels: tuple[tuple[str, str], ...] = ()

    def row(self) -> dict[str, Any]:
        """The console snapshot's ``outputs`` entry."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        out.update(self.labels)
        out["state"] = self.state
        if self.sent is not None:
            out["sent"] = self.sent
        if self.errors is not None:
            out["errors"] = self.errors
        return out


@dataclass(frozen=True, slots=True)
class RendererStatus:
    """The renderer of one visual output, for the console."""

    output: str
    running: bool
    fps: float
    restarts: int
    scene: str | None
    last_error: str | None

    def row(self) -> dict[str, Any]:
        """The console snapshot's ``renderer`` entry."""
        return {
            "output": self.output,
            "state": "running" if self.running else "down",
            "fps": round(self.fps, 1),
            "restarts": self.restarts,
            "scene": self.scene,
            "last_error": self.last_error,
        }


def osc_outputs(stats: Mapping[str, Mapping[str, Any]]) -> list[OutputStats]:
    """The OSC output's per-target counters (``OscOutput.stats()``) as typed rows."""
    out = []
    for name, st in stats.items():
        state = str(st.get("state", "?"))
        out.append(
            OutputStats(
                name,
                "osc",
                "ok" if state == "up" else state,
                int(st.get("sent", 0)),
                int(st.get("errors", 0)),
            )
        )
    return out


class EngineView:
    """The engine's state, read-only: cues, their runs, signals, mappings, triggers,
    playheads and the GO guard."""

    __slots__ = ("_engine",)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def cues(self) -> Mapping[CueId, CueDef]:
        """Every cue by id (edited cues included)."""
        return self._engine.cues

    @property
    def runs(self) -> Mapping[CueId, CueRunView]:
        """Every cue's live state by id."""
        return self._engine.runs

    @property
    def signals(self) -> Mapping[str, SignalView]:
        """Every signal by name, declared, derived and dynamic."""
        return self._engine.signals.signals

    @property
    def mappings(self) -> Mapping[str, MappingView]:
        """Every mapping's state by name, in show-file order."""
        return self._engine.mappings

    @property
    def triggers(self) -> Mapping[str, TriggerView]:
        """Every trigger's state by name, in show-file order."""
        return self._engine.triggers

    @property
    def rejected(self) -> Mapping[str, int]:
        """Samples the engine refused, by reason."""
        return self._engine.signals.rejected

    @property
    def rejected_names(self) -> Mapping[str, int]:
        """Samples the engine refused, by signal name."""
        return self._engine.signals.rejected_names

    @property
    def panic_until(self) -> float | None:
        """When the PANIC in progress ends (None: no PANIC)."""
        return self._engine.panic_until

    @property
    def last_go(self) -> float:
        """Show time of the last GO the engine took."""
        return self._engine.last_go

    @property
    def min_go_interval(self) -> float:
        """The double-GO guard, seconds."""
        return self._engine.min_go_interval

    def go_guard_left(self, now: float) -> float:
        """Seconds until the double-GO guard lets a GO through."""
        e = self._engine
        return max(0.0, e.last_go + e.min_go_interval - now)

    def playhead(self, cue_list: str = "") -> CueId | None:
        """The cue on standby in a list (the first list if empty)."""
        return self._engine.playhead(cue_list)

    def running_cues(self) -> list[CueId]:
        """Cues waiting, in pre-wait, running or paused."""
        return self._engine.running_cues()


class RunnerView:
    """The running show, read-only: its file, clock, engine, notices, sources and
    outputs."""

    __slots__ = ("_runner", "engine", "now")

    def __init__(self, runner: ShowRunner) -> None:
        self._runner = runner
        self.engine: Final[EngineView] = EngineView(runner.engine)
        """The engine's state."""
        self.now: Final[Callable[[], float]] = runner.now
        """Show time, seconds."""

    @property
    def show(self) -> Show:
        """The show as it runs now (a reload replaces it)."""
        return self._runner.show

    @property
    def model(self) -> ShowModel:
        """The show's cues, lists, signals and mappings as it runs now."""
        return self._runner.show.model

    @property
    def following(self) -> bool:
        """Whether this machine is a tracking backup following its main."""
        return self._runner.following

    @property
    def notices(self) -> Mapping[str, NoticeView]:
        """Messages on the public dashboard, by id."""
        return self._runner.notices

    @property
    def sources(self) -> Mapping[str, SourceView]:
        """Telemetry sources by name, as the runner saw them connect and feed."""
        return self._runner.sources

    def source_stats(self) -> dict[str, Mapping[str, Any]]:
        """Each source's own counters (``stats()``), by name."""
        return {s.name: s.stats() for s in self._runner.parts.sources}

    def outputs(self) -> list[OutputStats]:
        """OSC targets, then MIDI ports."""
        parts = self._runner.parts
        out = osc_outputs(parts.osc.stats()) if parts.osc is not None else []
        if parts.midi is not None:
            out += parts.midi.stats()
        return out

    def renderer(self) -> RendererStatus | None:
        """The first visual output's renderer (None: no visual output)."""
        for name, rend in self._runner.parts.renderers.items():
            st: _RendererStats = rend.stats()
            return RendererStatus(name, st.running, st.fps, st.restarts, st.scene, st.last_error)
        return None

    def cue_id(self, number: str, cue_list: str = "") -> CueId | None:
        """Resolve a cue number (or ``List/number``) to its id."""
        return self._runner.cue_id(number, cue_list)

    def listen(self, listener: Callable[[Command], None]) -> None:
        """Be told every command the engine gives, after it is carried out."""
        self._runner.listeners.append(listener)
