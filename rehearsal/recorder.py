"""Recorder: appends samples and events to a recording without blocking the live loop.

Design: the live side (the asyncio loop) only appends to an in-memory batch under a lock held
for a list append; a dedicated writer thread (``rehearsal-recorder``) swaps the batch out every
``commit_interval`` seconds (100 ms by default) and writes it in one transaction.

Why a thread and not commits from the asyncio side: a SQLite commit is a blocking file write
(and an fsync at every WAL checkpoint) whose duration the show cannot bound — a busy disk can
take tens of milliseconds, which would delay cues and outputs. In the thread the sqlite3
module releases the GIL during that I/O, so the loop keeps running. The batch is bounded
(``max_pending`` rows): when the writer cannot keep up, new rows are counted as dropped and
``add_sample`` returns False at once; it never waits.

Durability: the file is in WAL mode with ``synchronous=NORMAL``; a committed batch survives a
crash or SIGKILL of the process (it is in the WAL, which SQLite replays on the next open), so a
SIGKILL loses at most the rows not yet committed — the batch being collected and the one being
written. (A power cut may additionally lose the last transactions, never the file.)
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bridges.ratelimit import RateLimitedLogger
from rehearsal.errors import RecordingFormatError
from rehearsal.recording import EVENT_KINDS, FORMAT_VERSION, SCHEMA_SQL

__all__ = ["Recorder", "RecorderStats", "SampleRow", "create_recording"]

logger = logging.getLogger(__name__)

SampleRow = tuple[float, float, str, str, Any, float | None]
"""``(t_recv, wall, source, signal, value, ts)`` as accepted by :meth:`Recorder.add_samples`."""


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a recorder (rows are samples plus events).

    Attributes:
        accepted: rows taken into the batch.
        committed: rows written and committed.
        dropped: rows refused because the batch was full (or lost to a write error).
        batches: transactions committed.
        pending: rows accepted but not yet committed.
        write_errors: batches that failed to write.
    """

    accepted: int
    committed: int
    dropped: int
    batches: int
    pending: int
    write_errors: int


def create_recording(
    path: str | Path, *, show: str = "", started: float | None = None
) -> sqlite3.Connection:
    """Create (or reopen for appending) a recording file and return a connection to it.

    Args:
        path: file to create.
        show: show name for ``meta.show``.
        started: Unix time for ``meta.started`` (default: now).

    Raises:
        RecordingFormatError: the file exists and is not a recording of a known version.
    """
    db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA_SQL)
        row = db.execute("SELECT value FROM meta WHERE key='format_version'").fetchone()
        if row is not None and int(row[0]) != FORMAT_VERSION:
            raise RecordingFormatError(f"{path}: format version {row[0]}, cannot append")
        if row is None:
            stamp = time.time() if started is None else started
            meta = {
                "format_version": str(FORMAT_VERSION),
                "started": repr(stamp),
                "started_iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)),
                "show": show,
                "writer": "stovelight.rehearsal",
            }
            db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", meta.items())
    except sqlite3.DatabaseError as err:
        db.close()
        raise RecordingFormatError(f"{path}: cannot create recording: {err}") from err
    except BaseException:
        db.close()
        raise
    return db


def _db_value(value: Any) -> float | int | str | None:
    kind = type(value)
    if kind is float or kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return int(value)
    if kind is int:
        return float(value)
    if value is None:
        return None
    return str(value)


