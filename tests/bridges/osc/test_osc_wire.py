"""Byte-for-byte tests of the OSC wire format against the specification."""

from __future__ import annotations

import contextlib
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.osc.errors import OscDecodeError, OscEncodeError, OscError
from bridges.osc.wire import (
    IMMEDIATE,
    IMPULSE,
    MidiPacket,
    OscArg,
    OscBundle,
    OscMessage,
    RgbaColor,
    TimeTag,
    bundle_from_encoded,
    decode_packet,
    encode_message,
    iter_messages,
    pack_bundles,
    validate_address,
)

# OSC 1.0 specification, section "OSC Messages", first example.
SPEC_OSCILLATOR = bytes.fromhex(
    "2f6f7363 696c6c61 746f722f 342f6672 65717565 6e637900 2c660000 43dc0000".replace(" ", "")
)
# OSC 1.0 specification, second example: "/foo" ,iisff 1000 -1 "hello" 1.234 5.678.
SPEC_FOO = bytes.fromhex(
    (
        "2f666f6f 00000000 2c696973 66660000 000003e8 ffffffff 68656c6c 6f000000 3f9df3b6 40b5b22d"
    ).replace(" ", "")
)


def test_spec_example_oscillator_encodes_exactly() -> None:
    assert encode_message("/oscillator/4/frequency", [440.0]) == SPEC_OSCILLATOR
    assert OscMessage("/oscillator/4/frequency", (440.0,)).encode() == SPEC_OSCILLATOR


def test_spec_example_oscillator_decodes() -> None:
    msg = decode_packet(SPEC_OSCILLATOR)
    assert msg == OscMessage("/oscillator/4/frequency", (440.0,))
    assert isinstance(msg, OscMessage)
    assert msg.tags == "f"


def test_spec_example_foo_encodes_exactly() -> None:
    assert encode_message("/foo", [1000, -1, "hello", 1.234, 5.678]) == SPEC_FOO


def test_spec_example_foo_decodes() -> None:
    msg = decode_packet(SPEC_FOO)
    assert isinstance(msg, OscMessage)
    assert msg.address == "/foo"
    assert msg.tags == "iisff"
    assert msg.args[:3] == (1000, -1, "hello")
    assert msg.args[3] == pytest.approx(1.234, rel=1e-6)
    assert msg.args[4] == pytest.approx(5.678, rel=1e-6)


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("", b"\0\0\0\0"),
        ("a", b"a\0\0\0"),
        ("abc", b"abc\0"),
        ("abcd", b"abcd\0\0\0\0"),
    ],
)
def test_string_padding(text: str, encoded: bytes) -> None:
    packet = encode_message("/s", [text])
    assert packet == b"/s\0\0,s\0\0" + encoded


@pytest.mark.parametrize(
    ("blob", "encoded"),
    [
        (b"", b"\0\0\0\0"),
        (b"\x01", b"\0\0\0\x01\x01\0\0\0"),
        (b"\x01\x02\x03\x04", b"\0\0\0\x04\x01\x02\x03\x04"),
    ],
)
def test_blob_padding(blob: bytes, encoded: bytes) -> None:
    assert encode_message("/b", [blob]) == b"/b\0\0,b\0\0" + encoded


def test_python_value_tag_inference() -> None:
    msg = OscMessage(
        "/all",
        (
            True,
            False,
            None,
            7,
            1 << 40,
            0.5,
            "x",
            b"\xff",
            IMPULSE,
            TimeTag(1, 2),
            RgbaColor(1, 2, 3, 4),
            MidiPacket(0, 0x90, 60, 127),
            OscArg("d", 0.1),
            OscArg("c", "z"),
            OscArg("S", "sym"),
        ),
    )
    assert msg.tags == "TFNihfsbItrmdcS"
    assert decode_packet(msg.encode()) == msg


def test_osc11_and_extended_types_exact_bytes() -> None:
    packet = encode_message(
        "/t",
        [
            True,
            None,
            IMPULSE,
            OscArg("d", 1.0),
            -(1 << 40),
            OscArg("c", "A"),
            RgbaColor(0xFF, 0, 0x80, 0x01),
            MidiPacket(1, 0x90, 0x3C, 0x7F),
            IMMEDIATE,
        ],
    )
    expected = (
        b"/t\0\0"
        + b",TNIdhcrmt\0\0"
        + struct.pack(">d", 1.0)
        + struct.pack(">q", -(1 << 40))
        + b"\0\0\0A"
        + b"\xff\x00\x80\x01"
        + b"\x01\x90\x3c\x7f"
        + b"\0\0\0\0\0\0\0\x01"
    )
    assert packet == expected


