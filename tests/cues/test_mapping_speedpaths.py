"""The mapping chain's shortcuts give exactly what the plain chain gives.

:class:`cues.mappings.MappingState` skips the filter stages of a mapping without
smoothing or slew, shapes by a curve function looked up once, and builds OSC commands
without going through :func:`cues.mappings.target_command`. ``Reference`` below is the
chain written plainly, stage after stage as docs/show-file.md lists them; random
definitions and random sequences of samples, stale spells and level changes must give
the same commands, the same settling flags and the same state, bit for bit (compared
by ``repr``, so ``-0.0`` and ``0.0`` differ).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass, fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cues.commands import Command, SendOsc
from cues.curves import apply_curve, curve_shape
from cues.mappings import MappingState, target_command
from cues.model import (
    ChannelMessage,
    Curve,
    MappingDef,
    MappingTarget,
    MidiTarget,
    OscTarget,
    SmoothingDef,
    StaleMode,
    VisualTarget,
)

_SETTLED = 1e-6


def _alpha(cutoff: float, dt: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class Reference:
    """The chain without shortcuts: every stage a mapping has runs on every step."""

    d: MappingDef
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

    @property
    def interval(self) -> float:
        return 1.0 / self.d.max_rate_hz if self.d.max_rate_hz > 0 else 0.0

    def elapsed(self, now: float) -> float:
        dt = now - self.last_eval if self.last_eval is not None else 0.0
        return min(dt, self.interval) if not self.gliding and self.interval > 0 else dt

    def range_map(self, raw: float) -> float:
        if self.d.in_range is None:
            return raw
        lo, hi = self.d.in_range
        out_lo, out_hi = self.d.out_range or (0.0, 1.0)
        x = (raw - lo) * (1.0 / (hi - lo) if hi != lo else 0.0)
        if self.d.clamp:
            x = 1.0 if x > 1.0 else 0.0 if x < 0.0 else x
        if self.d.curve is not Curve.LINEAR and 0.0 <= x <= 1.0:
            x = apply_curve(self.d.curve, x)
        return out_lo + (out_hi - out_lo) * x

    def smooth(self, x: float, now: float) -> float:
        s, prev, dt = self.d.smoothing, self.smoothed, self.elapsed(now)
        if s is None or prev is None:
            self.smoothed = x
            return x
        if dt <= 0:
            return prev
        if s.ema is not None:
            a = 1.0 - math.exp(-dt / s.ema) if s.ema > 0 else 1.0
            y = prev + a * (x - prev)
        else:
            dx = (x - prev) / dt
            self.derivative += _alpha(s.one_euro_d_cutoff, dt) * (dx - self.derivative)
            cutoff = (s.one_euro_min_cutoff or 1.0) + s.one_euro_beta * abs(self.derivative)
            y = prev + _alpha(cutoff, dt) * (x - prev)
        self.smoothed = y
        return y

    def slew(self, x: float, now: float) -> float:
        limit, prev = self.d.slew, self.slewed
        if limit is None or prev is None or self.last_eval is None:
            self.slewed = x
            return x
        step = limit * self.elapsed(now)
        self.slewed = prev + max(-step, min(step, x - prev))
        return self.slewed

    def step(self, now: float) -> tuple[Command | None, bool]:
        if self.stale and self.d.stale is StaleMode.HOLD:
            self.last_eval = now
            self.gliding = False
            return None, False
        if self.stale:
            target = self.d.fallback
        elif self.raw is None:
            return None, False
        else:
            target = self.range_map(self.raw)
        out = self.smooth(target, now) if self.d.smoothing is not None else target
        out = self.slew(out, now) if self.d.slew is not None else out
        self.last_eval = now
        settling = out != target and abs(out - target) > _SETTLED * max(1.0, abs(target))
        self.gliding = settling
        value = out * self.level
        if self.last_sent is not None and abs(value - self.last_sent) <= self.d.deadband:
            return None, settling
        self.last_sent, self.last_send_time = value, now
        self.sent += 1
        return target_command(self.d.target, value), settling


# -- strategies -------------------------------------------------------------------------

finite = st.floats(-1e4, 1e4, allow_nan=False)
pairs = st.tuples(finite, finite)
targets = st.sampled_from(
    [
        OscTarget("desk", "/m"),
        MidiTarget("synth", ChannelMessage("cc", 1, 7)),
        MidiTarget("synth", ChannelMessage("pitch_bend", 2)),
        VisualTarget("projector", "glow"),
        MappingTarget("other"),
    ]
)
smoothings = st.one_of(
    st.none(),
    st.builds(SmoothingDef, ema=st.floats(0.0, 5.0)),
    st.builds(
        SmoothingDef,
        one_euro_min_cutoff=st.one_of(st.none(), st.floats(0.01, 10.0)),
        one_euro_beta=st.floats(0.0, 5.0),
        one_euro_d_cutoff=st.floats(0.01, 10.0),
    ),
)
definitions = st.builds(
    MappingDef,
    name=st.just("m"),
    signal=st.just("x"),
    target=targets,
    in_range=st.one_of(st.none(), pairs, finite.map(lambda v: (v, v))),
    out_range=st.one_of(st.none(), pairs),
    clamp=st.booleans(),
    curve=st.sampled_from(list(Curve)),
    smoothing=st.one_of(st.none(), st.none(), smoothings),
    deadband=st.sampled_from([0.0, 0.0, 1e-3, 0.5]),
    slew=st.one_of(st.none(), st.none(), st.floats(0.01, 100.0)),
    stale=st.sampled_from(list(StaleMode)),
    fallback=finite,
    max_rate_hz=st.sampled_from([0.0, 10.0, 30.0, 200.0]),
)
# (gap before the step, what changes: a sample, a stale spell or its end, a level)
actions = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.001, 0.01, 0.05, 0.1, 0.5, 3.0]),
        st.one_of(
            finite.map(lambda v: ("raw", v)),
            st.sampled_from([-0.0, 0.0, 1.0, -1.0]).map(lambda v: ("raw", v)),
            st.booleans().map(lambda b: ("stale", b)),
            st.floats(0.0, 2.0).map(lambda v: ("level", v)),
        ),
    ),
    min_size=1,
    max_size=40,
)

_STATE = [
    "level",
    "raw",
    "stale",
    "smoothed",
    "derivative",
    "slewed",
    "last_eval",
    "last_sent",
    "last_send_time",
    "sent",
    "gliding",
]


def _state(obj: object) -> str:
    return repr([getattr(obj, name) for name in _STATE])


def _outcome(step: Callable[[float], object], now: float) -> str:
    """What a step returned, or the error it raised (a MIDI target refuses NaN)."""
    try:
        return repr(step(now))
    except (ValueError, OverflowError) as exc:
        return repr(exc)


@settings(max_examples=400, deadline=None)
@given(definitions, actions)
def test_the_chain_matches_the_plain_chain_bit_for_bit(
    d: MappingDef, seq: list[tuple[float, tuple[str, float | bool]]]
) -> None:
    fast, ref = MappingState(d), Reference(d)
    now = 0.0
    for gap, (what, value) in seq:
        now += gap
        for state in (fast, ref):
            setattr(state, what, value)
        assert _outcome(fast.step, now) == _outcome(ref.step, now)
        assert _state(fast) == _state(ref)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Curve)), st.floats(-0.5, 1.5) | st.sampled_from([-0.0, 0.0, 1.0]))
def test_curve_shape_is_apply_curve(curve: Curve, x: float) -> None:
    assert repr(curve_shape(curve)(x)) == repr(apply_curve(curve, x))


def test_curve_shapes_against_their_formulas() -> None:
    k, norm = 4.0, math.expm1(4.0)
    for x in (0.1, 0.25, 0.5, 0.9):
        assert curve_shape(Curve.LINEAR)(x) == x
        assert curve_shape(Curve.S_CURVE)(x) == x * x * (3.0 - 2.0 * x)
        assert curve_shape(Curve.EXPONENTIAL)(x) == math.expm1(k * x) / norm
        assert curve_shape(Curve.LOGARITHMIC)(x) == math.log1p(x * norm) / k
    for curve in Curve:
        assert repr(curve_shape(curve)(-0.0)) == "0.0"
        assert curve_shape(curve)(1.0) == 1.0


def test_the_osc_command_is_the_one_sendosc_makes() -> None:
    """OSC commands are filled in slot by slot; a field or a ``__post_init__`` added to
    ``SendOsc`` must be added to ``cues.mappings.MappingState._send`` too."""
    ms = MappingState(MappingDef(name="m", signal="x", target=OscTarget("desk", "/m")))
    ms.raw = 0.25
    cmd, _ = ms.step(0.0)
    made = SendOsc("desk", "/m", (0.25,), continuous=True)
    assert type(cmd) is SendOsc and cmd == made and hash(cmd) == hash(made)
    assert repr(cmd) == repr(made)
    assert [f.name for f in fields(SendOsc)] == ["target", "address", "args", "continuous"]
    assert not hasattr(SendOsc, "__post_init__")
    with pytest.raises(FrozenInstanceError):
        cmd.address = "/n"  # type: ignore[misc]
