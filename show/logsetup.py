"""Logging for a running show: stderr, a rotating file per show, and a short
in-memory tail for the operator console."""

from __future__ import annotations

import collections
import logging
import logging.handlers
import re
import sys
from pathlib import Path

__all__ = ["LOG_FORMAT", "TailHandler", "configure_show_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
    """Send logs to stderr and ``log_dir/<title>.log`` (rotating, 5 x 2 MB)."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(stderr)
    # per-connection chatter from the websocket libraries drowns the show's own log
    for noisy in ("websockets", "show.web.server.ws"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    tail = TailHandler()
    root.addHandler(tail)
    path: Path | None = None
    if log_dir is not None:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-") or "show"
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            path = log_dir / f"{stem}.log"
            rotating = logging.handlers.RotatingFileHandler(
                path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
            rotating.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(rotating)
        except OSError as exc:
            logging.getLogger(__name__).warning(
                "cannot write the log file in %s (%s); logging to stderr only", log_dir, exc
            )
            path = None
    return tail, path
