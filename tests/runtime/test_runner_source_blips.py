"""A source that blips keeps its signals; a real loss is one log line per source.

The show's runner is fed by the telemetry sink interface (``on_samples`` /
``on_status``) exactly as a websocket source feeds it.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridges.telemetry import Sample, SourceStatus
from cues.commands import Command, Health, SignalHealthChanged, TriggerFired
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show

SHOW = """
[show]
health_interval = 0.01
[sources.grid]
kind = "stovelight"
url = "ws://127.0.0.1:9/"
[signals."grid.load"]
source = "grid"
stale_after = {stale}
[[triggers]]
name = "load-lost"
when = {{ signal = "grid.load", health = "lost" }}
start = "9"
[[triggers]]
name = "grid-down"
when = {{ source = "grid", health = "lost" }}
start = "9"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "9"
type = "memo"
"""

COUNT = 800


MORE = "".join(f'[signals."grid.s{i:03d}"]\nsource = "grid"\n' for i in range(COUNT - 1))


def make_runner(stale: float) -> tuple[ShowRunner, list[Command]]:
    runner = ShowRunner(parse_show(SHOW.format(stale=stale) + MORE), RunnerParts())
    seen: list[Command] = []
    runner.listeners.append(seen.append)
    return runner, seen


def feed(runner: ShowRunner, value: float) -> None:
    samples = [Sample("grid.load", value, None)]
    samples += [Sample(f"grid.s{i:03d}", value, None) for i in range(COUNT - 1)]
    runner.on_samples("grid", samples)
    runner._drain(runner.now())


async def settle(runner: ShowRunner) -> None:
    for _ in range(3):
        await asyncio.sleep(0)
        runner._drain(runner.now())


def lost(seen: list[Command]) -> list[str]:
    return [
        c.signal for c in seen if isinstance(c, SignalHealthChanged) and c.health is Health.LOST
    ]


def fired(seen: list[Command]) -> list[str]:
    return [c.trigger for c in seen if isinstance(c, TriggerFired)]


def test_a_reconnect_inside_the_stale_window_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        runner, seen = make_runner(stale=30.0)
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        feed(runner, 1.0)
        for _ in range(25):  # a peer that drops and comes back at once, 25 times
            runner.on_status("grid", SourceStatus.DISCONNECTED, "connection lost")
            runner.on_status("grid", SourceStatus.CONNECTING, "connecting")
            await settle(runner)
            runner.on_status("grid", SourceStatus.CONNECTED, "up")
            feed(runner, 2.0)
        await settle(runner)
        assert lost(seen) == []
        assert fired(seen) == []
        assert runner.engine.signals.source_up("grid") is True
        assert runner.sources["grid"].status == "connected"

    caplog.set_level(logging.INFO)
    asyncio.run(main())
    assert not [r for r in caplog.records if "lost" in r.getMessage()]
    assert len(caplog.records) < 10  # 25 blips: no line of their own in the show's log


def test_a_loss_longer_than_the_stale_window_reaches_the_engine_once() -> None:
    async def main() -> None:
        runner, seen = make_runner(stale=0.05)
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        feed(runner, 1.0)
        runner.on_status("grid", SourceStatus.DISCONNECTED, "connection lost")
        runner.on_status("grid", SourceStatus.CONNECTING, "connecting")
        runner.on_status("grid", SourceStatus.DISCONNECTED, "cannot connect")
        assert runner.engine.signals.source_up("grid") is True  # still in its grace
        async with asyncio.timeout(5):
            while runner.engine.signals.source_up("grid") is not False:
                await asyncio.sleep(0.01)
                runner._drain(runner.now())
        assert len(lost(seen)) == COUNT
        assert sorted(set(fired(seen))) == ["grid-down", "load-lost"]
        assert runner.sources["grid"].status == "disconnected"
        assert runner.sources["grid"].detail == "cannot connect"

    asyncio.run(main())


def test_a_failure_is_a_loss_at_once() -> None:
    async def main() -> None:
        runner, seen = make_runner(stale=30.0)
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        feed(runner, 1.0)
        runner.on_status("grid", SourceStatus.DISCONNECTED, "connection lost")
        runner.on_status("grid", SourceStatus.FAILED, "token rejected")
        await settle(runner)
        assert runner.engine.signals.source_up("grid") is False
        assert len(lost(seen)) == COUNT

    asyncio.run(main())


def health_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [r.getMessage() for r in caplog.records]
    return [m for m in messages if m.startswith("signal ") or " signals of " in m]


def test_800_signals_lost_and_back_are_one_line_each(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        runner, _ = make_runner(stale=0.05)
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        feed(runner, 1.0)
        await settle(runner)
        caplog.clear()
        runner.on_status("grid", SourceStatus.DISCONNECTED, "connection lost")
        async with asyncio.timeout(5):
            while runner.engine.signals.source_up("grid") is not False:
                await asyncio.sleep(0.01)
                runner._drain(runner.now())
        await settle(runner)
        assert [line for line in health_lines(caplog) if "lost" in line] == [
            f"{COUNT} signals of source grid are lost: grid.load, grid.s000, grid.s001"
            f" and {COUNT - 3} more",
        ]
        assert len(caplog.records) < 20
        caplog.clear()
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        feed(runner, 2.0)
        await settle(runner)
        # grid.load may go stale again at once (its window is short): one line for it
        lines = [line for line in health_lines(caplog) if "live" in line]
        assert len(lines) == 1
        assert lines[0].startswith((f"{COUNT} signals", f"{COUNT - 1} signals"))
        assert "of source grid are live: " in lines[0]
        assert len(caplog.records) < 10

    caplog.set_level(logging.INFO)
    asyncio.run(main())


def test_one_signal_keeps_its_own_line(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        runner, _ = make_runner(stale=30.0)
        runner.on_status("grid", SourceStatus.CONNECTED, "up")
        runner.on_samples("grid", [Sample("grid.load", 1.0, None)])
        runner._drain(runner.now())
        await settle(runner)
        runner.on_samples("grid", [Sample("grid.load", None, None)])  # "no value"
        runner._drain(runner.now())
        await settle(runner)

    caplog.set_level(logging.INFO)
    asyncio.run(main())
    assert health_lines(caplog) == ["signal grid.load is live", "signal grid.load is lost"]
