"""Fixtures for the visuals tests.

Every GL context comes from :func:`visuals.gl.create_context` (headless EGL); the
``ctx`` fixture checks ``ctx.error == "GL_NO_ERROR"`` before and after each test.

Golden images live in ``golden/``. To regenerate them after an intended change::

    STOVELIGHT_UPDATE_GOLDENS=1 .venv/bin/python -m pytest tests/visuals/test_goldens.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import moderngl
import numpy as np
import numpy.typing as npt
import pytest

from visuals.gl import create_context
from visuals.images import load_image, save_png

GOLDEN_DIR = Path(__file__).parent / "golden"
SAMPLES = Path(__file__).parent / "isf_samples"
UPDATE_GOLDENS = os.environ.get("STOVELIGHT_UPDATE_GOLDENS") == "1"


@pytest.fixture(scope="session")
def _session_ctx() -> Iterator[moderngl.Context]:
    ctx = create_context()
    yield ctx
    ctx.release()


@pytest.fixture
def ctx(_session_ctx: moderngl.Context) -> Iterator[moderngl.Context]:
    assert _session_ctx.error == "GL_NO_ERROR"
    yield _session_ctx
    assert _session_ctx.error == "GL_NO_ERROR"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


def image_difference(actual: npt.NDArray[np.uint8], expected: npt.NDArray[np.uint8]) -> str | None:
    """``None`` when the images match within tolerance, else a description of the mismatch.

    Tolerance: mean absolute difference under 2 levels and fewer than 1% of pixels off
    by more than 32 levels in any channel (room for driver rounding and font hinting).
    """
    if actual.shape != expected.shape:
        return f"shape {actual.shape} != {expected.shape}"
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16))
    mean = float(diff.mean())
    bad = float((diff.max(axis=2) > 32).mean())
    if mean > 2.0 or bad > 0.01:
        return f"mean abs diff {mean:.2f}, {bad:.2%} pixels differ by more than 32"
    return None


def assert_matches_golden(actual: npt.NDArray[np.uint8], name: str) -> None:
    path = GOLDEN_DIR / f"{name}.png"
    if UPDATE_GOLDENS or not path.exists():
        if not UPDATE_GOLDENS:
            pytest.fail(f"golden {path} missing; run with STOVELIGHT_UPDATE_GOLDENS=1")
        GOLDEN_DIR.mkdir(exist_ok=True)
        save_png(actual, path)
        return
    problem = image_difference(actual, load_image(path))
    if problem is not None:
        failed = GOLDEN_DIR.parent / ".golden_failures"
        failed.mkdir(exist_ok=True)
        save_png(actual, failed / f"{name}.png")
        pytest.fail(f"{name} differs from its golden: {problem} (actual saved in {failed})")
