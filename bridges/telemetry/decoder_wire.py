"""The decoder process's link to the show: pure framing and the conflating outbox.

A source in process mode (:mod:`.decoder_process`) talks to its child
(:mod:`.decoder_child`) over one stream socket. Every message is framed as::

    length (4 bytes, big-endian, counts tag + body) | tag (1 byte) | body

Child → show:

* ``S`` a batch of at most :data:`BATCH_SAMPLES` samples, the body one flat orjson
  array ``[signal, value, ts, signal, value, ts, ...]`` (values and times are already
  validated, so the encoding is exact: finite floats, bools, short strings, null; and
  flat, so that decoding makes one list, not one per sample, for the show's garbage
  collector to track);
* ``T`` a status change, body ``[status, detail]``;
* ``H`` a heartbeat with the child's health snapshot (a JSON object);
* ``L`` a log line, body ``[level, logger name, message]``.

Show → child: ``A`` (one batch or status handled: one more may be sent) and ``Q``
(stop). ``S`` and ``T`` messages need credit: the child keeps at most
:data:`MAX_IN_FLIGHT` of them unacknowledged, so the socket never holds more than a
few small batches. What the show has not taken yet waits in the child's
:class:`Outbox`, one value per signal (the newest wins), at most ``max_signals``.

Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import struct
from collections import OrderedDict, deque
from dataclasses import dataclass

import orjson

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
    "STATUS",
    "FrameReader",
    "LinkError",
    "Outbox",
    "StatusItem",
    "decode_samples",
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
MAX_IN_FLIGHT = 4
#: Largest message accepted on the link (a batch of 512 of the longest names and
#: strings is about 120 KB); a bigger length means a broken link.
MAX_MESSAGE_BYTES = 4 << 20

_HEADER = struct.Struct(">I")


class LinkError(ValueError):
    """The byte stream on the link is not framed as this module frames it."""


def frame(tag: bytes, body: bytes = b"") -> bytes:
    """One framed message."""
    return _HEADER.pack(len(body) + 1) + tag + body


def encode_samples(samples: list[Sample]) -> bytes:
    """A batch body: ``[signal, value, ts, signal, value, ts, ...]``."""
    flat: list[object] = []
    for s in samples:
        flat += (s.signal, s.value, s.ts)
    return orjson.dumps(flat)


def decode_samples(body: bytes) -> list[Sample]:
    """The samples of a batch body.

    Raises:
        LinkError: The body is not a flat array of triples.
    """
    try:
        flat = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise LinkError(f"malformed sample batch: {err}") from err
    if not isinstance(flat, list) or len(flat) % 3:
        raise LinkError("a sample batch is a flat array of [signal, value, ts] triples")
    items = iter(flat)
    return [Sample(name, value, ts) for name, value, ts in zip(items, items, items, strict=True)]


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


class Outbox:
    """What the child has decoded and the show has not taken yet, bounded.

    Samples wait in buckets of one value per signal: a newer value of a signal still
    waiting replaces it in place (counted in :attr:`conflated`). A status change ends
    the current bucket, so the show sees samples and statuses in the order they
    happened; consecutive statuses with nothing between keep only the newest. At most
    ``max_signals`` values wait in all; beyond that a value of a signal not already
    waiting is dropped (counted in :attr:`dropped`).

    Args:
        max_signals: Most values waiting at once.
        batch: Most samples in one batch.
    """

    def __init__(self, max_signals: int, batch: int = BATCH_SAMPLES) -> None:
        if max_signals < 1 or batch < 1:
            raise ValueError("outbox sizes must be positive")
        self._items: deque[OrderedDict[str, tuple[SampleValue, float | None]] | StatusItem] = (
            deque()
        )
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
        if not isinstance(last, OrderedDict):
            last = OrderedDict()
            items.append(last)
        for sample in samples:
            if sample.signal in last:
                self.conflated += 1
            elif self.waiting >= self._max:
                self.dropped += 1
                continue
            else:
                self.waiting += 1
            last[sample.signal] = (sample.value, sample.ts)
        if not last:
            items.pop()

    def add_status(self, status: SourceStatus, detail: str) -> None:
        """Queue a status change after the samples already waiting."""
        if self._items and isinstance(self._items[-1], StatusItem):
            self._items.pop()
        self._items.append(StatusItem(status, detail))

    def pop(self) -> StatusItem | list[Sample] | None:
        """The next status, or the next batch of at most ``batch`` samples."""
        if not self._items:
            return None
        head = self._items[0]
        if isinstance(head, StatusItem):
            self._items.popleft()
            return head
        out: list[Sample] = []
        while head and len(out) < self._batch:
            name, (value, ts) = head.popitem(last=False)
            out.append(Sample(name, value, ts))
        self.waiting -= len(out)
        if not head:
            self._items.popleft()
        return out
