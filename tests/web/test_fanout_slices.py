"""The running broadcaster writes its subscribers a slice per event-loop turn, so other
work (a GO, a fade step) runs between slices instead of after the whole fan-out."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.protocol import State

import show.web.fanout as fanout
from bridges.ratelimit import RateLimitedLogger
from show.web.fanout import SLICE, Broadcaster


class _Viewer:
    """What the broadcaster looks at on a connection (hashable, like a real one)."""

    def __init__(self, buffered: int = 0) -> None:
        self.protocol = SimpleNamespace(state=State.OPEN)
        self.transport = SimpleNamespace(get_write_buffer_size=lambda: buffered)


def _viewer(buffered: int = 0) -> Any:
    return _Viewer(buffered)


def test_other_work_runs_between_slices_and_every_viewer_gets_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[Any] = []
    monkeypatch.setattr(
        fanout, "broadcast", lambda conns, data, text: log.append(("write", len(conns)))
    )
    broadcaster = Broadcaster(
        "public",
        "snapshot",
        lambda: {},
        rate_hz=10.0,
        clock=time.time,
        warn=RateLimitedLogger(fanout.logger, 10.0),
    )
    viewers = [_viewer() for _ in range(2 * SLICE + 5)]
    slow = _viewer(buffered=100)
    for v in [*viewers, slow]:
        broadcaster.subscribe(v)
    gone = viewers[-1]

    async def other() -> None:
        log.append("other work")
        broadcaster.unsubscribe(gone)  # a viewer leaves between two slices

    async def main() -> int:
        loop = asyncio.get_running_loop()
        task = loop.create_task(broadcaster.deliver_in_slices(b"{}"))
        loop.call_soon(lambda: loop.create_task(other()))
        return await task

    sent = asyncio.run(main())
    assert log[0] == ("write", SLICE)
    assert "other work" in log[1:-1]
    writes = [n for item in log if isinstance(item, tuple) for n in [item[1]]]
    assert len(writes) == 3
    assert sent == sum(writes) == len(viewers) - 1
    assert broadcaster.stats.skipped == 1 and broadcaster.skipped_for(slow) == 1
    assert broadcaster.stats.ticks == 1 and broadcaster.stats.delivered == sent
    assert broadcaster.last_message == b"{}"
