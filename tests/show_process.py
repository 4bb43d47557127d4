"""A ``stovelight run`` (or ``demo``) process in tests: started, its banner read, and
killed if the test leaves it running."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def show_process(args: list[str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """``python -m show.cli ARGS`` in ``cwd`` with stdout and stderr piped (text); killed
    after the block if it is still running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "show.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
