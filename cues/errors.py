"""Stovelight's one exception root, and the tree of every error raised on purpose.

The root lives in :mod:`cues`, the package at the bottom of the layers: it imports
nothing, so every other package (``bridges`` imports neither ``show`` nor ``rehearsal``;
``cues`` imports nothing outside itself) can derive from it. :mod:`show.errors`
re-exports it. Package roots translate library errors at their boundary; an
``except StovelightError`` catches every error Stovelight raises on purpose, and the
builtin bases are kept where callers catch those (``ValueError``, ``LookupError``...)::

    StovelightError
    ├── ShowFileError                show.errors: a show file that cannot be run
    ├── ProtocolError                show.web.protocol: a malformed console message (ValueError)
    ├── ControlValueError            show.qlab.values: a control value out of range (ValueError)
    ├── SetupError                   show.runcmd: a show cannot start
    ├── PairingError                 show.runtime.pairing: a pairing cannot start (RuntimeError)
    ├── OscError                     bridges.osc.errors
    ├── MidiError                    bridges.midi.errors
    ├── TelemetryError               bridges.telemetry.exceptions
    │   └── PointerNotFound          bridges.telemetry.jsonfeed (LookupError)
    ├── RehearsalError               rehearsal.errors
    │   └── BrokerError              rehearsal.broker (RuntimeError)
    └── VisualsError                 visuals.errors

Each package root's module draws its own subtree.
"""

from __future__ import annotations

__all__ = ["StovelightError"]


class StovelightError(Exception):
    """Root of every error Stovelight raises on purpose."""
