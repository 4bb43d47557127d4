"""MIDI port adapter tests, on the in-memory backend (no MIDI system needed)."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable

import pytest

from bridges.midi.errors import MidiPortError, MidiSystemUnavailable
from bridges.midi.memory import MemoryMidiBackend, MemoryMidiInput, MemoryMidiOutput
from bridges.midi.ports import (
    MidiInput,
    MidiOutput,
    MidoBackend,
    PortState,
    match_port,
    probe_midi_system,
)
from bridges.midi.wire import ControlChange, NoteOn, control_change_14bit, note_on
from tests.clocks import FakeClock

NAMES = ["Midi Through:Midi Through Port-0 14:0", "QLab:QLab In 128:0", "USB MIDI 2x2:Port 1 20:0"]


# --- name matching ---------------------------------------------------------------


def test_match_port_substring_is_case_insensitive() -> None:
    assert match_port("qlab", NAMES) == "QLab:QLab In 128:0"
    assert match_port("usb midi", NAMES) == "USB MIDI 2x2:Port 1 20:0"
    assert match_port("nothing", NAMES) is None


def test_match_port_prefers_an_exact_name() -> None:
    names = ["Port 10", "Port 1"]
    assert match_port("port 1", names) == "Port 1"


def test_match_port_regex_forms() -> None:
    assert match_port(r"re:^usb.*port \d", NAMES) == "USB MIDI 2x2:Port 1 20:0"
    assert match_port(re.compile("Through"), NAMES) == NAMES[0]
    assert match_port(re.compile("through"), NAMES) is None  # compiled: flags as given
    with pytest.raises(MidiPortError, match="bad MIDI port pattern"):
        match_port("re:(", NAMES)


# --- output ----------------------------------------------------------------------


def test_output_sends_each_message_to_the_matching_port() -> None:
    backend = MemoryMidiBackend(outputs=NAMES)
    output = MidiOutput("qlab", backend, label="sound")
    assert output.open() is PortState.CONNECTED
    assert output.send(note_on(1, 60, 100))
    assert output.send(control_change_14bit(1, 7, 1000))
    assert backend.outputs["QLab:QLab In 128:0"] == [
        bytes.fromhex("90 3C 64"),
        bytes.fromhex("B0 07 07"),
        bytes.fromhex("B0 27 68"),
    ]
    stats = output.stats()
    assert (stats.state, stats.port_name, stats.messages, stats.dropped) == (
        PortState.CONNECTED,
        "QLab:QLab In 128:0",
        2,
        0,
    )


def test_output_missing_logs_once_then_reports_when_it_comes_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bridges.midi.ports")
    backend = MemoryMidiBackend(outputs=["Midi Through"])
    output = MidiOutput("qlab", backend, label="sound")
    assert output.open() is PortState.MISSING
    assert output.send(note_on(1, 60, 1)) is False  # dropped, no exception
    for _ in range(5):
        assert output.refresh() is PortState.MISSING
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "no port matches 'qlab'" in warnings[0].getMessage()
    assert "'Midi Through'" in warnings[0].getMessage()

    backend.plug_output("QLab In")
    assert output.refresh() is PortState.CONNECTED
    back = caplog.records[-1]
    assert back.levelno == logging.INFO
    assert "is back on port 'QLab In'" in back.getMessage()
    assert "1 message(s) dropped" in back.getMessage()
    assert output.send(note_on(1, 60, 1))
    assert backend.outputs["QLab In"] == [note_on(1, 60, 1)]
    assert output.stats().dropped == 1


def test_output_notices_an_unplugged_port_on_refresh() -> None:
    backend = MemoryMidiBackend(outputs=["QLab In"])
    output = MidiOutput("qlab", backend)
    output.open()
    backend.unplug_output("QLab In")
    assert output.refresh() is PortState.MISSING
    assert output.send(note_on(1, 60, 1)) is False
    backend.plug_output("QLab In")
    assert output.refresh() is PortState.CONNECTED


def test_failing_send_never_raises_and_marks_the_port_missing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = MemoryMidiBackend(outputs=["QLab In"])
    output = MidiOutput("qlab", backend, label="sound")
    output.open()
    backend.fail_sends = True
    assert output.send(note_on(1, 60, 1)) is False
    assert output.state is PortState.MISSING
    stats = output.stats()
    assert stats.errors == 1 and "simulated send failure" in (stats.last_error or "")
    assert any("lost port 'QLab In'" in r.getMessage() for r in caplog.records)
    backend.fail_sends = False
    assert output.refresh() is PortState.CONNECTED
    assert output.send(note_on(1, 60, 1))


def test_output_refuses_bad_bytes_without_raising() -> None:
    backend = MemoryMidiBackend(outputs=["QLab In"])
    output = MidiOutput("qlab", backend)
    output.open()
    assert output.send(b"\x90\x3c") is False
    assert output.stats().errors == 1
    assert backend.outputs["QLab In"] == []
    assert output.state is PortState.CONNECTED


def test_repeated_losses_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    backend = MemoryMidiBackend(outputs=["QLab In"])
    output = MidiOutput("qlab", backend, clock=clock, warn_interval=30.0)
    output.open()
    for _ in range(3):  # a flapping cable
        backend.unplug_output("QLab In")
        output.refresh()
        backend.plug_output("QLab In")
        output.refresh()
    lost = [r for r in caplog.records if "lost port" in r.getMessage()]
    assert len(lost) == 1
    clock.now = 31.0
    backend.unplug_output("QLab In")
    output.refresh()
    lost = [r for r in caplog.records if "lost port" in r.getMessage()]
    assert len(lost) == 2
    assert "2 similar messages suppressed" in lost[-1].getMessage()


def test_no_midi_system_is_a_quiet_state(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bridges.midi.ports")
    backend = MemoryMidiBackend(outputs=["QLab In"])
    backend.available = False
    status = probe_midi_system(backend)
    assert not status.available
    assert status.warning == (
        "no MIDI system on this machine (ALSA not available): MIDI outputs and inputs are "
        "disabled, the show runs without MIDI"
    )
    output = MidiOutput("qlab", backend)
    assert output.open() is PortState.NO_SYSTEM
    assert output.send(note_on(1, 60, 1)) is False
    backend.available = True  # not retried: stays disabled for the session
    assert output.refresh() is PortState.NO_SYSTEM
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_probe_reports_an_available_system() -> None:
    status = probe_midi_system(MemoryMidiBackend())
    assert status.available and status.warning is None


def test_close_is_idempotent() -> None:
    backend = MemoryMidiBackend(outputs=["QLab In"])
    output = MidiOutput("qlab", backend)
    output.open()
    output.close()
    output.close()
    assert output.state is PortState.CLOSED
    assert output.send(note_on(1, 60, 1)) is False
    assert output.refresh() is PortState.CLOSED


def test_real_backend_on_this_machine_either_lists_ports_or_reports_no_system() -> None:
    backend = MidoBackend()
    try:
        names = backend.output_names()
    except MidiSystemUnavailable as err:
        assert str(err)  # e.g. "ALSA not available" where /dev/snd is absent
        assert MidiOutput("anything", backend).open() is PortState.NO_SYSTEM
    else:
        assert isinstance(names, list)


# --- input -----------------------------------------------------------------------


class RecordingLoop:
    """Stands in for the event loop: records call_soon_threadsafe calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[..., object], tuple[object, ...]]] = []

    def call_soon_threadsafe(self, callback: Callable[..., object], *args: object) -> None:
        self.calls.append((callback, args))

    def run_pending(self) -> None:
        calls, self.calls = self.calls, []
        for callback, args in calls:
            callback(*args)


