"""Read-only views of the running show: what the dashboard and the QLab layer read,
and the typed output statistics."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from cues.model import CueId
from show.runtime.midi_hub import MidiHub
from show.runtime.runner import RunnerParts, ShowRunner
from show.runtime.views import OutputStats, RendererStatus, RunnerView, osc_outputs
from show.showfile.load import parse_show
from tests.clocks import FakeClock

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
[show]
min_go_interval = 2
[outputs.midi.pads]
port = "Pads"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "wait"
duration = 5
[[cue_lists.cues]]
number = "2"
type = "memo"
"""


def test_the_views_follow_the_live_runner() -> None:
    clock = FakeClock()
    runner = ShowRunner(parse_show(SHOW, "views.toml"), RunnerParts(), clock=clock)
    view = RunnerView(runner)
    engine = view.engine
    assert engine.playhead("Main") == "Main/1"
    assert engine.go_guard_left(0.0) == 0.0
    heard: list[object] = []
    view.listen(heard.append)
    clock.now = 1.0
    assert runner.control("go")["ok"] is True
    assert engine.runs[CueId("Main/1")].state.value == "running"
    assert engine.running_cues() == ["Main/1"]
    assert engine.playhead("Main") == "Main/2"
    assert engine.go_guard_left(1.5) == 1.5
    assert heard  # the listener heard the cue start
    assert view.now() == 1.0 and not view.following
    assert view.outputs() == [] and view.renderer() is None


def test_output_rows_keep_the_console_shape() -> None:
    osc = osc_outputs(
        {
            "desk": {"state": "up", "sent": 4, "errors": 1, "queued": 0},
            "lights": {"state": "down"},
        }
    )
    assert [o.row() for o in osc] == [
        {"name": "desk", "kind": "osc", "state": "ok", "sent": 4, "errors": 1},
        {"name": "lights", "kind": "osc", "state": "down", "sent": 0, "errors": 0},
    ]
    midi = OutputStats("pads", "midi", "ok", 3, 0, (("pattern", "Pads"),))
    assert list(midi.row()) == ["name", "kind", "pattern", "state", "sent", "errors"]
    assert OutputStats("pads", "midi", "?").row() == {"name": "pads", "kind": "midi", "state": "?"}
    status = RendererStatus("projector", True, 59.94, 1, "stove", None)
    assert status.row() == {
        "output": "projector",
        "state": "running",
        "fps": 59.9,
        "restarts": 1,
        "scene": "stove",
        "last_error": None,
    }


def test_midi_ports_report_typed_stats() -> None:
    show = parse_show(SHOW, "views.toml")
    hub = MidiHub(show.midi_ports, lambda _request: None)
    assert hub.stats() == [OutputStats("pads", "midi", "?", labels=(("pattern", "Pads"),))]
    hub.available = False
    assert hub.stats() == [
        OutputStats("pads", "midi", "no MIDI system", 0, 0, (("pattern", "Pads"),))
    ]


def _attribute_chains(tree: ast.AST) -> set[str]:
    chains: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chains.add(ast.unparse(node))
    return chains


_READERS = [
    ROOT / "show" / "web" / "snapshots.py",
    ROOT / "show" / "web" / "consoleview.py",
    *sorted((ROOT / "show" / "qlab").glob("*.py")),
]
_ENGINE_INSIDE = ("cues.engine", "cues.runtime", "cues.signals", "cues.mappings", "cues.conditions")


def test_the_dashboard_and_qlab_read_only_the_views() -> None:
    """No engine internals imported; no runner parts, listeners or signal store read;
    QLab's runner is only given commands and cue edits."""
    for path in _READERS:
        tree = ast.parse(path.read_text())
        imported: list[Any] = [
            n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
        ]
        assert not [m for m in imported if m.startswith(_ENGINE_INSIDE)], path.name
        chains = _attribute_chains(tree)
        for banned in (".parts", ".listeners", ".signals.signals", "_engine"):
            assert not [c for c in chains if banned in c], (path.name, banned)
        for chain in chains:
            if chain.startswith("self.runner.") and path.name == "control.py":
                assert chain.split(".")[2] in ("submit", "edit"), chain
