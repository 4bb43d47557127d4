"""The dry-run timeline's value axes: sensor noise is drawn flat, real swings fill the lane."""

from __future__ import annotations

import math

from rehearsal.dryrun import DryRunResult, Lane
from rehearsal.timeline import Path, Text, axis_range, layout


def _result(values: list[float], unit: str) -> DryRunResult:
    lane = Lane("central.temp_c", unit, False, list(values), list(values), list(values))
    result = DryRunResult("Axes", "show.toml", "rec.sqlite", 0.0, 60.0, len(values))
    result.lanes.append(lane)
    return result


def _curve_extent(values: list[float], unit: str) -> tuple[float, float]:
    """The curve's height as a share of its lane, and the axis labels drawn."""
    tl = layout(_result(values, unit), 1200, 600)
    path = next(s for s in tl.shapes if isinstance(s, Path))
    ys = [y for _, y in path.points]
    labels = [s.text for s in tl.shapes if isinstance(s, Text) and s.text.endswith(unit)]
    lane_h = 600.0  # an upper bound: the lane is shorter than the picture
    return (max(ys) - min(ys)) / lane_h, len(labels)


def test_noise_on_a_temperature_stays_flat() -> None:
    noise = [20.0 + 0.2 * math.sin(i) for i in range(120)]
    share, labels = _curve_extent(noise, "°C")
    assert share < 0.05  # ±0.2 °C on an axis at least 10 °C wide
    assert labels >= 2  # both ends of the axis are labelled with the unit


def test_a_real_swing_fills_the_lane() -> None:
    heating = [20.0 + 2.0 * i for i in range(120)]
    share, _ = _curve_extent(heating, "°C")
    assert share > 0.2


def test_axis_range_keeps_the_data_and_rounds_the_ends() -> None:
    assert axis_range(19.8, 20.2, "°C") == (14.0, 26.0)
    assert axis_range(0.0, 237.0, "°C") == (0.0, 250.0)
    lo, hi = axis_range(49.98, 50.02, "Hz")
    assert hi - lo >= 0.5 and lo <= 49.98 and hi >= 50.02
    assert axis_range(3.0, 3.0) == (2.0, 4.0)  # no unit, no span: ±1 around a flat line
    assert axis_range(0.1, 0.3, "", min_span=2.0) == (-1.0, 1.5)
