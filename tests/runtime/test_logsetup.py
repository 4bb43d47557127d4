"""The show's log queue: bounded, never blocks, says what it dropped."""

from __future__ import annotations

import logging
import queue

from show.runtime.logsetup import ShowQueueHandler


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("show.runtime.runner", logging.INFO, __file__, 1, text, None, None)


def test_a_full_log_queue_drops_counts_and_reports_when_there_is_room() -> None:
    q: queue.Queue[logging.LogRecord] = queue.Queue(4)
    handler = ShowQueueHandler(q)
    for n in range(7):
        handler.handle(_record(f"line {n}"))  # never blocks, never raises
    assert handler.dropped == 3
    assert [q.get_nowait().getMessage() for _ in range(4)] == [f"line {n}" for n in range(4)]
    handler.handle(_record("line 7"))
    report, line = q.get_nowait(), q.get_nowait()
    assert report.levelno == logging.WARNING
    assert report.getMessage() == (
        "the log could not keep up: 3 lines were dropped before this one"
    )
    assert line.getMessage() == "line 7"
    handler.handle(_record("line 8"))  # reported once
    assert q.get_nowait().getMessage() == "line 8"
    assert handler.dropped == 3
