"""Argument types and error wording shared by the ``stovelight`` subcommands.

Each type turns a command-line string into a value or raises
``argparse.ArgumentTypeError``, so a mistake ends in argparse's one-line usage
error (exit 2) instead of a traceback from deep inside a subcommand.
"""

from __future__ import annotations

import argparse
import errno
import math
from collections.abc import Callable

__all__ = [
    "describe_os_error",
    "host_port",
    "number_in",
    "port",
    "positive_float",
    "whole_in",
]


def whole_in(lo: int, hi: int) -> Callable[[str], int]:
    """A whole number from ``lo`` to ``hi``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}")
        return value

    parse.__name__ = "whole number"
    return parse


def number_in(lo: float, hi: float, *, lo_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        low_ok = value > lo if lo_open else value >= lo
        if not (math.isfinite(value) and low_ok and value <= hi):
            rule = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {rule} and at most {hi:g}")
        return value

    parse.__name__ = "number"
    return parse


positive_float = number_in(0.0, 1e9, lo_open=True)
"""A finite number above zero."""

port = whole_in(0, 65535)
"""A TCP/UDP port; 0 lets the system choose a free one."""


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` with a port from 1 to 65535."""
    host, _, raw = text.rpartition(":")
    if not host or not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (port 1..65535)")
    return host, int(raw)


host_port.__name__ = "HOST:PORT"


def describe_os_error(exc: OSError, what: str) -> str:
    """One line for an operator: what could not be done and the likely fix."""
    if exc.errno == errno.EADDRINUSE:
        return f"{what}: the port is already in use (another show or program?); pick another port"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{what}: permission denied ({exc.strerror})"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{what}: this machine has no such address"
    return f"{what}: {exc.strerror or exc}"
