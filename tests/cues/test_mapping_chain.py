"""Every stage of a mapping's chain (docs/show-file.md, "[mappings.NAME]"), with exact
values on the virtual clock: range map, clamp and curve, EMA and One-Euro smoothing,
slew, level, deadband, max rate, stale hold and fallback, enabled, and each target.

Expected values are worked out here from the documented formulas, not read back from
the engine. Signal ``x`` never goes stale unless a test says so.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cues.commands import SendMidi, SendOsc, SetVisualInput
from cues.events import Go, Sample
from cues.mappings import MappingState
from cues.model import ChannelMessage, Curve, MappingDef, OscTarget, SmoothingDef
from tests.cues.script import HEADER, Script

QUIET = "stale_after = 100\nlost_after = 300"


def mapping(fields: str, *, signal: str = QUIET, cues: str = "", header: str = HEADER) -> Script:
    """A show with signal ``x`` and mapping ``m`` sending to OSC ``/m``."""
    fields = fields if "max_rate_hz" in fields else fields + "\nmax_rate_hz = 10"
    return Script(
        f"""
[signals.x]
{signal}
[mappings.m]
signal = "x"
to = {{ osc = "desk", address = "/m" }}
{fields}
[[cue_lists]]
name = "Main"
{cues}
""",
        header=header,
    )


def sent(s: Script) -> list[tuple[float, float]]:
    """(time, value) of what mapping ``m`` sent."""
    return [(t, float(a[0])) for t, a in s.osc("/m")]  # type: ignore[arg-type]


def values(s: Script) -> list[float]:
    return [v for _, v in sent(s)]


def one(fields: str, x: float) -> float:
    """The value one sample ``x`` produces."""
    s = mapping(fields)
    s.at(0.0, Sample("x", x))
    (only,) = values(s)
    return only


# -- range map, clamp and curve --------------------------------------------------------

RANGE_CASES = [
    # (fields, input, output)
    ("", 3.5, 3.5),  # no range: the value passes unchanged
    ("", -2.0, -2.0),
    ('curve = "exponential"', 0.5, 0.5),  # without range, curve does nothing
    ("range = { in = [40, 240], out = [0.0, 1.0] }", 40.0, 0.0),
    ("range = { in = [40, 240], out = [0.0, 1.0] }", 140.0, 0.5),
    ("range = { in = [40, 240], out = [0.0, 1.0] }", 90.0, 0.25),
    ("range = { in = [40, 240], out = [0.0, 1.0] }", 240.0, 1.0),
    ("range = { in = [40, 240] }", 190.0, 0.75),  # out defaults to [0, 1]
    ("range = { in = [0, 6], out = [0, 16383] }", 3.0, 8191.5),
    ("range = { in = [240, 40] }", 90.0, 0.75),  # in may run high to low
    ("range = { in = [0, 10], out = [10, 0] }", 2.0, 8.0),  # so may out
    ("range = { in = [0, 10], out = [2, 4] }", 5.0, 3.0),
    # clamp = true (the default): outside `in` stays at the ends of `out`
    ("range = { in = [40, 240] }", 300.0, 1.0),
    ("range = { in = [40, 240] }", -100.0, 0.0),
    ("range = { in = [40, 240], clamp = true }", 340.0, 1.0),
    ("range = { in = [0, 10], out = [10, 0] }", 20.0, 0.0),
    # clamp = false: a straight line past the ends
    ("range = { in = [40, 240], clamp = false }", 340.0, 1.5),
    ("range = { in = [40, 240], clamp = false }", -60.0, -0.5),
    ("range = { in = [0, 10], out = [10, 0], clamp = false }", 15.0, -5.0),
    # the curve shapes the map in between...
    ('range = { in = [0, 100], out = [0, 10] }\ncurve = "s-curve"', 25.0, 1.5625),
    ('range = { in = [0, 100], out = [0, 10] }\ncurve = "s-curve"', 75.0, 8.4375),
    ('range = { in = [0, 100] }\ncurve = "linear"', 25.0, 0.25),
    ('range = { in = [0, 100] }\ncurve = "exponential"', 50.0, math.expm1(2) / math.expm1(4)),
    ('range = { in = [0, 100] }\ncurve = "logarithmic"', 50.0, math.log1p(0.5 * math.expm1(4)) / 4),
    # ... keeps its ends fixed ...
    ('range = { in = [0, 100], out = [0, 10] }\ncurve = "exponential"', 100.0, 10.0),
    ('range = { in = [0, 100], out = [5, 10] }\ncurve = "logarithmic"', 0.0, 5.0),
    # ... and past the ends without clamp the line carries on unshaped
    ('range = { in = [0, 100], clamp = false }\ncurve = "s-curve"', 150.0, 1.5),
    ('range = { in = [0, 100], clamp = false }\ncurve = "exponential"', -50.0, -0.5),
]


@pytest.mark.parametrize(("fields", "x", "expected"), RANGE_CASES)
def test_range_map_clamp_and_curve(fields: str, x: float, expected: float) -> None:
    assert one(fields, x) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_documented_curve_values_at_half_way() -> None:
    # docs/show-file.md, "Curves": 0.119 and 0.831 at half way
    assert one('range = { in = [0, 1] }\ncurve = "exponential"', 0.5) == pytest.approx(
        0.119, abs=5e-4
    )
    assert one('range = { in = [0, 1] }\ncurve = "logarithmic"', 0.5) == pytest.approx(
        0.831, abs=5e-4
    )
    assert one('range = { in = [0, 1] }\ncurve = "s-curve"', 0.5) == 0.5


def test_booleans_map_as_one_and_zero_and_strings_are_ignored() -> None:
    s = mapping("range = { in = [0, 2] }")
    s.at(0.0, Sample("x", True))
    s.at(1.0, Sample("x", "on"))
    s.at(2.0, Sample("x", False))
    assert sent(s) == [(0.0, 0.5), (2.0, 0.0)]


# -- smoothing ---------------------------------------------------------------------------


def stream(s: Script, start: float, value: float, until: float, period: float = 0.1) -> None:
    """Samples of ``value`` every ``period`` from ``start`` to ``until``."""
    k = 0
    while start + k * period <= until + 1e-9:
        s.at(round(start + k * period, 9), Sample("x", value))
        k += 1


def test_ema_moves_by_one_minus_e_to_the_minus_dt_over_tau() -> None:
    s = mapping("smooth = { ema = 1.0 }")
    s.at(0.0, Sample("x", 0.0))
    stream(s, 0.1, 1.0, 1.0)
    got = sent(s)
    assert got[0] == (0.0, 0.0)
    for k, (t, v) in enumerate(got[1:11], start=1):
        assert t == pytest.approx(0.1 * k)
        assert v == pytest.approx(1.0 - math.exp(-0.1 * k), rel=1e-12)
    # "after one time constant it has moved about 63 % of the way"
    assert got[10][1] == pytest.approx(0.632, abs=1e-3)


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_ema_time_constant_is_the_documented_seconds(tau: float) -> None:
    s = mapping(f"smooth = {{ ema = {tau} }}")
    s.at(0.0, Sample("x", 10.0))
    stream(s, 0.1, 20.0, 0.5)
    got = values(s)
    assert got[0] == 10.0
    assert got[5] == pytest.approx(20.0 - 10.0 * math.exp(-0.5 / tau), rel=1e-12)


def test_ema_keeps_gliding_after_the_signal_stops_and_stops_when_it_arrives() -> None:
    s = mapping("smooth = { ema = 0.2 }")
    s.at(0.0, Sample("x", 0.0))
    s.at(0.1, Sample("x", 1.0))
    s.run_until(10.0)
    got = sent(s)
    # one evaluation per 0.1 s (max_rate_hz = 10) until within a millionth of the target
    for k, (t, v) in enumerate(got[1:], start=1):
        assert t == pytest.approx(0.1 * k)
        assert v == pytest.approx(1.0 - math.exp(-0.5 * k), rel=1e-9)
    assert 1.0 - got[-1][1] <= 1e-6
    assert 1.0 - got[-2][1] > 1e-6
    s.run_until(20.0)
    assert sent(s) == got  # arrived: nothing more is sent


def test_ema_of_zero_seconds_passes_values_straight_through() -> None:
    s = mapping("smooth = { ema = 0 }")
    s.at(0.0, Sample("x", 0.0))
    s.at(0.5, Sample("x", 4.0))
    assert sent(s) == [(0.0, 0.0), (0.5, 4.0)]


def _low_pass_alpha(cutoff: float, dt: float) -> float:
    """One-Euro's smoothing factor: 1 / (1 + tau / dt), tau = 1 / (2 pi cutoff)."""
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * cutoff * dt))


