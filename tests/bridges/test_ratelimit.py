"""Rate-limited warnings: the first goes out, repeats are summarised later."""

from __future__ import annotations

import logging

import pytest

from bridges.ratelimit import RateLimitedLogger


def test_repeats_are_suppressed_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RateLimitedLogger(logging.getLogger("osc-test"), interval_s=10.0, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="osc-test")
    assert log.warning("k", "bad packet from %s", "a") is True
    assert log.warning("k", "bad packet from %s", "a") is False
    assert log.warning("k", "bad packet from %s", "a") is False
    assert log.warning("other", "different problem") is True
    now[0] = 10.0
    assert log.warning("k", "bad packet from %s", "a") is True
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "bad packet from a",
        "different problem",
        "bad packet from a (2 similar messages suppressed in the last 10 s)",
    ]


def test_key_table_is_bounded() -> None:
    log = RateLimitedLogger(logging.getLogger("osc-test"), clock=lambda: 0.0, max_keys=4)
    for i in range(100):
        log.warning(i, "x")
    assert len(log._seen) == 4
