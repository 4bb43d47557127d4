"""Reading a ``stovelight run`` (or ``demo``) process's banner in tests."""

from __future__ import annotations

import subprocess

BANNER_END = "Press Ctrl-C"


def read_banner(proc: subprocess.Popen[str]) -> list[str]:
    """The lines a show process prints up to and including its banner's last line.

    Raises:
        AssertionError: the process ended first (its stderr, if piped, is in the message).
    """
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if BANNER_END in line:
            return lines
    proc.wait(10)
    err = proc.stderr.read() if proc.stderr is not None else ""
    raise AssertionError(f"the show ended (status {proc.returncode}) before its banner: {err}")