def test_input_hands_each_message_to_the_loop_exactly_once() -> None:
    backend = MemoryMidiBackend(inputs=["Launchpad"])
    loop = RecordingLoop()
    received: list[object] = []
    midi_in = MidiInput("launch", backend, loop, received.append)  # type: ignore[arg-type]
    assert midi_in.open() is PortState.CONNECTED
    backend.deliver("Launchpad", note_on(1, 60, 100))
    backend.deliver("Launchpad", bytes.fromhex("B0 14 7F"))
    assert len(loop.calls) == 2 and received == []  # nothing runs on the backend thread
    loop.run_pending()
    assert received == [NoteOn(1, 60, 100), ControlChange(1, 20, 127)]
    assert midi_in.stats().messages == 2


def test_input_logs_and_counts_malformed_messages(caplog: pytest.LogCaptureFixture) -> None:
    backend = MemoryMidiBackend(inputs=["Launchpad"])
    loop = RecordingLoop()
    received: list[object] = []
    midi_in = MidiInput("launch", backend, loop, received.append)  # type: ignore[arg-type]
    midi_in.open()
    backend.deliver("Launchpad", b"\x90\x3c")
    loop.run_pending()
    assert received == []
    assert midi_in.stats().errors == 1
    assert any("malformed message 90 3c" in r.getMessage() for r in caplog.records)