class Recorder:
    """Append-only recording writer with a background commit thread.

    Args:
        path: recording file (created if missing, appended to otherwise).
        show: show name stored in the file's meta table.
        commit_interval: seconds between commits (a batch window).
        max_pending: most rows held in memory awaiting commit; beyond it rows are dropped.
        started: Unix time for ``meta.started`` (default: now).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        show: str = "",
        commit_interval: float = 0.1,
        max_pending: int = 200_000,
        started: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.commit_interval = commit_interval
        self.max_pending = max_pending
        self._show = show
        self._started = started
        self._lock = threading.Lock()
        self._samples: list[SampleRow] = []
        self._events: list[tuple[float, str, str]] = []
        self._accepted = 0
        self._committed = 0
        self._dropped = 0
        self._batches = 0
        self._write_errors = 0
        self._lost = 0
        self._in_flight = 0
        self._wake = threading.Event()
        self._stopping = False
        self._committed_cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._warn = RateLimitedLogger(logger, 5.0)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Recorder:
        """Create the file and start the writer thread; returns self.

        Raises:
            RecordingFormatError: the file cannot be created or is not a recording.
        """
        if self._thread is not None:
            raise RuntimeError("recorder already started")
        create_recording(self.path, show=self._show, started=self._started).close()
        self._thread = threading.Thread(target=self._run, name="rehearsal-recorder", daemon=True)
        self._thread.start()
        logger.info("recording to %s", self.path)
        return self

    def close(self, timeout: float | None = 10.0) -> RecorderStats:
        """Commit everything pending, stop the writer thread and return the final counters."""
        if self._thread is not None:
            self._stopping = True
            self._wake.set()
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.error("recorder %s: writer did not finish within %s s", self.path, timeout)
            self._thread = None
        stats = self.stats
        logger.info(
            "recording %s closed: %d rows committed, %d dropped",
            self.path,
            stats.committed,
            stats.dropped,
        )
        return stats

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> RecorderStats:
        """Current counters."""
        with self._lock:
            return RecorderStats(
                accepted=self._accepted,
                committed=self._committed,
                dropped=self._dropped,
                batches=self._batches,
                pending=len(self._samples) + len(self._events) + self._in_flight,
                write_errors=self._write_errors,
            )

    # -- live side (never blocks beyond a list append) ------------------------------------------

    def _warn_dropped(self) -> None:
        """Say that rows were dropped (called after the lock is released)."""
        self._warn.warning(
            "drop",
            "recorder %s cannot keep up: dropping rows (%d dropped so far)",
            self.path,
            self._dropped,
        )

    def add_sample(
        self,
        t_recv: float,
        wall: float,
        source: str,
        signal: str,
        value: float | bool | str,
        ts: float | None,
    ) -> bool:
        """Queue one sample; return False (and count it) when the batch is full."""
        with self._lock:
            full = len(self._samples) + len(self._events) >= self.max_pending
            if full:
                self._dropped += 1
            else:
                self._samples.append((t_recv, wall, source, signal, value, ts))
                self._accepted += 1
        if full:
            self._warn_dropped()
        return not full

    def add_samples(self, rows: Iterable[SampleRow]) -> int:
        """Queue ``(t_recv, wall, source, signal, value, ts)`` rows; return how many fit."""
        batch = rows if isinstance(rows, list) else list(rows)
        with self._lock:
            room = self.max_pending - len(self._samples) - len(self._events)
            if room >= len(batch):
                self._samples.extend(batch)
                taken = len(batch)
            else:
                taken = max(0, room)
                self._samples.extend(batch[:taken])
                self._dropped += len(batch) - taken
            self._accepted += taken
        if taken < len(batch):
            self._warn_dropped()
        return taken

    def add_event(self, t: float, kind: str, data: Mapping[str, Any]) -> bool:
        """Queue one event; return False (and count it) when the batch is full.

        Args:
            t: show time (same clock as samples' ``t_recv``).
            kind: one of :data:`rehearsal.recording.EVENT_KINDS`.
            data: JSON-serialisable details, e.g. ``{"cue": "5", "state": "running"}``.

        Raises:
            ValueError: unknown kind, or data not serialisable as JSON.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} is not one of {sorted(EVENT_KINDS)}")
        text = json.dumps(dict(data), separators=(",", ":"), allow_nan=False)
        with self._lock:
            full = len(self._samples) + len(self._events) >= self.max_pending
            if full:
                self._dropped += 1
            else:
                self._events.append((t, kind, text))
                self._accepted += 1
        if full:
            self._warn_dropped()
            return False
        return True

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Block until every row accepted so far is committed (not for the live loop).

        Returns:
            True when committed, False on timeout or when the recorder is not running.
        """
        if self._thread is None:
            return False
        with self._lock:
            target = self._accepted
        self._wake.set()
        with self._committed_cond:
            return self._committed_cond.wait_for(
                lambda: self._committed + self._lost >= target, timeout
            )

    # -- writer thread --------------------------------------------------------------------------

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")
        known = {row[0] for row in db.execute("SELECT name FROM signals")}
        try:
            # the first batch is written one interval after the start (or at a flush or
            # close), like every later one
            self._wake.wait(self.commit_interval)
            self._wake.clear()
            while True:
                began = time.monotonic()
                with self._lock:
                    samples, self._samples = self._samples, []
                    events, self._events = self._events, []
                    self._in_flight = len(samples) + len(events)
                    stopping = self._stopping
                if samples or events:
                    self._write(db, samples, events, known)
                if stopping:
                    with self._lock:
                        if not self._samples and not self._events:
                            return
                    continue
                rest = self.commit_interval - (time.monotonic() - began)
                if rest > 0:
                    self._wake.wait(rest)
                self._wake.clear()
        finally:
            db.close()

    def _write(
        self,
        db: sqlite3.Connection,
        samples: list[SampleRow],
        events: list[tuple[float, str, str]],
        known: set[str],
    ) -> None:
        rows = [(t, w, src, sig, _db_value(v), ts) for t, w, src, sig, v, ts in samples]
        fresh = {(row[3], row[2]) for row in samples if row[3] not in known}
        count = len(samples) + len(events)
        try:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO samples(t_recv, wall, source, signal, value, ts)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            if events:
                db.executemany("INSERT INTO events(t, kind, data) VALUES (?, ?, ?)", events)
            if fresh:
                db.executemany("INSERT OR IGNORE INTO signals(name, source) VALUES (?, ?)", fresh)
            db.execute("COMMIT")
        except sqlite3.Error as err:
            if db.in_transaction:
                db.execute("ROLLBACK")
            with self._lock:
                self._write_errors += 1
                self._dropped += count
                self._lost += count
                self._in_flight = 0
            self._warn.error(
                "write", "recorder %s: writing %d rows failed: %s", self.path, count, err
            )
        else:
            known.update(name for name, _ in fresh)
            with self._lock:
                self._committed += count
                self._batches += 1
                self._in_flight = 0
        with self._committed_cond:
            self._committed_cond.notify_all()
