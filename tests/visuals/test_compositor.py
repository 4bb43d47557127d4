"""Compositor: transitions and curves, keeping the last good scene, modes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import moderngl
import numpy as np
import pytest

from cues.curves import apply_curve
from cues.model import Curve
from visuals.compositor import Compositor, curve_value
from visuals.errors import IsfError, VisualsError

RED = "/*{}*/\nvoid main() { gl_FragColor = vec4(1.0, 0.0, 0.0, 1.0); }\n"
BLUE = "/*{}*/\nvoid main() { gl_FragColor = vec4(0.0, 0.0, 1.0, 1.0); }\n"
SIZE = (32, 16)


@pytest.fixture
def comp(ctx: moderngl.Context) -> Iterator[Compositor]:
    compositor = Compositor(ctx)
    yield compositor
    compositor.release()


@pytest.mark.parametrize("curve", ["linear", "smoothstep", "s-curve", "exponential", "logarithmic"])
def test_curves_run_from_0_to_1_monotonically(curve: str) -> None:
    values = [curve_value(curve, x / 20) for x in range(21)]
    assert values[0] == pytest.approx(0.0) and values[-1] == pytest.approx(1.0)
    assert all(b >= a for a, b in itertools.pairwise(values))


def test_curve_shapes() -> None:
    assert curve_value("linear", 0.25) == 0.25
    assert curve_value("smoothstep", 0.25) < 0.25 < curve_value("smoothstep", 0.75) < 1
    assert curve_value("exponential", 0.5) == pytest.approx(0.1192, abs=1e-4)
    assert curve_value("logarithmic", 0.5) == pytest.approx(0.8313, abs=1e-4)
    with pytest.raises(VisualsError):
        curve_value("bouncy", 0.5)


@pytest.mark.parametrize("curve", list(Curve))
def test_crossfades_and_cue_fades_share_one_shape_per_name(curve: Curve) -> None:
    for k in range(11):
        assert curve_value(curve.value, k / 10) == apply_curve(curve, k / 10), (curve, k)


def test_crossfade_follows_caller_time(comp: Compositor) -> None:
    comp.load_scene(RED, name="red")
    comp.render(10.0, SIZE)
    comp.load_scene(BLUE, name="blue", duration=2.0, curve="linear")
    comp.render(20.0, SIZE)  # transition starts on this frame
    assert tuple(comp.read()[0, 0, :3]) == (255, 0, 0)
    comp.render(21.0, SIZE)  # halfway
    r, _, b = comp.read()[0, 0, :3]
    assert abs(int(r) - 128) <= 2 and abs(int(b) - 128) <= 2
    assert comp.in_transition
    comp.render(22.0, SIZE)
    assert tuple(comp.read()[0, 0, :3]) == (0, 0, 255)
    assert not comp.in_transition and comp.current_scene == "blue"


def test_isf_transition_shader(comp: Compositor, samples: Path) -> None:
    comp.load_scene(RED)
    comp.render(0.0, SIZE)
    comp.load_scene(BLUE, transition=samples / "wipe_transition.fs", duration=1.0)
    comp.render(1.0, SIZE)
    comp.render(1.5, SIZE)  # wipe half way: left half blue, right half red
    frame = comp.read()
    assert tuple(frame[8, 2, :3]) == (0, 0, 255)
    assert tuple(frame[8, 29, :3]) == (255, 0, 0)


def test_not_a_transition_is_rejected(comp: Compositor, samples: Path) -> None:
    comp.load_scene(RED)
    with pytest.raises(IsfError):
        comp.load_scene(BLUE, transition=samples / "blur_multipass.fs", duration=1.0)


def test_failed_load_keeps_last_good_scene(comp: Compositor) -> None:
    comp.load_scene(RED, name="red")
    comp.render(0.0, SIZE)
    broken = BLUE.replace("vec4(0.0, 0.0, 1.0, 1.0)", "vec4(0.0, 0.0, 1.0)")
    with pytest.raises(IsfError) as info:
        comp.load_scene(broken, name="broken")
    assert info.value.line == 2
    comp.render(1.0, SIZE)
    assert comp.current_scene == "red"
    assert tuple(comp.read()[0, 0, :3]) == (255, 0, 0)


def test_inputs_carry_over_to_new_scenes(comp: Compositor) -> None:
    level = '/*{"INPUTS": [{"NAME": "level", "TYPE": "float"}]}*/\n'
    level += "void main() { gl_FragColor = vec4(level, 0.0, 0.0, 1.0); }\n"
    comp.set_input("level", 0.5)
    comp.set_input("unrelated", 3.0)
    comp.load_scene(level)
    comp.render(0.0, SIZE)
    assert abs(int(comp.read()[0, 0, 0]) - 128) <= 1


def test_identify_and_test_pattern_change_the_output(comp: Compositor) -> None:
    comp.load_scene(RED)
    comp.render(0.0, (128, 72))
    plain = comp.read()
    comp.identify("3", "Stage left")
    comp.render(0.1, (128, 72))
    identified = comp.read()
    assert (np.abs(identified.astype(int) - plain.astype(int)).max(axis=2) > 64).mean() > 0.02
    comp.identify(None)
    comp.set_test_pattern(True)
    comp.render(0.2, (128, 72))
    pattern = comp.read()
    assert len(np.unique(pattern.reshape(-1, 4), axis=0)) > 8
    comp.set_test_pattern(False)
    comp.render(0.3, (128, 72))
    assert np.array_equal(comp.read(), plain)
