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


def offences(source: str, name: str = "<source>") -> list[str]:
    """Forbidden imports and calls in one module's source."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(source, name)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for module in names:
            assert isinstance(node, ast.Import | ast.ImportFrom)
            if module.split(".")[0] in FORBIDDEN_MODULES:
                bad.append(f"{name}:{node.lineno} imports {module}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            bad.append(f"{name}:{node.lineno} calls {node.func.id}()")
    return bad


def test_cues_imports_no_io_and_no_clock() -> None:
    bad = [b for path in _sources() for b in offences(path.read_text(), path.name)]
    assert bad == []


def test_the_purity_check_catches_imports_and_calls() -> None:
    source = "import time\nfrom asyncio import sleep\nimport os.path\nprint(1)\nimport math\n"
    assert offences(source, "m.py") == [
        "m.py:1 imports time",
        "m.py:2 imports asyncio",
        "m.py:3 imports os.path",
        "m.py:4 calls print()",
    ]
