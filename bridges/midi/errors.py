"""Exceptions of the MIDI bridge.

Every exception raised by :mod:`bridges.midi` derives from :class:`MidiError`, so
the runner can translate MIDI trouble at the boundary with a single ``except``::

    MidiError
    ├── MidiValueError        a value given to an encoder is out of range (also ValueError)
    ├── MidiDecodeError       received bytes are not a valid message (also ValueError)
    └── MidiPortError         a port could not be opened, or a send failed
        └── MidiSystemUnavailable
                              there is no MIDI system on this machine at all
                              (e.g. ALSA's sequencer cannot be opened)

Backend exceptions (``rtmidi`` errors, ``OSError``, mido's ``IOError``) are
translated into :class:`MidiPortError` inside :mod:`bridges.midi.ports` and never
leak further. :class:`MidiError` derives from :class:`cues.errors.StovelightError`,
Stovelight's one exception root.
"""

from __future__ import annotations

from cues.errors import StovelightError

__all__ = [
    "MidiDecodeError",
    "MidiError",
    "MidiPortError",
    "MidiSystemUnavailable",
    "MidiValueError",
]


class MidiError(StovelightError):
    """Root of every exception raised by the MIDI bridge."""


class MidiValueError(MidiError, ValueError):
    """A value handed to an encoder is out of range or of the wrong type."""


class MidiDecodeError(MidiError, ValueError):
    """Bytes received from a port do not form a valid message."""


class MidiPortError(MidiError):
    """A MIDI port could not be listed, opened or written to."""


class MidiSystemUnavailable(MidiPortError):
    """The machine has no usable MIDI system (no ALSA sequencer, no CoreMIDI, ...)."""
