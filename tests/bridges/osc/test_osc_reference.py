"""Our OSC codec and SLIP framing against python-osc, the independent reference.

python-osc is a test dependency only: Stovelight encodes and decodes with
:mod:`bridges.osc.wire` and :mod:`bridges.osc.framing`. Here every argument type
both libraries know (``i h f d s b r m T F N``; python-osc also reads ``t``) is
built by one library and read by the other, in messages and nested bundles, and
the bytes must be identical. python-osc has no ``S``, ``c`` or ``I`` (it skips
them with a warning): those tags are checked against the specification's bytes in
``test_osc_wire.py``.
"""

from __future__ import annotations

import datetime
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pythonosc import slip
from pythonosc.osc_bundle import OscBundle as PyOscBundle
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_message import ParseError
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import ntp

from bridges.osc.errors import OscDecodeError
from bridges.osc.framing import SlipDecoder, slip_encode
from bridges.osc.wire import (
    IMMEDIATE,
    MidiPacket,
    OscBundle,
    OscMessage,
    RgbaColor,
    TimeTag,
    decode_packet,
    encode_message,
)


@dataclass(frozen=True)
class Arg:
    """One argument as each library spells it.

    Attributes:
        tag: the OSC type tag.
        ours: the value in a :class:`OscMessage` (with explicit tags).
        built: the value given to python-osc's ``OscMessageBuilder.add_arg``.
        read: the value python-osc's parser returns.
    """

    tag: str
    ours: Any
    built: Any
    read: Any


def _rgba(color: RgbaColor) -> Arg:
    word = int.from_bytes(bytes(color), "big")
    return Arg("r", color, word, word)


def _midi(packet: MidiPacket) -> Arg:
    return Arg("m", packet, tuple(packet), tuple(packet))


def _timetag(tag: TimeTag) -> Arg:
    """A time tag argument; python-osc reads it but cannot build one."""
    when = datetime.datetime(1900, 1, 1) + datetime.timedelta(seconds=tag.seconds)
    return Arg("t", tag, None, (when, tag.fraction))


def _plain(tag: str) -> Any:
    return lambda value: Arg(tag, value, value, value)


def _double_arg(value: float) -> Arg:
    return Arg("d", value, value, value)


text = st.text(alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]))
buildable = st.one_of(
    st.integers(-(1 << 31), (1 << 31) - 1).map(_plain("i")),
    st.integers(-(1 << 63), (1 << 63) - 1).map(_plain("h")),
    st.floats(width=32).map(_plain("f")),
    st.floats().map(_double_arg),
    text.map(_plain("s")),
    st.binary(min_size=1, max_size=13).map(_plain("b")),  # python-osc refuses empty blobs
    st.builds(RgbaColor, *[st.integers(0, 255)] * 4).map(_rgba),
    st.builds(MidiPacket, *[st.integers(0, 255)] * 4).map(_midi),
    st.just(Arg("T", True, True, True)),
    st.just(Arg("F", False, False, False)),
    st.just(Arg("N", None, None, None)),
)
readable = st.one_of(
    buildable,
    st.builds(TimeTag, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)).map(_timetag),
)
addresses = st.lists(
    st.text(alphabet="abcxyz0123456789_-.", min_size=1, max_size=9), min_size=1, max_size=4
).map(lambda parts: "/" + "/".join(parts))


def _same(left: Sequence[Any], right: Sequence[Any]) -> bool:
    """Element-wise equality where NaN equals NaN (bit patterns are compared elsewhere)."""

    def one(a: Any, b: Any) -> bool:
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
            return math.isnan(b)
        return type(a) is type(b) and bool(a == b)

    return len(left) == len(right) and all(one(a, b) for a, b in zip(left, right, strict=True))


def _ours(address: str, args: Sequence[Arg]) -> OscMessage:
    return OscMessage(address, tuple(a.ours for a in args), tags="".join(a.tag for a in args))


def _theirs(address: str, args: Sequence[Arg]) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg.built, arg.tag)
    return bytes(builder.build().dgram)


# --------------------------------------------------------------------------- messages


@given(addresses, st.lists(buildable, max_size=8))
def test_messages_built_by_python_osc_decode_and_encode_identically(
    address: str, args: list[Arg]
) -> None:
    dgram = _theirs(address, args)
    decoded = decode_packet(dgram)
    assert isinstance(decoded, OscMessage)
    assert decoded.address == address
    assert decoded.tags == "".join(a.tag for a in args)
    assert _same(decoded.args, [a.ours for a in args])
    assert _ours(address, args).encode() == dgram
    assert decoded.encode() == dgram


