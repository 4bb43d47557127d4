"""Control values: QLab's time forms, the show file's bounds, strict JSON out."""

from __future__ import annotations

import json
import math

import pytest

from show.qlab.values import (
    ControlValueError,
    flag,
    integer_in,
    number_in,
    strict_dumps,
    text,
    time_value,
)


@pytest.mark.parametrize(
    ("args", "seconds"),
    [
        ([30.0], 30.0),
        ([1, 30.0], 90.0),
        ([0, 1, 30.0], 90.0),
        ([1, 0, 0.5], 3600.5),
        (["2.5"], 2.5),
    ],
)
def test_times_take_seconds_minutes_and_hours(args: list[object], seconds: float) -> None:
    assert time_value(args, "preWait") == seconds


@pytest.mark.parametrize(
    "args",
    [
        [],
        [1, 2, 3, 4],
        [-1.0],
        [0, -1, 0.0],
        [math.inf],
        [math.nan],
        [1, math.inf, 0],
        ["soon"],
        [None],
        ["1" * 100],
        [1e308, 1e308, 1e308],
    ],
)
def test_times_outside_the_show_files_bounds_are_refused(args: list[object]) -> None:
    with pytest.raises(ControlValueError):
        time_value(args, "preWait")


def test_numbers_flags_integers_and_text_are_bounded() -> None:
    assert number_in(10, "minGoTime", 0, 10) == 10.0
    for bad in (10.01, -0.1, math.inf, -math.inf, math.nan, 1e30, "x"):
        with pytest.raises(ControlValueError):
            number_in(bad, "minGoTime", 0, 10)
    assert flag(1, "armed") is True and flag("false", "armed") is False and flag(True, "armed")
    for bad_flag in (2, -1, 0.5, "yes"):
        with pytest.raises(ControlValueError):
            flag(bad_flag, "armed")
    assert integer_in(2.0, "continueMode", 0, 2) == 2
    with pytest.raises(ControlValueError):
        integer_in(1.5, "continueMode", 0, 2)
    assert text("Scene\t2", "name", 10) == "Scene\t2"
    for bad_text in ("x" * 11, "bell\x07", 5):
        with pytest.raises(ControlValueError):
            text(bad_text, "name", 10)


def test_replies_are_strict_json_even_if_a_value_is_not_finite() -> None:
    out = strict_dumps({"a": math.inf, "b": [math.nan, 1.5, {"c": -math.inf}], "d": "ok"})

    def refuse(name: str) -> object:
        raise AssertionError(name)

    assert json.loads(out, parse_constant=refuse) == {
        "a": None,
        "b": [None, 1.5, {"c": None}],
        "d": "ok",
    }