def one_euro(
    xs: list[float], dt: float, min_cutoff: float, beta: float, d_cutoff: float
) -> list[float]:
    """The One-Euro filter (Casiez et al. 2012) on samples ``dt`` apart; the speed is
    estimated from the previous filtered value, as in the paper's algorithm."""
    out = [xs[0]]
    speed = 0.0
    for x in xs[1:]:
        prev = out[-1]
        speed += _low_pass_alpha(d_cutoff, dt) * ((x - prev) / dt - speed)
        cutoff = min_cutoff + beta * abs(speed)
        out.append(prev + _low_pass_alpha(cutoff, dt) * (x - prev))
    return out


ONE_EURO_CASES = [
    # (the table in the show file, min_cutoff, beta, d_cutoff)
    ("{}", 1.0, 0.0, 1.0),
    ("{ min_cutoff = 0.5 }", 0.5, 0.0, 1.0),
    ("{ min_cutoff = 0.5, beta = 0.05 }", 0.5, 0.05, 1.0),
    ("{ min_cutoff = 0.3, beta = 2.0, d_cutoff = 4.0 }", 0.3, 2.0, 4.0),
]


def parsed_mapping(fields: str) -> MappingState:
    """Mapping ``m`` as the show file defines it, to be stepped by hand."""
    s = mapping(fields)
    return MappingState(s.engine.show.mappings[0])


