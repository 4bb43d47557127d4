"""Generic JSON feeds: signals picked out of any JSON document by RFC 6901 pointers.

A configuration maps signal names to :class:`PointerSpec`::

    {"kitchen.temp": PointerSpec("/data/sensors/0/t", scale=0.1)}

For each received frame every pointer is resolved; numbers become ``raw * scale +
offset``, booleans, strings and null pass through unchanged. An optional timestamp
pointer gives the sample time (epoch seconds, or an ISO 8601 string; a string without
a UTC offset is read as UTC).

The JSON pointer resolver follows RFC 6901 (https://www.rfc-editor.org/rfc/rfc6901):
``~1`` decodes to ``/`` and ``~0`` to ``~`` (in that order), array indices are ``0`` or
digits without a leading zero, and ``-`` (past the end) never resolves.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import (
    PointerSyntaxError,
    TelemetryConfigError,
    TelemetryError,
    TelemetryProtocolError,
)
from .protocol import DEFAULT_MAX_FRAME_BYTES, decode_json_frame
from .types import ParseResult, RejectReason, Sample, check_value

__all__ = [
    "JsonFeedParser",
    "JsonFeedProtocol",
    "PointerNotFound",
    "PointerSpec",
    "parse_pointer",
    "resolve_pointer",
]

_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


class PointerNotFound(TelemetryError, LookupError):
    """A JSON pointer does not resolve in a given document (not a config error)."""


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """Split an RFC 6901 JSON pointer into unescaped reference tokens.

    Args:
        pointer: ``""`` (the whole document) or a string starting with ``/``.

    Returns:
        The reference tokens, e.g. ``"/a~1b/0"`` → ``("a/b", "0")``.

    Raises:
        PointerSyntaxError: The pointer does not start with ``/`` or contains a ``~``
            not followed by ``0`` or ``1``.
    """
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise PointerSyntaxError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    if _BAD_ESCAPE.search(pointer):
        raise PointerSyntaxError(
            f"JSON pointer {pointer!r} has a '~' not followed by '0' or '1' (RFC 6901 §3)"
        )
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/"))


def resolve_pointer(document: object, tokens: tuple[str, ...] | str) -> object:
    """Resolve a JSON pointer against a decoded JSON document.

    Args:
        document: The document, as returned by :func:`json.loads`.
        tokens: Tokens from :func:`parse_pointer`, or a pointer string.

    Returns:
        The referenced value.

    Raises:
        PointerNotFound: A member or index does not exist, or a scalar is traversed.
        PointerSyntaxError: ``tokens`` is a malformed pointer string.
    """
    if isinstance(tokens, str):
        tokens = parse_pointer(tokens)
    current = document
    for token in tokens:
        if isinstance(current, dict):
            if token not in current:
                raise PointerNotFound(token)
            current = current[token]
        elif isinstance(current, list):
            if _ARRAY_INDEX.fullmatch(token) is None:
                raise PointerNotFound(token)
            index = int(token)
            if index >= len(current):
                raise PointerNotFound(token)
            current = current[index]
        else:
            raise PointerNotFound(token)
    return current


@dataclass(frozen=True, slots=True)
class PointerSpec:
    """Where one signal lives in the feed's documents, and how to scale it.

    Attributes:
        pointer: RFC 6901 JSON pointer, e.g. ``"/data/sensors/0/t"``.
        scale: Multiplier applied to numeric values.
        offset: Added to numeric values after scaling.
    """

    pointer: str
    scale: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        parse_pointer(self.pointer)
        if not (math.isfinite(self.scale) and math.isfinite(self.offset)):
            raise TelemetryConfigError(f"scale and offset of {self.pointer!r} must be finite")


def _timestamp(raw: object) -> float | None:
    """Read a timestamp: epoch seconds or ISO 8601; None if unusable."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            ts = float(raw)
        except OverflowError:
            return None
        return ts if math.isfinite(ts) else None
    if isinstance(raw, str):
        try:
            parsed = dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


