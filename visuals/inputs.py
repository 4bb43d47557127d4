"""Pure conversion of input values to the shape an ISF input type needs.

Values arrive from telemetry (floats), the show file, or the command line (strings
such as ``"0.5"``, ``"true"``, ``"1,0.5,0"`` or ``"#ff8800"``). Images are handled
by the renderer; this module covers the uniform types.
"""

from __future__ import annotations

import datetime
import difflib
import math
from collections.abc import Iterable, Sequence
from typing import Any

from visuals.errors import InputError
from visuals.isf import IMAGE_TYPES, InputType, IsfInput

__all__ = ["check_input_names", "coerce_value", "date_vector", "default_value"]

UniformValue = float | int | bool | tuple[float, ...]


def date_vector(moment: datetime.datetime) -> tuple[float, float, float, float]:
    """ISF's DATE for ``moment``: (year, month, day, seconds since midnight)."""
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
    return (float(moment.year), float(moment.month), float(moment.day), seconds)


def check_input_names(
    scene: str, inputs: Sequence[IsfInput], names: Iterable[str], *, extra_ok: bool = False
) -> None:
    """Refuse names the scene has no input for, listing the ones it has.

    Args:
        scene: the scene's name for the message.
        inputs: the scene's inputs.
        names: the names given.
        extra_ok: other names are allowed too (a dashboard scene shows them as tiles).

    Raises:
        InputError: an unknown name, with a did-you-mean and the scene's inputs.
    """
    known = list(dict.fromkeys(item.name for item in inputs))
    for name in names:
        if name in known or extra_ok:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listed = ", ".join(known) if known else "none"
        raise InputError(f"scene {scene} has no input {name!r}{hint} (its inputs: {listed})")


def default_value(item: IsfInput) -> UniformValue | None:
    """The value an input starts with: DEFAULT, else MIN, else zero of its type."""
    if item.type in IMAGE_TYPES:
        return None
    if item.default is not None:
        return coerce_value(item, item.default)
    if item.type is InputType.FLOAT:
        return float(item.minimum) if item.minimum is not None else 0.0
    if item.type is InputType.LONG:
        if item.values:
            return item.values[0]
        return int(item.minimum) if item.minimum is not None else 0
    if item.type in (InputType.BOOL, InputType.EVENT):
        return False
    if item.type is InputType.COLOR:
        return (0.0, 0.0, 0.0, 1.0)
    return (0.0, 0.0)


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise InputError(f"input {name!r}: {value!r} is not a number") from err
    if not math.isfinite(number):
        raise InputError(f"input {name!r}: {value!r} is not finite")
    return number


def _components(name: str, value: Any) -> list[float]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("#") and len(text) in (7, 9):
            try:
                return [int(text[i : i + 2], 16) / 255.0 for i in range(1, len(text), 2)]
            except ValueError as err:
                raise InputError(f"input {name!r}: bad hex colour {value!r}") from err
        value = [v for v in text.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, Sequence) and not hasattr(value, "__len__"):
        raise InputError(f"input {name!r}: expected a list of numbers, got {value!r}")
    return [_number(name, v) for v in value]


def _clamp(value: float, lo: Any, hi: Any) -> float:
    if lo is not None:
        value = max(value, float(lo))
    if hi is not None:
        value = min(value, float(hi))
    return value


def coerce_value(item: IsfInput, value: Any) -> UniformValue:
    """Convert ``value`` to what input ``item`` holds, clamped to MIN/MAX.

    Raises:
        InputError: the value does not fit the type (wrong shape, not a number, a long
            outside its VALUES), or ``item`` is an image input.
    """
    kind = item.type
    if kind in IMAGE_TYPES:
        raise InputError(f"input {item.name!r} is an image; give an array or a file")
    if kind in (InputType.BOOL, InputType.EVENT):
        return _boolean(item.name, value)
    if kind is InputType.FLOAT:
        return _clamp(_number(item.name, value), item.minimum, item.maximum)
    if kind is InputType.LONG:
        return _long(item, value)
    parts = _components(item.name, value)
    if kind is InputType.COLOR:
        if len(parts) == 3:
            parts.append(1.0)
        if len(parts) != 4:
            raise InputError(f"input {item.name!r}: a color needs 3 or 4 components")
        return tuple(min(max(p, 0.0), 1.0) for p in parts)
    if len(parts) != 2:
        raise InputError(f"input {item.name!r}: a point2D needs 2 components")
    return (parts[0], parts[1])


def _boolean(name: str, value: Any) -> bool:
    """A bool or event input's value; text such as ``"on"`` or ``"0"`` is read as a switch."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise InputError(f"input {name!r}: {value!r} is not a boolean")
    return bool(value)


def _long(item: IsfInput, value: Any) -> int:
    """A long input's value: one of its LABELS, or a number in its VALUES and range."""
    if isinstance(value, str) and value in item.labels and item.values:
        return item.values[item.labels.index(value)]
    number = round(_number(item.name, value))
    if item.values and number not in item.values:
        raise InputError(f"input {item.name!r}: {value!r} is not one of {list(item.values)}")
    return int(_clamp(number, item.minimum, item.maximum))
