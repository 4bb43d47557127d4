"""The engine's tests run without the web and network stack: ``pytest tests/cues`` imports
no part of ``show.web``, ``show.runtime`` or ``show.qlab``, no telemetry connection, nor
websockets, the MQTT client or Playwright, so a broken web server, a missing browser or a
network library's fault cannot stop them. (The show-file reader the engine tests use reads
``bridges``' config types; the sources themselves load on first use.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = (
    "show.web",
    "show.runtime",
    "show.qlab",
    "playwright",
    "websockets",
    "aiomqtt",
    "bridges.telemetry.connection",
)

# Collects a test folder in a fresh interpreter (so its conftests and test modules are
# all imported), then prints the imported modules that are, or are under, argv[2:].
_PROBE = """
import sys
import pytest
folder, prefixes = sys.argv[1], tuple(sys.argv[2:])
assert pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", folder]) == 0
hits = [m for m in sys.modules if m in prefixes or m.startswith(tuple(p + "." for p in prefixes))]
print("IMPORTED:" + ",".join(sorted(hits)))
"""


def imported(folder: str) -> list[str]:
    """The modules among FORBIDDEN (and their submodules) that collecting ``folder`` imports."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, folder, *FORBIDDEN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("IMPORTED:"))
    return [m for m in line.removeprefix("IMPORTED:").split(",") if m]


def test_engine_tests_import_no_web_stack() -> None:
    assert imported("tests/cues") == []


def test_the_probe_sees_the_web_stack_where_it_is_imported() -> None:
    found = imported("tests/web/test_protocol.py")
    assert "show.web" in found
    assert "show.web.protocol" in found