class JsonFeedParser:
    """Pure parser that extracts configured signals from arbitrary JSON frames.

    Args:
        signals: Signal name → where to find it.
        timestamp_pointer: Optional pointer to the frame's timestamp.
        max_frame_bytes: Largest accepted frame in UTF-8 bytes.

    Raises:
        TelemetryConfigError: No signals, or a malformed pointer.
    """

    def __init__(
        self,
        signals: Mapping[str, PointerSpec],
        timestamp_pointer: str | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        if not signals:
            raise TelemetryConfigError("a JSON feed needs at least one signal")
        self._signals = [
            (name, parse_pointer(spec.pointer), spec) for name, spec in signals.items()
        ]
        self._ts_tokens = None if timestamp_pointer is None else parse_pointer(timestamp_pointer)
        self._max_frame_bytes = max_frame_bytes

    def parse(self, text: str) -> ParseResult:
        """Extract every configured signal from one frame.

        A pointer that does not resolve counts ``pointer_not_found``; a bad value
        counts its own reason; the other signals of the frame are still returned.
        An unusable timestamp gives samples with ``ts=None`` and counts ``wrong_type``.
        """
        result = ParseResult()
        document, reason = decode_json_frame(text, self._max_frame_bytes)
        if reason is not None:
            result.rejections.append(reason)
            return result
        ts: float | None = None
        if self._ts_tokens is not None:
            try:
                ts = _timestamp(resolve_pointer(document, self._ts_tokens))
            except PointerNotFound:
                result.rejections.append(RejectReason.POINTER_NOT_FOUND)
            else:
                if ts is None:
                    result.rejections.append(RejectReason.WRONG_TYPE)
        for name, tokens, spec in self._signals:
            try:
                raw = resolve_pointer(document, tokens)
            except PointerNotFound:
                result.rejections.append(RejectReason.POINTER_NOT_FOUND)
                continue
            value, reason = check_value(raw)
            if reason is None and isinstance(value, float):
                value, reason = check_value(value * spec.scale + spec.offset)
            if reason is not None:
                result.rejections.append(reason)
                continue
            result.samples.append(Sample(name, value, ts))
        return result


class JsonFeedProtocol:
    """Sans-I/O protocol object for one connection to a generic JSON feed.

    Args:
        parser: The configured parser.
        subscribe_message: Optional text frame sent once the websocket is open (and
            again after every reconnect), for feeds that need a subscription request.
    """

    def __init__(self, parser: JsonFeedParser, subscribe_message: str | None = None) -> None:
        self._parser = parser
        self._outgoing = [] if subscribe_message is None else [subscribe_message]
        self._samples: list[Sample] = []
        self._rejections: list[RejectReason] = []

    @property
    def ready(self) -> bool:
        """True: a feed streams as soon as it is open (after the subscribe message)."""
        return True

    @property
    def failure(self) -> TelemetryProtocolError | None:
        """Always None: bad frames are counted, never fatal."""
        return None

    def receive_text(self, text: str) -> None:
        """Extract the configured signals from one text frame."""
        result = self._parser.parse(text)
        self._samples.extend(result.samples)
        self._rejections.extend(result.rejections)

    def receive_bytes(self, data: bytes) -> None:
        """Accept JSON in a binary frame if it is valid UTF-8."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self._rejections.append(RejectReason.MALFORMED_JSON)
            return
        self.receive_text(text)

    def data_to_send(self) -> list[str]:
        """Return and clear the frames to send (the subscribe message, once)."""
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def samples_received(self) -> list[Sample]:
        """Return and clear the decoded samples."""
        samples, self._samples = self._samples, []
        return samples

    def rejections_received(self) -> list[RejectReason]:
        """Return and clear the rejection reasons."""
        rejections, self._rejections = self._rejections, []
        return rejections
