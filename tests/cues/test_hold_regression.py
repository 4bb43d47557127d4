"""Regression: a trigger hold must fire at its own deadline on the virtual clock."""

from __future__ import annotations

from cues.commands import TriggerFired
from cues.events import Sample
from tests.cues.script import Script


def test_trigger_hold_fires_at_its_deadline_on_the_virtual_clock() -> None:
    # 1.7 + 0.2 == 1.9 but 1.9 - 1.7 < 0.2 in floating point
    s = Script(
        """
[signals.a]
[[triggers]]
name = "hot"
when = { signal = "a", above = 7 }
hold = 0.2
start = "1"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""
    )
    s.at(1.7, Sample("a", 9.0))
    s.run_until(2.0)
    assert s.of_type(TriggerFired) == [(1.9, TriggerFired("hot", 9.0))]