def stepped(ms: MappingState, samples: list[tuple[float, float]]) -> list[float | None]:
    """Hand each (time, value) to the chain and step it at that time."""
    out: list[float | None] = []
    for t, x in samples:
        ms.raw = x
        cmd, _ = ms.step(t)
        out.append(float(cmd.args[0]) if isinstance(cmd, SendOsc) else None)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(("table", "min_cutoff", "beta", "d_cutoff"), ONE_EURO_CASES)
def test_one_euro_filter_with_its_parameters(
    table: str, min_cutoff: float, beta: float, d_cutoff: float
) -> None:
    xs = [0.0, 1.0, 3.0, 6.0, 10.0, 10.0, 10.0, 9.0, 9.0, 9.0]
    ms = parsed_mapping(f"smooth = {{ one_euro = {table} }}\nmax_rate_hz = 4")
    got = stepped(ms, [(0.25 * k, x) for k, x in enumerate(xs)])
    assert got == pytest.approx(one_euro(xs, 0.25, min_cutoff, beta, d_cutoff), rel=1e-12)


def test_one_euro_follows_fast_moves_more_closely_with_a_higher_beta() -> None:
    ramp = [float(10 * k) for k in range(8)]
    lag = {}
    for beta in (0.0, 0.5):
        s = mapping(f"smooth = {{ one_euro = {{ min_cutoff = 0.5, beta = {beta} }} }}")
        for k, x in enumerate(ramp):
            s.at(0.1 * k, Sample("x", x))
        lag[beta] = ramp[-1] - values(s)[len(ramp) - 1]
    assert 0 < lag[0.5] < lag[0.0] / 2


# -- slew ------------------------------------------------------------------------------


def test_slew_limits_the_change_per_second() -> None:
    s = mapping("slew = 2.0")
    s.at(0.0, Sample("x", 0.0))
    stream(s, 0.1, 1.0, 0.3)
    s.run_until(2.0)
    assert sent(s) == [(0.0, 0.0)] + [
        (pytest.approx(0.1 * k), pytest.approx(0.2 * k)) for k in range(1, 6)
    ]


