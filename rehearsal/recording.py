"""The recording file format and its reader.

A recording is one SQLite database in WAL mode (format version 1)::

    meta    (key TEXT PRIMARY KEY, value TEXT)         format_version, started, show, writer
    samples (seq INTEGER PRIMARY KEY, t_recv REAL, wall REAL, source TEXT, signal TEXT,
             value, ts REAL)
    events  (seq INTEGER PRIMARY KEY, t REAL, kind TEXT, data TEXT)   data is a JSON object
    signals (name TEXT PRIMARY KEY, source TEXT)      every signal that occurs in samples

``t_recv`` and ``events.t`` are monotonic show time in seconds (the same clock for both);
``wall`` is the Unix time the sample was received and ``ts`` the time the source stamped on
it. ``value`` has no declared type, so SQLite keeps what was stored: REAL for numbers,
INTEGER 0/1 for booleans, TEXT for strings (NULL for a number that was NaN). Samples are
appended in ``t_recv`` order, which lets the reader seek by time with a binary search on
``seq`` instead of a second index.

:class:`Recording` reads a file, also while a :class:`rehearsal.recorder.Recorder` is still
writing it: every query is its own short read transaction, so new batches appear as they are
committed.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import math
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from rehearsal.errors import RecordingFormatError

__all__ = [
    "EVENT_KINDS",
    "FORMAT_VERSION",
    "SCHEMA_SQL",
    "Event",
    "Recording",
    "Sample",
    "StoredValue",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version written to ``meta.format_version``; readers refuse newer versions."""

EVENT_KINDS = frozenset({"operator", "source", "cue_state", "output", "trigger", "note"})
"""The allowed values of ``events.kind``. ``operator`` and ``source`` events carry the engine
event they caused under ``data["event"]`` (:mod:`cues.eventcodec`), which a dry run replays."""

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    seq INTEGER PRIMARY KEY,
    t_recv REAL NOT NULL,
    wall REAL NOT NULL,
    source TEXT NOT NULL,
    signal TEXT NOT NULL,
    value,
    ts REAL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signals (name TEXT PRIMARY KEY, source TEXT NOT NULL);
