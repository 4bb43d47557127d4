"""Publish telemetry frames to an MQTT broker, one retained topic per value.

A frame ``{"source": "home-01", "values": {"temp_c": 182.5}}`` becomes the plain-text
message ``182.5`` on ``<prefix>/home-01/temp_c``, as Home Assistant's statestream and
OpenEnergyMonitor publish their readings. A show reads them all with one route::

    [[sources.homes.topics]]
    topic = "stovelight/{source}/{key}"
    signal = "{source}.{key}"

The simulator uses this for ``stovelight simulate --mqtt``. Waiting messages are kept
one per topic (a newer value replaces the unsent one), so a slow broker never makes
memory grow; messages are retained, so a show that subscribes later starts from the
current state.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

import aiomqtt

from bridges.mqtt.config import parse_broker_url
from bridges.mqtt.session import stay_connected
from bridges.ratelimit import RateLimitedLogger
from rehearsal.telemetry import Frame

__all__ = ["MqttFramePublisher", "frame_messages"]

log = logging.getLogger(__name__)


def frame_messages(prefix: str, frames: Iterable[Frame]) -> list[tuple[str, bytes]]:
    """(topic, payload) for every value of ``frames``."""
    out: list[tuple[str, bytes]] = []
    for frame in frames:
        source = frame["source"]
        for key, value in frame["values"].items():
            out.append((f"{prefix}/{source}/{key}", _payload(value)))
    return out


def _payload(value: object) -> bytes:
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


class MqttFramePublisher:
    """Keeps the newest value of every topic and publishes them to a broker.

    Args:
        url: ``mqtt://host:port``.
        prefix: First topic level.
        username: Broker user, if needed.
        password: Broker password.
    """

    def __init__(
        self, url: str, prefix: str = "stovelight", *, username: str = "", password: str = ""
    ) -> None:
        parse_broker_url(url)  # refused here, not at the first connect
        self.url = url
        self.prefix = prefix
        self.username = username
        self.password = password
        self.published = 0
        self.replaced = 0
        self._pending: dict[str, bytes] = {}
        self._wake = asyncio.Event()
        self._warn = RateLimitedLogger(log, 10.0)
        self.connected = asyncio.Event()

    def offer(self, frames: Iterable[Frame]) -> None:
        """Queue the values of ``frames`` (newest per topic wins); never blocks."""
        for topic, payload in frame_messages(self.prefix, frames):
            if topic in self._pending:
                self.replaced += 1
            self._pending[topic] = payload
        if self._pending:
            self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled; reconnect with backoff when the broker goes away."""

        async def publish(client: aiomqtt.Client) -> None:
            log.info("publishing telemetry to %s under %s/", self.url, self.prefix)
            await self._publish_forever(client)

        def state(up: bool) -> None:
            (self.connected.set if up else self.connected.clear)()

        await stay_connected(
            self.url,
            publish,
            label="simulator",
            warn=self._warn,
            on_state=state,
            username=self.username,
            password=self.password,
        )

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, {}
            for topic, payload in batch.items():
                await client.publish(topic, payload, qos=0, retain=True)
                self.published += 1
