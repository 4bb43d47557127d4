"""Dry-run report: a text summary, a timeline PNG (pygame) and a self-contained HTML page.

:func:`write_report` writes three files into a folder:

* ``summary.txt``: cues fired, triggers fired and never fired, signals that went stale or lost,
  outputs per OSC target / visual output / MIDI port, refused samples, engine warnings. It is
  deterministic: the same show and recording give byte-identical summaries (no wall-clock
  times, sorted where order is not the show's, fixed float formats).
* ``timeline.png``: the :mod:`rehearsal.timeline` layout drawn with pygame on a
  ``pygame.Surface`` (headless: no window, the SDL ``dummy`` video driver).
* ``report.html``: the same timeline as inline SVG and the summary; no external resources.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rehearsal.dryrun import DryRunResult
from rehearsal.timeline import Line, Polygon, Rect, Shape, Text, Timeline, layout
from rehearsal.timeline import Path as PathShape

__all__ = [
    "ReportFiles",
    "render_html",
    "render_png",
    "render_svg",
    "summary_text",
    "write_report",
]

#: Lines per section of the summary before the rest is counted.
MAX_LINES = 200
_SVG_FONT = 0.72  # SVG font size per pygame default-font size (similar cap height)


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Paths of the files :func:`write_report` wrote."""

    summary: Path
    png: Path
    html: Path


# -- summary ---------------------------------------------------------------------------------


def _t(t: float) -> str:
    return f"{t:10.3f}"


def _value(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}"
    return f'"{v}"' if isinstance(v, str) else str(v)


def _capped(lines: list[str], what: str = "lines") -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"  ... and {len(lines) - MAX_LINES:,} more {what}"]


def _section(title: str, lines: list[str], empty: str = "  (none)") -> list[str]:
    return ["", f"{title}", "-" * len(title), *(lines or [empty])]


def _output_label(kind: str, name: str) -> str:
    return {"osc": "OSC", "midi": "MIDI", "visual": "visual", "dashboard": "dashboard"}.get(
        kind, kind
    ) + f" {name}"


def summary_text(result: DryRunResult) -> str:
    """The deterministic text summary of a dry run."""
    r = result
    from_go_at = sum(1 for _, origin in r.gos if origin == "--go-at")
    head = [
        "Stovelight dry run",
        "==================",
        f"show:       {r.show_title} ({r.show_file})",
        f"recording:  {r.recording_file}: {r.samples:,} samples in {r.instants:,} instants",
        f"show time:  {r.start:.3f} s to {r.end:.3f} s ({r.end - r.start:.3f} s)",
        f"GOs:        {len(r.gos)} ({from_go_at} from --go-at, {len(r.gos) - from_go_at} from"
        f" the recording), {r.go_rejected} refused"
        + (f" (live: {r.go_refused_live} refused)" if r.go_refused_live else ""),
    ]
    head += [f"  {_t(t)}  GO ({origin})" for t, origin in r.gos[:MAX_LINES]]
    if r.operator:
        replayed = ", ".join(f"{c} x{n}" for c, n in sorted(r.operator.items()))
        head.append(f"operator actions replayed: {replayed}")
    if r.operator_skipped:
        skipped = ", ".join(f"{c} x{n}" for c, n in sorted(r.operator_skipped.items()))
        head.append(f"operator commands in the recording not replayed: {skipped}")
    for t in r.reloads:
        head.append(
            f"  {_t(t)}  the show file was reloaded live; this dry run uses {r.show_file}"
            " throughout"
        )
    for t, source, up in r.source_events[:MAX_LINES]:
        head.append(f"  {_t(t)}  source {source} {'connected' if up else 'disconnected'}")
    if r.dropped:
        kept = ", ".join(f"{w} ({n:,} not kept)" for w, n in sorted(r.dropped.items()))
        head.append(f"history limits reached: {kept}")

    fired = [(t, cue) for t, cue, state in r.cue_changes if state == "running"]
    width = max([len(c) for _, c in fired] + [3])
    cue_lines = [
        f"  {_t(t)}  {cue:<{width}}  {r.cue_names.get(cue, '')}".rstrip() for t, cue in fired
    ]
    waited = [(t, cue) for t, cue, state in r.cue_changes if state == "waiting"]
    wait_lines = [f"  {_t(t)}  {cue}" for t, cue in waited]

    names = sorted(r.trigger_conditions)
    width = max([len(n) for n in names] + [7])
    trig_lines = [f"  {_t(t)}  {name:<{width}}  value {_value(v)}" for t, name, v in r.triggers]
    fired_names = {name for _, name, _ in r.triggers}
    never = [
        f"  {'':>10}  {name:<{width}}  {r.trigger_conditions[name]}"
        for name in names
        if name not in fired_names
    ]

    health_lines = _health_lines(r)
    out_lines = _output_lines(r)
    refused_lines = _refused_lines(r)
    report_lines = [
        f"  {_t(t)}  {level:<7}  {subject}: {message}" for t, level, subject, message in r.reports
    ]
    counts = r.report_counts
    report_title = (
        f"Engine reports ({counts['warning']} warnings, {counts['error']} errors,"
        f" {counts['info']} info)"
    )
    lines = head
    lines += _section(f"Cues fired ({len(fired)})", _capped(cue_lines, "cue firings"))
    if waited:
        lines += _section(f"Cues that waited for a condition ({len(waited)})", _capped(wait_lines))
    lines += _section(f"Triggers fired ({len(r.triggers)})", _capped(trig_lines, "firings"))
    lines += _section(f"Triggers that never fired ({len(never)})", never)
    lines += _section("Signals stale, lost and recovered", _capped(health_lines, "changes"))
    lines += _section("Outputs", out_lines)
    lines += _section(f"Refused samples ({sum(r.refused.values()):,})", refused_lines)
    lines += _section(report_title, _capped(report_lines, "reports"))
    lines += _section(
        f"Signals plotted ({len(r.lanes)})",
        [f"  {lane.signal}" for lane in r.lanes]
        + ([f"  not drawn: {len(r.unplotted)} more"] if r.unplotted else []),
    )
    return "\n".join(lines) + "\n"


