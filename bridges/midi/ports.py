"""MIDI ports: the I/O adapter over mido + python-rtmidi, and in-memory twins.

The shape follows mido's ``BaseOutput``: public methods validate, count and
log; a small backend (:class:`MidiBackend`) does the actual port work, so tests
inject :class:`bridges.midi.memory.MemoryMidiBackend` and can make ports vanish
and come back.

Behaviour the runner relies on:

* :meth:`MidiOutput.send` never raises. While the port is missing, messages are
  dropped and counted; a failing send closes the port and marks it missing.
* :meth:`MidiOutput.refresh` / :meth:`MidiInput.refresh` (called every few
  seconds) notice a port that disappeared and reopen one that came back, and
  log both transitions once.
* With no MIDI system at all (here: no ``/dev/snd``, so ALSA's sequencer cannot
  be opened), ports go to :attr:`PortState.NO_SYSTEM` and stay there quietly;
  the runner calls :func:`probe_midi_system` once and logs its single warning.
* rtmidi calls back on its own thread; :class:`MidiInput` hands each message to
  the event loop with exactly one ``loop.call_soon_threadsafe`` and parses it
  there, so the rest of Stovelight stays single-threaded.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bridges.midi.errors import MidiDecodeError, MidiPortError, MidiSystemUnavailable
from bridges.midi.wire import MidiMessage, parse_message, split_messages
from bridges.ratelimit import RateLimitedLogger

__all__ = [
    "NO_MIDI_SYSTEM_WARNING",
    "InputHandle",
    "MessageCallback",
    "MidiBackend",
    "MidiInput",
    "MidiOutput",
    "MidiSystemStatus",
    "MidoBackend",
    "OutputHandle",
    "PortPattern",
    "PortState",
    "PortStats",
    "match_port",
    "probe_midi_system",
]

logger = logging.getLogger(__name__)

NO_MIDI_SYSTEM_WARNING = (
    "no MIDI system on this machine ({reason}): MIDI outputs and inputs are disabled, "
    "the show runs without MIDI"
)

PortPattern = str | re.Pattern[str]
"""A port name pattern: a case-insensitive substring, ``"re:<regex>"``, or a compiled regex."""

MessageCallback = Callable[[MidiMessage], None]
"""What a MIDI input calls, on the loop, with each parsed message."""
_T = TypeVar("_T")


class PortState(enum.Enum):
    """Health of one configured port."""

    CLOSED = "closed"
    """Not opened yet, or closed by the owner."""
    CONNECTED = "connected"
    """Open on a matching port."""
    MISSING = "missing"
    """No matching port right now; retried on every refresh."""
    NO_SYSTEM = "no_system"
    """The machine has no MIDI system; the port stays disabled."""


@dataclass(frozen=True, slots=True)
class PortStats:
    """A snapshot for the health page."""

    label: str
    state: PortState
    port_name: str | None
    messages: int
    dropped: int
    errors: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class MidiSystemStatus:
    """Result of :func:`probe_midi_system`."""

    available: bool
    reason: str | None = None
    detail: str | None = None

    @property
    def warning(self) -> str | None:
        """The one warning the runner logs when there is no MIDI system, else ``None``."""
        if self.available:
            return None
        return NO_MIDI_SYSTEM_WARNING.format(reason=self.reason or "unknown reason")


class OutputHandle(Protocol):
    """An open output port inside a backend."""

    def send(self, data: bytes) -> None:
        """Send one complete message. Raises MidiPortError on failure."""

    def close(self) -> None:
        """Close the port."""


class InputHandle(Protocol):
    """An open input port inside a backend."""

    def close(self) -> None:
        """Close the port; the callback is not called afterwards."""


class MidiBackend(Protocol):
    """The port operations :class:`MidiOutput` and :class:`MidiInput` need.

    Every method raises :class:`MidiSystemUnavailable` when there is no MIDI
    system and :class:`MidiPortError` for any other failure.
    """

    def output_names(self) -> list[str]:
        """Names of the output ports present now."""

    def input_names(self) -> list[str]:
        """Names of the input ports present now."""

    def open_output(self, name: str) -> OutputHandle:
        """Open the output port called exactly ``name``."""

    def open_input(self, name: str, callback: Callable[[bytes], None]) -> InputHandle:
        """Open input ``name``; ``callback`` gets each message's bytes, on any thread."""