def test_int_range_chooses_i_or_h() -> None:
    assert OscMessage("/x", ((1 << 31) - 1, -(1 << 31), 1 << 31)).tags == "iih"
    with pytest.raises(OscEncodeError):
        encode_message("/x", [1 << 64])
    with pytest.raises(OscEncodeError):
        OscMessage("/x", (1 << 40,), tags="i")


def test_explicit_tags_validate_values() -> None:
    assert OscMessage("/x", (1, 2), tags="fd").args == (1.0, 2.0)
    with pytest.raises(OscEncodeError):
        OscMessage("/x", ("1.0",), tags="f")
    with pytest.raises(OscEncodeError):
        OscMessage("/x", (1,), tags="ff")
    with pytest.raises(OscEncodeError):
        OscMessage("/x", (1,), tags="q")
    with pytest.raises(OscEncodeError):
        encode_message("/x", [object()])
    with pytest.raises(OscEncodeError):
        encode_message("/x", ["nul\0inside"])
    with pytest.raises(OscEncodeError):
        encode_message("/x", [1e300])  # does not fit a 32-bit float


@pytest.mark.parametrize("address", ["", "foo", "/with space", "/hash#", "/tab\t", "/é"])
def test_invalid_addresses_rejected(address: str) -> None:
    with pytest.raises(OscEncodeError):
        validate_address(address)
    with pytest.raises(OscError):
        encode_message(address, [])


def test_pattern_address_is_valid() -> None:
    validate_address("/cue/*/start")
    validate_address("/mixer/[1-8]/{gain,mute}")


def test_no_args_message() -> None:
    assert encode_message("/go") == b"/go\0,\0\0\0"
    assert decode_packet(b"/go\0,\0\0\0") == OscMessage("/go")
    # OSC 1.0 allows old senders to omit the type tag string entirely.
    assert decode_packet(b"/go\0") == OscMessage("/go")


def test_bundle_exact_bytes() -> None:
    inner = OscMessage("/a", (1,))
    bundle = OscBundle(TimeTag(1, 2), (inner,))
    expected = b"#bundle\0" + b"\0\0\0\x01\0\0\0\x02" + b"\0\0\0\x0c" + b"/a\0\0,i\0\0\0\0\0\x01"
    assert bundle.encode() == expected
    assert decode_packet(expected) == bundle


def test_nested_bundle_round_trip_and_flattening() -> None:
    a, b, c = OscMessage("/a"), OscMessage("/b", (2.5,)), OscMessage("/c", ("x",))
    packet = OscBundle(IMMEDIATE, (a, OscBundle(TimeTag.from_unix(1.5), (b,)), c))
    decoded = decode_packet(packet.encode())
    assert decoded == packet
    assert list(iter_messages(decoded)) == [a, b, c]


def test_timetag_unix_conversion() -> None:
    tag = TimeTag.from_unix(0.5)
    assert tag == TimeTag(2_208_988_800, 1 << 31)
    assert tag.to_unix() == 0.5
    assert IMMEDIATE.is_immediate
    assert not tag.is_immediate


def test_pack_bundles_respects_size_limit() -> None:
    messages = [encode_message(f"/m/{i}", [float(i)]) for i in range(10)]
    bundles = pack_bundles(messages, max_size=64)
    assert all(len(b) <= 64 for b in bundles)
    flattened = [m for b in bundles for m in iter_messages(decode_packet(b))]
    assert [m.address for m in flattened] == [f"/m/{i}" for i in range(10)]
    assert len(pack_bundles(messages, max_size=10_000)) == 1
    assert pack_bundles([], max_size=64) == []


