"""``stovelight record``: telemetry from websocket URLs and MQTT brokers into a recording.

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

from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig
from bridges.telemetry import (
    ConnectionSettings,
    FrameLimits,
    Sample,
    SourceStatus,
    StovelightSourceConfig,
    create_source,
)
from rehearsal.recorder import Recorder

__all__ = ["DEFAULT_MQTT_ROUTES", "record_urls"]

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


#: What ``record`` reads from a broker when no ``--topic`` is given: the layout
#: ``stovelight simulate --mqtt`` publishes.
DEFAULT_MQTT_ROUTES = (MqttRoute("stovelight/{source}/{key}", "{source}.{key}"),)


async def record_urls(
    urls: Sequence[str],
    recorder: Recorder,
    *,
    stop: asyncio.Event | None = None,
    settings: ConnectionSettings | None = None,
    mqtt_routes: Sequence[MqttRoute] = DEFAULT_MQTT_ROUTES,
) -> None:
    """Record every URL (``ws://``, ``wss://``, ``mqtt://``, ``mqtts://``) until ``stop``
    is set (or the caller is cancelled). Brokers are read through ``mqtt_routes``.

    Raises:
        TelemetryConfigError: a URL is not a telemetry URL (checked before anything starts).
    """
    limits = FrameLimits(max_frame_bytes=_FRAME_LIMIT, max_objects=1 << 16, max_values=1 << 16)
    settings = settings or ConnectionSettings()
    configs = [
        MqttSourceConfig(url, url, tuple(mqtt_routes), settings=settings)
        if url.startswith("mqtt")
        else StovelightSourceConfig(url, url, limits, settings)
        for url in urls
    ]
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    sink = _RecorderSink(recorder, loop, t0)
    sources = [
        MqttSource(config, sink)
        if isinstance(config, MqttSourceConfig)
        else create_source(config, sink)
        for config in configs
    ]
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
