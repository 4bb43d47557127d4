"""MIDI for the running show: the ports named in the show file, behind one object.

Encodes the engine's MIDI messages (``MidiSpec``) to bytes with ``bridges.midi``, keeps
ports re-opening when they come back, turns incoming notes, controllers and MSC
into control actions, and says once, clearly, when the machine has no MIDI.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from bridges.midi import incoming, msc, mtc, wire
from bridges.midi.ports import MidiBackend, MidiInput, MidiOutput, MidoBackend, probe_midi_system
from bridges.ratelimit import RateLimitedLogger
from cues.model import MidiSpec, MscMessage
from show.runtime.commands import OperatorCommand, OperatorRequest
from show.runtime.views import OutputStats
from show.showfile.config import MidiPortConfig

__all__ = ["MidiHub", "encode_spec"]

log = logging.getLogger(__name__)

ControlCallback = Callable[[OperatorRequest], object]
"""Takes the operator command a MIDI message stands for (its origin describes the
message); what it returns is ignored."""

_ACTION_COMMANDS = {
    incoming.ActionKind.GO: OperatorCommand.GO,
    incoming.ActionKind.STOP: OperatorCommand.STOP,
    incoming.ActionKind.RESUME: OperatorCommand.RESUME,
    incoming.ActionKind.ALL_OFF: OperatorCommand.PANIC,
    incoming.ActionKind.RESET: OperatorCommand.RESET,
}
_MTC_RATES = {
    24.0: mtc.FrameRate.FPS_24,
    25.0: mtc.FrameRate.FPS_25,
    29.97: mtc.FrameRate.FPS_29_97_DROP,
    30.0: mtc.FrameRate.FPS_30,
}
_BINDING_ACTIONS = {
    "go": incoming.ActionKind.GO,
    "start": incoming.ActionKind.GO,
    "stop": incoming.ActionKind.STOP,
    "panic": incoming.ActionKind.ALL_OFF,
}


def encode_spec(spec: MidiSpec) -> bytes:
    """The bytes of an engine MIDI message (raises ``MidiError`` if out of range)."""
    if isinstance(spec, MscMessage):
        return _encode_msc(spec)
    ch = spec.channel
    if spec.kind == "note_on":
        return wire.note_on(ch, spec.number, spec.value)
    if spec.kind == "note_off":
        return wire.note_off(ch, spec.number, spec.value)
    if spec.kind == "cc":
        return wire.control_change(ch, spec.number, spec.value)
    if spec.kind == "cc14":
        return wire.control_change_14bit(ch, spec.number, spec.value)
    if spec.kind == "program":
        return wire.program_change(ch, spec.value)
    if spec.kind == "pitch_bend":
        return wire.pitch_bend(ch, spec.value - 8192)
    raise ValueError(f"unknown MIDI message kind {spec.kind!r}")


def _encode_msc(spec: MscMessage) -> bytes:
    cue = msc.CueRef(spec.cue, spec.cue_list or None) if spec.cue else None
    command = msc.MscCommand[spec.command]
    time = msc.StandardTime(*spec.time) if spec.time is not None else None
    message = msc.MscMessage(
        command=command,
        device_id=spec.device_id,
        command_format=msc.CommandFormat(spec.command_format),
        cue=cue,
        time=time,
        control=spec.control if command is msc.MscCommand.SET else None,
        value=spec.value if command is msc.MscCommand.SET else None,
        macro=spec.macro if command is msc.MscCommand.FIRE else None,
    )
    return msc.encode_msc(message)


def _bindings(port: MidiPortConfig) -> list[Any]:
    out: list[Any] = []
    for b in port.bindings:
        action = _BINDING_ACTIONS[b.action]
        cue = b.cue or None
        if b.message == "note":
            out.append(incoming.NoteBinding(b.number, action, cue, b.channel))
        else:
            out.append(incoming.ControlBinding(b.number, action, cue, b.channel, b.threshold))
    if port.msc_go:
        out.append(incoming.MscBinding(device_id=port.msc_device))
    return out


class MidiHub:
    """Every MIDI port of the show. ``send`` never raises and never blocks."""

    def __init__(
        self,
        ports: tuple[MidiPortConfig, ...],
        on_control: ControlCallback,
        *,
        backend: MidiBackend | None = None,
    ) -> None:
        self.configs = ports
        self._backend: MidiBackend = backend or MidoBackend()
        self._on_control = on_control
        self.outputs: dict[str, MidiOutput] = {}
        self.inputs: dict[str, MidiInput] = {}
        self._mappers: dict[str, incoming.IncomingMapper] = {}
        self.available = True
        self.warning: str | None = None
        self.encode_errors: dict[str, int] = {}
        self._warn = RateLimitedLogger(log, 10.0)

    def open(self, loop: asyncio.AbstractEventLoop) -> None:
        """Probe the MIDI system and open every port (missing ports retry later)."""
        if not self.configs:
            return
        status = probe_midi_system(self._backend)
        if not status.available:
            self.available = False
            self.warning = status.warning
            log.warning("%s", status.warning)
            return
        for cfg in self.configs:
            if cfg.output:
                out = MidiOutput(cfg.pattern, self._backend, label=cfg.name)
                out.open()
                self.outputs[cfg.name] = out
            if cfg.input:
                self._mappers[cfg.name] = incoming.IncomingMapper(_bindings(cfg))
                inp = MidiInput(
                    cfg.pattern,
                    self._backend,
                    loop,
                    functools.partial(self._incoming, cfg.name),
                    label=cfg.name,
                )
                inp.open()
                self.inputs[cfg.name] = inp

    def refresh(self) -> None:
        """Re-open ports that went away (called every few seconds)."""
        for port in [*self.outputs.values(), *self.inputs.values()]:
            port.refresh()

    def send(self, port: str, spec: MidiSpec) -> bool:
        """Send one message to a named port; False if it could not go out."""
        out = self.outputs.get(port)
        if out is None:
            return False
        try:
            data = encode_spec(spec)
        except (ValueError, KeyError) as exc:
            self.encode_errors[port] = self.encode_errors.get(port, 0) + 1
            self._warn.warning(
                ("encode", port),
                "MIDI port %s: cannot encode %s (%s); message dropped",
                port,
                spec,
                exc,
            )
            return False
        return out.send(data)

    async def run_timecode(self, now: Callable[[], float]) -> None:
        """Send MIDI Timecode on every port that asks for it, from show time zero:
        a full frame first, then quarter frames as they fall due."""
        generators = {
            cfg.name: mtc.MtcGenerator(_MTC_RATES[float(cfg.timecode_fps)])
            for cfg in self.configs
            if cfg.timecode_fps is not None and cfg.name in self.outputs
        }
        if not generators:
            return
        last = now()
        for name, gen in generators.items():
            self.outputs[name].send(gen.full_frame(last))
        while True:
            due = min(gen.next_quarter_frame_time(last) for gen in generators.values())
            await asyncio.sleep(max(0.0, due - now()))
            t = now()
            for name, gen in generators.items():
                for message in gen.messages_due(last, t):
                    self.outputs[name].send(message)
            last = t

    def _incoming(self, port: str, message: Any) -> None:
        mapper = self._mappers.get(port)
        if mapper is None:
            return
        try:
            actions = mapper.map(message)
        except ValueError as exc:
            self._warn.warning(
                ("malformed", port), "MIDI input %s: malformed message ignored (%s)", port, exc
            )
            return
        for action in actions:
            command = _ACTION_COMMANDS.get(action.kind)
            if command is None:
                log.info("MIDI input %s: %s ignored (no show action)", port, action.source)
                continue
            if command is OperatorCommand.GO and action.cue:
                command = OperatorCommand.START_CUE
            origin = f"MIDI {port}: {action.source}"
            self._on_control(OperatorRequest(command, action.cue, origin=origin))

    def stats(self) -> list[OutputStats]:
        """One entry per port for the console (``ok`` when connected)."""
        out: list[OutputStats] = []
        for cfg in self.configs:
            labels = (("pattern", cfg.pattern),)
            if not self.available:
                out.append(OutputStats(cfg.name, "midi", "no MIDI system", 0, 0, labels))
                continue
            port = self.outputs.get(cfg.name) or self.inputs.get(cfg.name)
            if port is None:
                out.append(OutputStats(cfg.name, "midi", "?", labels=labels))
                continue
            st = port.stats()
            state = st.state.value
            errors = getattr(st, "errors", 0) + self.encode_errors.get(cfg.name, 0)
            out.append(
                OutputStats(
                    cfg.name,
                    "midi",
                    "ok" if state == "connected" else state,
                    getattr(st, "messages", 0),
                    errors,
                    labels,
                )
            )
        return out

    def close(self) -> None:
        """Close ports in reverse order of opening."""
        for port in reversed([*self.outputs.values(), *self.inputs.values()]):
            port.close()
