"""``stovelight demo --mqtt``: the demo's telemetry through a real MQTT broker.

A private Mosquitto starts on a free loopback port, the simulator publishes every
value to it (``stovelight/<source>/<key>``, retained) and the demo show reads them
with an ``mqtt`` source instead of its websocket one: the path a venue with real
Tasmota or Shelly devices would use, end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable

from rehearsal.broker import MosquittoBroker
from rehearsal.mqtt_publish import MqttFramePublisher
from rehearsal.sim.server import SimulatorServer
from show.showfile.config import MqttSettings, MqttTopicConfig, Show, SourceConfig

__all__ = ["PREFIX", "attach_publisher", "over_mqtt"]

log = logging.getLogger(__name__)

#: First topic level of the simulator's messages.
PREFIX = "stovelight"


def over_mqtt(show: Show, url: str) -> Show:
    """``show`` with each websocket source replaced by an MQTT source on ``url``."""
    route = MqttTopicConfig(f"{PREFIX}/{{source}}/{{key}}", "{source}.{key}")
    sources = tuple(
        SourceConfig(
            name=s.name, kind="mqtt", url=url, mqtt=MqttSettings(topics=(route,), protocol="5")
        )
        for s in show.sources
    )
    return dataclasses.replace(show, sources=sources)


def attach_publisher(sim: SimulatorServer, url: str) -> Callable[[], Awaitable[None]]:
    """Publish ``sim``'s frames to ``url``; returns the closer that stops publishing."""
    publisher = MqttFramePublisher(url, PREFIX)
    sim.frame_listeners.append(publisher.offer)
    task = asyncio.create_task(publisher.run(), name="demo-mqtt-publisher")

    async def close() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return close


def with_broker(run: Callable[[str], int]) -> int:
    """Start a private broker, call ``run(url)``, stop the broker; returns its status."""
    with MosquittoBroker() as broker:
        log.info("demo: MQTT broker (Mosquitto) on %s", broker.url)
        return run(broker.url)
