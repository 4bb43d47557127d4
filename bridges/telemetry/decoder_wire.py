"""The decoder process's link to the show: pure framing and the conflating outbox.

A source in process mode (:mod:`.decoder_process`) talks to its child
(:mod:`.decoder_child`) over one stream socket. Every message is framed as::

    length (4 bytes, big-endian, counts tag + body) | tag (1 byte) | body

Child → show:

* ``S`` a batch of at most :data:`BATCH_SAMPLES` samples, the body an orjson array of
  three arrays ``[[signal, ...], [value, ...], [ts, ...]]`` (values and times are
  already validated, so the encoding is exact: finite floats, bools, short strings,
  null; and columns, so that both ends build three lists, not one per sample);
* ``T`` a status change, body ``[status, detail]``;
* ``H`` a heartbeat with the child's health snapshot (a JSON object);
* ``L`` a log line, body ``[level, logger name, message]``.

Show → child: ``A`` (one batch or status handled: one more may be sent) and ``Q``
(stop). ``S`` and ``T`` messages need credit: the child keeps at most
:data:`MAX_IN_FLIGHT` of them unacknowledged, so the socket never holds more than a
few small batches. What the show has not taken yet waits in the child's
:class:`Outbox`, one value per signal (the newest wins), at most ``max_signals``;
values from small frames go ahead of a big frame's.

Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

import orjson

from .exceptions import TelemetryError
from .types import Sample, SampleValue, SourceStatus

__all__ = [
    "ACK",
    "BATCH_SAMPLES",
    "HEARTBEAT",
    "LOG",
    "MAX_IN_FLIGHT",
    "MAX_MESSAGE_BYTES",
    "QUIT",
    "SAMPLES",
    "SMALL_DELIVERY",
    "STATUS",
    "Batch",
    "FrameReader",
    "LinkError",
    "Outbox",
    "StatusItem",
    "decode_samples",
    "encode_columns",
    "encode_samples",
    "frame",
]

SAMPLES = b"S"
STATUS = b"T"
HEARTBEAT = b"H"
LOG = b"L"
ACK = b"A"
QUIT = b"Q"

#: Most samples in one batch: what the show loop handles in one turn for one source.
BATCH_SAMPLES = 512
#: Batches and statuses sent but not yet acknowledged by the show.
MAX_IN_FLIGHT = 8
#: A delivery of at most this many samples (a small frame) waits in the fast lane.
SMALL_DELIVERY = 64
#: Largest message accepted on the link (a batch of 512 of the longest names and
#: strings is about 120 KB); a bigger length means a broken link.
MAX_MESSAGE_BYTES = 4 << 20

_HEADER = struct.Struct(">I")


class LinkError(TelemetryError, ValueError):
    """The byte stream on the link is not framed as this module frames it."""


def frame(tag: bytes, body: bytes = b"") -> bytes:
    """One framed message."""
    return _HEADER.pack(len(body) + 1) + tag + body


def encode_samples(samples: list[Sample]) -> bytes:
    """A batch body: ``[[signal, ...], [value, ...], [ts, ...]]``."""
    return encode_columns(
        [s.signal for s in samples], [s.value for s in samples], [s.ts for s in samples]
    )


def encode_columns(
    signals: Sequence[str], values: Sequence[SampleValue], times: Sequence[float | None]
) -> bytes:
    """A batch body from its three columns (of equal length)."""
    return orjson.dumps((signals, values, times))


def decode_samples(body: bytes) -> list[Sample]:
    """The samples of a batch body.

    Raises:
        LinkError: The body is not three arrays of equal length.
    """
    try:
        signals, values, times = orjson.loads(body)
        return [Sample(*row) for row in zip(signals, values, times, strict=True)]
    except (orjson.JSONDecodeError, TypeError, ValueError) as err:
        raise LinkError(f"malformed sample batch: {err}") from err


class FrameReader:
    """Splits a byte stream into ``(tag, body)`` messages.

    Args:
        max_message: Largest accepted message; a bigger length raises LinkError.
    """

    def __init__(self, max_message: int = MAX_MESSAGE_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_message

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Add received bytes; return the messages now complete, in order.

        Raises:
            LinkError: A length of zero or over the maximum.
        """
        buffer = self._buffer
        buffer += data
        messages: list[tuple[bytes, bytes]] = []
        start = 0
        while len(buffer) - start >= _HEADER.size:
            (length,) = _HEADER.unpack_from(buffer, start)
            if not 0 < length <= self._max:
                raise LinkError(f"message length {length} out of range")
            end = start + _HEADER.size + length
            if end > len(buffer):
                break
            tag_at = start + _HEADER.size
            messages.append((bytes(buffer[tag_at : tag_at + 1]), bytes(buffer[tag_at + 1 : end])))
            start = end
        del buffer[:start]
        return messages


