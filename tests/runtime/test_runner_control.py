"""Operator commands through the runner: refusals are clear and change nothing."""

from __future__ import annotations

import asyncio

from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show

SHOW = """
[outputs.osc.desk]
port = 9
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
[[cue_lists.cues]]
number = "G"
type = "group"
  [[cue_lists.cues.children]]
  number = "5"
  type = "memo"
"""


def test_control_refuses_what_it_cannot_do_and_says_why() -> None:
    async def main() -> None:
        runner = ShowRunner(parse_show(SHOW), RunnerParts())
        refused = runner.control("set_playhead", "5")
        assert refused["ok"] is False and "inside a group" in refused["error"]
        assert runner.engine.playhead() == "Main/1"
        assert runner.control("start_cue", "nope")["error"] == "no cue 'nope' in this show"
        assert "unknown command" in runner.control("fly")["error"]
        assert runner.control("go", cue_list="Nope")["ok"] is False
        assert runner.control("panic", value=1e9)["ok"] is True
        until = runner.engine.panic_until
        assert until is not None and until - runner.now() <= 60.0
        refused = runner.control("go")  # refused during the panic, and it says so
        assert refused["ok"] is False and refused["refused"] == "panic"
        assert 0 < refused["remaining"] <= 60.0 and "PANIC" in refused["error"]

    asyncio.run(main())


def test_a_second_go_inside_the_guard_is_refused_and_moves_nothing() -> None:
    async def main() -> None:
        show = parse_show("[show]\nmin_go_interval = 10\n" + SHOW)
        runner = ShowRunner(show, RunnerParts())
        assert runner.control("go")["ok"] is True
        assert runner.engine.playhead() == "Main/G"
        refused = runner.control("go")
        assert refused["ok"] is False and refused["refused"] == "guard"
        assert 0 < refused["remaining"] <= 10.0
        assert refused["error"].startswith("GO refused by the double-GO guard (")
        assert runner.engine.playhead() == "Main/G"
        assert runner.engine.stats.go_rejected == 1

    asyncio.run(main())


def test_control_values_must_be_finite_and_within_the_show_files_bounds() -> None:
    async def main() -> None:
        runner = ShowRunner(parse_show(SHOW), RunnerParts())
        before = runner.engine.min_go_interval
        for bad in (float("nan"), float("inf"), 1e30, 10.5, -1.0):
            refused = runner.control("set_min_go", value=bad)
            assert refused["ok"] is False and "error" in refused
        assert runner.engine.min_go_interval == before
        assert runner.control("panic", value=float("nan"))["ok"] is False
        assert runner.engine.panic_until is None
        assert runner.control("set_min_go", value=2.0)["ok"] is True
        assert runner.engine.min_go_interval == 2.0

    asyncio.run(main())