def match_port(pattern: PortPattern, names: list[str]) -> str | None:
    """Pick the port ``pattern`` designates among ``names``.

    A plain string matches case-insensitively: an exact name wins, otherwise the
    first name containing it. ``"re:<regex>"`` or a compiled pattern is searched
    (case-insensitively for the string form) and the first match wins.

    Raises:
        MidiPortError: the ``re:`` pattern is not a valid regular expression.
    """
    if isinstance(pattern, str) and not pattern.startswith("re:"):
        wanted = pattern.casefold()
        for name in names:
            if name.casefold() == wanted:
                return name
        return next((name for name in names if wanted in name.casefold()), None)
    if isinstance(pattern, str):
        try:
            regex = re.compile(pattern[3:], re.IGNORECASE)
        except re.error as err:
            raise MidiPortError(f"bad MIDI port pattern {pattern!r}: {err}") from err
    else:
        regex = pattern
    return next((name for name in names if regex.search(name)), None)


def probe_midi_system(backend: MidiBackend) -> MidiSystemStatus:
    """Find out once whether this machine has a MIDI system at all.

    The runner calls this at start-up and, when it returns ``available=False``,
    logs :attr:`MidiSystemStatus.warning` once and carries on. (Every failed
    attempt also makes libasound print its own line to stderr, which is why
    ports in :attr:`PortState.NO_SYSTEM` never retry.)

    Returns:
        ``available=False`` with a short reason (e.g. "ALSA not available") and the
        backend's own message as ``detail`` when it cannot even list ports.
        Other errors count as available: ports will report them individually.
    """
    try:
        backend.output_names()
    except MidiSystemUnavailable as err:
        cause = err.__cause__
        return MidiSystemStatus(
            available=False, reason=str(err), detail=str(cause) if cause else None
        )
    except MidiPortError:
        return MidiSystemStatus(available=True)
    return MidiSystemStatus(available=True)


class _Port:
    """State and logging shared by :class:`MidiOutput` and :class:`MidiInput`."""

    _direction = "port"

    def __init__(
        self,
        pattern: PortPattern,
        backend: MidiBackend,
        label: str | None,
        clock: Callable[[], float],
        warn_interval: float,
    ) -> None:
        self._pattern = pattern
        self._backend = backend
        shown = pattern.pattern if isinstance(pattern, re.Pattern) else pattern
        self.label = label or shown
        self._state = PortState.CLOSED
        self._port_name: str | None = None
        self._messages = 0
        self._dropped = 0
        self._errors = 0
        self._last_error: str | None = None
        self._dropped_while_missing = 0
        self._log = RateLimitedLogger(logger, warn_interval, clock)

    @property
    def state(self) -> PortState:
        """Current state of the port."""
        return self._state

    def stats(self) -> PortStats:
        """Counters and state for the health page."""
        return PortStats(
            label=self.label,
            state=self._state,
            port_name=self._port_name,
            messages=self._messages,
            dropped=self._dropped,
            errors=self._errors,
            last_error=self._last_error,
        )

    def _names(self) -> list[str]:
        raise NotImplementedError

    def _open_handle(self, name: str) -> None:
        raise NotImplementedError

    def _close_handle(self) -> None:
        raise NotImplementedError

    def _record_error(self, err: Exception) -> None:
        self._errors += 1
        self._last_error = str(err)

    def _lose(self, reason: str) -> None:
        """Close the handle and go to MISSING, logging what happened."""
        lost = self._port_name
        self._close_handle()
        self._state = PortState.MISSING
        self._dropped_while_missing = 0
        self._log.log(
            logging.WARNING,
            "lost",
            "MIDI %s %r lost port %r (%s); MIDI to and from it is dropped until it comes back",
            self._direction,
            self.label,
            lost,
            reason,
        )

    def open(self) -> PortState:
        """Try to open the port; never raises. Returns the new state."""
        if self._state in (PortState.NO_SYSTEM, PortState.CONNECTED):
            return self._state
        self._state = PortState.CLOSED
        self._try_open(first=True)
        return self._state

    def refresh(self) -> PortState:
        """Notice a vanished port and reopen a returned one; never raises.

        In :attr:`PortState.NO_SYSTEM` nothing is retried (every retry would make
        ALSA print errors); in :attr:`PortState.CLOSED` nothing happens either.
        """
        if self._state is PortState.CONNECTED:
            try:
                names = self._names()
            except MidiPortError as err:
                self._record_error(err)
                self._lose(str(err))
                return self._state
            if self._port_name not in names:
                self._lose("it is no longer listed")
        elif self._state is PortState.MISSING:
            self._try_open(first=False)
        return self._state

    def _try_open(self, *, first: bool) -> None:
        try:
            names = self._names()
            name = match_port(self._pattern, names)
            if name is not None:
                self._open_handle(name)
        except MidiSystemUnavailable as err:
            self._state = PortState.NO_SYSTEM
            self._last_error = str(err)
            logger.debug("MIDI %s %r disabled: %s", self._direction, self.label, err)
            return
        except MidiPortError as err:
            self._record_error(err)
            self._state = PortState.MISSING
            self._log.log(
                logging.WARNING,
                "open",
                "MIDI %s %r could not be opened (%s); retrying",
                self._direction,
                self.label,
                err,
            )
            return
        if name is None:
            self._state = PortState.MISSING
            if first:
                logger.warning(
                    "MIDI %s %r: no port matches %r (present: %s); it is dropped until one appears",
                    self._direction,
                    self.label,
                    self._pattern,
                    ", ".join(repr(n) for n in names) or "none",
                )
            return
        was_missing = self._state is PortState.MISSING
        self._state = PortState.CONNECTED
        self._port_name = name
        if was_missing:
            logger.info(
                "MIDI %s %r is back on port %r (%d message(s) dropped while it was missing)",
                self._direction,
                self.label,
                name,
                self._dropped_while_missing,
            )
        else:
            logger.info("MIDI %s %r opened port %r", self._direction, self.label, name)

    def close(self) -> None:
        """Close the port; idempotent, never raises."""
        if self._state is PortState.CONNECTED:
            self._close_handle()
        if self._state is not PortState.NO_SYSTEM:
            self._state = PortState.CLOSED


