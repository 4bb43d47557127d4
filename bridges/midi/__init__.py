"""MIDI for Stovelight: wire formats (notes, CC, MSC, MTC), ports, incoming mapping.

Modules:

* :mod:`bridges.midi.wire` -- channel messages: encoders and a parser over ``mido.Message``.
* :mod:`bridges.midi.msc` -- MIDI Show Control (RP-002) encode/decode.
* :mod:`bridges.midi.mtc` -- MIDI Time Code messages and a pure generator.
* :mod:`bridges.midi.ports` -- the mido/rtmidi port adapter.
* :mod:`bridges.midi.memory` -- in-memory twins of the ports, for tests.
* :mod:`bridges.midi.incoming` -- bindings from incoming MIDI to show actions.
* :mod:`bridges.midi.errors` -- the exception tree, rooted at :class:`MidiError`.
"""

from __future__ import annotations

from bridges.midi.errors import (
    MidiDecodeError,
    MidiError,
    MidiPortError,
    MidiSystemUnavailable,
    MidiValueError,
)

__all__ = [
    "MidiDecodeError",
    "MidiError",
    "MidiPortError",
    "MidiSystemUnavailable",
    "MidiValueError",
]
