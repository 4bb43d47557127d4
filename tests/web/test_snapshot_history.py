"""The dashboard's 60-second histories: sent once per period, and moved on point by
point as the grid advances, they stay equal to a full resampling of each signal's ring."""

from __future__ import annotations

import asyncio
import random

from bridges.telemetry import Sample
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show
from show.web.snapshots import HISTORY_PERIOD, Snapshots

SHOW = """
[show]
title = "History"
[signals."k.0"]
[signals."k.1"]
[signals."k.2"]
[[cue_lists]]
[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def test_incremental_histories_equal_a_full_resample() -> None:
    async def main() -> None:
        now = [0.0]
        runner = ShowRunner(parse_show(SHOW), RunnerParts(), clock=lambda: now[0])
        snaps = Snapshots(runner)
        rng = random.Random(7)
        t = 0.0
        compared = 0
        last = -1.0
        while t < 150.0:
            t += rng.choice([0.05, 0.1, 0.1, 0.4, 1.3, 2.6, 9.0])
            now[0] = t
            if rng.random() < 0.8:  # sometimes nothing arrives for a while
                runner.on_samples(
                    "feed",
                    [Sample(f"k.{i}", round(rng.uniform(15, 25), 2), None) for i in range(3)],
                )
            runner._drain(t)
            snap = snaps.public()
            anchor = (t // HISTORY_PERIOD) * HISTORY_PERIOD
            moved, last = anchor != last, anchor
            for name, sig in runner.engine.signals.signals.items():
                # a history rides only on the first snapshot of each period
                assert ("history" in snap["signals"][name]) is moved, t
                if not moved:
                    continue
                got = snap["signals"][name]["history"]
                expected = Snapshots._resample(sig, anchor)
                if got == [] and all(v is None for v in expected):
                    continue  # nothing had arrived when this second's history was built
                assert got == expected, t
                compared += 1
        assert compared > 100

    asyncio.run(main())
