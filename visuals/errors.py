"""Exceptions raised by the visuals package.

Every error derives from one root, :class:`VisualsError`::

    VisualsError
     ├── IsfError            an ISF file cannot be parsed, translated or compiled;
     │                       carries the designer's file name and line number
     ├── InputError          an input name or value does not fit the scene
     ├── ExpressionError     a pass WIDTH/HEIGHT expression is malformed
     └── RendererProcessError  the renderer child process cannot be started or reached

:class:`VisualsError` derives from :class:`cues.errors.StovelightError`, Stovelight's one
exception root.
"""

from __future__ import annotations

from cues.errors import StovelightError

__all__ = [
    "ExpressionError",
    "InputError",
    "IsfError",
    "RendererProcessError",
    "VisualsError",
]


class VisualsError(StovelightError):
    """Root of every exception raised by :mod:`visuals`."""


class IsfError(VisualsError):
    """An ISF scene failed to parse, translate or compile.

    Attributes:
        filename: the designer's file (or ``"<string>"`` for inline source).
        line: the 1-based line in the designer's file, or ``None`` when unknown.
        detail: the message without the location prefix.
    """

    def __init__(self, detail: str, *, filename: str = "<string>", line: int | None = None):
        self.filename = filename
        self.line = line
        self.detail = detail
        where = f"{filename}:{line}" if line is not None else filename
        super().__init__(f"{where}: {detail}")

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments need help to survive pickling across processes.
        return (_rebuild_isf_error, (self.detail, self.filename, self.line))


def _rebuild_isf_error(detail: str, filename: str, line: int | None) -> IsfError:
    return IsfError(detail, filename=filename, line=line)


class InputError(VisualsError):
    """An input was set that the scene does not declare, or with a value of the wrong shape."""


class ExpressionError(VisualsError):
    """A pass size expression such as ``floor($WIDTH/3.0)`` could not be evaluated."""


class RendererProcessError(VisualsError):
    """The renderer child process could not be started or has shut down."""
