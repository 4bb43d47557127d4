"""The pass size expression evaluator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from visuals.errors import ExpressionError
from visuals.expr import evaluate

SIZE = {"WIDTH": 1920.0, "HEIGHT": 1080.0, "scale": 0.5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("floor($WIDTH/3.0)", 640.0),
        ("$HEIGHT", 1080.0),
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("-$WIDTH / -2", 960.0),
        ("max($WIDTH*$scale, 2000)", 2000.0),
        ("ceil($HEIGHT / 7)", 155.0),
        ("2 ^ 3", 8.0),
        ("10 % 4", 2.0),
        ("clamp($WIDTH, 0, 100)", 100.0),
        ("1e2", 100.0),
        (256, 256.0),
    ],
)
def test_evaluates(text: str | int, expected: float) -> None:
    assert evaluate(text, SIZE) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "$DEPTH",
        "__import__('os').system('true')",
        "floor($WIDTH",
        "1 +",
        "open(1)",
        "$WIDTH / 0",
        "2 3",
        "$WIDTH.real",
    ],
)
def test_rejects(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, SIZE)


@given(st.integers(-1000, 1000), st.integers(-1000, 1000), st.integers(1, 1000))
def test_matches_python_arithmetic(a: int, b: int, c: int) -> None:
    assert evaluate(f"{a} + {b} * {c} - ({a}) / {c}", {}) == pytest.approx(a + b * c - a / c)
