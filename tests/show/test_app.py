"""The command line becomes typed options once (show.runcmd.run_options), and the options
change a show the same way at start and at every reload (RunOptions.apply)."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from bridges import eventloop
from show.app import RunOptions, SimulatorOptions
from show.cli import build_parser
from show.cli import main as cli_main
from show.runcmd import run_options
from show.runtime.pairing import PairingOptions
from show.showfile.load import parse_show

SHOW = """
[web]
port = 9100
console_token = "from-the-file"
[control]
port = 53100
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def test_run_arguments_become_typed_options() -> None:
    args = build_parser().parse_args(
        [
            *("run", "show.toml", "--web-port", "0", "--go-at", "1", "--go-at", "2.5"),
            *("--no-visuals", "--record", "rec.sqlite", "--backup-of", "main:5400", "--watch"),
            "--no-realtime",
        ]
    )
    options = run_options(args)
    assert options == RunOptions(
        record=Path("rec.sqlite"),
        visuals=False,
        web_port=0,
        go_at=(1.0, 2.5),
        watch=True,
        realtime=False,
        pairing=PairingOptions(backup_of="main:5400"),
    )


def test_demo_arguments_have_no_pairing_and_no_simulator_of_their_own() -> None:
    options = run_options(build_parser().parse_args(["demo", "--headless", "--duration", "3"]))
    assert options == RunOptions(headless=True, duration=3.0)
    assert options.realtime  # where permitted: show.runtime.priority
    assert options.simulator is None  # _demo_cmd adds it with the port it settles on
    assert SimulatorOptions().port == 8766


def test_options_override_the_show_files_ports_and_token() -> None:
    show = parse_show(SHOW, "show.toml")
    kept = RunOptions().apply(show)
    assert (kept.web.port, kept.web.console_token, kept.control.port) == (
        9100,
        "from-the-file",
        53100,
    )
    changed = RunOptions(web_port=0, web_host="127.0.0.1", token="t", control_port=0).apply(show)
    assert (changed.web.port, changed.web.host, changed.web.console_token) == (0, "127.0.0.1", "t")
    assert changed.control.port == 0
    assert changed.model is show.model


def test_stovelight_run_runs_the_show_on_the_precise_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``stovelight run`` hands its show to ``bridges.eventloop.run`` (timers woken on
    time), not to ``asyncio.run``."""
    shows: list[str] = []

    def fake_run(main: Coroutine[Any, Any, int]) -> int:
        shows.append(main.cr_code.co_name)  # type: ignore[attr-defined]
        main.close()
        return 0

    monkeypatch.setattr(eventloop, "run", fake_run)
    path = tmp_path / "show.toml"
    path.write_text(SHOW)
    assert cli_main(["run", str(path), "--no-visuals"]) == 0
    assert shows == ["run_show"]