def _health_lines(r: DryRunResult) -> list[str]:
    """Changes to stale or lost, and recoveries; a signal's first ``live`` is not listed."""
    lines: list[str] = []
    last: dict[str, str] = {}
    width = max([len(s) for _, s, _ in r.health] + [6])
    for t, signal, health in r.health:
        before = last.get(signal)
        last[signal] = health
        if health == "live":
            if before is None or before == "live":
                continue
            label = f"live again (was {before})"
        elif before is None and health == "lost":
            continue
        else:
            label = health
        lines.append(f"  {_t(t)}  {signal:<{width}}  {label}")
    return lines


def _output_lines(r: DryRunResult) -> list[str]:
    totals = r.output_totals()
    lines: list[str] = []
    by_output: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for (kind, name, detail), n in r.outputs.items():
        by_output.setdefault((kind, name), []).append((detail, n))
    for key in sorted(by_output):
        unit = {"osc": "messages", "midi": "messages", "visual": "changes"}.get(key[0], "items")
        lines.append(f"  {_output_label(*key):<30} {totals[key]:>12,} {unit}")
        details = sorted(by_output[key], key=lambda d: (-d[1], d[0]))
        for detail, n in details[:20]:
            lines.append(f"      {detail:<26} {n:>12,}  {_sent(r, (*key, detail))}".rstrip())
        if len(details) > 20:
            rest = sum(n for _, n in details[20:])
            lines.append(f"      {f'({len(details) - 20} more)':<26} {rest:>12,}")
    return lines


def _payload(args: tuple[object, ...]) -> str:
    if not args:
        return "(no arguments)"
    return " ".join(_value(a) for a in args[:4]) + (" ..." if len(args) > 4 else "")


def _sent(r: DryRunResult, key: tuple[str, str, str]) -> str:
    """What went out: the first value with its time and, when it changed, the last."""
    first = r.output_first.get(key)
    if first is None:
        return ""
    t, args = first
    text = f"first {_payload(args)} at {t:.3f} s"
    last = r.output_last.get(key, args)
    if r.outputs[key] > 1:
        text += f", last {_payload(last)}"
    return text


def _refused_lines(r: DryRunResult) -> list[str]:
    lines = [f"  {reason:<30} {n:>12,}" for reason, n in sorted(r.refused.items())]
    names = sorted(r.refused_names.items(), key=lambda item: (-item[1], item[0]))
    for name, n in names[:20]:
        lines.append(f"      {name:<26} {n:>12,}")
    if len(names) > 20:
        lines.append(f"      ({len(names) - 20} more signal names)")
    return lines


# -- PNG ---------------------------------------------------------------------------------------


def _draw_shape(pygame: Any, surface: Any, shape: Shape) -> None:
    """One rectangle, line, path or polygon onto a pygame surface."""
    if isinstance(shape, Rect):
        pygame.draw.rect(
            surface,
            shape.fill,
            pygame.Rect(round(shape.x), round(shape.y), max(1, round(shape.w)), round(shape.h)),
        )
    elif isinstance(shape, Line):
        pygame.draw.line(
            surface, shape.color, (shape.x1, shape.y1), (shape.x2, shape.y2), shape.width
        )
    elif isinstance(shape, PathShape):
        if shape.width <= 1:
            pygame.draw.aalines(surface, shape.color, False, shape.points)
        else:
            pygame.draw.lines(surface, shape.color, False, shape.points, shape.width)
    elif isinstance(shape, Polygon):
        pygame.draw.polygon(surface, shape.fill, shape.points)


