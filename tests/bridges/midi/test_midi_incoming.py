"""Incoming MIDI to show actions: bindings for notes, controllers, programs and MSC."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bridges.midi.errors import MidiDecodeError, MidiValueError
from bridges.midi.incoming import (
    ActionKind,
    ControlBinding,
    IncomingMapper,
    MidiAction,
    MscBinding,
    NoteBinding,
    ProgramBinding,
)
from bridges.midi.msc import CommandFormat, CueRef, MscCommand, MscMessage, encode_msc
from bridges.midi.wire import ControlChange, NoteOff, NoteOn, ProgramChange, SysEx, parse_message


def kinds_and_cues(actions: list[MidiAction]) -> list[tuple[str, str | None]]:
    return [(str(a.kind), a.cue) for a in actions]


def msc(message: MscMessage) -> SysEx:
    parsed = parse_message(encode_msc(message))
    assert isinstance(parsed, SysEx)
    return parsed


def test_note_60_on_channel_1_is_go() -> None:
    mapper = IncomingMapper([NoteBinding(60, channel=1)])
    assert kinds_and_cues(mapper.map(NoteOn(1, 60, 100))) == [("go", None)]
    assert mapper.map(NoteOn(2, 60, 100)) == []  # other channel
    assert mapper.map(NoteOn(1, 61, 100)) == []  # other note
    assert mapper.map(NoteOff(1, 60, 0)) == []  # releasing the key does nothing
    assert mapper.map(NoteOn(1, 60, 1))[0].source == "note 60 on channel 1"


def test_note_binding_to_a_cue_and_any_channel() -> None:
    mapper = IncomingMapper(
        [NoteBinding(36, ActionKind.GO, cue="12.5"), NoteBinding(37, ActionKind.STOP)]
    )
    assert kinds_and_cues(mapper.map(NoteOn(9, 36, 127))) == [("go", "12.5")]
    assert kinds_and_cues(mapper.map(NoteOn(3, 37, 127))) == [("stop", None)]


def test_control_change_fires_on_the_rising_edge_only() -> None:
    mapper = IncomingMapper([ControlBinding(20, channel=1)])  # value > 63 -> GO
    values = [0, 30, 63, 64, 100, 127, 90, 10, 70, 127]
    fired = [bool(mapper.map(ControlChange(1, 20, v))) for v in values]
    assert fired == [False, False, False, True, False, False, False, False, True, False]
    assert mapper.map(ControlChange(2, 20, 127)) == []  # other channel


def test_control_change_first_message_above_threshold_fires() -> None:
    mapper = IncomingMapper([ControlBinding(20, ActionKind.RESUME, threshold=100)])
    assert kinds_and_cues(mapper.map(ControlChange(5, 20, 127))) == [("resume", None)]


def test_program_change_fires_the_numbered_cue() -> None:
    mapper = IncomingMapper([ProgramBinding(channel=16, offset=1)])
    assert kinds_and_cues(mapper.map(ProgramChange(16, 0))) == [("go", "1")]
    assert mapper.map(ProgramChange(1, 0)) == []


def test_msc_go_with_and_without_cue() -> None:
    mapper = IncomingMapper([MscBinding(device_id=1)])
    go_cue = MscMessage(MscCommand.GO, 1, CommandFormat.LIGHTING, CueRef("12.5", "2"))
    [action] = mapper.map(msc(go_cue))
    assert action == MidiAction(
        ActionKind.GO, "12.5", "2", source="MSC GO cue 12.5 list 2 to device 0x01"
    )
    assert kinds_and_cues(mapper.map(msc(MscMessage(MscCommand.GO, 1)))) == [("go", None)]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (MscMessage(MscCommand.STOP, 0x7F), ("stop", None)),
        (MscMessage(MscCommand.RESUME, 0x7F, cue=CueRef("3")), ("resume", "3")),
        (MscMessage(MscCommand.LOAD, 0x7F, cue=CueRef("4")), ("load", "4")),
        (MscMessage(MscCommand.GO_OFF, 0x7F, cue=CueRef("5")), ("go_off", "5")),
        (MscMessage(MscCommand.ALL_OFF, 0x7F), ("all_off", None)),
        (MscMessage(MscCommand.RESTORE, 0x7F), ("restore", None)),
        (MscMessage(MscCommand.RESET, 0x7F), ("reset", None)),
    ],
)
def test_msc_commands_map_to_actions(message: MscMessage, expected: tuple[str, str | None]) -> None:
    mapper = IncomingMapper([MscBinding(device_id=1)])
    assert kinds_and_cues(mapper.map(msc(message))) == [expected]


def test_msc_fire_carries_the_macro() -> None:
    mapper = IncomingMapper([MscBinding(device_id=1)])
    [action] = mapper.map(msc(MscMessage(MscCommand.FIRE, 1, macro=7)))
    assert (action.kind, action.macro) == (ActionKind.FIRE, 7)


def test_msc_set_is_not_mapped() -> None:
    mapper = IncomingMapper([MscBinding(device_id=1)])
    assert mapper.map(msc(MscMessage(MscCommand.SET, 1, control=1, value=2))) == []


def test_msc_addressing_individual_group_and_all_call() -> None:
    mapper = IncomingMapper([MscBinding(device_id=1, groups=frozenset({2}))])
    go = MscCommand.GO
    assert mapper.map(msc(MscMessage(go, 1)))
    assert mapper.map(msc(MscMessage(go, 0x7F)))  # all-call
    assert mapper.map(msc(MscMessage(go, 0x71)))  # group 2
    assert mapper.map(msc(MscMessage(go, 0x70))) == []  # group 1
    assert mapper.map(msc(MscMessage(go, 2))) == []  # another device


def test_msc_command_format_filter() -> None:
    mapper = IncomingMapper(
        [MscBinding(device_id=1, command_formats=frozenset({CommandFormat.SOUND}))]
    )
    go = MscCommand.GO
    assert mapper.map(msc(MscMessage(go, 1, CommandFormat.SOUND)))
    assert mapper.map(msc(MscMessage(go, 1, CommandFormat.ALL_TYPES)))
    assert mapper.map(msc(MscMessage(go, 1, CommandFormat.LIGHTING))) == []


def test_sysex_without_msc_binding_or_not_msc_is_ignored() -> None:
    go = msc(MscMessage(MscCommand.GO, 1))
    assert IncomingMapper([NoteBinding(60)]).map(go) == []
    assert IncomingMapper([MscBinding()]).map(SysEx(b"\x7d\x01\x02")) == []


def test_malformed_msc_raises_for_the_runner_to_log() -> None:
    mapper = IncomingMapper([MscBinding(device_id=1)])
    with pytest.raises(MidiDecodeError):
        mapper.map(SysEx(bytes.fromhex("7F 01 02 01 01 41")))  # 'A' in a cue number


def test_several_bindings_fire_in_order() -> None:
    mapper = IncomingMapper([NoteBinding(60, ActionKind.STOP), NoteBinding(60, ActionKind.GO)])
    assert kinds_and_cues(mapper.map(NoteOn(1, 60, 1))) == [("stop", None), ("go", None)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: NoteBinding(128),
        lambda: NoteBinding(60, channel=0),
        lambda: ControlBinding(20, threshold=0),
        lambda: ProgramBinding(channel=17),
        lambda: MscBinding(device_id=0x70),
        lambda: MscBinding(groups=frozenset({16})),
    ],
)
def test_invalid_bindings_are_rejected(build: Callable[[], object]) -> None:
    with pytest.raises(MidiValueError):
        build()
