"""Exceptions raised by the rehearsal package.

Everything derives from one root so callers can catch the package as a whole::

    RehearsalError
    ├── TelemetryDecodeError   a websocket message does not follow the telemetry protocol
    ├── RecordingFormatError   a file is not a Stovelight recording (or a newer format version)
    ├── ImportMappingError     an import file does not match the column mapping
    ├── UnknownScenarioError   the simulator was asked for a scenario it does not know
    ├── CueNotFoundError       replay was asked to start at a cue the recording lacks (replay)
    └── BrokerError            the test/demo Mosquitto could not start (broker; RuntimeError)

:class:`RehearsalError` derives from :class:`cues.errors.StovelightError`, Stovelight's one
exception root.
"""

from __future__ import annotations

from cues.errors import StovelightError

__all__ = [
    "ImportMappingError",
    "RecordingFormatError",
    "RehearsalError",
    "TelemetryDecodeError",
    "UnknownScenarioError",
]


class RehearsalError(StovelightError):
    """Root of every error raised by :mod:`rehearsal`."""


class TelemetryDecodeError(RehearsalError, ValueError):
    """A telemetry message is not valid JSON or does not follow the frame layout."""


class RecordingFormatError(RehearsalError):
    """A file is not a recording this version can read."""


class ImportMappingError(RehearsalError, ValueError):
    """An import source does not fit the requested column mapping."""


class UnknownScenarioError(RehearsalError, KeyError):
    """No simulator scenario has the requested name."""
