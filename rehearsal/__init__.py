"""Rehearsal: record, replay and simulate Stovelight telemetry.

* :mod:`rehearsal.sim` — deterministic neighbourhood simulator and its websocket server
  (``stovelight simulate``).
* :mod:`rehearsal.recorder` — non-blocking recorder into one SQLite (WAL) file.
* :mod:`rehearsal.recording` — the file format and :class:`Recording`, its reader.
* :mod:`rehearsal.export` / :mod:`rehearsal.importer` — JSONL, CSV and MCAP out; CSV and JSONL in.
* :mod:`rehearsal.cli` — ``record``, ``export`` and ``import`` commands.
"""

from rehearsal.errors import RehearsalError
from rehearsal.recorder import Recorder, RecorderStats
from rehearsal.recording import Event, Recording, Sample

__all__ = ["Event", "Recorder", "RecorderStats", "Recording", "RehearsalError", "Sample"]
