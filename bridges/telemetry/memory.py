"""In-memory twins for tests and rehearsal: a source you push into, a sink that records.

``MemorySource`` behaves like a real source towards the sink (same counters, status
deduplication and sink-error handling) but has no connection: a test calls
:meth:`MemorySource.push_samples` and :meth:`MemorySource.push_status`.
``RecordingSink`` implements :class:`~bridges.telemetry.types.TelemetrySink` and lets a
test wait for a condition instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from .connection import TelemetrySource
from .types import RejectReason, Sample, SampleValue, SourceStatus, TelemetrySink

__all__ = ["MemorySource", "RecordingSink"]


class MemorySource(TelemetrySource):
    """A telemetry source fed by the test or rehearsal code that owns it.

    ``run()`` waits until :meth:`aclose`; pushing works whether or not it runs.
    """

    kind = "memory"

    def __init__(
        self, name: str, sink: TelemetrySink, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(name, sink, clock=clock)

    def push_samples(self, samples: Iterable[Sample]) -> None:
        """Deliver samples as if they arrived in one frame."""
        self.counters.frames += 1
        self.counters.last_frame_at = self._clock()
        self._deliver(list(samples))

    def push_rejections(self, reasons: Iterable[RejectReason]) -> None:
        """Count rejections as if a parser had reported them."""
        self.counters.reject(tuple(reasons))

    def push_status(self, status: SourceStatus, detail: str = "") -> None:
        """Report a status change to the sink (identical repeats are dropped)."""
        self._set_status(status, detail)

    async def _run(self) -> None:
        await asyncio.Event().wait()


class RecordingSink:
    """A :class:`~bridges.telemetry.types.TelemetrySink` that records everything."""

    def __init__(self) -> None:
        self.samples: list[tuple[str, Sample]] = []
        self.statuses: list[tuple[str, SourceStatus, str]] = []
        self._changed = asyncio.Event()

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        """Record samples."""
        self.samples.extend((source_name, sample) for sample in samples)
        self._changed.set()

    def on_status(self, source_name: str, status: SourceStatus, detail: str) -> None:
        """Record a status change."""
        self.statuses.append((source_name, status, detail))
        self._changed.set()

    def values(self, signal: str) -> list[SampleValue]:
        """Every value received for ``signal``, oldest first."""
        return [sample.value for _, sample in self.samples if sample.signal == signal]

    def latest(self) -> dict[str, Sample]:
        """The last sample of every signal."""
        return {sample.signal: sample for _, sample in self.samples}

    def status_history(self, source_name: str | None = None) -> list[SourceStatus]:
        """The statuses reported, oldest first, optionally for one source."""
        return [s for name, s, _ in self.statuses if source_name in (None, name)]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; re-checked after every sink call.

        Bound it with ``asyncio.timeout`` in tests.
        """
        while not predicate():
            self._changed.clear()
            await self._changed.wait()
