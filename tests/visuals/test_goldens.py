"""Golden images of the shipped scenes (compared with a tolerance).

Regenerate: ``STOVELIGHT_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/visuals/test_goldens.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.visuals.conftest import GOLDEN_DIR, assert_matches_golden, image_difference
from visuals.images import load_image
from visuals.render_cli import render_frame
from visuals.scenes import builtin_scene_names, builtin_scene_path

SIZE = (160, 90)
CASES = {
    "heat": {"heat": 0.8, "stove1": 1.0, "stove2": 0.2, "stove3": 0.6, "stove4": 0.0},
    "energy_flow": {"supply": 0.8, "demand": 0.3, "exchange": -0.5},
    "dashboard": {"heat": 0.5, "supply": 4.25, "demand": 3.5},
    "test_pattern": {},
}


def test_all_builtins_have_goldens() -> None:
    assert sorted([*CASES, "black"]) == builtin_scene_names()


def test_black_scene_is_black() -> None:
    frame = render_frame("black", {}, time=1.5, size=SIZE)
    assert frame.shape == (SIZE[1], SIZE[0], 4)
    assert int(frame[..., :3].max()) == 0
    assert int(frame[..., 3].min()) == 255


#: Golden times: ``NAME.png`` at 1.5 s, ``NAME-t4.png`` at 4 s.
TIMES = {1.5: "", 4.0: "-t4"}
#: Scenes that move with TIME.
ANIMATED = ("energy_flow", "heat")


@pytest.mark.parametrize("time", sorted(TIMES))
@pytest.mark.parametrize("name", sorted(CASES))
def test_scene_matches_golden(name: str, time: float) -> None:
    frame = render_frame(name, CASES[name], time=time, size=SIZE)
    assert_matches_golden(frame, name + TIMES[time])


@pytest.mark.parametrize("name", ANIMATED)
def test_render_time_moves_single_pass_scenes(name: str) -> None:
    """``--time`` is the scene's TIME: two times give two pictures, each its golden."""
    early = render_frame(name, CASES[name], time=1.5, size=SIZE)
    late = render_frame(name, CASES[name], time=4.0, size=SIZE)
    assert image_difference(early, late) is not None
    assert image_difference(late, load_image(GOLDEN_DIR / f"{name}.png")) is not None


def test_changed_input_fails_comparison() -> None:
    golden = load_image(GOLDEN_DIR / "heat.png")
    inputs = dict(CASES["heat"], heat=0.1)
    assert image_difference(render_frame("heat", inputs, time=1.5, size=SIZE), golden) is not None


def test_broken_shader_fails_comparison(tmp_path: Path) -> None:
    """A shader that compiles but draws wrongly must not pass the golden check."""
    source = builtin_scene_path("heat")
    assert source is not None
    broken = source.read_text().replace("return c;", "return c.bgr;")
    frame = render_frame(broken, CASES["heat"], time=1.5, size=SIZE)
    assert image_difference(frame, load_image(GOLDEN_DIR / "heat.png")) is not None


def test_tolerance_accepts_small_noise() -> None:
    golden = load_image(GOLDEN_DIR / "heat.png")
    noisy = np.clip(
        golden.astype(int) + np.random.default_rng(1).integers(-1, 2, golden.shape), 0, 255
    )
    assert image_difference(noisy.astype(np.uint8), golden) is None
