"""Which package may import which: ``rehearsal`` sits between ``show``'s show-file model and
``show``'s runtime and command line, so the two packages never import each other in a
circle (see ``show/cli.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REHEARSAL_MAY_USE = ("show.showfile", "show.errors", "show.cliargs")
"""What of ``show`` the rehearsal package may import: the show-file model, its errors and
the command line's argument types."""
MODEL = ("show/showfile", "show/errors.py", "show/cliargs.py")
"""The part of ``show`` that ``rehearsal`` uses, which must not use ``rehearsal`` back."""


def imported_modules(source: str, name: str = "<source>") -> list[tuple[int, str]]:
    """(line, module) for every absolute import in ``source``, lazy ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _within(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def _files(*places: str) -> list[Path]:
    files: list[Path] = []
    for place in places:
        target = ROOT / place
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return files


def test_rehearsal_uses_only_the_show_file_model_of_show() -> None:
    files = _files("rehearsal")
    assert len(files) > 10
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path.read_text(encoding="utf-8"), str(path))
        if _within(module, ("show",)) and not _within(module, REHEARSAL_MAY_USE)
    ]
    assert wrong == []


def test_the_show_file_model_does_not_use_rehearsal() -> None:
    files = _files(*MODEL)
    assert len(files) > 5
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path.read_text(encoding="utf-8"), str(path))
        if _within(module, ("rehearsal",))
    ]
    assert wrong == []


def test_the_scan_sees_lazy_imports() -> None:
    source = "import os\n\ndef f():\n    from show.runtime.runner import ShowRunner\n"
    assert imported_modules(source) == [(1, "os"), (4, "show.runtime.runner")]
