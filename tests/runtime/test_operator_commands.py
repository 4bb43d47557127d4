"""The operator-command table: one entry per command, the console's vocabulary, and
the runner's replies through it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cues.events import Go, Panic, Pause, SetMinGoInterval, SetPlayhead, StartCue
from cues.model import CueId
from show.runtime.commands import (
    COMMAND_TABLE,
    CONSOLE_COMMANDS,
    Handling,
    OperatorCommand,
    OperatorRequest,
    engine_event,
    find_cue,
    parse_command,
    value_refusal,
)
from show.showfile.load import parse_show

STATIC = Path(__file__).resolve().parents[2] / "show" / "web" / "static"

SHOW = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
[[cue_lists.cues]]
number = "2"
type = "group"
[[cue_lists.cues.children]]
number = "2.1"
type = "memo"
[[cue_lists]]
name = "Side"
[[cue_lists.cues]]
number = "S1"
type = "memo"
"""


def test_every_command_has_one_entry_and_a_wire_name() -> None:
    assert set(COMMAND_TABLE) == set(OperatorCommand)
    for command in OperatorCommand:
        assert parse_command(command.value) is command
        spec = COMMAND_TABLE[command]
        assert (spec.event is not None) == (spec.handling is Handling.ENGINE)
    assert parse_command("fly") is None
    assert parse_command(None) is None
    assert parse_command(1) is None


def test_only_takeover_and_projector_aids_pass_a_tracking_backup() -> None:
    allowed = {c for c, spec in COMMAND_TABLE.items() if spec.for_backup}
    assert allowed == {
        OperatorCommand.TAKEOVER,
        OperatorCommand.TEST_PATTERN,
        OperatorCommand.IDENTIFY,
    }


def test_the_console_page_sends_only_console_commands() -> None:
    """console.js spells its commands in one constant object, console.html in its
    buttons' data-command: every one is a command the console may send."""
    script = (STATIC / "console.js").read_text()
    block = re.search(r"const COMMAND = Object\.freeze\(\{(.*?)\}\);", script, re.S)
    assert block is not None
    in_script = set(re.findall(r'[A-Z_]+: "([a-z_]+)"', block.group(1)))
    assert in_script == {"go", "panic", "playhead_next", "playhead_previous", "set_playhead"}
    # outside that object the script names no command by its string
    rest = script.replace(block.group(0), "")
    assert not re.search(r'send\("', rest)
    buttons = set(re.findall(r'data-command="([a-z_]+)"', (STATIC / "console.html").read_text()))
    assert "reload" in buttons and "takeover" in buttons
    console = {c.value for c in CONSOLE_COMMANDS}
    assert in_script <= console and buttons <= console


def test_values_are_checked_by_the_table() -> None:
    def refusal(command: OperatorCommand, value: float | None) -> object:
        return value_refusal(OperatorRequest(command, value=value), COMMAND_TABLE[command])

    assert refusal(OperatorCommand.PANIC, None) is None
    assert refusal(OperatorCommand.PANIC, 1e9) is None  # clamped, not refused
    assert refusal(OperatorCommand.PANIC, float("inf")) == {
        "ok": False,
        "error": "panic: the value must be a finite number",
    }
    assert refusal(OperatorCommand.SET_MIN_GO, 10.0) is None
    for bad in (None, -0.1, 10.5):
        assert refusal(OperatorCommand.SET_MIN_GO, bad) == {
            "ok": False,
            "error": "the minimum GO time must be 0 to 10 s",
        }


def test_engine_events_and_refusals() -> None:
    model = parse_show(SHOW, "show.toml").model

    def event(
        command: OperatorCommand,
        cue: str | None = None,
        cue_list: str = "",
        value: float | None = None,
    ) -> object:
        request = OperatorRequest(command, cue, cue_list, value)
        return engine_event(model, request, COMMAND_TABLE[command])

    assert event(OperatorCommand.GO, cue_list="Side") == Go("Side")
    assert event(OperatorCommand.PANIC, value=99.0) == Panic(60.0)
    assert event(OperatorCommand.PANIC) == Panic(None)
    assert event(OperatorCommand.SET_MIN_GO, value=2.0) == SetMinGoInterval(2.0)
    assert event(OperatorCommand.START_CUE, cue="S1") == StartCue(CueId("Side/S1"))
    assert event(OperatorCommand.PAUSE_CUE, cue="Main/1") == Pause(CueId("Main/1"))
    assert event(OperatorCommand.SET_PLAYHEAD, cue="1") == SetPlayhead(CueId("Main/1"))
    assert event(OperatorCommand.SET_PLAYHEAD, cue="2.1") == {
        "ok": False,
        "error": "cue '2.1' is inside a group; only top-level cues can be on standby",
    }
    assert event(OperatorCommand.START_CUE, cue="9") == {
        "ok": False,
        "error": "no cue '9' in this show",
    }
    assert event(OperatorCommand.GO, cue_list="Nope") == {
        "ok": False,
        "error": "no cue list 'Nope' in this show",
    }
    assert find_cue(model, "S1", "Main") is None
    assert find_cue(model, "Side/S1") == "Side/S1"


@pytest.mark.parametrize(
    "command", [c for c, spec in COMMAND_TABLE.items() if spec.handling is not Handling.ENGINE]
)
def test_a_non_engine_command_has_no_event(command: OperatorCommand) -> None:
    spec = COMMAND_TABLE[command]
    model = parse_show(SHOW, "show.toml").model
    with pytest.raises(ValueError, match="not an engine command"):
        engine_event(model, OperatorRequest(command), spec)
