"""OSC 1.0 / 1.1 wire format: pure encode and decode functions, no sockets.

This module turns :class:`OscMessage` and :class:`OscBundle` objects into the
bytes of an OSC packet and back. It performs no I/O and reads no clock.

Type tags (OSC 1.0 specification, "OSC Type Tags"; OSC 1.1 adds T F N I as
required tags):

====  ==========================  ==================================
Tag   Python value                Inferred from
====  ==========================  ==================================
i     ``int`` (32-bit signed)     ``int`` in [-2**31, 2**31)
h     ``int`` (64-bit signed)     ``int`` outside the 32-bit range
f     ``float`` (IEEE 754 single) ``float``
d     ``float`` (IEEE 754 double) explicit ``OscArg("d", x)`` only
s     ``str``                     ``str``
S     ``str`` (symbol)            explicit only
c     ``str`` of length 1         explicit only
b     ``bytes`` (blob)            ``bytes``, ``bytearray``
T/F   ``True`` / ``False``        ``bool``
N     ``None``                    ``None``
I     :data:`IMPULSE`             :data:`IMPULSE`
t     :class:`TimeTag`            :class:`TimeTag`
r     :class:`RgbaColor`          :class:`RgbaColor`
m     :class:`MidiPacket`         :class:`MidiPacket`
====  ==========================  ==================================

Arrays (``[`` ``]``) are not supported; decoding one raises
:class:`~bridges.osc.errors.OscDecodeError` with the reason.

All sizes are multiples of 4 bytes; strings are NUL-terminated and padded with
NUL bytes, blobs are an ``int32`` size followed by the bytes and NUL padding.
The decoder is strict: non-zero padding, unknown tags, truncation and trailing
bytes are reported with the byte offset where they were found.

SLIP and length-prefix stream framing live in :mod:`bridges.osc.framing` and
are re-exported here for convenience.
"""

from __future__ import annotations

import enum
import functools
import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from bridges.osc.errors import OscDecodeError, OscEncodeError
from bridges.osc.framing import LengthPrefixDecoder, SlipDecoder, length_prefix_encode, slip_encode

__all__ = [
    "IMMEDIATE",
    "IMPULSE",
    "MAX_BUNDLE_DEPTH",
    "SUPPORTED_TAGS",
    "Impulse",
    "LengthPrefixDecoder",
    "MidiPacket",
    "OscArg",
    "OscBundle",
    "OscMessage",
    "OscPacket",
    "RgbaColor",
    "SlipDecoder",
    "TimeTag",
    "bundle_from_encoded",
    "decode_packet",
    "encode_message",
    "iter_messages",
    "length_prefix_encode",
    "pack_bundles",
    "slip_encode",
    "split_for_bundles",
    "validate_address",
]

#: Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01), RFC 5905.
NTP_UNIX_OFFSET = 2_208_988_800
_FRACTION = 1 << 32

#: Deepest bundle nesting the decoder accepts (protects the recursion).
MAX_BUNDLE_DEPTH = 16

#: Every type tag this module can encode and decode.
SUPPORTED_TAGS = frozenset("ihfdsScbTFNItrm")

_BUNDLE_HEAD = b"#bundle\x00"
_INT32 = struct.Struct(">i")
_UINT32 = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_FLOAT32 = struct.Struct(">f")
_FLOAT64 = struct.Struct(">d")
_TIMETAG = struct.Struct(">II")
_FOUR_U8 = struct.Struct(">BBBB")
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_ZERO_PAD = (b"", b"\x00\x00\x00", b"\x00\x00", b"\x00")  # index: len % 4


