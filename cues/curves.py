"""Curve shapes: functions from progress 0..1 to 0..1."""

from __future__ import annotations

import math

from cues.model import Curve

__all__ = ["apply_curve"]

_EXP_K = 4.0
_EXP_NORM = math.expm1(_EXP_K)


def apply_curve(curve: Curve, x: float) -> float:
    """Shape ``x`` (clamped to 0..1) by ``curve``; ends stay fixed at 0 and 1."""
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
