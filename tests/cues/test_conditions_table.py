"""Every condition test and trigger field of docs/show-file.md ("Conditions",
"[[triggers]]"), as a table of cases: a ``when``, the samples a signal gets at exact
times on the virtual clock, and the times a trigger on it must fire.

Every ``when = {...}`` example the reference shows has a row here (checked below), so
a documented example that stops doing what it says fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from cues.commands import CueState, TriggerFired
from cues.events import Go, Panic, Reset, Sample, SourceHealth
from tests.cues.script import HEADER, Script

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "show-file.md"

SOURCES = HEADER + '[sources.neighbourhood]\nkind = "stovelight"\nurl = "ws://127.0.0.1:1/"\n'

SIGNALS = """
[signals."central.state"]
[signals."central.temp_c"]
history = 100
[signals."grid.balance_kw"]
[signals.x]
stale_after = 1.0
lost_after = 2.0
[signals.y]
stale_after = 1.0
lost_after = 10.0
"""

Step = tuple[float, object]  # (time, a sample value, or a SourceHealth event)


def trigger_show(when: str, extra: str = "", cues: str = "") -> Script:
    return Script(
        SIGNALS
        + f"""
[[triggers]]
name = "t"
when = {when}
start = "T"
{extra}
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "T"
{cues}
""",
        header=SOURCES,
    )


def play(s: Script, signal: str, steps: list[Step], until: float) -> list[float]:
    """Feed the steps, run to ``until``, and return when trigger ``t`` fired."""
    for t, v in steps:
        event = v if isinstance(v, SourceHealth) else Sample(signal, v)  # type: ignore[arg-type]
        s.at(t, event)
    s.run_until(until)
    return [t for t, c in s.of_type(TriggerFired) if c.trigger == "t"]  # type: ignore[attr-defined]


def seconds(values: Sequence[object], start: float = 0.0) -> list[Step]:
    """One sample a second."""
    return [(start + i, v) for i, v in enumerate(values)]


UP = SourceHealth("neighbourhood", up=True)
DOWN = SourceHealth("neighbourhood", up=False)

# (when, signal, steps, run until, fire times)
CASES: list[tuple[str, str, list[Step], float, list[float]]] = [
    # -- the reference's own examples --
    (
        '{ signal = "central.state", equals = "fault" }',
        "central.state",
        seconds(["on", "fault", "fault", "on", "fault"]),
        5.0,
        [1.0, 4.0],
    ),
    (
        '{ signal = "central.temp_c", above = 180, hysteresis = 5 }',
        "central.temp_c",
        # 180 is not above; 176 stays inside the band, so 181 does not fire again;
        # 175 releases (back by 5)
        seconds([170.0, 180.0, 180.5, 176.0, 181.0, 175.0, 181.0, 170.0, 180.25]),
        9.0,
        [2.0, 6.0, 8.0],
    ),
    (
        '{ signal = "central.temp_c", rate_below = -0.4, window = 5.0 }',
        "central.temp_c",
        # the rate looks back 5 s: -0.2 at 6, -0.4 at 7 (not below), -0.6 at 8: fires;
        # true until 12 (-0.4), fires again at 14 (-0.6)
        seconds([100.0] * 6 + [99.0, 98.0, 97.0, 96.0, 96.0, 96.0, 96.0, 95.0, 93.0]),
        15.0,
        [8.0, 14.0],
    ),
    (
        '{ signal = "central.temp_c", health = "stale" }',
        "central.temp_c",
        # stale_after 5 (default): stale at 5.1, lost at 30.1, live at 40, stale at 45.1
        [(0.0, 20.0), (40.0, 21.0)],
        50.0,
        [5.1, 45.1],
    ),
    (
        '{ signal = "grid.balance_kw", below = -4.0, hysteresis = 1.0 }',
        "grid.balance_kw",
        # -4 is not below; -3.5 stays inside the band, so -4.2 does not fire again;
        # -3 releases
        seconds([-3.0, -4.0, -4.5, -3.5, -4.2, -3.0, -5.0]),
        7.0,
        [2.0, 6.0],
    ),
    ('{ signal = "grid.balance_kw", below = 0 }', "grid.balance_kw", seconds([1.0, -1.0]), 2, [1]),
    (
        '{ source = "neighbourhood", health = "lost" }',
        "",
        [(1.0, UP), (2.0, DOWN), (3.0, UP), (4.0, DOWN)],
        5.0,
        [2.0, 4.0],
    ),
    # -- the rest of the table --
    (
        '{ source = "neighbourhood", health = "live" }',
        "",
        [(1.0, UP), (2.0, DOWN), (3.0, UP)],
        5.0,
        [1.0, 3.0],
    ),
    ('{ signal = "y", above = 10 }', "y", [(0.0, 11.0), (0.5, 10.0), (0.7, 10.5)], 1.0, [0.0, 0.7]),
    (
        '{ signal = "y", below = 0, hysteresis = 1 }',
        "y",
        # 0 is not below; 0.5 stays inside the band (so -0.2 does not fire again);
        # 1.0 releases; -0.1 fires again
        [(0.0, 0.0), (0.2, -0.5), (0.4, 0.5), (0.5, -0.2), (0.6, 1.0), (0.8, -0.1)],
        1.0,
        [0.2, 0.8],
    ),
    ('{ signal = "y", below = 5 }', "y", [(0.0, 4.0), (0.5, 5.0), (0.7, 4.5)], 1.0, [0.0, 0.7]),
    (
        '{ signal = "y", equals = 1 }',
        "y",
        [(0.0, 1.0), (0.2, 2.0), (0.4, 1), (0.6, "x"), (0.8, "1")],  # 1 equals 1.0
        1.0,
        [0.0, 0.4],
    ),
    (
        '{ signal = "y", equals = true }',
        "y",
        [(0.0, False), (0.2, True), (0.4, False), (0.6, True)],
        1.0,
        [0.2, 0.6],
    ),
    (
        '{ signal = "y", not_equals = "on" }',
        "y",
        [(0.0, "on"), (0.2, "off"), (0.4, "on"), (0.6, 1.0)],
        1.0,
        [0.2, 0.6],
    ),
    (
        '{ signal = "y", rate_above = 2.0, window = 1.0 }',
        "y",
        # at 1.0: (1 - 0) / 1 = 1; at 1.5: (3 - 0) / 1 = 3
        [(0.0, 0.0), (0.5, 0.0), (1.0, 1.0), (1.5, 3.0)],
        2.0,
        [1.5],
    ),
    (
        '{ signal = "y", rate_above = 2.0 }',  # window defaults to 1 s
        "y",
        # at 1.0: 2 / 1 = 2 (not above); at 1.5: (2.5 - 0) / 1 = 2.5
        [(0.0, 0.0), (0.5, 0.0), (1.0, 2.0), (1.5, 2.5)],
        2.0,
        [1.5],
    ),
    (
        '{ signal = "y", rate_below = 1.0, window = 0.5 }',
        "y",
        # too early for a window at 0 and 0.2; at 0.5: 0.5 / 0.5 = 1 (not below);
        # at 1.0: 0.25 / 0.5 = 0.5
        [(0.0, 0.0), (0.2, 0.1), (0.5, 0.5), (1.0, 0.75)],
        1.5,
        [1.0],
    ),
    # -- strings, booleans, stale and lost values --
    ('{ signal = "y", above = 1 }', "y", [(0.0, "5"), (0.5, True), (0.7, 2.0)], 1.0, [0.7]),
    ('{ signal = "y", above = 0.5 }', "y", [(0.0, False), (0.5, True)], 1.0, [0.5]),
    (
        '{ signal = "x", equals = "on" }',
        "x",
        # x is lost at 2.1: the test turns false (so it re-arms) and fires at 3 again
        [(0.0, "on"), (3.0, "on")],
        4.0,
        [0.0, 3.0],
    ),
    (
        '{ signal = "y", above = 0 }',
        "y",
        # y is stale from 1.1 to 3: the last value still counts, nothing re-arms
        [(0.0, 5.0), (3.0, 5.0)],
        4.0,
        [0.0],
    ),
    (
        '{ signal = "x", health = "lost" }',
        "x",
        [(0.0, 1.0), (3.0, 1.0), (3.5, None)],  # lost at 2.1; None: the source says no value
        4.0,
        [2.1, 3.5],
    ),
    ('{ signal = "x", health = "live" }', "x", [(0.0, 1.0), (3.0, 1.0)], 4.0, [0.0, 3.0]),
]


@pytest.mark.parametrize(
    ("when", "signal", "steps", "until", "fired"), CASES, ids=[c[0] for c in CASES]
)
def test_condition_fires_a_trigger_exactly_when_documented(
    when: str, signal: str, steps: list[Step], until: float, fired: list[float]
) -> None:
    s = trigger_show(when)
    assert play(s, signal, steps, until) == pytest.approx(fired)


def test_every_documented_when_example_has_a_case() -> None:
    doc = REFERENCE.read_text(encoding="utf-8")
    examples = {m.group(1) for m in re.finditer(r"^#? ?when = (\{.*\})\s*$", doc, re.M)}
    assert len(examples) >= 5
    covered = {c[0] for c in CASES}
    assert examples <= covered, f"no case for {sorted(examples - covered)}"


# -- trigger fields ---------------------------------------------------------------------

FAULT = '{ signal = "central.state", equals = "fault" }'


def test_hold_counts_from_the_first_true_sample_without_a_break() -> None:
    s = trigger_show(FAULT, "hold = 1.0")
    steps: list[Step] = [(0.0, "fault"), (0.5, "fault"), (3.0, "on"), (4.0, "fault"), (4.9, "on")]
    assert play(s, "central.state", steps, 8.0) == [1.0]


def test_a_hold_that_ends_between_samples_fires_with_the_value_that_held() -> None:
    s = trigger_show(FAULT, "hold = 1.5")
    play(s, "central.state", [(0.0, "fault")], 3.0)
    assert s.of_type(TriggerFired) == [(1.5, TriggerFired("t", "fault"))]
    assert s.states("T") == [(1.5, "running"), (1.5, "idle")]


def test_rearm_once_fires_once_until_an_arm_cue_or_reset() -> None:
    arm = '[[cue_lists.cues]]\nnumber = "A"\ntype = "arm"\ntrigger = "t"\n'
    s = trigger_show(FAULT, 'rearm = "once"', cues=arm)
    s.engine.handle(Sample("central.state", "on"), 0.0)
    steps: list[Step] = [(0.0, "fault"), (1.0, "on"), (2.0, "fault"), (3.0, "on")]
    assert play(s, "central.state", steps, 3.5) == [0.0]
    s.at(4.0, Go())  # standby is T
    s.at(5.0, Go())  # A: arm again
    assert play(s, "central.state", [(6.0, "fault"), (7.0, "on"), (8.0, "fault")], 9.0) == [
        0.0,
        6.0,
    ]
    s.at(10.0, Reset())
    assert play(s, "central.state", [(11.0, "on"), (12.0, "fault")], 13.0) == [0.0, 6.0, 12.0]


def test_on_clear_is_the_default_and_fires_again_after_a_clear() -> None:
    s = trigger_show(FAULT)
    steps: list[Step] = [(0.0, "fault"), (1.0, "fault"), (2.0, "on"), (3.0, "fault")]
    assert play(s, "central.state", steps, 4.0) == [0.0, 3.0]


def test_cooldown_keeps_firings_apart_and_fires_when_it_ends_if_still_true() -> None:
    s = trigger_show('{ signal = "y", above = 0 }', "cooldown = 10")
    steps: list[Step] = [(0.0, 1.0), (1.0, -1.0), (2.0, 1.0), (11.0, -1.0), (12.0, 1.0)]
    assert play(s, "y", steps, 25.0) == [0.0, 10.0, 20.0]


def test_cooldown_and_hold_together_wait_for_the_later_of_the_two() -> None:
    s = trigger_show('{ signal = "y", above = 0 }', "cooldown = 3\nhold = 1")
    steps: list[Step] = [(0.0, 1.0), (1.5, -1.0), (2.0, 1.0), (5.0, -1.0), (5.5, 1.0)]
    # 1.0 (held 1 s); true from 2.0: hold ends at 3.0, cooldown at 4.0; true from 5.5:
    # hold ends at 6.5, cooldown at 7.0
    assert play(s, "y", steps, 8.0) == [1.0, 4.0, 7.0]


def test_disabled_trigger_waits_for_an_arm_cue_and_its_hold_counts_from_then() -> None:
    cues = """