def test_input_handler_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    backend = MemoryMidiBackend(inputs=["Launchpad"])
    loop = RecordingLoop()

    def broken(message: object) -> None:
        raise KeyError("boom")

    midi_in = MidiInput("launch", backend, loop, broken)  # type: ignore[arg-type]
    midi_in.open()
    backend.deliver("Launchpad", note_on(1, 60, 1))
    loop.run_pending()
    assert midi_in.stats().errors == 1
    assert any("handler failed" in r.getMessage() for r in caplog.records)


def test_input_unplug_and_replug() -> None:
    backend = MemoryMidiBackend(inputs=["Launchpad"])
    loop = RecordingLoop()
    received: list[object] = []
    midi_in = MidiInput("launch", backend, loop, received.append)  # type: ignore[arg-type]
    midi_in.open()
    backend.unplug_input("Launchpad")
    assert midi_in.refresh() is PortState.MISSING
    backend.plug_input("Launchpad")
    assert midi_in.refresh() is PortState.CONNECTED
    backend.deliver("Launchpad", note_on(2, 61, 5))
    loop.run_pending()
    assert received == [NoteOn(2, 61, 5)]


def test_input_from_a_real_thread_reaches_the_asyncio_loop() -> None:
    async def scenario() -> list[object]:
        loop = asyncio.get_running_loop()
        backend = MemoryMidiBackend(inputs=["Launchpad"])
        received: list[object] = []
        done = asyncio.Event()

        def on_message(message: object) -> None:
            assert threading.current_thread() is threading.main_thread()
            received.append(message)
            if len(received) == 3:
                done.set()

        midi_in = MidiInput("launch", backend, loop, on_message)
        midi_in.open()

        def send_three() -> None:
            for n in (1, 2, 3):
                backend.deliver("Launchpad", note_on(1, n, 1))

        sender = threading.Thread(target=send_three, name="fake-rtmidi")
        sender.start()
        await asyncio.wait_for(done.wait(), timeout=10)
        sender.join()
        midi_in.close()
        return received

    assert asyncio.run(scenario()) == [NoteOn(1, 1, 1), NoteOn(1, 2, 1), NoteOn(1, 3, 1)]


# --- twins -----------------------------------------------------------------------


def test_memory_output_twin_records_and_drops() -> None:
    output = MemoryMidiOutput("lights")
    assert output.send(b"\x90\x3c\x40")
    output.connected = False
    assert output.send(b"\x90\x3c\x00") is False
    assert output.sent == [b"\x90\x3c\x40"]
    stats = output.stats()
    assert (stats.state, stats.messages, stats.dropped) == (PortState.MISSING, 1, 1)


def test_memory_input_twin_parses_and_delivers() -> None:
    received: list[object] = []
    midi_in = MemoryMidiInput(received.append)
    midi_in.feed(bytes.fromhex("90 3C 40"))
    midi_in.close()
    midi_in.feed(bytes.fromhex("90 3C 40"))
    assert received == [NoteOn(1, 60, 64)]