def test_slew_applies_downwards_too() -> None:
    s = mapping("slew = 5.0")
    s.at(0.0, Sample("x", 2.0))
    s.at(0.1, Sample("x", 0.0))
    s.run_until(2.0)
    assert values(s) == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0])


def test_slew_after_a_quiet_spell_glides_instead_of_jumping() -> None:
    # a feed that reports only changes: nothing for 10 s, then a step
    s = mapping("slew = 0.5")
    s.at(0.0, Sample("x", 0.0))
    s.at(10.0, Sample("x", 1.0))
    s.run_until(20.0)
    got = sent(s)
    assert got[1] == pytest.approx((10.0, 0.05))
    assert got[-1] == pytest.approx((11.9, 1.0))
    steps = [b - a for (_, a), (_, b) in itertools.pairwise(got)]
    assert max(steps) == pytest.approx(0.05)


def test_ema_after_a_quiet_spell_starts_from_where_it_stood() -> None:
    s = mapping("smooth = { ema = 1.0 }")
    s.at(0.0, Sample("x", 0.0))
    s.at(30.0, Sample("x", 1.0))
    s.run_until(31.0)
    got = sent(s)
    assert got[1] == pytest.approx((30.0, 1.0 - math.exp(-0.1)))
    assert got[10] == pytest.approx((30.9, 1.0 - math.exp(-1.0)))


def test_smoothing_runs_before_slew() -> None:
    # EMA first (halfway in one step), then the slew limit caps that step
    s = mapping(f"smooth = {{ ema = {0.1 / math.log(2)} }}\nslew = 1.0")
    s.at(0.0, Sample("x", 0.0))
    stream(s, 0.1, 10.0, 0.2)
    got = values(s)
    assert got[1] == pytest.approx(0.1)  # EMA says 5.0; slew allows 0.1 in 0.1 s
    assert got[2] == pytest.approx(0.2)


# -- level and deadband -------------------------------------------------------------------


def test_level_multiplies_the_result() -> None:
    assert one("level = 0.5\nrange = { in = [0, 10], out = [0, 8] }", 5.0) == 2.0
    assert one("level = 0", 5.0) == 0.0
    assert one("", 5.0) == 5.0  # level defaults to 1


def test_a_fade_cue_fades_the_level() -> None:
    cues = """
[[cue_lists.cues]]
number = "1"
type = "fade"
target = { mapping = "m" }
from = 1.0
to = 0.25
duration = 1.0
rate_hz = 4
"""
    s = mapping("", cues=cues)
    s.at(0.0, Sample("x", 8.0))
    s.at(1.0, Go())
    s.run_until(3.0)
    # level 1 -> 0.25 linearly, a step every 0.25 s; the value 8 is scaled by it
    assert sent(s) == [(0.0, 8.0), (1.25, 6.5), (1.5, 5.0), (1.75, 3.5), (2.0, 2.0)]
    assert s.engine.mappings["m"].level == 0.25


def test_deadband_sends_only_changes_larger_than_itself() -> None:
    s = mapping("deadband = 0.25")
    for t, x in [(0, 0.0), (1, 0.125), (2, 0.25), (3, 0.375), (4, 0.5), (5, 0.125), (6, 0.0)]:
        s.at(float(t), Sample("x", x))
    # measured from the last value sent (0.0, then 0.375): a change of exactly the
    # deadband (0.25 at 2 s, 0.125 at 5 s) is not sent
    assert sent(s) == [(0.0, 0.0), (3.0, 0.375), (6.0, 0.0)]


def test_deadband_zero_sends_every_change_but_no_repeats() -> None:
    s = mapping("")
    for t, x in [(0, 1.0), (1, 1.0), (2, 1.000001), (3, 1.000001), (4, 0.5)]:
        s.at(float(t), Sample("x", x))
    assert sent(s) == [(0.0, 1.0), (2.0, 1.000001), (4.0, 0.5)]


