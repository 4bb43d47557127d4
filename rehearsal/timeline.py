"""The dry-run timeline as drawing primitives (pure: no pygame, no files).

:func:`layout` turns a :class:`rehearsal.dryrun.DryRunResult` into a :class:`Timeline`: a
list of rectangles, lines, polylines, polygons and texts in pixel coordinates. The PNG
renderer (pygame) and the SVG renderer in :mod:`rehearsal.report` draw the same list, so the
picture and the HTML report show the same thing.

Layout, top to bottom: a title; a cue row with one mark per GO and a labelled line per cue
firing (the line runs down through every lane); one lane per plotted signal with its curve
(last value per time bucket, a light band from min to max), stale and lost periods shaded and
each trigger on the lane of the signal it watches; one row per output with a tick per time
bucket that sent something (taller ticks: more messages); the time axis; a legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rehearsal.dryrun import DryRunResult, Lane

__all__ = [
    "COLORS",
    "MIN_SPAN",
    "Line",
    "Path",
    "Polygon",
    "Rect",
    "Shape",
    "Text",
    "Timeline",
    "axis_range",
    "format_time",
    "layout",
]

RGB = tuple[int, int, int]

COLORS: dict[str, RGB] = {
    "background": (255, 255, 255),
    "ink": (33, 37, 41),
    "muted": (108, 117, 125),
    "grid": (222, 226, 230),
    "lane": (248, 249, 250),
    "lane_alt": (241, 243, 245),
    "curve": (25, 113, 194),
    "band": (165, 208, 240),
    "cue": (47, 158, 68),
    "go": (33, 37, 41),
    "trigger": (232, 89, 12),
    "stale": (255, 236, 153),
    "lost": (255, 201, 201),
    "output": (112, 72, 232),
}


@dataclass(frozen=True, slots=True)
class Rect:
    """A filled rectangle."""

    x: float
    y: float
    w: float
    h: float
    fill: RGB


@dataclass(frozen=True, slots=True)
class Line:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: RGB
    width: int = 1


@dataclass(frozen=True, slots=True)
class Path:
    """An open polyline."""

    points: tuple[tuple[float, float], ...]
    color: RGB
    width: int = 1


@dataclass(frozen=True, slots=True)
class Polygon:
    """A filled polygon."""

    points: tuple[tuple[float, float], ...]
    fill: RGB


@dataclass(frozen=True, slots=True)
class Text:
    """A label; ``y`` is the top of the text, ``anchor`` is ``start``, ``middle`` or ``end``."""

    x: float
    y: float
    text: str
    size: int
    color: RGB
    anchor: str = "start"


Shape = Rect | Line | Path | Polygon | Text


@dataclass
class Timeline:
    """A picture: size, background and shapes in drawing order."""

    width: int
    height: int
    background: RGB
    shapes: list[Shape] = field(default_factory=list)


_LEFT = 230
_RIGHT = 24
_TITLE_H = 40
_CUE_ROW_H = 44
_OUTPUT_ROW_H = 18
_AXIS_H = 28
_LEGEND_H = 26


def format_time(t: float, span: float) -> str:
    """A time label: seconds for short runs, m:ss or h:mm:ss for long ones."""
    if span < 120:
        return f"{t:g} s" if abs(t - round(t)) > 1e-9 else f"{round(t)} s"
    total = round(t)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _tick_step(span: float, max_ticks: int = 12) -> float:
    raw = span / max_ticks
    exp = math.floor(math.log10(raw)) if raw > 0 else 0
    for mult in (1, 2, 5, 10):
        step = mult * 10.0**exp
        if span / step <= max_ticks:
            break
    if span >= 120:
        for nice in (60, 120, 300, 600, 900, 1800, 3600, 7200):
            if nice >= step:
                return float(nice)
    return step


def _text_width(text: str, size: int) -> float:
    return 0.5 * size * len(text)


def _short_cue(cue: str, first_list: str) -> str:
    lst, _, number = cue.partition("/")
    return number if lst == first_list or not number else cue


def _diamond(x: float, y: float, r: float) -> tuple[tuple[float, float], ...]:
    return ((x, y - r), (x + r, y), (x, y + r), (x - r, y))


class _Frame:
    """Maps show time to x and keeps the plot's vertical regions."""

    def __init__(self, result: DryRunResult, width: int) -> None:
        self.t0 = result.start
        self.span = max(result.end - result.start, 1e-9)
        self.x0 = float(_LEFT)
        self.w = float(width - _LEFT - _RIGHT)
        self.buckets = result.buckets

    def x(self, t: float) -> float:
        return self.x0 + (t - self.t0) / self.span * self.w

    def bx(self, b: int) -> float:
        return self.x0 + (b + 0.5) / self.buckets * self.w


