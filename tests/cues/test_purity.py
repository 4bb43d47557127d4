"""cues/ is sans-I/O: it imports no I/O library and never reads the clock."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN_MODULES = {
    "asyncio",
    "socket",
    "selectors",
    "threading",
    "multiprocessing",
    "subprocess",
    "time",
    "datetime",
    "moderngl",
    "pygame",
    "mido",
    "rtmidi",
    "pythonosc",
    "websockets",
    "sqlite3",
    "random",
    "os",
    "io",
    "show",
    "bridges",
    "visuals",
    "rehearsal",
}
FORBIDDEN_CALLS = {"open", "print", "input", "eval", "exec", "__import__"}


def _sources() -> list[Path]:
    root = Path(__file__).resolve().parents[2] / "cues"
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 8
    return files


def test_cues_imports_no_io_and_no_clock() -> None:
    bad: list[str] = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    bad.append(f"{path.name}:{node.lineno} imports {name}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in FORBIDDEN_CALLS
            ):
                bad.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
    assert bad == []


def test_the_purity_check_catches_an_offending_import(tmp_path: Path) -> None:
    tree = ast.parse("import time\nfrom asyncio import sleep\n")
    found = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        and (getattr(n, "module", None) or n.names[0].name).split(".")[0] in FORBIDDEN_MODULES
    ]
    assert len(found) == 2