class TimeTag(NamedTuple):
    """An OSC time tag: 64-bit NTP fixed-point time.

    Attributes:
        seconds: Whole seconds since 1900-01-01 00:00 UTC.
        fraction: Fractions of a second in units of 2**-32 s.

    The special value ``TimeTag(0, 1)`` (:data:`IMMEDIATE`) means "now".
    """

    seconds: int
    fraction: int

    @classmethod
    def from_unix(cls, unix_time: float) -> TimeTag:
        """Convert a Unix timestamp (seconds since 1970) to a time tag."""
        whole = math.floor(unix_time)
        fraction = round((unix_time - whole) * _FRACTION)
        if fraction >= _FRACTION:  # rounding carried into the next second
            whole, fraction = whole + 1, 0
        return cls(whole + NTP_UNIX_OFFSET, fraction)

    def to_unix(self) -> float:
        """Return this time tag as a Unix timestamp in seconds."""
        return self.seconds - NTP_UNIX_OFFSET + self.fraction / _FRACTION

    @property
    def is_immediate(self) -> bool:
        """True for the special "immediately" time tag."""
        return self.seconds == 0 and self.fraction == 1


#: The time tag meaning "immediately" (OSC 1.0: 63 zero bits then a one).
IMMEDIATE = TimeTag(0, 1)


class MidiPacket(NamedTuple):
    """A 4-byte MIDI message argument (tag ``m``): port id, status, data1, data2."""

    port: int
    status: int
    data1: int
    data2: int


class RgbaColor(NamedTuple):
    """A 32-bit RGBA colour argument (tag ``r``), one byte per channel."""

    r: int
    g: int
    b: int
    a: int


class Impulse(enum.Enum):
    """Type of the OSC 1.1 "Impulse" argument (tag ``I``, no payload)."""

    IMPULSE = "I"


#: The single value of the ``I`` (Impulse, a.k.a. Infinitum/bang) type tag.
IMPULSE = Impulse.IMPULSE


@dataclass(frozen=True, slots=True)
class OscArg:
    """An argument with an explicit type tag, for types not inferred from Python.

    Example: ``OscArg("d", 0.1)`` for a double, ``OscArg("c", "x")`` for a char.
    """

    tag: str
    value: Any = None


def _validate_address_text(address: str) -> None:
    if not isinstance(address, str):
        raise OscEncodeError(f"OSC address must be a str, not {type(address).__name__}")
    if not address.startswith("/"):
        raise OscEncodeError(f"OSC address {address!r} must start with '/'")
    for ch in address:
        if not ("!" <= ch <= "~") or ch == "#":
            raise OscEncodeError(
                f"OSC address {address!r} contains {ch!r}; only printable ASCII "
                "without spaces or '#' is allowed"
            )


@functools.lru_cache(maxsize=2048)
def _encoded_address(address: str) -> bytes:
    _validate_address_text(address)
    return _pad_string(address.encode("ascii"))


def validate_address(address: str) -> None:
    """Check that ``address`` is a valid OSC address pattern.

    The address must start with ``/`` and contain only printable ASCII
    characters other than space and ``#``. Pattern characters (``* ? [ ] { }``)
    are allowed since a message's address is a pattern.

    Raises:
        OscEncodeError: If the address is not valid.
    """
    _encoded_address(address)


def _pad_string(raw: bytes) -> bytes:
    # OSC-string: bytes, then 1..4 NULs so the total is a multiple of 4.
    return raw + b"\x00" * (4 - (len(raw) & 3))


def _encode_str(value: str) -> bytes:
    raw = value.encode("utf-8")
    if b"\x00" in raw:
        raise OscEncodeError(f"OSC string {value!r} contains a NUL character")
    return _pad_string(raw)


def _encode_blob(value: bytes) -> bytes:
    return _INT32.pack(len(value)) + value + _ZERO_PAD[len(value) & 3]