# --------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (b"", "empty"),
        (b"foo\0", "expected '/'"),
        (b"/abc", "not NUL-terminated"),
        (b"/a\0\x01,\0\0\0", "bad padding after address"),
        (b"/a\0\0,f\0\0\0\0", "multiple of 4"),
        (b"/a\0\0,f\0\0", "truncated"),
        (b"/a\0\0,x\0\0", "unknown type tag 'x'"),
        (b"/a\0\0,[]\0", "arrays"),
        (b"/a\0\0i\0\0\0", "must start with ','"),
        (b"/a\0\0,i\0\0\0\0\0\x01\0\0\0\0", "unexpected bytes"),
        (b"/a\0\0,s\0\0ab\0\x01", "bad padding after string"),
        (b"/a\0\0,b\0\0\0\0\0\x01\x01\x01\0\0", "bad padding after blob"),
        (b"/a\0\0,b\0\0\0\0\0\x09\x01\x01\0\0", "runs past the end"),
        (b"/a\0\0,b\0\0\xff\xff\xff\xff", "negative"),
        (b"/a\0\0,s\0\0\xff\0\0\0", "UTF-8"),
        (b"#bundle\0\0\0\0\0", "header truncated"),
        (b"#bundle\0\0\0\0\0\0\0\0\x01\0\0\0\x05", "positive multiple of 4"),
        (b"#bundle\0\0\0\0\0\0\0\0\x01\0\0\0\x08/a\0\0", "runs past the end of the bundle"),
        (b"#bundle\0\0\0\0\0\0\0\0\x01\0\0", "size truncated"),
        (b"#bundle\0\0\0\0\0\0\0\0\x01\0\0\0\x04xyz\0", "expected '/'"),
    ],
)
def test_malformed_packets_raise_decode_error(packet: bytes, reason: str) -> None:
    with pytest.raises(OscDecodeError) as info:
        decode_packet(packet)
    assert reason in info.value.reason
    assert isinstance(info.value, OscError)


def test_bundle_nesting_depth_limited() -> None:
    packet: OscMessage | OscBundle = OscMessage("/deep")
    for _ in range(40):
        packet = OscBundle(IMMEDIATE, (packet,))
    with pytest.raises(OscDecodeError, match="nested deeper"):
        decode_packet(packet.encode())


# --------------------------------------------------------------------------- strategies
# (python-osc, the reference implementation, is compared in test_osc_reference.py)

common_values = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(min_value=-(1 << 31) + 1, max_value=(1 << 63) - 1),
    st.floats(width=32, allow_nan=False),
    st.text(
        alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), max_size=20
    ),
    st.binary(max_size=20),
)
addresses = st.lists(
    st.text(alphabet="abcxyz0123456789_-.", min_size=1, max_size=8), min_size=1, max_size=4
).map(lambda parts: "/" + "/".join(parts))


# --------------------------------------------------------------------------- round trips

any_values = st.one_of(
    common_values,
    st.binary(max_size=9),
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
    st.floats(allow_nan=False).map(lambda x: OscArg("d", x)),
    st.characters(blacklist_categories=["Cs"]).map(lambda c: OscArg("c", c)),
    st.just(IMPULSE),
    st.builds(TimeTag, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
    st.builds(RgbaColor, *[st.integers(0, 255)] * 4),
    st.builds(MidiPacket, *[st.integers(0, 255)] * 4),
)
messages = st.builds(
    lambda address, args: OscMessage(address, tuple(args)),
    addresses,
    st.lists(any_values, max_size=6),
)
packets = st.recursive(
    messages,
    lambda children: st.builds(
        lambda tt, elements: OscBundle(tt, tuple(elements)),
        st.builds(TimeTag, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
        st.lists(children, max_size=4),
    ),
    max_leaves=10,
)


@given(packets)
def test_round_trip(packet: OscMessage | OscBundle) -> None:
    encoded = packet.encode()
    assert len(encoded) % 4 == 0
    decoded = decode_packet(encoded)
    assert decoded == packet
    assert decoded.encode() == encoded


@given(packets, st.data())
def test_truncation_is_reported_not_crashing(
    packet: OscMessage | OscBundle, data: st.DataObject
) -> None:
    encoded = packet.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    # Usually an OscDecodeError; never another exception type.
    with contextlib.suppress(OscDecodeError):
        decode_packet(encoded[:cut])


@given(st.binary(max_size=64))
def test_garbage_only_raises_decode_error(garbage: bytes) -> None:
    with contextlib.suppress(OscDecodeError):
        decode_packet(garbage)


def test_float_nan_and_inf_encode() -> None:
    msg = decode_packet(encode_message("/f", [math.inf, math.nan]))
    assert isinstance(msg, OscMessage)
    assert msg.args[0] == math.inf
    assert math.isnan(msg.args[1])


def test_bundle_from_encoded_matches_bundle_encode() -> None:
    a = OscMessage("/a", (1.0,))
    assert bundle_from_encoded([a.encode()]) == OscBundle(IMMEDIATE, (a,)).encode()


# --------------------------------------------------------------------------- patterns
