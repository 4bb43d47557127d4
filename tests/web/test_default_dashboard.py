"""A show file without [dashboard] panels gets a bounded default dashboard."""

from __future__ import annotations

import logging

import pytest

from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show
from show.web.snapshots import DEFAULT_PANELS, Snapshots


def show_with(signals: int) -> str:
    text = "".join(f'[signals."s{i:03d}.v"]\n' for i in range(signals))
    return text + '[[cue_lists]]\nname = "Main"\n'


@pytest.mark.parametrize("count", [3, DEFAULT_PANELS + 776])
def test_default_panels_are_capped_and_the_cap_is_logged(
    count: int, caplog: pytest.LogCaptureFixture
) -> None:
    runner = ShowRunner(parse_show(show_with(count), "many.toml"), RunnerParts(), clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="show.web.snapshots"):
        snaps = Snapshots(runner)
        layout = snaps.public()["layout"]
        snaps.public()
    signal_panels = [p for p in layout if p["kind"] == "signal"]
    assert len(signal_panels) == min(count, DEFAULT_PANELS)
    assert layout[-1]["kind"] == "messages"
    warnings = [r for r in caplog.records if "no [dashboard] panels" in r.getMessage()]
    assert len(warnings) == (1 if count > DEFAULT_PANELS else 0)
