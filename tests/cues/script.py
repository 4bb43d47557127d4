"""A tiny harness that runs an engine on a virtual clock, like a script of the show."""

from __future__ import annotations

from cues.commands import Command, CueState, CueStateChanged, SendOsc
from cues.engine import Engine
from cues.events import Event
from cues.model import CueId
from cues.stepping import Stepper
from show.showfile.load import parse_show

HEADER = """
[outputs.osc.desk]
port = 9000
[outputs.visuals.projector]
"""


class Script:
    """Drives an engine through time; ``log`` keeps (time, command) pairs."""

    def __init__(self, toml: str, *, header: str = HEADER) -> None:
        self.engine = Engine(parse_show(header + toml, "test.toml").model)
        self.steps = Stepper(self.engine, 0.0, self._collect)  # the runner's deadline rule
        self.log: list[tuple[float, Command]] = []

    @property
    def now(self) -> float:
        """The latest time the engine was advanced to."""
        return self.steps.now

    def _collect(self, t: float) -> None:
        self.log.extend((round(t, 9), c) for c in self.engine.commands())

    def run_until(self, t: float) -> None:
        """Advance through every deadline up to ``t``, then to ``t``."""
        self.steps.run_until(t)
        self.steps.advance(t)

    def at(self, t: float, event: Event | None = None) -> None:
        """Run until ``t``, then hand in ``event`` at ``t``."""
        self.run_until(t)
        if event is not None:
            self.engine.handle(event, t)
            self.steps.advance(t)  # as the runner does after each batch of events

    def states(self, cue: str) -> list[tuple[float, str]]:
        """(time, state) changes of one cue ("Main/N" or "N")."""
        cid = cue if "/" in cue else f"Main/{cue}"
        return [
            (t, c.state.value)
            for t, c in self.log
            if isinstance(c, CueStateChanged) and c.cue == cid
        ]

    def osc(self, address: str | None = None) -> list[tuple[float, tuple[object, ...]]]:
        """(time, args) of OSC sends, optionally for one address."""
        return [
            (t, c.args)
            for t, c in self.log
            if isinstance(c, SendOsc) and (address is None or c.address == address)
        ]

    def state(self, cue: str) -> CueState:
        return self.engine.state_of(CueId(cue if "/" in cue else f"Main/{cue}"))

    def of_type(self, kind: type) -> list[tuple[float, object]]:
        return [(t, c) for t, c in self.log if isinstance(c, kind)]


def cid(number: str) -> CueId:
    return CueId(f"Main/{number}")