"""
"""DDL of format version 1."""

StoredValue = float | bool | str | None
"""A sample value as read back (None for a NaN that SQLite stored as NULL)."""


class Sample(NamedTuple):
    """One recorded telemetry value."""

    seq: int
    t_recv: float
    wall: float
    source: str
    signal: str
    value: StoredValue
    ts: float | None


class Event(NamedTuple):
    """One recorded show event (operator action, cue state change, output, trigger, note)."""

    seq: int
    t: float
    kind: str
    data: dict[str, Any]


_SAMPLE_COLUMNS = "seq, t_recv, wall, source, signal, value, ts"


def _to_sample(row: tuple[Any, ...]) -> Sample:
    value = row[5]
    if type(value) is int:
        return Sample(row[0], row[1], row[2], row[3], row[4], bool(value), row[6])
    return Sample(*row)


class Recording:
    """A recording opened for reading. Use :meth:`open`.

    Args:
        connection: an open SQLite connection to the file.
        path: the file's path.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self.meta = self._read_meta()
        version = int(self.meta.get("format_version", "0"))
        if not 1 <= version <= FORMAT_VERSION:
            raise RecordingFormatError(
                f"{path}: recording format version {version} is not supported"
                f" (this reader knows 1 to {FORMAT_VERSION})"
            )

    @classmethod
    def open(cls, path: str | Path) -> Recording:
        """Open ``path`` read-only.

        Raises:
            RecordingFormatError: the file does not exist or is not a recording.
        """
        p = Path(path)
        if not p.is_file():
            raise RecordingFormatError(f"{p}: no such recording")
        try:
            db = sqlite3.connect(
                f"{p.resolve().as_uri()}?mode=ro",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            db.execute("PRAGMA query_only = ON")
        except sqlite3.Error as err:
            raise RecordingFormatError(f"{p}: cannot open recording: {err}") from err
        try:
            return cls(db, p)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _read_meta(self) -> dict[str, str]:
        try:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as err:
            raise RecordingFormatError(f"{self.path}: not a Stovelight recording: {err}") from err
        return {str(k): str(v) for k, v in rows}

    # -- overview -----------------------------------------------------------------------------

    def signals(self) -> list[str]:
        """Every signal name in the recording, sorted."""
        rows = self._db.execute("SELECT name FROM signals ORDER BY name").fetchall()
        return [str(r[0]) for r in rows]

    def value_types(self) -> dict[str, list[str]]:
        """SQLite storage classes seen per signal (``real``, ``integer``, ``text``, ``null``).

        Scans the whole file; ``integer`` means boolean.
        """
        types: dict[str, list[str]] = {}
        rows = self._db.execute("SELECT DISTINCT signal, typeof(value) FROM samples")
        for signal, kind in rows.fetchall():
            types.setdefault(str(signal), []).append(str(kind))
        return types

    def last_seq(self) -> int:
        """The highest committed sample ``seq`` (0 when empty)."""
        row = self._db.execute("SELECT max(seq) FROM samples").fetchone()
        return int(row[0] or 0)

    def time_range(self) -> tuple[float, float] | None:
        """``(first, last)`` sample ``t_recv``, or None when there are no samples."""
        first = self._db.execute("SELECT t_recv FROM samples ORDER BY seq LIMIT 1").fetchone()
        if first is None:
            return None
        last = self._db.execute("SELECT t_recv FROM samples ORDER BY seq DESC LIMIT 1").fetchone()
        return float(first[0]), float(last[0])

    def last_event_time(self) -> float | None:
        """The show time of the last event (a live run ends with ``show stopped``)."""
        row = self._db.execute("SELECT max(t) FROM events").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # -- seeking ------------------------------------------------------------------------------

    def seek(self, t: float) -> int:
        """Return the ``seq`` position of the first sample with ``t_recv >= t``.

        Binary search over ``seq`` (samples are stored in time order). The result is one past
        the last sample when every sample is earlier than ``t``.
        """
        # two queries: SQLite only optimises a lone min() or max() on the rowid
        first = self._db.execute("SELECT min(seq) FROM samples").fetchone()[0]
        if first is None:
            return 1
        lo, hi = int(first), self.last_seq() + 1
        query = "SELECT seq, t_recv FROM samples WHERE seq >= ? ORDER BY seq LIMIT 1"
        while lo < hi:
            mid = (lo + hi) // 2
            found = self._db.execute(query, (mid,)).fetchone()
            if found is None:
                hi = mid
            elif found[1] < t:
                lo = int(found[0]) + 1
            else:
                hi = mid
        return lo

    def cue_time(self, cue: str, state: str = "running", occurrence: int = 1) -> float | None:
        """Show time at which cue ``cue`` entered ``state`` for the ``occurrence``-th time.

        Looks for ``cue_state`` events whose data is ``{"cue": cue, "state": state, ...}``.

        Returns:
            The event's time, or None when it never happened.
        """
        seen = 0
        for event in self.events(kind="cue_state"):
            if str(event.data.get("cue")) == str(cue) and event.data.get("state") == state:
                seen += 1
                if seen == occurrence:
                    return event.t
        return None

    def seek_cue(self, cue: str, state: str = "running", occurrence: int = 1) -> int:
        """Return the sample position at the moment cue ``cue`` entered ``state``.

        Raises:
            KeyError: the cue never entered that state (that often).
        """
        t = self.cue_time(cue, state, occurrence)
        if t is None:
            raise KeyError(f"cue {cue!r} never became {state!r} (occurrence {occurrence})")
        return self.seek(t)

    # -- reading ------------------------------------------------------------------------------

    def tail(
        self, after_seq: int, limit: int = 10_000, signals: Collection[str] | None = None
    ) -> list[Sample]:
        """Return up to ``limit`` committed samples with ``seq > after_seq``, in order."""
        sql = f"SELECT {_SAMPLE_COLUMNS} FROM samples WHERE seq > ?"
        params: list[Any] = [after_seq]
        if signals is not None:
            names = list(signals)
            sql += f" AND signal IN ({','.join('?' * len(names))})"
            params += names
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return [_to_sample(row) for row in self._db.execute(sql, params)]

    def samples(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        from_seq: int | None = None,
        signals: Collection[str] | None = None,
        batch: int = 10_000,
    ) -> Iterator[Sample]:
        """Iterate samples in order, from ``start`` (inclusive) to ``end`` (exclusive).

        Pages through the file by ``seq``; samples committed while iterating are included.

        Args:
            start: first show time to include.
            end: show time to stop before.
            from_seq: first ``seq`` position to include (e.g. from :meth:`seek_cue`).
            signals: only these signal names.
            batch: rows fetched per query.
        """
        position = 1 if from_seq is None else from_seq
        if start is not None:
            position = max(position, self.seek(start))
        after = position - 1
        while True:
            rows = self.tail(after, batch, signals)
            if not rows:
                return
            for sample in rows:
                if end is not None and sample.t_recv >= end:
                    return
                yield sample
            after = rows[-1].seq

    def instants(
        self, *, start: float | None = None, end: float | None = None, batch: int = 50_000
    ) -> Iterator[tuple[float, list[tuple[str, str, Any]]]]:
        """Samples grouped by receive time, as plain ``(source, signal, value)`` tuples:
        the lean path for dry runs, which read millions of rows.

        Args:
            start: first show time to include.
            end: show time to stop before.
            batch: rows fetched per query.
        """
        after = (1 if start is None else self.seek(start)) - 1
        sql = (
            "SELECT seq, t_recv, source, signal, value FROM samples"
            " WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        current = math.nan
        group: list[tuple[str, str, Any]] = []
        while True:
            rows = self._db.execute(sql, (after, batch)).fetchall()
            if not rows:
                break
            for _seq, t, source, signal, value in rows:
                if end is not None and t >= end:
                    if group:
                        yield current, group
                    return
                if type(value) is int:  # booleans are stored as 0/1
                    value = bool(value)
                if t != current:
                    if group:
                        yield current, group
                    group = []
                    current = t
                group.append((source, signal, value))
            after = rows[-1][0]
        if group:
            yield current, group

    def instant_frames(
        self, *, start: float | None = None, end: float | None = None, batch: int = 50_000
    ) -> Iterator[tuple[float, list[tuple[str, list[tuple[str, Any]]]]]]:
        """Samples grouped by receive time and, within an instant, into runs of one source:
        ``(t, [(source, [(signal, value), ...]), ...])``, what the engine's
        ``handle_samples`` takes. The leanest read path (one pass over the rows, pages by
        ``seq`` range), for dry runs of millions of rows.

        Args:
            start: first show time to include.
            end: show time to stop before.
            batch: ``seq`` numbers read per query.
        """
        after = (1 if start is None else self.seek(start)) - 1
        last = self.last_seq()
        sql = (
            "SELECT t_recv, source, signal, value FROM samples"
            " WHERE seq > ? AND seq <= ? ORDER BY seq"
        )
        current = math.nan
        frames: list[tuple[str, list[tuple[str, Any]]]] = []
        source_now = None
        pairs: list[tuple[str, Any]] = []
        while after < last:
            rows = self._db.execute(sql, (after, after + batch)).fetchall()
            after += batch
            for t, source, signal, value in rows:
                if t != current:
                    if end is not None and t >= end:
                        if frames:
                            yield current, frames
                        return
                    if frames:
                        yield current, frames
                    current = t
                    frames = []
                    source_now = None
                if source != source_now:
                    source_now = source
                    pairs = []
                    frames.append((source, pairs))
                if type(value) is int:  # booleans are stored as 0/1
                    value = bool(value)
                pairs.append((signal, value))
        if frames:
            yield current, frames

    async def follow(
        self,
        *,
        after_seq: int = 0,
        poll_s: float = 0.1,
        signals: Collection[str] | None = None,
    ) -> AsyncIterator[Sample]:
        """Yield samples as they are committed, forever (stop by breaking out).

        Args:
            after_seq: start after this ``seq`` (0: from the beginning).
            poll_s: seconds to wait when no new rows were committed.
            signals: only these signal names.
        """
        after = after_seq
        while True:
            rows = self.tail(after, 10_000, signals)
            for sample in rows:
                yield sample
            if rows:
                after = rows[-1].seq
            else:
                await asyncio.sleep(poll_s)

    def events(
        self, *, kind: str | None = None, start: float | None = None, end: float | None = None
    ) -> Iterator[Event]:
        """Iterate events in order, optionally of one ``kind`` and within ``[start, end)``."""
        sql = "SELECT seq, t, kind, data FROM events WHERE 1"
        params: list[Any] = []
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if start is not None:
            sql += " AND t >= ?"
            params.append(start)
        if end is not None:
            sql += " AND t < ?"
            params.append(end)
        for seq, t, k, data in self._db.execute(sql + " ORDER BY seq", params).fetchall():
            try:
                decoded = json.loads(data)
            except ValueError:
                logger.warning("%s: event %d has invalid JSON data; kept as text", self.path, seq)
                decoded = {"text": data}
            yield Event(int(seq), float(t), str(k), decoded if isinstance(decoded, dict) else {})

    def records(
        self, *, start: float | None = None, end: float | None = None
    ) -> Iterator[Sample | Event]:
        """Samples and events merged in show-time order (what a replay feeds the engine)."""

        def time_of(item: Sample | Event) -> float:
            return item.t_recv if isinstance(item, Sample) else item.t

        return heapq.merge(
            self.samples(start=start, end=end), self.events(start=start, end=end), key=time_of
        )