def test_deadband_is_in_output_units_after_the_level() -> None:
    s = mapping("level = 0.5\ndeadband = 0.3")
    for t, x in [(0, 0.0), (1, 0.5), (2, 1.0)]:  # output 0, 0.25 (held back), 0.5
        s.at(float(t), Sample("x", x))
    assert sent(s) == [(0.0, 0.0), (2.0, 0.5)]


# -- max rate ----------------------------------------------------------------------------


def test_max_rate_sends_the_newest_value_at_most_that_often() -> None:
    s = mapping("max_rate_hz = 4")
    for t, x in [(0.0, 1.0), (0.1, 2.0), (0.2, 3.0), (0.3, 4.0), (0.9, 5.0)]:
        s.at(t, Sample("x", x))
    s.run_until(2.0)
    assert sent(s) == [(0.0, 1.0), (0.25, 3.0), (0.5, 4.0), (0.9, 5.0)]


def test_default_max_rate_is_thirty_per_second() -> None:
    s = Script(
        '[signals.x]\n[mappings.m]\nsignal = "x"\nto = { osc = "desk", address = "/m" }\n'
        '[[cue_lists]]\nname = "Main"\n'
    )
    for k in range(10):
        s.at(k * 0.01, Sample("x", float(k)))
    s.run_until(0.2)
    # samples every 0.01 s; sends at 0, 1/30, 2/30 and 3/30 s, each with the newest
    assert [t for t, _ in sent(s)] == pytest.approx([0.0, 1 / 30, 2 / 30, 3 / 30])
    assert values(s) == [0.0, 3.0, 6.0, 9.0]


# -- stale and lost: hold or fallback -------------------------------------------------------

STALE = "stale_after = 1.0\nlost_after = 3.0"


def test_hold_sends_nothing_while_stale_or_lost_then_follows_again() -> None:
    s = mapping("", signal=STALE)
    s.at(0.0, Sample("x", 5.0))
    s.run_until(9.0)
    assert sent(s) == [(0.0, 5.0)]
    s.at(9.0, Sample("x", 7.0))
    assert sent(s) == [(0.0, 5.0), (9.0, 7.0)]


def test_fallback_is_sent_when_the_signal_goes_stale() -> None:
    s = mapping('stale = "fallback"\nfallback = 0.25', signal=STALE)
    s.at(0.0, Sample("x", 5.0))
    s.run_until(9.0)
    assert sent(s) == [(0.0, 5.0), (1.1, 0.25)]
    s.at(9.0, Sample("x", 7.0))
    assert sent(s)[-1] == (9.0, 7.0)


def test_fallback_is_in_output_units_and_goes_through_the_level() -> None:
    s = mapping(
        'stale = "fallback"\nfallback = 2.0\nlevel = 0.5\nrange = { in = [0, 100], out = [0, 10] }',
        signal=STALE,
    )
    s.at(0.0, Sample("x", 50.0))
    s.run_until(2.0)
    assert sent(s) == [(0.0, 2.5), (1.1, 1.0)]


def test_fallback_defaults_to_zero() -> None:
    s = mapping('stale = "fallback"', signal=STALE)
    s.at(0.0, Sample("x", 5.0))
    s.run_until(2.0)
    assert sent(s) == [(0.0, 5.0), (1.1, 0.0)]


def test_fallback_glides_through_the_slew_limit() -> None:
    s = mapping('stale = "fallback"\nfallback = 0.25\nslew = 1.0\nmax_rate_hz = 4', signal=STALE)
    s.at(0.0, Sample("x", 1.0))
    s.run_until(3.0)
    assert sent(s) == [
        (0.0, 1.0),
        (1.1, pytest.approx(0.75)),
        (1.35, pytest.approx(0.5)),
        (1.6, pytest.approx(0.25)),
    ]


