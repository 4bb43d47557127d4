"""The running show's side of dashboard relays: the public snapshot to a broker.

With ``[relay] broker = "mqtt://…"`` in the show file, the show publishes its public
dashboard snapshot (the same body its own ``/ws`` sends, never the console's) at
``rate_hz``, retained, to ``topic``. Any number of ``stovelight relay`` processes
subscribe and serve it to viewers. Only the newest snapshot matters: the publisher
builds one per period and never queues; while the broker is away it builds nothing
and retries with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiomqtt

from bridges.mqtt.config import parse_broker_url
from bridges.mqtt.session import stay_connected
from bridges.ratelimit import RateLimitedLogger
from show.showfile.config import RelayConfig
from show.web.protocol import encode_message_bytes

__all__ = ["SnapshotPublisher", "relay_payload"]

log = logging.getLogger(__name__)


def relay_payload(body: Mapping[str, Any], wall: float) -> bytes:
    """The retained message: the public snapshot body plus the show's wall clock
    (``published``), so a relay can tell a live show from a stopped one."""
    return encode_message_bytes({"published": wall, "snapshot": dict(body)})


class SnapshotPublisher:
    """Publishes ``build()`` every ``1 / rate_hz`` seconds until cancelled.

    Args:
        config: Broker, topic, rate and credentials.
        build: The public snapshot (``show.web.snapshots.Snapshots.public``).
        clock: Wall clock stamped into each message.
    """

    def __init__(
        self,
        config: RelayConfig,
        build: Callable[[], Mapping[str, Any]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        parse_broker_url(config.broker)  # refused here, not at the first connect
        self._build = build
        self._clock = clock
        self._warn = RateLimitedLogger(log, 30.0)
        self.published = 0
        self.build_errors = 0
        self.connected = False
        self.last_bytes = 0

    def stats(self) -> dict[str, Any]:
        """For the console's outputs panel."""
        return {
            "broker": self.config.broker,
            "topic": self.config.topic,
            "connected": self.connected,
            "published": self.published,
            "build_errors": self.build_errors,
            "last_bytes": self.last_bytes,
        }

    async def run(self) -> None:
        """Publish until cancelled; reconnect with backoff."""

        async def publish(client: aiomqtt.Client) -> None:
            log.info(
                "relay: publishing the public dashboard to %s topic %s",
                self.config.broker,
                self.config.topic,
            )
            await self._publish_forever(client)

        def state(up: bool) -> None:
            self.connected = up

        await stay_connected(
            self.config.broker,
            publish,
            label="relay",
            warn=self._warn,
            on_state=state,
            username=self.config.username,
            password=self.config.password,
            identifier=f"stovelight-show-{random.getrandbits(32):08x}",
        )

    async def _publish_forever(self, client: aiomqtt.Client) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.config.rate_hz
        deadline = loop.time()
        while True:
            try:
                payload = relay_payload(self._build(), self._clock())
            except Exception as err:  # a snapshot bug must not stop the show
                self.build_errors += 1
                self._warn.warning("build", "relay: snapshot failed: %s", err, exc_info=True)
            else:
                await client.publish(self.config.topic, payload, qos=0, retain=True)
                self.published += 1
                self.last_bytes = len(payload)
            deadline += period
            now = loop.time()
            if deadline < now:  # late (a slow broker): skip, never catch up in a burst
                deadline = now + period
            await asyncio.sleep(deadline - now)