#: The smallest axis span per unit, so a few tenths of a degree of sensor noise are
#: drawn as the flat line they are (the dashboard's charts use the same table).
MIN_SPAN: dict[str, float] = {
    "°C": 10.0,
    "°F": 20.0,
    "K": 10.0,
    "kW": 1.0,
    "W": 100.0,
    "MW": 0.5,
    "Hz": 0.5,
    "%": 10.0,
    "V": 10.0,
    "A": 1.0,
}


def _nice_step(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    p = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * p >= raw * (1 - 1e-9):
            return m * p
    return 10.0 * p


def axis_range(lo: float, hi: float, unit: str = "", min_span: float = 0.0) -> tuple[float, float]:
    """The y axis for data from ``lo`` to ``hi``: at least ``min_span`` (or the unit's
    ``MIN_SPAN``) wide around the data's middle, ends rounded to a readable step."""
    span = max(min_span, MIN_SPAN.get(unit, 0.0))
    if hi - lo < span:
        mid = (lo + hi) / 2
        lo, hi = mid - span / 2, mid + span / 2
    if hi - lo < 1e-12:
        lo, hi = lo - 1.0, hi + 1.0
    step = _nice_step((hi - lo) / 5)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def _data_range(lane: Lane) -> tuple[float, float] | None:
    values = [v for v in lane.lo + lane.hi if v == v]
    if not values:
        return None
    return min(values), max(values)


def _lane_range(lane: Lane) -> tuple[float, float] | None:
    """The lane's y axis: categories as they are, numbers through :func:`axis_range`."""
    r = _data_range(lane)
    if r is None:
        return None
    if lane.categories:
        lo, hi = r
        return (lo - 1.0, hi + 1.0) if hi - lo < 1e-12 else r
    return axis_range(r[0], r[1], lane.unit)


def _lane_label(lane: Lane) -> str:
    if lane.categories:
        names = sorted(lane.categories, key=lane.categories.__getitem__)
        shown = " / ".join(names[:4]) + (" / ..." if len(names) > 4 else "")
        return shown
    r = _data_range(lane)
    if r is None:
        return "no data"
    lo, hi = r
    unit = f" {lane.unit}" if lane.unit else ""
    return f"{lo:.4g} to {hi:.4g}{unit}"


def _health_spans(result: DryRunResult, signal: str) -> list[tuple[float, float, str]]:
    """(from, to, health) for stale and lost periods after the signal was first live."""
    spans: list[tuple[float, float, str]] = []
    seen_live = False
    current: tuple[float, str] | None = None
    for t, sig, health in result.health:
        if sig != signal:
            continue
        if current is not None:
            spans.append((current[0], t, current[1]))
            current = None
        if health == "live":
            seen_live = True
        elif seen_live:
            current = (t, health)
    if current is not None:
        spans.append((current[0], result.end, current[1]))
    return spans


def _draw_lane(
    shapes: list[Shape],
    fr: _Frame,
    lane: Lane,
    y: float,
    h: float,
    index: int,
    result: DryRunResult,
) -> None:
    c = COLORS
    shapes.append(Rect(fr.x0, y, fr.w, h, c["lane"] if index % 2 == 0 else c["lane_alt"]))
    for a, b, health in _health_spans(result, lane.signal):
        x1, x2 = fr.x(a), fr.x(b)
        shapes.append(Rect(x1, y, max(1.0, x2 - x1), h, c[health]))
    size = 15 if h >= 34 else 12
    name = lane.signal + (" (derived)" if lane.derived else "")
    shapes.append(Text(_LEFT - 8, y + 3, name, size, c["ink"], "end"))
    if h >= 30:
        shapes.append(Text(_LEFT - 8, y + 4 + size, _lane_label(lane), 12, c["muted"], "end"))
    rng = _lane_range(lane)
    if rng is None:
        return
    lo, hi = rng
    pad = min(4.0, h / 6)

    def vy(v: float) -> float:
        return y + pad + (1.0 - (v - lo) / (hi - lo)) * (h - 2 * pad)

    if not lane.categories and h >= 30:  # the axis: its ends, with the unit
        unit = f" {lane.unit}" if lane.unit else ""
        for v, dy in ((hi, 1.0), (lo, -12.0)):
            ty = round(vy(v) + dy, 1)
            shapes.append(Text(fr.x0 + 4, ty, f"{v:.4g}{unit}", 11, c["muted"]))

    _draw_curve(shapes, fr, lane, vy)


def _draw_curve(shapes: list[Shape], fr: _Frame, lane: Lane, vy: Callable[[float], float]) -> None:
    """A lane's value per bucket: its min-max band and the last value (stepped if categorical)."""
    c = COLORS
    points: list[tuple[float, float]] = []
    step = bool(lane.categories)
    for b in range(fr.buckets):
        last = lane.last[b]
        if last != last:
            continue
        x = round(fr.bx(b), 1)
        if lane.hi[b] > lane.lo[b]:
            shapes.append(Line(x, round(vy(lane.hi[b]), 1), x, round(vy(lane.lo[b]), 1), c["band"]))
        py = round(vy(last), 1)
        if step and points and points[-1][1] != py:
            points.append((x, points[-1][1]))
        points.append((x, py))
    if len(points) == 1:
        x, py = points[0]
        points.append((x + 1, py))
    if points:
        shapes.append(Path(tuple(points), c["curve"], 2))


def _draw_cues(
    shapes: list[Shape], fr: _Frame, result: DryRunResult, top: float, bottom: float
) -> None:
    c = COLORS
    first_list = result.cue_changes[0][1].partition("/")[0] if result.cue_changes else ""
    firings: dict[int, list[str]] = {}
    for t, cue, state in result.cue_changes:
        if state == "running":
            firings.setdefault(round(fr.x(t)), []).append(_short_cue(cue, first_list))
    row_y = (top + 2.0, top + 17.0)
    right_edge = [-math.inf, -math.inf]
    for i, (x, cues) in enumerate(sorted(firings.items())):
        shapes.append(Line(x, top + 14, x, bottom, c["cue"]))
        label = ", ".join(cues[:3]) + (f" +{len(cues) - 3}" if len(cues) > 3 else "")
        width = _text_width(label, 13)
        for row in (i % 2, 1 - i % 2):
            if x + 3 > right_edge[row]:
                shapes.append(Text(x + 3, row_y[row], label, 13, c["cue"]))
                right_edge[row] = x + 3 + width + 4
                break
    for t, _ in result.gos:
        gx = fr.x(t)
        shapes.append(Polygon(((gx - 5, top + 32), (gx + 5, top + 32), (gx, top + 41)), c["go"]))


def _draw_triggers(
    shapes: list[Shape],
    fr: _Frame,
    result: DryRunResult,
    lane_y: dict[str, tuple[float, float]],
    cue_top: float,
) -> None:
    c = COLORS
    signal_of = result.trigger_signals
    last_label_end: dict[float, float] = {}
    for t, name, _ in result.triggers:
        x = fr.x(t)
        lane = lane_y.get(signal_of.get(name, ""))
        if lane is None:
            y, h = cue_top + 30, 12.0
        else:
            y, h = lane
            shapes.append(Line(x, y, x, y + h, c["trigger"], 2))
        shapes.append(Polygon(_diamond(x, y + 6, 6), c["trigger"]))
        if x + 8 > last_label_end.get(y, -math.inf):
            shapes.append(Text(x + 8, y + 1, name, 12, c["trigger"]))
            last_label_end[y] = x + 8 + _text_width(name, 12) + 4


def _draw_outputs(shapes: list[Shape], fr: _Frame, result: DryRunResult, top: float) -> float:
    c = COLORS
    totals = result.output_totals()
    y = top
    for key in sorted(result.output_buckets):
        counts = result.output_buckets[key]
        kind, name = key
        label = f"{'OSC' if kind == 'osc' else kind.upper() if kind == 'midi' else kind} {name}"
        shapes.append(Text(_LEFT - 8, y + 2, f"{label} ({totals[key]:,})", 12, c["ink"], "end"))
        shapes.append(
            Line(fr.x0, y + _OUTPUT_ROW_H - 2, fr.x0 + fr.w, y + _OUTPUT_ROW_H - 2, c["grid"])
        )
        peak = max(counts) if counts else 0
        for b, n in enumerate(counts):
            if n:
                frac = 0.35 + 0.65 * (math.log1p(n) / math.log1p(peak))
                x = round(fr.bx(b), 1)
                y2 = y + _OUTPUT_ROW_H - 2
                shapes.append(
                    Line(x, y2, x, round(y2 - frac * (_OUTPUT_ROW_H - 4), 1), c["output"])
                )
        y += _OUTPUT_ROW_H
    return y


def _draw_axis(shapes: list[Shape], fr: _Frame, top: float, bottom: float, y: float) -> None:
    c = COLORS
    step = _tick_step(fr.span)
    k = math.ceil(fr.t0 / step - 1e-9)
    while k * step <= fr.t0 + fr.span + 1e-9:
        t = k * step
        x = round(fr.x(t), 1)
        shapes.append(Line(x, top, x, bottom, c["grid"]))
        shapes.append(Line(x, y, x, y + 5, c["ink"]))
        shapes.append(Text(x, y + 7, format_time(round(t, 6), fr.span), 12, c["muted"], "middle"))
        k += 1
    shapes.append(Line(fr.x0, y, fr.x0 + fr.w, y, c["ink"]))


def _draw_legend(shapes: list[Shape], y: float) -> None:
    c = COLORS
    x = float(_LEFT)
    items: Sequence[tuple[str, str]] = (
        ("cue", "cue fired"),
        ("go", "GO"),
        ("trigger", "trigger fired"),
        ("curve", "signal (band: min to max)"),
        ("stale", "stale"),
        ("lost", "lost"),
        ("output", "outputs sent"),
    )
    for color, label in items:
        shapes.append(Rect(x, y + 4, 12, 12, c[color]))
        shapes.append(Text(x + 17, y + 3, label, 13, c["ink"]))
        x += 17 + _text_width(label, 13) + 22


def layout(result: DryRunResult, width: int = 1600, height: int = 900) -> Timeline:
    """Lay out the timeline of a dry run at ``width`` x ``height`` pixels."""
    c = COLORS
    tl = Timeline(width, height, c["background"])
    shapes = tl.shapes
    fr = _Frame(result, width)
    span_label = f"{format_time(result.start, fr.span)} to {format_time(result.end, fr.span)}"
    shapes.append(
        Text(12, 10, f"Dry run: {result.show_title}  /  {result.recording_file}", 20, c["ink"])
    )
    shapes.append(
        Text(width - _RIGHT, 13, f"{span_label}, {result.samples:,} samples", 14, c["muted"], "end")
    )
    outputs_h = _OUTPUT_ROW_H * len(result.output_buckets)
    cue_top = float(_TITLE_H)
    lanes_top = cue_top + _CUE_ROW_H
    axis_y = height - _LEGEND_H - _AXIS_H
    outputs_top = axis_y - outputs_h - 6
    lanes_bottom = outputs_top - 6
    shapes.append(Text(_LEFT - 8, cue_top + 4, "cues", 13, c["cue"], "end"))
    shapes.append(Text(_LEFT - 8, cue_top + 28, "GO / source", 12, c["muted"], "end"))
    lane_y: dict[str, tuple[float, float]] = {}
    n = len(result.lanes)
    if n:
        lane_h = (lanes_bottom - lanes_top) / n
        for i, lane in enumerate(result.lanes):
            y = lanes_top + i * lane_h
            _draw_lane(shapes, fr, lane, y + 1, lane_h - 2, i, result)
            lane_y[lane.signal] = (y + 1, lane_h - 2)
    else:
        shapes.append(
            Text(
                fr.x0 + fr.w / 2,
                (lanes_top + lanes_bottom) / 2,
                "no signal the show uses is in the recording",
                16,
                c["muted"],
                "middle",
            )
        )
    _draw_axis(shapes, fr, lanes_top, lanes_bottom, axis_y)
    _draw_cues(shapes, fr, result, cue_top, lanes_bottom)
    _draw_triggers(shapes, fr, result, lane_y, cue_top)
    _draw_outputs(shapes, fr, result, outputs_top)
    _draw_legend(shapes, height - _LEGEND_H)
    return tl