def _blit_text(pygame: Any, surface: Any, fonts: dict[int, Any], shape: Text) -> None:
    """One text label, anchored at its start, middle or end."""
    font = fonts.get(shape.size)
    if font is None:
        font = fonts[shape.size] = pygame.font.Font(None, shape.size)
    image = font.render(shape.text, True, shape.color)
    x = shape.x
    if shape.anchor == "middle":
        x -= image.get_width() / 2
    elif shape.anchor == "end":
        x -= image.get_width()
    surface.blit(image, (round(x), round(shape.y)))


def render_png(timeline: Timeline, path: str | Path) -> None:
    """Draw ``timeline`` with pygame on an off-screen surface and save it as PNG."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.font.init()
    fonts: dict[int, Any] = {}
    surface = pygame.Surface((timeline.width, timeline.height))
    surface.fill(timeline.background)
    for shape in timeline.shapes:
        if isinstance(shape, Text):
            _blit_text(pygame, surface, fonts, shape)
        else:
            _draw_shape(pygame, surface, shape)
    pygame.image.save(surface, str(path))


# -- SVG and HTML ------------------------------------------------------------------------------


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _points(points: Iterable[tuple[float, float]]) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in points)


def render_svg(timeline: Timeline) -> str:
    """The timeline as a standalone SVG element (consecutive lines of one colour share a path)."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{timeline.width}"'
        f' height="{timeline.height}" viewBox="0 0 {timeline.width} {timeline.height}"'
        ' font-family="Helvetica, Arial, sans-serif">',
        f'<rect width="{timeline.width}" height="{timeline.height}"'
        f' fill="{_hex(timeline.background)}"/>',
    ]
    run: list[str] = []
    run_style: tuple[tuple[int, int, int], int] | None = None

    def flush() -> None:
        nonlocal run, run_style
        if run and run_style is not None:
            color, width = run_style
            out.append(
                f'<path d="{" ".join(run)}" stroke="{_hex(color)}" stroke-width="{width}"'
                ' fill="none"/>'
            )
        run, run_style = [], None

    for shape in timeline.shapes:
        if isinstance(shape, Line):
            style = (shape.color, shape.width)
            if style != run_style:
                flush()
                run_style = style
            run.append(f"M{_n(shape.x1)} {_n(shape.y1)}L{_n(shape.x2)} {_n(shape.y2)}")
            continue
        flush()
        if isinstance(shape, Rect):
            out.append(
                f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(max(shape.w, 1))}"'
                f' height="{_n(shape.h)}" fill="{_hex(shape.fill)}"/>'
            )
        elif isinstance(shape, PathShape):
            out.append(
                f'<polyline points="{_points(shape.points)}" stroke="{_hex(shape.color)}"'
                f' stroke-width="{shape.width}" fill="none" stroke-linejoin="round"/>'
            )
        elif isinstance(shape, Polygon):
            out.append(f'<polygon points="{_points(shape.points)}" fill="{_hex(shape.fill)}"/>')
        elif isinstance(shape, Text):
            size = shape.size * _SVG_FONT
            out.append(
                f'<text x="{_n(shape.x)}" y="{_n(shape.y + 0.82 * size)}" font-size="{_n(size)}"'
                f' fill="{_hex(shape.color)}" text-anchor="{shape.anchor}">'
                f"{html.escape(shape.text)}</text>"
            )
    flush()
    out.append("</svg>")
    return "\n".join(out)


def render_html(result: DryRunResult, timeline: Timeline, summary: str) -> str:
    """A self-contained HTML page: title, the SVG timeline and the summary."""
    title = html.escape(f"Dry run: {result.show_title}")
    sub = html.escape(f"{result.show_file} against {result.recording_file}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        "<style>\n"
        "body { font-family: Helvetica, Arial, sans-serif; color: #212529; margin: 24px; }\n"
        "h1 { font-size: 22px; margin: 0 0 4px; } p { color: #6c757d; margin: 0 0 16px; }\n"
        "figure { margin: 0 0 24px; } svg { max-width: 100%; height: auto;"
        " border: 1px solid #dee2e6; }\n"
        "pre { font-size: 13px; line-height: 1.35; background: #f8f9fa; padding: 16px;"
        " overflow-x: auto; }\n"
        "</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n<p>{sub}</p>\n"
        f"<figure>\n{render_svg(timeline)}\n</figure>\n"
        f"<h2>Summary</h2>\n<pre>{html.escape(summary)}</pre>\n"
        "</body>\n</html>\n"
    )


def write_report(
    result: DryRunResult, out_dir: str | Path, *, size: tuple[int, int] = (1600, 900)
) -> ReportFiles:
    """Write ``summary.txt``, ``timeline.png`` and ``report.html`` into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summary_text(result)
    timeline = layout(result, *size)
    files = ReportFiles(folder / "summary.txt", folder / "timeline.png", folder / "report.html")
    files.summary.write_text(summary, encoding="utf-8")
    render_png(timeline, files.png)
    files.html.write_text(render_html(result, timeline, summary), encoding="utf-8")
    return files
