"""In-memory twins of the MIDI ports, for tests (no MIDI system needed).

* :class:`MemoryMidiBackend` -- a :class:`~bridges.midi.ports.MidiBackend` whose
  ports can be plugged and unplugged, to test :class:`~bridges.midi.ports.MidiOutput`
  and :class:`~bridges.midi.ports.MidiInput` themselves.
* :class:`MemoryMidiOutput` / :class:`MemoryMidiInput` -- stand-ins with the same
  surface as the real ports, for other packages' tests (the runner, cue outputs).
"""

from __future__ import annotations

from collections.abc import Callable

from bridges.midi.errors import MidiPortError, MidiSystemUnavailable
from bridges.midi.ports import InputHandle, MessageCallback, OutputHandle, PortState, PortStats
from bridges.midi.wire import parse_message

__all__ = ["MemoryMidiBackend", "MemoryMidiInput", "MemoryMidiOutput"]


class _MemoryOutputHandle:
    def __init__(self, backend: MemoryMidiBackend, name: str) -> None:
        self._backend = backend
        self.name = name
        self.closed = False

    def send(self, data: bytes) -> None:
        if self.closed or self.name not in self._backend.outputs:
            raise MidiPortError(f"port {self.name!r} is gone")
        if self._backend.fail_sends:
            raise MidiPortError(f"simulated send failure on {self.name!r}")
        self._backend.outputs[self.name].append(bytes(data))

    def close(self) -> None:
        self.closed = True


class _MemoryInputHandle:
    def __init__(self, backend: MemoryMidiBackend, name: str) -> None:
        self._backend = backend
        self.name = name

    def close(self) -> None:
        self._backend.callbacks.pop(self.name, None)


class MemoryMidiBackend:
    """In-memory :class:`MidiBackend` for tests: plug and unplug ports at will.

    ``outputs`` maps each present output port to the messages it received;
    :meth:`deliver` plays the part of rtmidi's callback thread for an input.
    Set ``available = False`` to simulate a machine with no MIDI system, and
    ``fail_sends = True`` to make sends fail.
    """

    def __init__(self, outputs: list[str] | None = None, inputs: list[str] | None = None) -> None:
        """Create the backend with the given ports present."""
        self.available = True
        self.fail_sends = False
        self.outputs: dict[str, list[bytes]] = {name: [] for name in outputs or []}
        self.inputs: list[str] = list(inputs or [])
        self.callbacks: dict[str, Callable[[bytes], None]] = {}

    def _check(self) -> None:
        if not self.available:
            raise MidiSystemUnavailable("ALSA not available")

    def output_names(self) -> list[str]:
        """Present output ports."""
        self._check()
        return list(self.outputs)

    def input_names(self) -> list[str]:
        """Present input ports."""
        self._check()
        return list(self.inputs)

    def open_output(self, name: str) -> OutputHandle:
        """Open a present output."""
        self._check()
        if name not in self.outputs:
            raise MidiPortError(f"no output {name!r}")
        return _MemoryOutputHandle(self, name)

    def open_input(self, name: str, callback: Callable[[bytes], None]) -> InputHandle:
        """Open a present input and remember its callback."""
        self._check()
        if name not in self.inputs:
            raise MidiPortError(f"no input {name!r}")
        self.callbacks[name] = callback
        return _MemoryInputHandle(self, name)

    def plug_output(self, name: str) -> None:
        """Make an output port appear."""
        self.outputs.setdefault(name, [])

    def unplug_output(self, name: str) -> None:
        """Make an output port disappear (its received messages are discarded)."""
        self.outputs.pop(name, None)

    def plug_input(self, name: str) -> None:
        """Make an input port appear."""
        if name not in self.inputs:
            self.inputs.append(name)

    def unplug_input(self, name: str) -> None:
        """Make an input port disappear; nothing more is delivered from it."""
        if name in self.inputs:
            self.inputs.remove(name)
        self.callbacks.pop(name, None)

    def deliver(self, name: str, data: bytes) -> None:
        """Act as the device: send ``data`` into input ``name`` (any thread)."""
        callback = self.callbacks.get(name)
        if callback is None:
            raise MidiPortError(f"input {name!r} is not open")
        callback(bytes(data))


class MemoryMidiOutput:
    """Stand-in for :class:`MidiOutput` in other packages' tests: records what is sent.

    Set ``connected = False`` to make it drop messages like a missing port.
    """

    def __init__(self, label: str = "memory") -> None:
        """Create a connected twin."""
        self.label = label
        self.connected = True
        self.sent: list[bytes] = []
        self._dropped = 0
        self._closed = False

    @property
    def state(self) -> PortState:
        """CONNECTED, MISSING or CLOSED."""
        if self._closed:
            return PortState.CLOSED
        return PortState.CONNECTED if self.connected else PortState.MISSING

    def open(self) -> PortState:
        """Reopen after :meth:`close`."""
        self._closed = False
        return self.state

    def refresh(self) -> PortState:
        """Nothing to do; returns the state."""
        return self.state

    def send(self, data: bytes) -> bool:
        """Record ``data`` if connected; never raises."""
        if self.state is not PortState.CONNECTED:
            self._dropped += 1
            return False
        self.sent.append(bytes(data))
        return True

    def close(self) -> None:
        """Stop accepting messages."""
        self._closed = True

    def stats(self) -> PortStats:
        """Counters like :meth:`MidiOutput.stats`."""
        return PortStats(self.label, self.state, self.label, len(self.sent), self._dropped, 0, None)


class MemoryMidiInput:
    """Stand-in for :class:`MidiInput`: :meth:`feed` parses and delivers synchronously."""

    def __init__(self, on_message: MessageCallback, label: str = "memory") -> None:
        """Create an open twin delivering to ``on_message``."""
        self.label = label
        self._on_message = on_message
        self._received = 0
        self._closed = False

    @property
    def state(self) -> PortState:
        """CONNECTED until closed."""
        return PortState.CLOSED if self._closed else PortState.CONNECTED

    def open(self) -> PortState:
        """Reopen after :meth:`close`."""
        self._closed = False
        return self.state

    def refresh(self) -> PortState:
        """Nothing to do; returns the state."""
        return self.state

    def close(self) -> None:
        """Stop delivering."""
        self._closed = True

    def feed(self, data: bytes) -> None:
        """Parse ``data`` and deliver it, as a device would.

        Raises:
            MidiDecodeError: ``data`` is not one valid message (tests should know).
        """
        message = parse_message(data)
        if not self._closed:
            self._received += 1
            self._on_message(message)

    def stats(self) -> PortStats:
        """Counters like :meth:`MidiInput.stats`."""
        return PortStats(self.label, self.state, self.label, self._received, 0, 0, None)
