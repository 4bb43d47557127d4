"""Shared by the telemetry benches: keep what a bench prints, and put it in the docs.

A bench prints its report as usual through :class:`Tee`; with ``--write FILE`` it then
replaces the fenced block between its two marker comments in that Markdown file
(``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``) with what it printed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TextIO

__all__ = ["Tee", "write_block"]


class Tee(io.TextIOBase):
    """A text stream that writes through to ``out`` and keeps a copy."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out, self._kept = out, io.StringIO()

    def write(self, text: str) -> int:
        """Write ``text`` to the stream and to the copy."""
        self._kept.write(text)
        return self._out.write(text)

    def flush(self) -> None:
        """Flush the stream."""
        self._out.flush()

    def text(self) -> str:
        """Everything written so far."""
        return self._kept.getvalue()


def write_block(path: Path, name: str, text: str) -> None:
    """Replace the block between ``<!-- name:begin -->`` and ``<!-- name:end -->``.

    Raises:
        ValueError: The file lacks either marker.
    """
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = path.read_text(encoding="utf-8")
    start, stop = doc.index(begin) + len(begin), doc.index(end)
    path.write_text(f"{doc[:start]}\n```\n{text}\n```\n{doc[stop:]}", encoding="utf-8")
