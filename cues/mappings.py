"""Continuous mappings: a signal through a declarative chain of stages to an output.

The chain runs when the mapping may send (its rate limit), on the newest value:
range map and curve, smoothing (EMA or One-Euro), slew limit, level, deadband.
Filters keep moving towards their target after the input stops, so a settling
mapping asks for further deadlines until it arrives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import assert_never

from cues.commands import Command, SendMidi, SendOsc, SetVisualInput
from cues.curves import curve_shape
from cues.model import (
    Curve,
    FadeTarget,
    MappingDef,
    MappingTarget,
    MidiTarget,
    OscTarget,
    StaleMode,
    VisualTarget,
)

__all__ = ["MappingState", "target_command"]

_SETTLED = 1e-6


def target_command(target: FadeTarget, value: float) -> Command | None:
    """The command that puts ``value`` on ``target`` (None for mapping levels)."""
    match target:  # no captures in the patterns: each would cost a look-up
        case OscTarget():
            return SendOsc(target.target, target.address, (float(value),), continuous=True)
        case MidiTarget():
            m = target.message
            top = 16383 if m.kind in ("cc14", "pitch_bend") else 127
            return SendMidi(target.port, m.with_value(max(0, min(top, round(value)))))
        case VisualTarget():
            return SetVisualInput(target.output, target.name, float(value))
        case MappingTarget():
            return None
        case _:
            assert_never(target)


# MappingState._send fills OSC commands in slot by slot, as
# ``SendOsc(target, address, (value,), continuous=True)`` would: the frozen dataclass's
# ``__init__`` costs twice as much, and a busy show sends one for nearly every sample
# (tests/cues/test_mapping_speedpaths.py checks the two agree)
_new_command = object.__new__
_set_osc_target = vars(SendOsc)["target"].__set__
_set_osc_address = vars(SendOsc)["address"].__set__
_set_osc_args = vars(SendOsc)["args"].__set__
_set_osc_continuous = vars(SendOsc)["continuous"].__set__


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass(slots=True)
class MappingState:
    """A mapping's running state."""

    definition: MappingDef
    enabled: bool = True
    level: float = 1.0
    raw: float | None = None
    stale: bool = False
    smoothed: float | None = None
    derivative: float = 0.0
    slewed: float | None = None
    last_eval: float | None = None
    last_sent: float | None = None
    last_send_time: float = -math.inf
    sent: int = 0
    gliding: bool = False
    # constants of the chain, worked out once from the definition
    interval: float = field(init=False, default=0.0)  # the rate limit's (0: none)
    _lo: float = field(init=False, default=0.0)
    _scale: float | None = field(init=False, default=None)
    _out_lo: float = field(init=False, default=0.0)
    _out_span: float = field(init=False, default=1.0)
    _clamp: bool = field(init=False, default=True)
    _shape: Callable[[float], float] | None = field(init=False, default=None)
    _filtered: bool = field(init=False, default=False)
    _hold: bool = field(init=False, default=True)
    _deadband: float = field(init=False, default=0.0)
    _osc_target: str = field(init=False, default="")
    _osc_address: str = field(init=False, default="")

    def __post_init__(self) -> None:
        d = self.definition
        rate = d.max_rate_hz
        self.interval = 1.0 / rate if rate > 0 else 0.0
        if d.in_range is not None:
            lo, hi = d.in_range
            self._lo = lo
            self._scale = 1.0 / (hi - lo) if hi != lo else 0.0
            out_lo, out_hi = d.out_range if d.out_range is not None else (0.0, 1.0)
            self._out_lo, self._out_span = out_lo, out_hi - out_lo
        self._clamp = d.clamp
        self._shape = curve_shape(d.curve) if d.curve is not Curve.LINEAR else None
        self._filtered = d.smoothing is not None or d.slew is not None
        self._hold = d.stale is StaleMode.HOLD
        self._deadband = d.deadband
        if isinstance(d.target, OscTarget):  # the fast path in _send
            self._osc_target, self._osc_address = d.target.target, d.target.address

    def reset(self) -> None:
        """Back to the state at load (filters forget)."""
        d = self.definition
        self.enabled = d.enabled
        self.level = d.level
        self.smoothed = None
        self.slewed = None
        self.derivative = 0.0
        self.last_eval = None
        self.last_sent = None
        self.last_send_time = -math.inf
        self.gliding = False

    def set_enabled(self, on: bool) -> None:
        """Switch the mapping on or off; switched on, its current value goes out again."""
        self.enabled = on
        if on:
            self.last_sent = None
            self.gliding = False

    def due(self) -> float:
        """Earliest time the mapping may send again."""
        return self.last_send_time + self.interval

    def _elapsed(self, now: float) -> float:
        """How long the filters move for at ``now``: since the last evaluation, but after
        the chain stood still (settled, held, switched off) at most one rate interval, so
        a value that comes after a quiet spell starts a glide instead of a jump."""
        dt = now - self.last_eval if self.last_eval is not None else 0.0
        if not self.gliding and self.interval > 0:
            return min(dt, self.interval)
        return dt

    def _smooth(self, x: float, now: float) -> float:
        s = self.definition.smoothing
        prev = self.smoothed
        if s is None or prev is None:
            self.smoothed = x
            return x
        last, interval = self.last_eval, self.interval  # _elapsed, written out
        dt = now - last if last is not None else 0.0
        if not self.gliding and interval > 0 and interval < dt:
            dt = interval
        if dt <= 0:  # evaluated again at the same instant: no time to move
            return prev
        if s.ema is not None:
            a = 1.0 - math.exp(-dt / s.ema) if s.ema > 0 else 1.0
            y = prev + a * (x - prev)
        else:
            min_cutoff = s.one_euro_min_cutoff or 1.0
            dx = (x - prev) / dt
            self.derivative += _alpha(s.one_euro_d_cutoff, dt) * (dx - self.derivative)
            cutoff = min_cutoff + s.one_euro_beta * abs(self.derivative)
            y = prev + _alpha(cutoff, dt) * (x - prev)
        self.smoothed = y
        return y

    def _slew(self, x: float, now: float) -> float:
        limit = self.definition.slew
        prev = self.slewed
        if limit is None or prev is None or self.last_eval is None:
            self.slewed = x
            return x
        step = limit * self._elapsed(now)
        y = prev + max(-step, min(step, x - prev))
        self.slewed = y
        return y

    def step(self, now: float) -> tuple[Command | None, bool]:
        """Run the chain at ``now``. Returns the command that sends the new value (None:
        nothing to send; a sent value is counted) and whether the filters are still
        settling towards their target."""
        if self.stale:
            return self._step_stale(now)
        raw = self.raw
        if raw is None:
            return None, False
        scale = self._scale
        if scale is None:
            target = raw
        else:  # the range map: onto 0..1 by ``in`` (clamped), the curve, onto ``out``
            x = (raw - self._lo) * scale
            if self._clamp:
                x = 1.0 if x > 1.0 else (0.0 if x < 0.0 else x)
            shape = self._shape
            if shape is not None and 0.0 <= x <= 1.0:
                x = shape(x)
            target = self._out_lo + self._out_span * x
        if self._filtered:
            return self._filter(target, now)
        self.last_eval = now  # without smoothing or slew the output is the target
        return self._send(target, now), False  # (and it never glides)

    def _step_stale(self, now: float) -> tuple[Command | None, bool]:
        """:meth:`step` while the input is stale: hold, or go to the fallback value."""
        if self._hold:
            self.last_eval = now
            self.gliding = False
            return None, False
        target = self.definition.fallback
        if self._filtered:
            return self._filter(target, now)
        self.last_eval = now
        return self._send(target, now), False

    def _filter(self, target: float, now: float) -> tuple[Command | None, bool]:
        """The smoothing and slew stages towards ``target``, then the send."""
        d = self.definition
        out = self._smooth(target, now) if d.smoothing is not None else target
        if d.slew is not None:
            out = self._slew(out, now)
        self.last_eval = now
        settling = out != target and abs(out - target) > _SETTLED * max(1.0, abs(target))
        self.gliding = settling
        return self._send(out, now), settling

    def _send(self, out: float, now: float) -> Command | None:
        """The level and the deadband: the command that sends ``out`` (None: within the
        deadband of the last value sent)."""
        value = out * self.level
        last = self.last_sent
        if last is not None and abs(value - last) <= self._deadband:
            return None
        self.last_sent = value
        self.last_send_time = now
        self.sent += 1
        target = self._osc_target
        if target:  # SendOsc(...) slot by slot (see _new_command)
            cmd = _new_command(SendOsc)
            _set_osc_target(cmd, target)
            _set_osc_address(cmd, self._osc_address)
            _set_osc_args(cmd, (value if type(value) is float else float(value),))
            _set_osc_continuous(cmd, True)
            return cmd
        return target_command(self.definition.target, value)
