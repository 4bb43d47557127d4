"""Typed reading of TOML tables that collects problems instead of stopping."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from show.errors import Problem
from show.showfile.locate import LineLocator

__all__ = ["MISSING", "Reader", "unknown"]

E = TypeVar("E")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
_MAX_MESSAGE = 600
_HINT_BUDGET = 200_000


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Reader:
    """Reads values from parsed TOML, recording every problem with its line."""

    def __init__(self, file: str, locator: LineLocator) -> None:
        self.file = file
        self.locator = locator
        self.problems: list[Problem] = []
        self._hint_budget = _HINT_BUDGET

    def unknown(self, what: str, name: str, known: list[str]) -> str:
        """``unknown(...)`` with a did-you-mean while the file's budget for them lasts
        (each costs a comparison per declared name; thousands of unknown names among
        thousands of declared ones would take minutes)."""
        self._hint_budget -= len(known)
        return unknown(what, name, known, hint=self._hint_budget >= 0)

    def problem(self, path: str, message: str, label: str = "") -> None:
        """Record a problem at ``path`` (``label`` names the cue, e.g. "cue 2.5").

        Messages that quote a huge value are shortened, so one bad value cannot
        flood the report."""
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 20] + " ... (shortened)"
        where = f"{label} ({path})" if label and path else (label or path)
        self.problems.append(Problem(self.file, self.locator.line_of(path), where, message))

    def check_keys(
        self, table: dict[str, Any], allowed: Iterable[str], path: str, label: str = ""
    ) -> None:
        """Report keys that are not allowed, suggesting the nearest allowed one."""
        allowed = list(allowed)
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.problem(
                    f"{path}.{key}" if path else key,
                    f"unknown field {key!r}{hint} (allowed: {', '.join(sorted(allowed))})",
                    label,
                )

    def table(self, parent: dict[str, Any], key: str, path: str, label: str = "") -> dict[str, Any]:
        """A sub-table (empty if absent or not a table, which is reported)."""
        value = parent.get(key, MISSING)
        if value is MISSING:
            return {}
        if not isinstance(value, dict):
            self.problem(_join(path, key), f"found {_kind(value)}, expected a table", label)
            return {}
        return value

    def tables(
        self, parent: dict[str, Any], key: str, path: str, label: str = ""
    ) -> list[dict[str, Any]]:
        """An array of tables (``[[key]]``)."""
        value = parent.get(key, MISSING)
        if value is MISSING:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(
                _join(path, key), f"found {_kind(value)}, expected [[{key}]] tables", label
            )
            return []
        return value

    def string(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        default: Any = MISSING,
        label: str = "",
        choices: Iterable[str] | None = None,
    ) -> str:
        """A string field, optionally one of ``choices``."""
        value = t.get(key, default)
        p = _join(path, key)
        if value is MISSING:
            self.problem(p, f"missing required field {key!r}", label)
            return ""
        if not isinstance(value, str):
            self.problem(p, f"found {_kind(value)}, expected a string", label)
            return ""
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                close = difflib.get_close_matches(value, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.problem(
                    p, f"found {value!r}; {hint}expected one of: {', '.join(allowed)}", label
                )
                return allowed[0]
        return value

    def number(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        default: Any = MISSING,
        label: str = "",
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
    ) -> float:
        """A finite number in ``[lo, hi]`` (``(lo, hi]`` if ``lo_open``)."""
        value = t.get(key, default)
        p = _join(path, key)
        if value is MISSING:
            self.problem(p, f"missing required field {key!r}", label)
            return 0.0 if lo is None else lo
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(p, f"found {_kind(value)}, expected a number", label)
            return 0.0 if lo is None else lo
        v = float(value)
        if not math.isfinite(v):
            self.problem(p, f"found {value!r}, expected a finite number", label)
            return 0.0 if lo is None else lo
        if lo is not None and (v < lo or (lo_open and v == lo)):
            rel = ">" if lo_open else ">="
            self.problem(p, f"found {v:g}, must be {rel} {lo:g}", label)
            return lo
        if hi is not None and v > hi:
            self.problem(p, f"found {v:g}, must be <= {hi:g}", label)
            return hi
        return v

    def optional_number(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        label: str = "",
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
    ) -> float | None:
        """A number, or None when absent."""
        if key not in t:
            return None
        return self.number(t, key, path, label=label, lo=lo, hi=hi, lo_open=lo_open)

    def integer(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        default: Any = MISSING,
        label: str = "",
        lo: int | None = None,
        hi: int | None = None,
    ) -> int:
        """A whole number in ``[lo, hi]``."""
        value = t.get(key, default)
        p = _join(path, key)
        if value is MISSING:
            self.problem(p, f"missing required field {key!r}", label)
            return lo or 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(p, f"found {_kind(value)}, expected a whole number", label)
            return lo or 0
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            rule = (
                f"between {lo} and {hi}"
                if lo is not None and hi is not None
                else (f">= {lo}" if lo is not None else f"<= {hi}")
            )
            self.problem(p, f"found {value}, must be {rule}", label)
            return lo or 0
        return value

    def name_of(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        what: str,
        known: list[str],
        label: str = "",
        default: Any = MISSING,
    ) -> str:
        """A string that must name something declared (an output, a mapping...)."""
        value = self.string(t, key, path, default=default, label=label)
        if value and value not in known:
            self.problem(_join(path, key), self.unknown(what, value, known), label)
        return value

    def boolean(
        self, t: dict[str, Any], key: str, path: str, default: bool, label: str = ""
    ) -> bool:
        """A boolean field."""
        value = t.get(key, default)
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"found {_kind(value)}, expected true or false", label)
            return default
        return value

    def enum(
        self,
        t: dict[str, Any],
        key: str,
        path: str,
        kind: Callable[[str], E],
        default: E,
        label: str = "",
    ) -> E:
        """A string naming one member of an enum (by value)."""
        if key not in t:
            return default
        members = [m.value for m in kind]  # type: ignore[attr-defined]
        raw = self.string(t, key, path, label=label, choices=members)
        try:
            return kind(raw)
        except ValueError:
            return default

    def strings(
        self, t: dict[str, Any], key: str, path: str, default: Any = MISSING, label: str = ""
    ) -> list[str]:
        """A list of strings."""
        value = t.get(key, default)
        p = _join(path, key)
        if value is MISSING:
            self.problem(p, f"missing required field {key!r}", label)
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(p, f"found {_kind(value)}, expected a list of strings", label)
            return []
        return list(value)


def unknown(what: str, name: str, known: list[str], hint: bool = True) -> str:
    """The message for a name nothing declares, with the nearest declared one."""
    close = difflib.get_close_matches(name, known, n=1) if hint else []
    mean = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
    return f"unknown {what} {name!r}{mean} (declared: {listed or 'none'})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