@given(addresses, st.lists(readable, max_size=8))
def test_our_messages_are_read_by_python_osc(address: str, args: list[Arg]) -> None:
    theirs = PyOscMessage(_ours(address, args).encode())
    assert theirs.address == address
    assert _same(theirs.params, [a.read for a in args])


@given(addresses, st.lists(buildable.filter(lambda a: a.tag not in "rmd"), max_size=8))
def test_inferred_tags_match_python_osc_inference(address: str, args: list[Arg]) -> None:
    """Plain Python values: both libraries pick the same tags (python-osc infers no
    RGBA or MIDI, and a float is a float32 to both)."""
    values = [a.ours for a in args]
    builder = OscMessageBuilder(address)
    for value in values:
        builder.add_arg(value)
    dgram = bytes(builder.build().dgram)
    assert encode_message(address, values) == dgram
    assert OscMessage(address, tuple(values)).encode() == dgram


EDGE_CASES = [
    pytest.param([], id="no arguments"),
    *(
        pytest.param([Arg("s", s, s, s)], id=f"string of {len(s)}")
        for s in ("", "a", "abc", "abcd")
    ),
    pytest.param([Arg("s", "é🎛", "é🎛", "é🎛")], id="multi-byte UTF-8"),
    *(
        pytest.param([Arg("b", b"x" * n, b"x" * n, b"x" * n)], id=f"blob of {n}")
        for n in range(1, 9)
    ),
    *(
        pytest.param([Arg("i", n, n, n)], id=f"int32 {n}")
        for n in (-(1 << 31), -1, 0, (1 << 31) - 1)
    ),
    *(
        pytest.param([Arg("h", n, n, n)], id=f"int64 {n}")
        for n in (-(1 << 63), (1 << 31), (1 << 63) - 1)
    ),
    *(
        pytest.param([Arg("f", x, x, x)], id=f"float32 {x!r}")
        for x in (math.inf, -math.inf, -0.0, 1.401298464324817e-45, 3.4028234663852886e38)
    ),
    *(
        pytest.param([Arg("d", x, x, x)], id=f"float64 {x!r}")
        for x in (5e-324, 1.7976931348623157e308, -0.0, 0.1)
    ),
    pytest.param(
        [Arg("T", True, True, True), Arg("F", False, False, False), Arg("N", None, None, None)],
        id="payload-free tags",
    ),
]


@pytest.mark.parametrize("args", EDGE_CASES)
@pytest.mark.parametrize("address", ["/a", "/abc", "/abcd", "/stove/1/temperature"])
def test_edge_cases_agree_both_ways(address: str, args: list[Arg]) -> None:
    dgram = _theirs(address, args)
    assert _ours(address, args).encode() == dgram
    decoded = decode_packet(dgram)
    assert isinstance(decoded, OscMessage)
    assert _same(decoded.args, [a.ours for a in args])
    assert _same(PyOscMessage(dgram).params, [a.read for a in args])


def test_nan_keeps_its_bits_both_ways() -> None:
    for tag, width in (("f", ">f"), ("d", ">d")):
        dgram = _theirs("/n", [Arg(tag, math.nan, math.nan, math.nan)])
        assert _ours("/n", [Arg(tag, math.nan, math.nan, math.nan)]).encode() == dgram
        value = decode_packet(dgram).args[0]  # type: ignore[union-attr]
        assert struct.pack(width, value) == dgram[-struct.calcsize(width) :]


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True)
class Tree:
    """A bundle as a timestamp python-osc can build (``None``: immediately) and elements."""

    timestamp: float | None
    elements: tuple[tuple[str, tuple[Arg, ...]] | Tree, ...]


def _timetag_of(timestamp: float | None) -> TimeTag:
    """The time tag python-osc writes for ``timestamp`` (its own rounding)."""
    if timestamp is None:
        return IMMEDIATE
    return TimeTag(*struct.unpack(">II", ntp.system_time_to_ntp(timestamp)))


def _our_bundle(tree: Tree) -> OscBundle:
    elements = tuple(
        _our_bundle(e) if isinstance(e, Tree) else _ours(e[0], e[1]) for e in tree.elements
    )
    return OscBundle(_timetag_of(tree.timestamp), elements)


def _their_bundle(tree: Tree) -> Any:
    builder = OscBundleBuilder(IMMEDIATELY if tree.timestamp is None else tree.timestamp)  # type: ignore[arg-type]
    for element in tree.elements:
        if isinstance(element, Tree):
            builder.add_content(_their_bundle(element))
        else:
            message = OscMessageBuilder(element[0])
            for arg in element[1]:
                message.add_arg(arg.built, arg.tag)
            builder.add_content(message.build())
    return builder.build()


