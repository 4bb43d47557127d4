"""Stovelight's exception root (defined in :mod:`cues.errors`) and the show-file problem report.

StovelightError        every error raised on purpose (``cues.errors`` draws the whole tree)
└── ShowFileError      a show file that cannot be run (lists every problem)
"""

from __future__ import annotations

from dataclasses import dataclass

from cues.errors import StovelightError

__all__ = ["Problem", "ShowFileError", "StovelightError"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a show file."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"
        )


class ShowFileError(StovelightError):
    """A show file with problems; ``problems`` holds all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        n = len(problems)
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the show file:\n{lines}")
