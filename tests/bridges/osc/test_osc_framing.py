"""SLIP (RFC 1055, OSC 1.1 double-END) and OSC 1.0 length-prefix stream framing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.osc.errors import OscDecodeError
from bridges.osc.framing import (
    LengthPrefixDecoder,
    SlipDecoder,
    length_prefix_encode,
    slip_encode,
)
from bridges.osc.wire import encode_message
from bridges.osc.wire import slip_encode as wire_slip_encode


def test_slip_encode_escapes_end_and_esc_with_double_end() -> None:
    # RFC 1055: END 0xC0 -> ESC ESC_END (DB DC), ESC 0xDB -> ESC ESC_ESC (DB DD).
    assert slip_encode(b"\x01\xc0\x02\xdb\x03") == b"\xc0\x01\xdb\xdc\x02\xdb\xdd\x03\xc0"
    assert slip_encode(b"") == b"\xc0\xc0"
    assert slip_encode(b"\xdb\xdc") == b"\xc0\xdb\xdd\xdc\xc0"
    assert wire_slip_encode is slip_encode


def test_slip_encode_osc_message() -> None:
    packet = encode_message("/go")
    assert slip_encode(packet) == b"\xc0/go\x00,\x00\x00\x00\xc0"


def test_slip_decoder_byte_by_byte() -> None:
    decoder = SlipDecoder()
    stream = slip_encode(b"a\xc0b") + slip_encode(b"\xdbz")
    out: list[bytes] = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i : i + 1])
    assert out == [b"a\xc0b", b"\xdbz"]


def test_slip_decoder_accepts_single_end_convention_and_skips_empty_frames() -> None:
    decoder = SlipDecoder()
    assert decoder.feed(b"one\xc0\xc0\xc0two\xc0") == [b"one", b"two"]


def test_slip_decoder_drops_invalid_escape() -> None:
    decoder = SlipDecoder()
    assert decoder.feed(b"\xc0bad\xdbx\xc0\xc0good\xc0") == [b"good"]
    assert decoder.errors == 1


def test_slip_decoder_drops_and_counts_oversize_without_buffering_it() -> None:
    decoder = SlipDecoder(max_packet_size=8)
    assert decoder.feed(slip_encode(b"x" * 9)) == []
    assert decoder.oversize == 1
    # A frame far larger than the limit, fed in pieces, is discarded as it streams.
    decoder.feed(b"\xc0" + b"y" * 100)
    assert len(decoder._buffer) <= 16
    assert decoder.feed(b"y" * 100 + b"\xc0" + slip_encode(b"ok")) == [b"ok"]
    assert decoder.oversize == 2
    assert decoder.feed(slip_encode(b"\xc0" * 8)) == [b"\xc0" * 8]  # escaped size 16 is fine


@given(
    st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    st.lists(st.integers(1, 7), min_size=1, max_size=20),
)
def test_slip_round_trip_any_chunking(packets: list[bytes], chunk_sizes: list[int]) -> None:
    stream = b"".join(slip_encode(p) for p in packets)
    decoder = SlipDecoder()
    out: list[bytes] = []
    pos, i = 0, 0
    while pos < len(stream):
        size = chunk_sizes[i % len(chunk_sizes)]
        out += decoder.feed(stream[pos : pos + size])
        pos, i = pos + size, i + 1
    assert out == packets


def test_length_prefix_encode() -> None:
    assert length_prefix_encode(b"/go\0,\0\0\0") == b"\0\0\0\x08/go\0,\0\0\0"


@given(
    st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    st.integers(1, 9),
)
def test_length_prefix_round_trip_any_chunking(packets: list[bytes], chunk: int) -> None:
    stream = b"".join(length_prefix_encode(p) for p in packets)
    decoder = LengthPrefixDecoder()
    out: list[bytes] = []
    for pos in range(0, len(stream), chunk):
        out += decoder.feed(stream[pos : pos + chunk])
    assert out == packets


def test_length_prefix_oversize_skipped_exactly() -> None:
    decoder = LengthPrefixDecoder(max_packet_size=4)
    stream = length_prefix_encode(b"z" * 10) + length_prefix_encode(b"ok!!")
    assert decoder.feed(stream[:7]) == []
    assert decoder.feed(stream[7:]) == [b"ok!!"]
    assert decoder.oversize == 1


def test_length_prefix_negative_size_is_corrupt() -> None:
    decoder = LengthPrefixDecoder()
    with pytest.raises(OscDecodeError, match="negative"):
        decoder.feed(b"\xff\xff\xff\xff")


@pytest.mark.parametrize("decoder_type", [SlipDecoder, LengthPrefixDecoder])
def test_max_packet_size_must_be_positive(decoder_type: type) -> None:
    with pytest.raises(ValueError):
        decoder_type(max_packet_size=0)