[[cue_lists.cues]]
number = "A"
type = "arm"
trigger = "t"
[[cue_lists.cues]]
number = "D"
type = "disarm"
trigger = "t"
"""
    s = trigger_show(FAULT, "hold = 2.0\nenabled = false", cues=cues)
    s.engine.handle(Go(), 0.0)  # T
    assert play(s, "central.state", [(0.0, "fault")], 4.0) == []
    s.at(5.0, Go())  # A: armed; the fault has held since 0, but the hold counts from 5
    s.run_until(10.0)
    assert [t for t, _ in s.of_type(TriggerFired)] == [7.0]
    s.at(11.0, Go())  # D: disarmed
    play(s, "central.state", [(12.0, "on"), (13.0, "fault")], 20.0)
    assert [t for t, _ in s.of_type(TriggerFired)] == [7.0]


def test_go_trigger_presses_go_under_the_double_go_guard() -> None:
    text = (
        SIGNALS
        + """
[show]
min_go_interval = 0.5
[[triggers]]
name = "g"
when = { signal = "y", above = 0 }
go = true
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
[[cue_lists.cues]]
number = "2"
[[cue_lists.cues]]
number = "3"
"""
    )
    s = Script(text, header=SOURCES)
    s.at(0.0, Go())  # cue 1
    s.at(0.2, Sample("y", 1.0))  # GO by the trigger, 0.2 s later: refused
    s.at(0.4, Sample("y", -1.0))
    s.at(1.0, Sample("y", 1.0))  # accepted: cue 2
    assert [t for t, _ in s.states("1")][:1] == [0.0]
    assert s.states("2") == [(1.0, "running"), (1.0, "idle")]
    assert s.states("3") == []
    assert s.engine.stats.go_rejected == 1


def test_a_trigger_start_is_refused_while_a_panic_fades() -> None:
    s = trigger_show('{ signal = "y", above = 0 }', cues="")
    s.at(0.0, Panic(2.0))
    s.at(1.0, Sample("y", 1.0))
    assert [t for t, _ in s.of_type(TriggerFired)] == [1.0]
    assert s.states("T") == []
    s.at(3.0, Sample("y", -1.0))
    s.at(4.0, Sample("y", 1.0))
    assert s.states("T") == [(4.0, "running"), (4.0, "idle")]
    assert s.state("T") is CueState.IDLE