def _normalize_int(tag: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        value = _as_int(value)
    lo, hi = (_I32_MIN, _I32_MAX) if tag == "i" else (_I64_MIN, _I64_MAX)
    if not lo <= value <= hi:
        raise OscEncodeError(f"integer {value} does not fit OSC type '{tag}'")
    return int(value)


def _normalize_float(tag: str, value: Any) -> float:
    if isinstance(value, bool) or not hasattr(type(value), "__float__"):
        raise OscEncodeError(f"OSC type '{tag}' needs a number, got {type(value).__name__}")
    number = float(value)
    if tag == "f":
        try:
            _FLOAT32.pack(number)
        except OverflowError as err:  # reported with the converted value
            raise OscEncodeError(f"cannot encode {number!r} as OSC type '{tag}': {err}") from err
    return number


def _normalize_str(tag: str, value: Any) -> str:
    if not isinstance(value, str):
        raise OscEncodeError(f"OSC type '{tag}' needs a str, got {type(value).__name__}")
    _encode_str(value)
    return value


def _normalize_char(tag: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise OscEncodeError(f"OSC type 'c' needs a 1-character str, got {value!r}")
    return value


def _normalize_blob(tag: str, value: Any) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise OscEncodeError(f"OSC type 'b' needs bytes, got {type(value).__name__}")
    return bytes(value)


def _constant(result: Any) -> Callable[[str, Any], Any]:
    """Normaliser of a payload-free tag: any value becomes ``result``."""

    def normalize(tag: str, value: Any) -> Any:
        return result

    return normalize


def _packed_tuple(make: Callable[..., Any], packer: struct.Struct) -> Callable[[str, Any], Any]:
    """Normaliser of a fixed-layout tuple tag: build it, then check that it packs."""

    def normalize(tag: str, value: Any) -> Any:
        result = make(*value)
        packer.pack(*result)
        return result

    return normalize


#: Tag -> normaliser. The multi-letter keys ("", "ih", "fd", "sS") keep what a
#: substring test on the tag accepted, e.g. ``OscArg("", 5)`` as a 64-bit integer.
_NORMALIZERS: dict[str, Callable[[str, Any], Any]] = {
    **dict.fromkeys(("i", "h", "ih", ""), _normalize_int),
    **dict.fromkeys(("f", "d", "fd"), _normalize_float),
    **dict.fromkeys(("s", "S", "sS"), _normalize_str),
    "c": _normalize_char,
    "b": _normalize_blob,
    "T": _constant(True),
    "F": _constant(False),
    "N": _constant(None),
    "I": _constant(IMPULSE),
    "t": _packed_tuple(TimeTag, _TIMETAG),
    "r": _packed_tuple(RgbaColor, _FOUR_U8),
    "m": _packed_tuple(MidiPacket, _FOUR_U8),
}


def _normalize(tag: str, value: Any) -> Any:
    """Check that ``value`` fits ``tag`` and return its canonical Python form."""
    try:
        if not isinstance(tag, str):
            _ = tag in "ih"  # raises the TypeError reported below for a non-str tag
        normalizer = _NORMALIZERS.get(tag)
        if normalizer is not None:
            return normalizer(tag, value)
    except OscEncodeError:
        raise
    except (TypeError, ValueError, OverflowError, struct.error) as err:
        raise OscEncodeError(f"cannot encode {value!r} as OSC type '{tag}': {err}") from err
    raise OscEncodeError(f"unsupported OSC type tag {tag!r}")


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("bool is not an OSC integer")
    if hasattr(value, "__index__"):
        return int(value.__index__())
    raise TypeError(f"{type(value).__name__} is not an integer")


#: Exact Python type -> ``(tag, canonical value)``, for the types :func:`_infer`
#: does not test inline.
_INFER_BY_TYPE: dict[type, Callable[[Any], tuple[str, Any]]] = {
    OscArg: lambda value: (value.tag, _normalize(value.tag, value.value)),
    TimeTag: lambda value: ("t", _normalize("t", value)),
    RgbaColor: lambda value: ("r", _normalize("r", value)),
    MidiPacket: lambda value: ("m", _normalize("m", value)),
    Impulse: lambda value: ("I", IMPULSE),
}


def _infer(value: Any) -> tuple[str, Any]:
    """Return ``(tag, canonical value)`` for a Python value."""
    t = type(value)
    if t is float:
        return "f", value
    if t is int:
        if _I32_MIN <= value <= _I32_MAX:
            return "i", value
        return "h", _normalize("h", value)
    if t is str:
        return "s", value
    if t is bool:
        return ("T" if value else "F"), value
    if value is None:
        return "N", None
    if t is bytes:
        return "b", value
    by_type = _INFER_BY_TYPE.get(t)
    if by_type is not None:
        return by_type(value)
    return _infer_lookalike(value)


def _infer_lookalike(value: Any) -> tuple[str, Any]:
    """Infer the tag of a subclass or look-alike (numpy scalar, IntEnum, Fraction)."""
    if isinstance(value, bytearray | memoryview):
        return "b", bytes(value)
    if isinstance(value, int) or hasattr(value, "__index__"):
        as_int = _as_int(value)
        return ("i" if _I32_MIN <= as_int <= _I32_MAX else "h"), _normalize("h", as_int)
    if isinstance(value, float) or hasattr(value, "__float__"):
        return "f", _normalize("f", value)
    if isinstance(value, str):
        return "s", str(value)
    raise OscEncodeError(f"cannot infer an OSC type for {type(value).__name__} value {value!r}")


def _encode_value(tag: str, value: Any) -> bytes:
    """Encode an already-normalized value."""
    if tag == "f":
        return _FLOAT32.pack(value)
    if tag == "i":
        return _INT32.pack(value)
    if tag in "sS":
        return _encode_str(value)
    if tag in "TFNI":
        return b""
    if tag == "b":
        return _encode_blob(value)
    if tag == "h":
        return _INT64.pack(value)
    if tag == "d":
        return _FLOAT64.pack(value)
    if tag == "c":
        return _UINT32.pack(ord(value))
    if tag == "t":
        return _TIMETAG.pack(*value)
    # "r" and "m": four unsigned bytes in field order.
    return _FOUR_U8.pack(*value)


def _encode_args(address: str, tags: str, args: Sequence[Any]) -> bytes:
    parts = [_encoded_address(address), _pad_string(("," + tags).encode("ascii"))]
    parts.extend(_encode_value(tag, value) for tag, value in zip(tags, args, strict=True))
    return b"".join(parts)


def encode_message(address: str, args: Iterable[Any] = ()) -> bytes:
    """Encode one OSC message, inferring type tags from the Python values.

    Args:
        address: The OSC address pattern, e.g. ``"/stove/temp"``.
        args: Argument values; see the module docstring for the mapping. Wrap a
            value in :class:`OscArg` to choose its tag explicitly.

    Returns:
        The packet bytes.

    Raises:
        OscEncodeError: If the address or an argument cannot be encoded.
    """
    addr = _encoded_address(address)
    tags = [","]
    parts = [b""]
    append_tag, append_part = tags.append, parts.append
    for value in args:
        t = type(value)
        if t is float:
            append_tag("f")
            try:
                append_part(_FLOAT32.pack(value))
            except OverflowError as err:
                raise OscEncodeError(f"float {value!r} does not fit OSC type 'f'") from err
        elif t is int and _I32_MIN <= value <= _I32_MAX:
            append_tag("i")
            append_part(_INT32.pack(value))
        elif t is str:
            append_tag("s")
            append_part(_encode_str(value))
        else:
            tag, canonical = _infer(value)
            append_tag(tag)
            append_part(_encode_value(tag, canonical))
    parts[0] = addr + _pad_string("".join(tags).encode("ascii"))
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class OscMessage:
    """An OSC message: an address pattern and typed arguments.

    Build one with plain Python values and the tags are inferred::

        OscMessage("/stove/temp", (21.5,))            # tags == "f"
        OscMessage("/x", (OscArg("d", 0.1), "a"))     # tags == "ds"

    or pass ``tags`` explicitly, one tag per argument. After construction
    ``args`` holds canonical values (no :class:`OscArg` wrappers) and ``tags``
    the type tags, so decoded and constructed messages compare equal.

    Raises:
        OscEncodeError: If the address or an argument is invalid.
    """

    address: str
    args: tuple[Any, ...] = ()
    tags: str = ""

    def __post_init__(self) -> None:
        validate_address(self.address)
        args = tuple(self.args)
        if self.tags:
            if len(self.tags) != len(args):
                raise OscEncodeError(
                    f"{len(self.tags)} type tags {self.tags!r} for {len(args)} arguments"
                )
            if any(isinstance(a, OscArg) for a in args):
                raise OscEncodeError("pass either explicit tags or OscArg values, not both")
            args = tuple(_normalize(tag, value) for tag, value in zip(self.tags, args, strict=True))
            tags = self.tags
        else:
            inferred = [_infer(value) for value in args]
            tags = "".join(tag for tag, _ in inferred)
            args = tuple(value for _, value in inferred)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "tags", tags)

    @classmethod
    def _trusted(cls, address: str, args: tuple[Any, ...], tags: str) -> OscMessage:
        """Build a message from decoder output without re-validating it."""
        msg = object.__new__(cls)
        object.__setattr__(msg, "address", address)
        object.__setattr__(msg, "args", args)
        object.__setattr__(msg, "tags", tags)
        return msg

    def encode(self) -> bytes:
        """Return the packet bytes of this message."""
        return _encode_args(self.address, self.tags, self.args)


@dataclass(frozen=True, slots=True)
class OscBundle:
    """An OSC bundle: a time tag and messages or nested bundles."""

    timetag: TimeTag = IMMEDIATE
    elements: tuple[OscMessage | OscBundle, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "timetag", TimeTag(*self.timetag))
        elements = tuple(self.elements)
        for element in elements:
            if not isinstance(element, OscMessage | OscBundle):
                raise OscEncodeError(
                    f"bundle elements must be OscMessage or OscBundle, not {type(element).__name__}"
                )
        object.__setattr__(self, "elements", elements)

    def encode(self) -> bytes:
        """Return the packet bytes of this bundle."""
        return bundle_from_encoded((e.encode() for e in self.elements), self.timetag)


#: Anything that is a complete OSC packet.
OscPacket: TypeAlias = OscMessage | OscBundle


def bundle_from_encoded(elements: Iterable[bytes], timetag: TimeTag = IMMEDIATE) -> bytes:
    """Build bundle bytes from already-encoded message or bundle packets.

    Raises:
        OscEncodeError: If the time tag does not fit 2 x 32 bits.
    """
    try:
        head = _BUNDLE_HEAD + _TIMETAG.pack(*timetag)
    except struct.error as err:
        raise OscEncodeError(f"invalid time tag {timetag!r}: {err}") from err
    parts = [head]
    for element in elements:
        parts.append(_INT32.pack(len(element)))
        parts.append(element)
    return b"".join(parts)


def split_for_bundles(encoded: Sequence[bytes], max_size: int) -> list[list[bytes]]:
    """Group encoded elements, in order, so each group's bundle fits ``max_size`` bytes.

    A single element too large for ``max_size`` still gets a group of its own
    (the transport decides what to do with it).
    """
    groups: list[list[bytes]] = []
    group: list[bytes] = []
    size = 16  # "#bundle\0" + time tag
    for element in encoded:
        grown = size + 4 + len(element)
        if group and grown > max_size:
            groups.append(group)
            group, grown = [], 16 + 4 + len(element)
        group.append(element)
        size = grown
    if group:
        groups.append(group)
    return groups


def pack_bundles(
    encoded: Sequence[bytes], max_size: int, timetag: TimeTag = IMMEDIATE
) -> list[bytes]:
    """Pack encoded messages into as few bundles of at most ``max_size`` bytes as possible."""
    return [bundle_from_encoded(g, timetag) for g in split_for_bundles(encoded, max_size)]


# --------------------------------------------------------------------------- decoding


def _read_string(data: bytes, pos: int, end: int, what: str) -> tuple[str, int]:
    nul = data.find(b"\x00", pos, end)
    if nul < 0:
        raise OscDecodeError(f"{what} is not NUL-terminated (truncated packet?)", pos)
    padded_end = pos + ((nul - pos) // 4 + 1) * 4
    if padded_end > end:
        raise OscDecodeError(f"{what} padding runs past the end of the packet", nul)
    if data.count(0, nul + 1, padded_end) != padded_end - nul - 1:
        raise OscDecodeError(f"bad padding after {what}: non-zero bytes", nul + 1)
    try:
        return data[pos:nul].decode("utf-8"), padded_end
    except UnicodeDecodeError as err:
        raise OscDecodeError(f"{what} is not valid UTF-8", pos) from err


def _need(pos: int, size: int, end: int, tag: str) -> None:
    if pos + size > end:
        raise OscDecodeError(
            f"argument '{tag}' needs {size} bytes but only {end - pos} remain (truncated)", pos
        )


#: Decodes one argument at ``pos`` (packet end ``end``): ``(value, next position)``.
_ArgDecoder: TypeAlias = Callable[[bytes, int, int], tuple[Any, int]]


def _decode_blob(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    _need(pos, 4, end, "b")
    size = _INT32.unpack_from(data, pos)[0]
    if size < 0:
        raise OscDecodeError(f"blob size {size} is negative", pos)
    pos += 4
    padded = (size + 3) & ~3
    if pos + padded > end:
        raise OscDecodeError(
            f"blob of {size} bytes runs past the end of the packet (truncated)", pos
        )
    if data.count(0, pos + size, pos + padded) != padded - size:
        raise OscDecodeError("bad padding after blob: non-zero bytes", pos + size)
    return data[pos : pos + size], pos + padded


def _decode_char(data: bytes, pos: int, end: int) -> tuple[str, int]:
    _need(pos, 4, end, "c")
    code = _UINT32.unpack_from(data, pos)[0]
    if code > 0x10FFFF:
        raise OscDecodeError(f"char argument {code:#x} is not a character", pos)
    return chr(code), pos + 4


def _fixed_number(tag: str, layout: struct.Struct) -> _ArgDecoder:
    """Decoder of a fixed-size single-field argument (``h``, ``d``)."""
    size = layout.size
    unpack_from = layout.unpack_from

    def decode(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos + size > end:
            _need(pos, size, end, tag)
        return unpack_from(data, pos)[0], pos + size

    return decode


def _fixed_tuple(tag: str, layout: struct.Struct, make: Callable[..., Any]) -> _ArgDecoder:
    """Decoder of a fixed-size multi-field argument: ``make(*fields)`` (``t``, ``r``, ``m``)."""
    size = layout.size
    unpack_from = layout.unpack_from

    def decode(data: bytes, pos: int, end: int) -> tuple[Any, int]:
        if pos + size > end:
            _need(pos, size, end, tag)
        return make(*unpack_from(data, pos)), pos + size

    return decode


def _reject_array(data: bytes, pos: int, end: int) -> tuple[Any, int]:
    raise OscDecodeError("OSC arrays ('[' ... ']') are not supported", pos)


#: Payload-free tags and their values.
_CONSTANT_ARGS: dict[str, Any] = {"T": True, "F": False, "N": None, "I": IMPULSE}
_NOT_CONSTANT = object()

#: Tag -> decoder for the tags :func:`_decode_args` does not handle inline.
_ARG_DECODERS: dict[str, _ArgDecoder] = {
    "b": _decode_blob,
    "h": _fixed_number("h", _INT64),
    "d": _fixed_number("d", _FLOAT64),
    "t": _fixed_tuple("t", _TIMETAG, TimeTag),
    "c": _decode_char,
    "r": _fixed_tuple("r", _FOUR_U8, RgbaColor),
    "m": _fixed_tuple("m", _FOUR_U8, MidiPacket),
    "[": _reject_array,
    "]": _reject_array,
}

_unpack_float32 = _FLOAT32.unpack_from
_unpack_int32 = _INT32.unpack_from


def _decode_args(data: bytes, pos: int, end: int, tags: str) -> tuple[list[Any], int]:
    """Decode the arguments of ``tags`` from ``pos``; ``f i s`` first, then the table."""
    args: list[Any] = []
    append = args.append
    for tag in tags:
        if tag == "f":
            if pos + 4 > end:
                _need(pos, 4, end, tag)
            append(_unpack_float32(data, pos)[0])
            pos += 4
        elif tag == "i":
            if pos + 4 > end:
                _need(pos, 4, end, tag)
            append(_unpack_int32(data, pos)[0])
            pos += 4
        elif tag in "sS":
            value, pos = _read_string(data, pos, end, f"string argument '{tag}'")
            append(value)
        elif (constant := _CONSTANT_ARGS.get(tag, _NOT_CONSTANT)) is not _NOT_CONSTANT:
            append(constant)
        else:
            decoder = _ARG_DECODERS.get(tag)
            if decoder is None:
                raise OscDecodeError(f"unknown type tag {tag!r}", pos)
            value, pos = decoder(data, pos, end)
            append(value)
    return args, pos


def _decode_message(data: bytes, start: int, end: int) -> OscMessage:
    if (end - start) % 4:
        raise OscDecodeError(f"message size {end - start} is not a multiple of 4", start)
    address, pos = _read_string(data, start, end, "address")
    if pos == end:  # OSC 1.0: old senders may omit the type tag string
        return OscMessage._trusted(address, (), "")
    if data[pos] != 0x2C:  # ","
        raise OscDecodeError("type tag string must start with ','", pos)
    tag_text, pos = _read_string(data, pos, end, "type tag string")
    tags = tag_text[1:]
    args, pos = _decode_args(data, pos, end, tags)
    if pos != end:
        raise OscDecodeError(f"{end - pos} unexpected bytes after the last argument", pos)
    return OscMessage._trusted(address, tuple(args), tags)


def _decode_bundle(data: bytes, start: int, end: int, depth: int) -> OscBundle:
    if depth > MAX_BUNDLE_DEPTH:
        raise OscDecodeError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}", start)
    if end - start < 16:
        raise OscDecodeError("bundle header truncated (needs 16 bytes)", start)
    timetag = TimeTag(*_TIMETAG.unpack_from(data, start + 8))
    pos = start + 16
    elements: list[OscMessage | OscBundle] = []
    while pos < end:
        if pos + 4 > end:
            raise OscDecodeError("bundle element size truncated", pos)
        size = _INT32.unpack_from(data, pos)[0]
        if size <= 0 or size % 4:
            raise OscDecodeError(f"bundle element size {size} is not a positive multiple of 4", pos)
        pos += 4
        if pos + size > end:
            raise OscDecodeError(
                f"bundle element of {size} bytes runs past the end of the bundle (truncated)",
                pos,
            )
        elements.append(_decode_element(data, pos, pos + size, depth + 1))
        pos += size
    return OscBundle(timetag, tuple(elements))


def _decode_element(data: bytes, start: int, end: int, depth: int) -> OscPacket:
    head = data[start]
    if head == 0x2F:  # "/"
        return _decode_message(data, start, end)
    if data.startswith(_BUNDLE_HEAD, start, end):
        return _decode_bundle(data, start, end, depth)
    raise OscDecodeError(
        f"packet starts with byte {head:#04x}; expected '/' (message) or '#bundle'", start
    )


def decode_packet(data: bytes | bytearray | memoryview) -> OscPacket:
    """Decode one OSC packet (a message or a bundle, possibly nested).

    Args:
        data: The complete packet, e.g. one UDP datagram or one SLIP frame.

    Returns:
        An :class:`OscMessage` or :class:`OscBundle`.

    Raises:
        OscDecodeError: If the packet is malformed; ``reason`` says why.
    """
    buf = bytes(data)
    if not buf:
        raise OscDecodeError("empty packet")
    return _decode_element(buf, 0, len(buf), 0)


def iter_messages(packet: OscPacket) -> Iterator[OscMessage]:
    """Yield the messages of a packet in order, unpacking nested bundles."""
    if isinstance(packet, OscMessage):
        yield packet
        return
    for element in packet.elements:
        yield from iter_messages(element)
