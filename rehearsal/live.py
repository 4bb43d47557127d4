"""``stovelight record``: telemetry from websocket URLs into a recording.

The connections are ``bridges.telemetry`` Stovelight sources (the same client the
running show uses: reconnect with capped, jittered backoff; malformed frames
counted and logged at a limited rate); this module only hands what they deliver
to a :class:`Recorder`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from bridges.telemetry import (
    ConnectionSettings,
    FrameLimits,
    Sample,
    SourceStatus,
    StovelightSourceConfig,
    create_source,
)
from rehearsal.recorder import Recorder

__all__ = ["record_urls"]

_FRAME_LIMIT = 1 << 24  # a recording takes whatever a producer sends in one frame


class _RecorderSink:
    """Receives samples from the sources, stamped with show time since ``t0``."""

    def __init__(self, recorder: Recorder, loop: asyncio.AbstractEventLoop, t0: float) -> None:
        self.recorder = recorder
        self.loop = loop
        self.t0 = t0

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        t = self.loop.time() - self.t0
        wall = time.time()
        self.recorder.add_samples(
            [
                # the frame's own source is the signal's prefix ("central.temp_c")
                (t, wall, s.signal.split(".", 1)[0], s.signal, s.value, s.ts)
                for s in samples
                if s.value is not None
            ]
        )

    def on_status(self, source_name: str, status: SourceStatus, detail: str) -> None:
        if status in (SourceStatus.CONNECTED, SourceStatus.DISCONNECTED, SourceStatus.FAILED):
            self.recorder.add_event(
                self.loop.time() - self.t0,
                "note",
                {"text": f"source {status.value}", "url": source_name, "detail": detail},
            )


async def record_urls(
    urls: Sequence[str],
    recorder: Recorder,
    *,
    stop: asyncio.Event | None = None,
    settings: ConnectionSettings | None = None,
) -> None:
    """Record every URL until ``stop`` is set (or the caller is cancelled).

    Raises:
        TelemetryConfigError: a URL is not a websocket URL (checked before anything starts).
    """
    limits = FrameLimits(max_frame_bytes=_FRAME_LIMIT, max_objects=1 << 16)
    configs = [
        StovelightSourceConfig(url, url, limits, settings or ConnectionSettings()) for url in urls
    ]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sink = _RecorderSink(recorder, loop, t0)
    sources = [create_source(config, sink) for config in configs]
    recorder.add_event(0.0, "note", {"text": "recording started", "urls": list(urls)})
    tasks = [asyncio.create_task(source.run(), name=f"record:{source.name}") for source in sources]
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        for source in reversed(sources):
            await source.aclose()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        recorder.add_event(loop.time() - t0, "note", {"text": "recording stopped"})
