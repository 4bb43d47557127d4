"""Crisp text and sparklines drawn with pygame into RGBA arrays for image inputs.

Shaders are bad at text, so numbers, labels and sparklines are drawn here on the CPU
into a transparent RGBA array, which feeds an ISF image input (``overlay`` in
``dashboard.fs`` and ``test_pattern.fs``) or the compositor's identify overlay.

:class:`SignalHistory` keeps recent values per signal; it is given the time of each
sample, never reads a clock.
"""

from __future__ import annotations

import collections
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

__all__ = ["SignalHistory", "draw_dashboard", "draw_text_overlay"]

RGBA = npt.NDArray[np.uint8]
_FONTS: dict[int, pygame.font.Font] = {}

_PANEL = (10, 12, 20, 170)
_LABEL = (190, 200, 215, 255)
_VALUE = (255, 244, 220, 255)
_LINE = (255, 170, 60, 255)


def _font(px: int) -> pygame.font.Font:
    px = max(8, int(px))
    if not pygame.font.get_init():
        pygame.font.init()
    font = _FONTS.get(px)
    if font is None:
        font = _FONTS[px] = pygame.font.Font(None, px)
    return font


def _render_fit(text: str, px: int, max_width: int, color: tuple[int, ...]) -> pygame.Surface:
    """Render ``text`` at ``px`` or smaller so it fits in ``max_width`` pixels."""
    image = _font(px).render(text, True, color)
    if image.get_width() > max_width > 0:
        smaller = max(8, int(px * max_width / image.get_width()))
        image = _font(smaller).render(text, True, color)
    return image


def _to_array(surface: pygame.Surface) -> RGBA:
    w, h = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGBA"), dtype=np.uint8).reshape(h, w, 4)


class SignalHistory:
    """Recent samples of named signals, at most one sample per ``interval`` seconds.

    Args:
        length: samples kept per signal.
        interval: minimum spacing of samples in (caller-given) seconds.
    """

    def __init__(self, length: int = 120, interval: float = 0.25):
        self.length = length
        self.interval = interval
        self._series: dict[str, collections.deque[float]] = {}
        self._last: dict[str, float] = {}

    def record(self, name: str, value: float, now: float) -> bool:
        """Add a sample taken at ``now``; returns False when it was too soon and was dropped."""
        last = self._last.get(name)
        if last is not None and now - last < self.interval:
            return False
        series = self._series.setdefault(name, collections.deque(maxlen=self.length))
        series.append(float(value))
        self._last[name] = now
        return True

    def series(self) -> dict[str, list[float]]:
        """A copy of every series, oldest sample first."""
        return {k: list(v) for k, v in self._series.items()}


def _format(value: float) -> str:
    if not math.isfinite(value):
        return "--"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def draw_dashboard(
    signals: Mapping[str, Sequence[float]],
    size: tuple[int, int],
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
) -> RGBA:
    """Draw one tile per signal (label, latest value, sparkline) on a transparent image.

    Args:
        signals: name -> samples, oldest first; the last sample is the shown value.
        size: (width, height) of the image in pixels.
        title: optional heading across the top.
        units: optional unit suffix per signal, e.g. ``{"supply": "kW"}``.

    Returns:
        An RGBA array, row 0 at the top, transparent where nothing is drawn.
    """
    width, height = max(1, size[0]), max(1, size[1])
    surface = pygame.Surface((width, height), pygame.SRCALPHA)
    surface.fill((0, 0, 0, 0))
    units = units or {}
    margin = max(4, width // 60)
    top = margin
    if title:
        title_img = _render_fit(title, height // 9, width - 2 * margin, _VALUE)
        surface.blit(title_img, (margin, top))
        top += title_img.get_height() + margin
    names = list(signals)
    if not names:
        return _to_array(surface)
    cols = max(1, min(len(names), math.ceil(math.sqrt(len(names) * width / height))))
    rows = math.ceil(len(names) / cols)
    tile_w = (width - margin * (cols + 1)) // cols
    tile_h = (height - top - margin * rows) // rows
    for index, name in enumerate(names):
        x = margin + (index % cols) * (tile_w + margin)
        y = top + (index // cols) * (tile_h + margin)
        _draw_tile(surface, pygame.Rect(x, y, tile_w, tile_h), name, signals[name], units)
    return _to_array(surface)


def _draw_tile(
    surface: pygame.Surface,
    rect: pygame.Rect,
    name: str,
    samples: Sequence[float],
    units: Mapping[str, str],
) -> None:
    if rect.width < 8 or rect.height < 8:
        return
    pygame.draw.rect(surface, _PANEL, rect, border_radius=max(2, rect.height // 20))
    pad = max(2, rect.height // 16)
    inner = rect.width - 2 * pad
    label = _render_fit(name.upper(), rect.height // 6, inner, _LABEL)
    surface.blit(label, (rect.x + pad, rect.y + pad))
    value = float(samples[-1]) if samples else float("nan")
    text = _format(value) + (f" {units[name]}" if name in units else "")
    number = _render_fit(text, rect.height * 2 // 5, inner, _VALUE)
    surface.blit(number, (rect.x + pad, rect.y + pad + label.get_height()))
    spark_top = rect.y + pad * 2 + label.get_height() + number.get_height()
    spark = pygame.Rect(
        rect.x + pad, spark_top, rect.width - 2 * pad, rect.bottom - pad - spark_top
    )
    finite = [float(s) for s in samples if math.isfinite(s)]
    if spark.height < 4 or len(finite) < 2:
        return
    lo, hi = min(finite), max(finite)
    span = hi - lo or 1.0
    step = spark.width / (len(finite) - 1)
    points = [
        (spark.x + i * step, spark.bottom - (v - lo) / span * spark.height)
        for i, v in enumerate(finite)
    ]
    pygame.draw.lines(surface, _LINE, False, points, max(1, rect.height // 60))


def draw_text_overlay(
    lines: Sequence[str],
    size: tuple[int, int],
    *,
    scale: float = 0.12,
    background: bool = True,
) -> RGBA:
    """Draw centred lines of text (identify mode, test-pattern labels).

    Args:
        lines: text lines, the first drawn largest.
        size: (width, height) of the image.
        scale: height of the first line as a fraction of the image height.
        background: draw a dark panel behind the text for contrast.
    """
    width, height = max(1, size[0]), max(1, size[1])
    surface = pygame.Surface((width, height), pygame.SRCALPHA)
    surface.fill((0, 0, 0, 0))
    rendered = []
    for i, line in enumerate(lines):
        px = int(height * scale * (1.0 if i == 0 else 0.45))
        rendered.append(_render_fit(line, px, width * 9 // 10, _VALUE))
    total = sum(r.get_height() for r in rendered)
    widest = max((r.get_width() for r in rendered), default=0)
    y = (height - total) // 2
    if background and rendered:
        pad = max(4, height // 40)
        panel = pygame.Rect((width - widest) // 2 - pad, y - pad, widest + 2 * pad, total + 2 * pad)
        pygame.draw.rect(surface, _PANEL, panel, border_radius=pad)
    for img in rendered:
        surface.blit(img, ((width - img.get_width()) // 2, y))
        y += img.get_height()
    return _to_array(surface)