class MidiOutput(_Port):
    """An output port found by name pattern, robust to unplugging.

    Args:
        pattern: which port (see :func:`match_port`).
        backend: the MIDI backend (:class:`MidoBackend` in a show).
        label: a name for logs, e.g. the show file's output name.
        clock: monotonic clock for rate-limiting warnings.
        warn_interval: seconds between repeats of the same warning.
    """

    _direction = "output"

    def __init__(
        self,
        pattern: PortPattern,
        backend: MidiBackend,
        *,
        label: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        warn_interval: float = 30.0,
    ) -> None:
        """Create the output; call :meth:`open` to connect."""
        super().__init__(pattern, backend, label, clock, warn_interval)
        self._handle: OutputHandle | None = None

    def _names(self) -> list[str]:
        return self._backend.output_names()

    def _open_handle(self, name: str) -> None:
        self._handle = self._backend.open_output(name)

    def _close_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.close()
            except MidiPortError as err:
                logger.debug("closing MIDI output %r: %s", self.label, err)

    def send(self, data: bytes) -> bool:
        """Send one or more complete messages; never raises.

        Returns:
            True when the bytes went to the port; False when they were dropped
            (port missing, no MIDI system, bad bytes or a failed send).
        """
        try:
            messages = split_messages(data)
        except MidiDecodeError as err:
            self._record_error(err)
            self._log.log(
                logging.ERROR, "bad", "MIDI output %r: refusing bad bytes: %s", self.label, err
            )
            return False
        if self._handle is None:
            self._dropped += 1
            self._dropped_while_missing += 1
            return False
        try:
            for message in messages:
                self._handle.send(message)
        except MidiPortError as err:
            self._record_error(err)
            self._dropped += 1
            self._lose(f"send failed: {err}")
            return False
        self._messages += 1
        return True