def test_fallback_when_the_source_disconnects() -> None:
    from cues.events import SourceHealth

    s = mapping('stale = "fallback"\nfallback = -1.0')
    s.at(0.0, Sample("x", 5.0, source="kitchen"))
    s.at(2.0, SourceHealth("kitchen", up=False))
    assert sent(s) == [(0.0, 5.0), (2.0, -1.0)]


# -- enabled and the start/stop cues ---------------------------------------------------------

START_STOP = """
[[cue_lists.cues]]
number = "1"
type = "start"
mapping = "m"
[[cue_lists.cues]]
number = "2"
type = "stop"
mapping = "m"
[[cue_lists.cues]]
number = "3"
type = "arm"
mapping = "m"
[[cue_lists.cues]]
number = "4"
type = "disarm"
mapping = "m"
"""


def test_disabled_mapping_waits_for_a_start_cue_then_sends_the_current_value() -> None:
    s = mapping("enabled = false", cues=START_STOP)
    s.at(0.0, Sample("x", 1.0))
    s.at(1.0, Sample("x", 2.0))
    assert sent(s) == []
    s.at(2.0, Go())  # start
    assert sent(s) == [(2.0, 2.0)]
    s.at(3.0, Go())  # stop: the target keeps its last value
    s.at(4.0, Sample("x", 3.0))
    assert sent(s) == [(2.0, 2.0)]
    s.at(5.0, Go())  # arm: enables it again, current value at once
    assert sent(s) == [(2.0, 2.0), (5.0, 3.0)]
    s.at(6.0, Go())  # disarm
    s.at(7.0, Sample("x", 4.0))
    assert sent(s) == [(2.0, 2.0), (5.0, 3.0)]


def test_enabling_a_mapping_resends_its_value_even_if_unchanged() -> None:
    s = mapping("", cues=START_STOP)
    s.at(0.0, Sample("x", 1.0))
    s.at(1.0, Go())  # start while already on: its value goes out again
    assert sent(s) == [(0.0, 1.0), (1.0, 1.0)]


# -- targets -----------------------------------------------------------------------------

MIDI_HEADER = HEADER + '[outputs.midi.synth]\nport = "Midi Through"\n'


def midi_values(to: str, xs: list[float]) -> list[int]:
    s = Script(
        f'[signals.x]\n{QUIET}\n[mappings.m]\nsignal = "x"\nto = {to}\nmax_rate_hz = 10\n'
        '[[cue_lists]]\nname = "Main"\n',
        header=MIDI_HEADER,
    )
    for k, x in enumerate(xs):
        s.at(float(k), Sample("x", x))
    out = []
    for _, c in s.of_type(SendMidi):
        assert isinstance(c, SendMidi)
        out.append(c.message.value)
    return out


def test_midi_cc_target_rounds_and_keeps_within_0_127() -> None:
    assert midi_values('{ midi = "synth", cc = 7 }', [63.4, 63.6, 200.0, -5.0]) == [63, 64, 127, 0]


@pytest.mark.parametrize(
    "to", ['{ midi = "synth", cc14 = 1 }', '{ midi = "synth", pitch_bend = true }']
)
def test_fourteen_bit_targets_keep_within_0_16383(to: str) -> None:
    assert midi_values(to, [8191.6, 20000.0, -1.0]) == [8192, 16383, 0]


def test_midi_target_message_carries_port_channel_and_controller() -> None:
    s = Script(
        f'[signals.x]\n{QUIET}\n[mappings.m]\nsignal = "x"\n'
        'to = { midi = "synth", cc = 7, channel = 2 }\n[[cue_lists]]\nname = "Main"\n',
        header=MIDI_HEADER,
    )
    s.at(0.0, Sample("x", 100.0))
    ((_, cmd),) = s.of_type(SendMidi)
    assert isinstance(cmd, SendMidi)
    assert cmd.port == "synth"
    assert cmd.message == ChannelMessage("cc", 2, 7, 100)


