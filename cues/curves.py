"""Curve shapes: functions from progress 0..1 to 0..1.

The one curve vocabulary of the project: cue fades, mapping ranges and visual
crossfades all shape their progress here, so "exponential" is the same shape on a
dimmer and on the projector.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from cues.model import Curve

__all__ = ["CURVE_ALIASES", "apply_curve", "curve_named", "curve_shape"]

_EXP_K = 4.0
_EXP_NORM = math.expm1(_EXP_K)

CURVE_ALIASES: dict[str, Curve] = {"smoothstep": Curve.S_CURVE}
"""Other names accepted for a curve (``smoothstep`` is the ``s-curve``)."""


def curve_named(name: str) -> Curve:
    """The curve called ``name`` (a :class:`Curve` value or an alias).

    Raises:
        ValueError: unknown name; the message lists the known ones.
    """
    alias = CURVE_ALIASES.get(name)
    if alias is not None:
        return alias
    try:
        return Curve(name)
    except ValueError:
        known = [c.value for c in Curve] + sorted(CURVE_ALIASES)
        raise ValueError(f"unknown curve {name!r}; use one of {', '.join(known)}") from None


def apply_curve(curve: Curve, x: float) -> float:
    """Shape ``x`` (clamped to 0..1) by ``curve``; ends stay fixed at 0 and 1.

    ``exponential`` is ``expm1(4x) / expm1(4)`` (0.119 at x = 0.5: slow start, like a
    fade-in on a dimmer); ``logarithmic`` is its inverse (0.831 at x = 0.5).
    """
    return _SHAPES[curve](x)


def curve_shape(curve: Curve) -> Callable[[float], float]:
    """The function ``x -> apply_curve(curve, x)``, looked up once (for code that shapes
    many values by one curve, such as a mapping on every sample)."""
    return _SHAPES[curve]


def _linear(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x


def _s_curve(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * (3.0 - 2.0 * x)


def _exponential(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return math.expm1(_EXP_K * x) / _EXP_NORM


def _logarithmic(x: float) -> float:
    """The inverse of the exponential shape."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return math.log1p(x * _EXP_NORM) / _EXP_K


_SHAPES: dict[Curve, Callable[[float], float]] = {
    Curve.LINEAR: _linear,
    Curve.S_CURVE: _s_curve,
    Curve.EXPONENTIAL: _exponential,
    Curve.LOGARITHMIC: _logarithmic,
}
