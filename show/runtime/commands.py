"""Operator commands: one vocabulary and one table for every front end.

The console's websocket (:mod:`show.web.protocol`), the QLab-compatible OSC layer
(:mod:`show.qlab.control`), MIDI input (:mod:`show.runtime.midi_hub`) and the command
line all hand the runner an :class:`OperatorRequest`. :data:`COMMAND_TABLE` says, for
each :class:`OperatorCommand`, how the runner carries it out (:class:`Handling`),
what it needs (a cue, a value in range), whether a tracking backup accepts it and
whether the console may send it. Strings are met only at the edges and converted
once (:func:`parse_command`).

Everything here is pure: the runner (:meth:`show.runtime.runner.ShowRunner.submit`)
owns the effects.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from cues.events import (
    Event,
    Go,
    Panic,
    Pause,
    PlayheadNext,
    PlayheadPrevious,
    Reset,
    Resume,
    SetMinGoInterval,
    SetPlayhead,
    StartCue,
    Stop,
    StopCue,
)
from cues.model import CueId, ShowModel

__all__ = [
    "BACKUP_REFUSAL",
    "COMMAND_TABLE",
    "CONSOLE_COMMANDS",
    "CONSOLE_COMMANDS_WITH_CUE",
    "CommandSpec",
    "Handling",
    "OperatorCommand",
    "OperatorRequest",
    "Reply",
    "engine_event",
    "find_cue",
    "finite_refusal",
    "list_refusal",
    "parse_command",
    "value_refusal",
]

Reply = dict[str, Any]
"""What the runner answers: ``{"ok": bool, ...}`` (``error`` when refused)."""


class OperatorCommand(enum.StrEnum):
    """Every command an operator can give, by its wire name."""

    GO = "go"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    PANIC = "panic"
    RESET = "reset"
    PLAYHEAD_NEXT = "playhead_next"
    PLAYHEAD_PREVIOUS = "playhead_previous"
    SET_PLAYHEAD = "set_playhead"
    START_CUE = "start_cue"
    STOP_CUE = "stop_cue"
    PAUSE_CUE = "pause_cue"
    RESUME_CUE = "resume_cue"
    SET_MIN_GO = "set_min_go"
    RELOAD = "reload"
    TAKEOVER = "takeover"
    TEST_PATTERN = "test_pattern"
    IDENTIFY = "identify"


class Handling(enum.Enum):
    """How the runner carries a command out, and so how it is logged.

    * ``ENGINE``: an engine event; logged ``operator <command> from <origin>`` and
      recorded as an ``operator`` event (replayed by a dry run, followed by a
      tracking backup).
    * ``RELOAD``: the show file is reloaded in the background; the reload logs.
    * ``TAKEOVER``: a tracking backup becomes the main; the tracking layer logs.
    * ``PROJECTOR_AID``: the renderers' test pattern or identify overlay toggles;
      logged ``projector <aid> on|off (<origin>)``.
    """

    ENGINE = "engine"
    RELOAD = "reload"
    TAKEOVER = "takeover"
    PROJECTOR_AID = "projector aid"


@dataclass(frozen=True, slots=True)
class OperatorRequest:
    """One command from a front end.

    Attributes:
        command: What to do.
        cue: A cue number (or ``List/number``) for the commands on one cue.
        cue_list: The cue list; empty means the first (or, for a cue, any) list.
        value: A number for the commands that take one (panic time, minimum GO
            time, projector aid on/off); must be finite.
        origin: Who asked (``console``, ``OSC udp 10.0.0.5``, ``MIDI desk: ...``);
            empty for the show's own calls, which are not logged.
    """

    command: OperatorCommand
    cue: str | None = None
    cue_list: str = ""
    value: float | None = None
    origin: str = ""


EventBuilder = Callable[[OperatorRequest, CueId | None], Event]
"""Builds a command's engine event from the request and its resolved cue."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What the runner needs to know about one command.

    Attributes:
        handling: How it is carried out and logged (see :class:`Handling`).
        event: The engine event, for ``Handling.ENGINE``.
        needs_cue: A ``cue`` is required and resolved to a cue id first.
        top_level: The cue must be a top-level cue of its list (standby).
        for_backup: A tracking backup that follows its main accepts it.
        console: The operator console may send it.
        value_range: The value must lie in this range (inclusive) ...
        range_error: ... or the command is refused with this text.
    """

    handling: Handling
    event: EventBuilder | None = None
    needs_cue: bool = False
    top_level: bool = False
    for_backup: bool = False
    console: bool = True
    value_range: tuple[float, float] | None = None
    range_error: str = ""


def _on_cue(make: Callable[[CueId], Event]) -> EventBuilder:
    def build(_request: OperatorRequest, cid: CueId | None) -> Event:
        if cid is None:
            raise ValueError("a cue command needs a resolved cue")
        return make(cid)

    return build


def _panic(request: OperatorRequest, _cid: CueId | None) -> Event:
    value = request.value
    return Panic(None if value is None else min(max(float(value), 0.0), 60.0))


def _engine(event: EventBuilder, **meta: Any) -> CommandSpec:
    return CommandSpec(Handling.ENGINE, event, **meta)


_CUE = {"needs_cue": True}

COMMAND_TABLE: Final[Mapping[OperatorCommand, CommandSpec]] = MappingProxyType(
    {
        OperatorCommand.GO: _engine(lambda r, _c: Go(r.cue_list)),
        OperatorCommand.STOP: _engine(lambda _r, _c: Stop()),
        OperatorCommand.PAUSE: _engine(lambda _r, _c: Pause()),
        OperatorCommand.RESUME: _engine(lambda _r, _c: Resume()),
        OperatorCommand.PANIC: _engine(_panic),
        OperatorCommand.RESET: _engine(lambda _r, _c: Reset()),
        OperatorCommand.PLAYHEAD_NEXT: _engine(lambda r, _c: PlayheadNext(r.cue_list)),
        OperatorCommand.PLAYHEAD_PREVIOUS: _engine(lambda r, _c: PlayheadPrevious(r.cue_list)),
        OperatorCommand.SET_PLAYHEAD: _engine(_on_cue(SetPlayhead), **_CUE, top_level=True),
        OperatorCommand.START_CUE: _engine(_on_cue(StartCue), **_CUE),
        OperatorCommand.STOP_CUE: _engine(_on_cue(StopCue), **_CUE),
        OperatorCommand.PAUSE_CUE: _engine(_on_cue(Pause), **_CUE, console=False),
        OperatorCommand.RESUME_CUE: _engine(_on_cue(Resume), **_CUE, console=False),
        OperatorCommand.SET_MIN_GO: _engine(
            lambda r, _c: SetMinGoInterval(float(r.value or 0.0)),
            console=False,
            value_range=(0.0, 10.0),
            range_error="the minimum GO time must be 0 to 10 s",
        ),
        OperatorCommand.RELOAD: CommandSpec(Handling.RELOAD),
        OperatorCommand.TAKEOVER: CommandSpec(Handling.TAKEOVER, for_backup=True),
        OperatorCommand.TEST_PATTERN: CommandSpec(Handling.PROJECTOR_AID, for_backup=True),
        OperatorCommand.IDENTIFY: CommandSpec(Handling.PROJECTOR_AID, for_backup=True),
    }
)
"""Every operator command and how it is carried out (one entry per command)."""

CONSOLE_COMMANDS: Final[frozenset[OperatorCommand]] = frozenset(
    c for c, spec in COMMAND_TABLE.items() if spec.console
)
"""Commands the operator console may send."""

CONSOLE_COMMANDS_WITH_CUE: Final[frozenset[OperatorCommand]] = frozenset(
    c for c in CONSOLE_COMMANDS if COMMAND_TABLE[c].needs_cue
)
"""Console commands that need a ``cue``."""

BACKUP_REFUSAL: Final = (
    "this machine is the tracking backup: send commands to the main, or TAKEOVER first"
)
"""Why a tracking backup that follows its main refuses a command."""


_BY_NAME: Final[Mapping[str, OperatorCommand]] = {c.value: c for c in OperatorCommand}


def parse_command(name: object) -> OperatorCommand | None:
    """The command a wire name stands for, or None when there is no such command."""
    return _BY_NAME.get(name) if isinstance(name, str) else None


def finite_refusal(name: str, value: float | None) -> Reply | None:
    """A refusal when ``value`` is given but not a finite number."""
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
        return {"ok": False, "error": f"{name}: the value must be a finite number"}
    return None


def value_refusal(request: OperatorRequest, spec: CommandSpec) -> Reply | None:
    """A refusal when the request's value is not finite or out of the command's range."""
    if request.value is None and spec.value_range is None:
        return None  # most commands: nothing to check
    refusal = finite_refusal(request.command.value, request.value)
    if refusal is not None or spec.value_range is None:
        return refusal
    low, high = spec.value_range
    if request.value is None or not low <= request.value <= high:
        return {"ok": False, "error": spec.range_error}
    return None


def find_cue(model: ShowModel, number: str, cue_list: str = "") -> CueId | None:
    """Resolve a cue number (or ``List/number``) to its id: in ``cue_list``, or the
    first list that has it."""
    if "/" in number:
        return CueId(number) if number in model.cues else None
    lists = [cue_list] if cue_list else [cl.name for cl in model.cue_lists]
    for name in lists:
        cid = CueId(f"{name}/{number}")
        if cid in model.cues:
            return cid
    return None


def list_refusal(model: ShowModel, cue_list: str) -> Reply | None:
    """A refusal when a named cue list is not in the show."""
    if cue_list and all(cl.name != cue_list for cl in model.cue_lists):
        return {"ok": False, "error": f"no cue list {cue_list!r} in this show"}
    return None


def _cue_refusal(
    model: ShowModel, request: OperatorRequest, spec: CommandSpec
) -> tuple[CueId | None, Reply | None]:
    if not spec.needs_cue:
        return None, None
    cid = find_cue(model, request.cue or "", request.cue_list)
    if cid is None:
        return None, {"ok": False, "error": f"no cue {request.cue!r} in this show"}
    if spec.top_level and all(cid not in cl.cues for cl in model.cue_lists):
        error = f"cue {request.cue!r} is inside a group; only top-level cues can be on standby"
        return None, {"ok": False, "error": error}
    return cid, None


def engine_event(model: ShowModel, request: OperatorRequest, spec: CommandSpec) -> Event | Reply:
    """The engine event an ``ENGINE`` command stands for, or the refusal (no such cue,
    a cue inside a group for standby, no such list)."""
    cid, refusal = _cue_refusal(model, request, spec)
    refusal = refusal or list_refusal(model, request.cue_list)
    if refusal is not None:
        return refusal
    if spec.event is None:
        raise ValueError(f"{request.command.value} is not an engine command")
    return spec.event(request, cid)
