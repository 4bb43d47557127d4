"""Reload through a running ShowRunner, as the console's Reload button does it."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from cues.model import CueId
from show.showfile.load import load_show
from tests.show.live_support import eventually, running_show

SHOW = """
[control]
enabled = false
[outputs.osc.desk]
port = 9
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def test_the_console_reload_command_applies_a_good_file_and_refuses_a_bad_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "show.toml"
    path.write_text(SHOW)

    async def main() -> None:
        show = load_show(path)
        async with running_show(show) as (runner, _control):
            path.write_text(SHOW + '[[cue_lists.cues]]\nnumber = "2"\ntype = "memo"\n')
            assert runner.control("reload", origin="console") == {
                "ok": True,
                "reloading": str(path),
            }
            assert runner.control("reload", origin="console")["ok"] is False  # one at a time
            await eventually(lambda: CueId("Main/2") in runner.engine.cues)
            assert runner.cue_id("2") == CueId("Main/2")  # operator commands know it too
            await eventually(lambda: not runner._reloading)
            path.write_text(SHOW.replace('type = "memo"', 'type = "meme"'))
            runner.control("reload", origin="console")
            await eventually(lambda: not runner._reloading)
            assert CueId("Main/2") in runner.engine.cues  # the bad file changed nothing
            # an output added in the file cannot be reached without a restart
            bigger = dataclasses.replace(
                show,
                osc_targets=(
                    *show.osc_targets,
                    dataclasses.replace(show.osc_targets[0], name="fx"),
                ),
            )
            result = runner.reload(bigger, "test")
            assert result["ok"] is False and "+fx" in result["error"]

    asyncio.run(main())