def test_visual_target_sets_the_scene_input() -> None:
    s = Script(
        f'[signals.x]\n{QUIET}\n[mappings.m]\nsignal = "x"\n'
        'to = { visual = "projector", input = "heat" }\nrange = { in = [20, 220] }\n'
        '[[cue_lists]]\nname = "Main"\n'
    )
    s.at(0.0, Sample("x", 70.0))
    assert s.of_type(SetVisualInput) == [(0.0, SetVisualInput("projector", "heat", 0.25))]


def test_osc_target_sends_one_float_marked_continuous() -> None:
    s = mapping("")
    s.at(0.0, Sample("x", 3))
    assert s.of_type(SendOsc) == [(0.0, SendOsc("desk", "/m", (3.0,), continuous=True))]
    assert isinstance(s.osc("/m")[0][1][0], float)


# -- laws that hold for any input -------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)
steps = st.lists(st.tuples(st.floats(0.001, 5.0), finite), min_size=1, max_size=30)


def chain(**fields: object) -> MappingState:
    target = OscTarget("desk", "/m")
    return MappingState(MappingDef(name="m", signal="x", target=target, **fields))  # type: ignore[arg-type]


def run_chain(ms: MappingState, seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Step the chain once per (gap, value); returns (time, value) of what it sent."""
    t, out = 0.0, []
    for gap, x in seq:
        t += gap
        ms.raw = x
        cmd, _ = ms.step(t)
        if isinstance(cmd, SendOsc):
            out.append((t, float(cmd.args[0])))  # type: ignore[arg-type]
    return out


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 100.0), finite, finite, st.floats(0.001, 100.0))
def test_ema_lands_between_the_previous_output_and_the_target(
    tau: float, before: float, x: float, dt: float
) -> None:
    ms = chain(smoothing=SmoothingDef(ema=tau))
    ms.raw = before
    ms.step(0.0)
    ms.raw = x
    cmd, _ = ms.step(dt)
    y = before if cmd is None else float(cmd.args[0])  # type: ignore[union-attr, arg-type]
    assert min(before, x) <= y <= max(before, x)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1e3), steps)
def test_deadband_never_sends_a_change_it_should_hold_back(
    deadband: float, seq: list[tuple[float, float]]
) -> None:
    sent_values = [v for _, v in run_chain(chain(deadband=deadband), seq)]
    assert sent_values[0] == seq[0][1]
    for a, b in itertools.pairwise(sent_values):
        assert abs(b - a) > deadband


@settings(max_examples=300, deadline=None)
@given(st.floats(0.01, 1e3), steps)
def test_slew_never_moves_faster_than_its_limit(
    slew: float, seq: list[tuple[float, float]]
) -> None:
    got = run_chain(chain(slew=slew), seq)
    for (t0, a), (t1, b) in itertools.pairwise(got):
        assert abs(b - a) <= slew * (t1 - t0) * (1 + 1e-9) + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(finite, finite).filter(lambda r: r[0] != r[1]),
    st.tuples(finite, finite),
    st.sampled_from(list(Curve)),
    steps,
)
def test_a_clamped_range_stays_within_its_out_ends(
    in_range: tuple[float, float],
    out_range: tuple[float, float],
    curve: Curve,
    seq: list[tuple[float, float]],
) -> None:
    ms = chain(in_range=in_range, out_range=out_range, curve=curve)
    lo, hi = min(out_range), max(out_range)
    for _, v in run_chain(ms, seq):
        assert lo - 1e-9 * max(1.0, abs(lo)) <= v <= hi + 1e-9 * max(1.0, abs(hi))


@pytest.mark.parametrize("smooth", [SmoothingDef(ema=1.0), SmoothingDef(one_euro_min_cutoff=1.0)])
def test_smoothing_does_not_move_when_evaluated_twice_at_one_instant(smooth: SmoothingDef) -> None:
    # a level fade step and a sample at the same instant both run the chain
    ms = chain(smoothing=smooth)
    first = run_chain(ms, [(1.0, 0.0), (0.1, 10.0)])
    ms.last_sent = None  # let the repeat be sent, to see its value
    ms.raw = 10.0
    cmd, _ = ms.step(1.1)
    assert isinstance(cmd, SendOsc)
    assert cmd.args == (first[-1][1],)
