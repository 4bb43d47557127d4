"""Logging for a running show: stderr, a rotating file per show, and a short
in-memory tail for the operator console.

The show's thread only puts records on a bounded queue (a
``logging.handlers.QueueHandler``); a ``QueueListener`` thread formats them and writes
stderr, the file and the tail, so a GO's log lines never delay its packets. Each record
keeps the time it was made. :func:`stop_show_logging` (also run at exit) writes out
everything still queued.
"""

from __future__ import annotations

import atexit
import collections
import logging
import logging.handlers
import queue
import re
import sys
import time
from pathlib import Path

__all__ = [
    "LOG_FORMAT",
    "QUEUE_SIZE",
    "ShowQueueHandler",
    "TailHandler",
    "configure_show_logging",
    "flush_show_logging",
    "stop_show_logging",
]

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUEUE_SIZE = 50_000
"""Records waiting for the log thread at most; beyond that new ones are counted and
dropped (reported once there is room again) rather than held without bound."""

_listener: logging.handlers.QueueListener | None = None
_queue: queue.Queue[logging.LogRecord] | None = None
_atexit_registered = False


class TailHandler(logging.Handler):
    """Keeps the last ``size`` formatted records (bounded)."""

    def __init__(self, size: int = 200) -> None:
        super().__init__(logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line must never break the show
            self.handleError(record)


def configure_show_logging(
    title: str, log_dir: Path | None, *, verbose: bool = False
) -> tuple[TailHandler, Path | None]:
    """Send logs to stderr and ``log_dir/<title>.log`` (rotating, 5 x 2 MB) through the
    log thread; see the module docstring."""
    stop_show_logging()
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handlers: list[logging.Handler] = []
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter(LOG_FORMAT))
    handlers.append(stderr)
    # per-connection chatter from the websocket libraries drowns the show's own log
    for noisy in ("websockets", "show.web.server.ws"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    tail = TailHandler()
    handlers.append(tail)
    path: Path | None = None
    problem: str | None = None
    if log_dir is not None:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-") or "show"
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            path = log_dir / f"{stem}.log"
            rotating = logging.handlers.RotatingFileHandler(
                path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
            rotating.setFormatter(logging.Formatter(LOG_FORMAT))
            handlers.append(rotating)
        except OSError as exc:
            problem = f"cannot write the log file in {log_dir} ({exc}); logging to stderr only"
            path = None
    _start(root, handlers)
    if problem is not None:
        logging.getLogger(__name__).warning("%s", problem)
    return tail, path


class ShowQueueHandler(logging.handlers.QueueHandler):
    """Puts records on the log thread's bounded queue; never blocks the caller.

    Attributes:
        dropped: Records refused because the queue was full (all time).
    """

    def __init__(self, q: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(q)
        self.dropped = 0
        self._unreported = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        """Queue ``record``, or count it if the log thread is too far behind."""
        q: queue.Queue[logging.LogRecord] = self.queue  # type: ignore[assignment]
        try:
            if self._unreported and q.qsize() < q.maxsize // 2:
                q.put_nowait(self._dropped_record())
                self._unreported = 0
            q.put_nowait(record)
        except queue.Full:
            self.dropped += 1
            self._unreported += 1

    def _dropped_record(self) -> logging.LogRecord:
        return logging.LogRecord(
            __name__,
            logging.WARNING,
            __file__,
            0,
            "the log could not keep up: %d lines were dropped before this one",
            (self._unreported,),
            None,
        )


def _start(root: logging.Logger, handlers: list[logging.Handler]) -> None:
    global _listener, _queue, _atexit_registered
    q: queue.Queue[logging.LogRecord] = queue.Queue(QUEUE_SIZE)
    listener = logging.handlers.QueueListener(q, *handlers, respect_handler_level=True)
    listener.start()
    _listener, _queue = listener, q
    root.addHandler(ShowQueueHandler(q))
    if not _atexit_registered:
        atexit.register(stop_show_logging)
        _atexit_registered = True


def flush_show_logging(timeout: float = 2.0) -> bool:
    """Wait until the log thread has written every record queued so far (at most
    ``timeout`` seconds), e.g. before the CLI prints its last line. True if it did."""
    q, end = _queue, time.monotonic() + timeout
    while q is not None and q.unfinished_tasks and time.monotonic() < end:
        time.sleep(0.001)
    return q is None or not q.unfinished_tasks


def stop_show_logging() -> None:
    """Write out every queued record and stop the log thread (idempotent).

    Until :func:`configure_show_logging` is called again, only warnings and errors
    are shown (on stderr, by Python's last-resort handler).
    """
    global _listener, _queue
    listener, _listener, _queue = _listener, None, None
    if listener is None:
        return
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, ShowQueueHandler):
            root.removeHandler(handler)
    while True:
        try:
            listener.stop()  # its end marker goes through the bounded queue too
            break
        except queue.Full:
            time.sleep(0.01)
    for handler in listener.handlers:
        handler.flush()
        if isinstance(handler, logging.FileHandler):
            handler.close()
