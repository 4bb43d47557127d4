"""``stovelight run --record``: samples, operator actions, cue states and outputs land
in one recording that opens cleanly afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rehearsal.recording import Recording
from show.runtime.assemble import build_parts
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import run
from tests.show.live_support import TelemetryServer, eventually, running_show

SHOW = """
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
[signals."kitchen.state"]
source = "kitchen"
[outputs.osc.desk]
port = 9
[control]
enabled = false
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/one"
"""


def test_a_recorded_run_holds_samples_operator_actions_cue_states_and_outputs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.sqlite"

    async def main() -> None:
        server = TelemetryServer()
        await server.start()
        show = parse_show(SHOW.format(ws_port=server.port), "rec.toml")
        parts = build_parts(
            show, clock=asyncio.get_running_loop().time, recording=path, renderers=False
        )
        async with running_show(show, parts=parts) as (runner, _):
            await eventually(lambda: runner.sources["kitchen"].samples >= 20)
            assert runner.control("go", origin="test")["ok"]
            await asyncio.sleep(0.1)
        await server.stop()

    run(main(), timeout=30)
    rec = Recording.open(path)
    samples = list(rec.samples(signals=["kitchen.temp_c"]))
    assert len(samples) >= 10
    values = [s.value for s in samples if isinstance(s.value, float)]
    assert len(values) == len(samples)
    assert values == sorted(values)  # the generator counts up
    kinds = {e.kind for e in rec.events()}
    assert {"operator", "cue_state", "output"} <= kinds
    assert rec.cue_time("1", "running") is not None
