"""Curve shapes: functions from progress 0..1 to 0..1.

The one curve vocabulary of the project: cue fades, mapping ranges and visual
crossfades all shape their progress here, so "exponential" is the same shape on a
dimmer and on the projector.
"""

from __future__ import annotations

import math

from cues.model import Curve

__all__ = ["CURVE_ALIASES", "apply_curve", "curve_named"]

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
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if curve is Curve.LINEAR:
        return x
    if curve is Curve.S_CURVE:
        return x * x * (3.0 - 2.0 * x)
    if curve is Curve.EXPONENTIAL:
        return math.expm1(_EXP_K * x) / _EXP_NORM
    # logarithmic: the inverse of the exponential shape
    return math.log1p(x * _EXP_NORM) / _EXP_K
