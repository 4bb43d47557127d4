"""Show-file MIDI messages to bytes, MSC included (RP-002 layouts)."""

from __future__ import annotations

import asyncio

import pytest

from bridges.midi.memory import MemoryMidiBackend
from cues.model import CueId, MidiAction, MidiSpec
from show.errors import ShowFileError
from show.runtime.commands import OperatorCommand, OperatorRequest
from show.runtime.midi_hub import MidiHub, encode_spec
from show.showfile.load import parse_show

HEAD = '[outputs.midi.desk]\nport = "Desk"\n[[cue_lists]]\nname = "Main"\n'


def _spec(message: str) -> MidiSpec:
    show = parse_show(
        HEAD
        + f'[[cue_lists.cues]]\nnumber = "1"\ntype = "midi"\nport = "desk"\nmessage = {message}\n'
    )
    action = show.model.cues[CueId("Main/1")].action
    assert isinstance(action, MidiAction)
    return action.message


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('{ type = "note_on", channel = 2, note = 60, velocity = 100 }', "91 3C 64"),
        ('{ type = "cc", channel = 1, controller = 7, value = 127 }', "B0 07 7F"),
        ('{ type = "cc14", channel = 1, controller = 1, value = 8192 }', "B0 01 40 B0 21 00"),
        ('{ type = "program", channel = 16, program = 5 }', "CF 05"),
        ('{ type = "pitch_bend", channel = 1, value = 8192 }', "E0 00 40"),
        # MSC GO cue 123.4 to device 1, lighting (RP-002's worked layout)
        (
            '{ type = "msc", command = "GO", cue = "123.4", device = 1, format = "lighting" }',
            "F0 7F 01 02 01 01 31 32 33 2E 34 F7",
        ),
        # TIMED_GO 01:02:03:04 at 30 fps (hours byte carries rate code 3 in bits 5-6)
        (
            '{ type = "msc", command = "TIMED_GO", time = "01:02:03:04", cue = "5", device = 1,'
            ' format = "sound" }',
            "F0 7F 01 02 10 04 61 02 03 04 00 35 F7",
        ),
        # SET control 1, value 200: both 14-bit, LSB first
        (
            '{ type = "msc", command = "SET", control = 1, value = 200, device = 1,'
            ' format = "lighting" }',
            "F0 7F 01 02 01 06 01 00 48 01 F7",
        ),
        ('{ type = "msc", command = "FIRE", macro = 12, device = 1 }', "F0 7F 01 02 7F 07 0C F7"),
        ('{ type = "msc", command = "ALL_OFF", device = 127 }', "F0 7F 7F 02 7F 08 F7"),
    ],
)
def test_show_file_midi_messages_encode_byte_exact(message: str, expected: str) -> None:
    assert encode_spec(_spec(message)).hex(" ").upper() == expected


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ('{ type = "msc", command = "LOAD" }', "MSC LOAD needs cue"),
        ('{ type = "msc", command = "TIMED_GO", cue = "1" }', "MSC TIMED_GO needs time"),
        ('{ type = "msc", command = "RESET", cue = "1" }', "MSC RESET carries no cue number"),
        ('{ type = "msc", command = "GO", macro = 3 }', "MSC GO carries no macro"),
        ('{ type = "msc", command = "GO", cue = "1a" }', "MSC numbers are digits and dots"),
    ],
)
def test_unsendable_msc_is_refused_at_load(message: str, problem: str) -> None:
    with pytest.raises(ShowFileError) as info:
        _spec(message)
    assert any(problem in str(p) for p in info.value.problems), info.value.problems


PADS = """
[outputs.midi.pads]
port = "Pads"
output = false
input = true
msc_device = 1
bindings = [
  { message = "note", channel = 1, number = 60, action = "go" },
  { message = "note", channel = 1, number = 61, action = "start", cue = "3" },
  { message = "note", channel = 1, number = 62, action = "stop" },
  { message = "note", channel = 1, number = 63, action = "panic" },
]
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
[[cue_lists.cues]]
number = "3"
type = "memo"
"""


def test_midi_input_becomes_typed_operator_requests() -> None:
    """Notes and MSC arrive as OperatorRequests (a GO naming a cue starts that cue),
    each with the port and message as its origin."""
    show = parse_show(PADS, "pads.toml")
    backend = MemoryMidiBackend(inputs=["Pads"])
    got: list[OperatorRequest] = []

    async def main() -> None:
        hub = MidiHub(show.midi_ports, got.append, backend=backend)
        hub.open(asyncio.get_running_loop())
        for note in (60, 61, 62, 63):
            backend.deliver("Pads", bytes([0x90, note, 100]))
        backend.deliver("Pads", bytes([0xF0, 0x7F, 0x01, 0x02, 0x01, 0x01]) + b"7" + b"\xf7")
        for _ in range(10):
            await asyncio.sleep(0)
        hub.close()

    asyncio.run(main())
    assert [(r.command, r.cue) for r in got] == [
        (OperatorCommand.GO, None),
        (OperatorCommand.START_CUE, "3"),
        (OperatorCommand.STOP, None),
        (OperatorCommand.PANIC, None),
        (OperatorCommand.START_CUE, "7"),
    ]
    assert all(isinstance(r.command, OperatorCommand) for r in got)
    assert all(r.origin.startswith("MIDI pads: ") for r in got)