def _check_read_by_python_osc(ours: OscBundle, theirs: PyOscBundle) -> None:
    expected = IMMEDIATELY if ours.timetag == IMMEDIATE else ours.timetag.to_unix()
    assert theirs.timestamp == pytest.approx(expected, abs=1e-6)
    assert theirs.num_contents == len(ours.elements)
    for mine, their in zip(ours.elements, theirs, strict=True):
        if isinstance(mine, OscBundle):
            assert isinstance(their, PyOscBundle)
            _check_read_by_python_osc(mine, their)
        else:
            assert isinstance(their, PyOscMessage)
            assert their.address == mine.address
            decoded = decode_packet(bytes(their.dgram))
            assert isinstance(decoded, OscMessage)
            assert _same(decoded.args, mine.args)


messages = st.tuples(addresses, st.lists(buildable, max_size=4).map(tuple))
trees: st.SearchStrategy[Tree] = st.recursive(
    st.builds(
        Tree,
        st.one_of(st.none(), st.floats(1.0, 2.0e9)),
        st.lists(messages, max_size=3).map(tuple),
    ),
    lambda children: st.builds(
        Tree,
        st.one_of(st.none(), st.floats(1.0, 2.0e9)),
        st.lists(st.one_of(messages, children), max_size=3).map(tuple),
    ),
    max_leaves=6,
)


@given(trees)
def test_bundles_agree_byte_for_byte_both_ways(tree: Tree) -> None:
    ours = _our_bundle(tree)
    dgram = bytes(_their_bundle(tree).dgram)
    assert ours.encode() == dgram
    decoded = decode_packet(dgram)
    assert isinstance(decoded, OscBundle)
    assert decoded.timetag == ours.timetag
    assert decoded.encode() == dgram
    _check_read_by_python_osc(ours, PyOscBundle(ours.encode()))


# --------------------------------------------------------------------------- strictness


@given(addresses, st.lists(buildable, max_size=5), st.data())
def test_what_our_strict_decoder_accepts_python_osc_reads_alike(
    address: str, args: list[Arg], data: st.DataObject
) -> None:
    """Damage one byte of a valid message: if we still accept it, so does python-osc,
    with the same address and values (we may refuse more: padding, tags, UTF-8)."""
    dgram = bytearray(_theirs(address, args))
    index = data.draw(st.integers(0, len(dgram) - 1))
    dgram[index] = data.draw(st.integers(0, 255))
    try:
        decoded = decode_packet(bytes(dgram))
    except OscDecodeError:
        return
    assert isinstance(decoded, OscMessage)
    if set(decoded.tags) - set("ihfdsbrmTFN"):
        return  # a tag python-osc does not read (S, c, I, t)
    try:
        theirs = PyOscMessage(bytes(dgram))
    except ParseError:
        pytest.fail(f"python-osc refuses what we accepted: {bytes(dgram)!r}")
    assert theirs.address == decoded.address
    expected = [
        int.from_bytes(bytes(v), "big")
        if isinstance(v, RgbaColor)
        else tuple(v)
        if isinstance(v, MidiPacket)
        else v
        for v in decoded.args
    ]
    assert _same(theirs.params, expected)


# --------------------------------------------------------------------------- SLIP


@given(st.binary(max_size=64))
def test_slip_encode_matches_python_osc(packet: bytes) -> None:
    assert slip_encode(packet) == slip.encode(packet)


slip_bytes = st.lists(st.sampled_from([0xDB, 0xDC, 0xDD, 0x00, 0x41])).map(bytes)


@given(slip_bytes)
def test_slip_decode_agrees_with_python_osc(frame: bytes) -> None:
    """One frame between two END bytes: same packet, or both refuse the escapes."""
    decoder = SlipDecoder()
    got = decoder.feed(slip.END + frame + slip.END)
    try:
        expected = slip.decode(slip.END + frame + slip.END)
    except slip.ProtocolError:
        assert got == []
        assert decoder.errors == 1
        return
    assert got == ([expected] if expected else [])


@given(st.lists(st.binary(min_size=1, max_size=24), max_size=6), st.data())
def test_slip_stream_of_python_osc_frames_in_any_chunks(
    packets: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(slip.encode(p) for p in packets)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    decoder = SlipDecoder()
    got: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        got += decoder.feed(stream[start:end])
    assert got == packets