@dataclass(frozen=True, slots=True)
class StatusItem:
    """A status change waiting in the outbox."""

    status: SourceStatus
    detail: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Samples taken from the outbox, as columns (see :func:`encode_columns`)."""

    signals: list[str]
    values: list[SampleValue]
    times: list[float | None]

    def encode(self) -> bytes:
        """The message body."""
        return encode_columns(self.signals, self.values, self.times)

    def samples(self) -> list[Sample]:
        """The batch as samples."""
        return [Sample(*row) for row in zip(self.signals, self.values, self.times, strict=True)]


_Waiting = dict[str, tuple[SampleValue, float | None]]


class _Segment:
    """Samples between two status changes: a fast lane (small frames) and a bulk lane."""

    __slots__ = ("bulk", "fast")

    def __init__(self) -> None:
        self.fast: _Waiting = {}
        self.bulk: _Waiting = {}

    def __len__(self) -> int:
        return len(self.fast) + len(self.bulk)


class Outbox:
    """What the child has decoded and the show has not taken yet, bounded.

    Samples wait one value per signal: a newer value of a signal still waiting
    replaces it in place (counted in :attr:`conflated`). Values delivered in small
    groups (at most :data:`SMALL_DELIVERY`: a small frame) wait in a fast lane that
    fills up to half of each batch ahead of the bulk lane (a big frame's values), so a
    steady signal is not held up behind 90,000 values of one big frame; a signal moves
    to the fast lane when a small frame updates it. A status change ends the current
    segment, so the show sees samples and statuses in the order they happened;
    consecutive statuses with nothing between keep only the newest. At most
    ``max_signals`` values wait in all; beyond that a value of a signal not already
    waiting is dropped (counted in :attr:`dropped`).

    Args:
        max_signals: Most values waiting at once.
        batch: Most samples in one batch.
    """

    def __init__(self, max_signals: int, batch: int = BATCH_SAMPLES) -> None:
        if max_signals < 1 or batch < 2:
            raise ValueError("outbox sizes must be positive (batch at least 2)")
        self._items: deque[_Segment | StatusItem] = deque()
        self._max = max_signals
        self._batch = batch
        self.waiting = 0
        self.conflated = 0
        self.dropped = 0

    def __bool__(self) -> bool:
        return bool(self._items)

    def add_samples(self, samples: list[Sample]) -> None:
        """Queue samples, newest value per signal."""
        items = self._items
        last = items[-1] if items else None
        if not isinstance(last, _Segment):
            last = _Segment()
            items.append(last)
        before = len(last)
        room = self._max - self.waiting  # new signals this call may add
        if len(samples) <= SMALL_DELIVERY:
            dropped = _add_fast(last, samples, room)
        elif not last.fast and len(samples) <= room:
            last.bulk.update({s.signal: (s.value, s.ts) for s in samples})
            dropped = 0
        else:
            dropped = _add_bulk(last, samples, room)
        added = len(last) - before
        self.waiting += added
        self.dropped += dropped
        self.conflated += len(samples) - added - dropped
        if not last:
            items.pop()

    def add_status(self, status: SourceStatus, detail: str) -> None:
        """Queue a status change after the samples already waiting."""
        if self._items and isinstance(self._items[-1], StatusItem):
            self._items.pop()
        self._items.append(StatusItem(status, detail))

    def pop(self) -> StatusItem | Batch | None:
        """The next status, or the next batch of at most ``batch`` samples."""
        if not self._items:
            return None
        head = self._items[0]
        if isinstance(head, StatusItem):
            self._items.popleft()
            return head
        fast_share = self._batch // 2 if head.bulk else self._batch
        from_fast = _take(head.fast, fast_share)
        from_bulk = _take(head.bulk, self._batch - len(from_fast))
        pairs = [head.fast.pop(name) for name in from_fast]
        pairs += [head.bulk.pop(name) for name in from_bulk]
        self.waiting -= len(pairs)
        if not head:
            self._items.popleft()
        return Batch(from_fast + from_bulk, [v for v, _ in pairs], [t for _, t in pairs])


def _take(lane: _Waiting, count: int) -> list[str]:
    """The first ``count`` signals waiting in a lane (oldest first)."""
    if len(lane) <= count:
        return list(lane)
    return list(islice(lane, count))


def _add_fast(segment: _Segment, samples: list[Sample], room: int) -> int:
    """Put a small frame's values in the fast lane; return how many were dropped."""
    fast, bulk = segment.fast, segment.bulk
    dropped = 0
    for s in samples:
        name = s.signal
        if name in bulk:
            del bulk[name]  # moves ahead: its newer value is a small frame's
        elif name not in fast:
            if room <= 0:
                dropped += 1
                continue
            room -= 1
        fast[name] = (s.value, s.ts)
    return dropped


def _add_bulk(segment: _Segment, samples: list[Sample], room: int) -> int:
    """Put a big delivery's values in the bulk lane (in place if waiting); count drops."""
    fast, bulk = segment.fast, segment.bulk
    dropped = 0
    for s in samples:
        name = s.signal
        if name in fast:
            fast[name] = (s.value, s.ts)
        elif name in bulk:
            bulk[name] = (s.value, s.ts)
        elif room > 0:
            room -= 1
            bulk[name] = (s.value, s.ts)
        else:
            dropped += 1
    return dropped