class MidiInput(_Port):
    """An input port found by name pattern, delivering parsed messages on the loop.

    Args:
        pattern: which port (see :func:`match_port`).
        backend: the MIDI backend.
        loop: the event loop that runs the show.
        on_message: called on the loop's thread with each parsed message.
        label: a name for logs.
        clock: monotonic clock for rate-limiting warnings.
        warn_interval: seconds between repeats of the same warning.
    """

    _direction = "input"

    def __init__(
        self,
        pattern: PortPattern,
        backend: MidiBackend,
        loop: asyncio.AbstractEventLoop,
        on_message: MessageCallback,
        *,
        label: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        warn_interval: float = 30.0,
    ) -> None:
        """Create the input; call :meth:`open` to connect."""
        super().__init__(pattern, backend, label, clock, warn_interval)
        self._loop = loop
        self._on_message = on_message
        self._handle: InputHandle | None = None

    def _names(self) -> list[str]:
        return self._backend.input_names()

    def _open_handle(self, name: str) -> None:
        self._handle = self._backend.open_input(name, self._from_backend_thread)

    def _close_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                handle.close()
            except MidiPortError as err:
                logger.debug("closing MIDI input %r: %s", self.label, err)

    def _from_backend_thread(self, data: bytes) -> None:
        """Runs on rtmidi's thread: the one place a thread meets the loop."""
        try:
            self._loop.call_soon_threadsafe(self._deliver, bytes(data))
        except RuntimeError:  # the loop is closed: the show is shutting down
            logger.debug("MIDI input %r: message after the event loop closed", self.label)

    def _deliver(self, data: bytes) -> None:
        """Runs on the loop: parse and hand over one message."""
        if self._state is not PortState.CONNECTED:
            self._dropped += 1
            return
        try:
            message = parse_message(data)
        except MidiDecodeError as err:
            self._record_error(err)
            self._log.log(
                logging.WARNING,
                "decode",
                "MIDI input %r: ignoring malformed message %s: %s",
                self.label,
                data.hex(" "),
                err,
            )
            return
        self._messages += 1
        try:
            self._on_message(message)
        except Exception as err:
            self._record_error(err)
            self._log.log(
                logging.ERROR,
                "handler",
                "MIDI input %r: handler failed on %r: %r",
                self.label,
                message,
                err,
            )


# --- the real backend ------------------------------------------------------------


class _MidoOutputHandle:
    def __init__(self, port: object) -> None:
        self._port = port

    def send(self, data: bytes) -> None:
        import mido

        try:
            self._port.send(mido.Message.from_bytes(data))  # type: ignore[attr-defined]
        except (OSError, ValueError, RuntimeError) as err:
            raise MidiPortError(f"send failed: {err}") from err

    def close(self) -> None:
        try:
            self._port.close()  # type: ignore[attr-defined]
        except (OSError, RuntimeError) as err:
            raise MidiPortError(f"close failed: {err}") from err


class _MidoInputHandle:
    def __init__(self, port: object) -> None:
        self._port = port

    def close(self) -> None:
        try:
            self._port.close()  # type: ignore[attr-defined]
        except (OSError, RuntimeError) as err:
            raise MidiPortError(f"close failed: {err}") from err


class MidoBackend:
    """:class:`MidiBackend` over mido's rtmidi backend (ALSA, CoreMIDI, WinMM).

    rtmidi's errors derive from ``OSError``; a failing initialisation of the
    system API (``rtmidi.SystemError``, e.g. "error creating ALSA sequencer
    client object") becomes :class:`MidiSystemUnavailable`.
    """

    def _call(self, what: str, func: Callable[[], _T]) -> _T:
        try:
            return func()
        except ImportError as err:
            raise MidiSystemUnavailable(f"python-rtmidi is not importable: {err}") from err
        except (OSError, RuntimeError, ValueError) as err:
            if _is_system_error(err):
                raise MidiSystemUnavailable(_describe_system_error(err)) from err
            raise MidiPortError(f"{what}: {err}") from err

    def output_names(self) -> list[str]:
        """Names of the output ports present now."""
        import mido

        return [str(name) for name in self._call("listing MIDI outputs", mido.get_output_names)]

    def input_names(self) -> list[str]:
        """Names of the input ports present now."""
        import mido

        return [str(name) for name in self._call("listing MIDI inputs", mido.get_input_names)]

    def open_output(self, name: str) -> OutputHandle:
        """Open output ``name``."""
        import mido

        port = self._call(f"opening MIDI output {name!r}", lambda: mido.open_output(name))
        return _MidoOutputHandle(port)

    def open_input(self, name: str, callback: Callable[[bytes], None]) -> InputHandle:
        """Open input ``name``; mido calls back on rtmidi's thread."""
        import mido

        def on_message(message: mido.Message) -> None:
            callback(bytes(message.bytes()))

        port = self._call(
            f"opening MIDI input {name!r}", lambda: mido.open_input(name, callback=on_message)
        )
        return _MidoInputHandle(port)


def _is_system_error(err: BaseException) -> bool:
    """Whether ``err`` is rtmidi's "the MIDI API itself cannot start" error."""
    try:
        import rtmidi
    except ImportError:
        return False
    return isinstance(err, rtmidi.SystemError)


def _describe_system_error(err: BaseException) -> str:
    text = str(err)
    return "ALSA not available" if "ALSA" in text else text
