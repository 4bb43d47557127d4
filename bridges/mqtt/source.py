"""An MQTT broker as a telemetry source, read with aiomqtt.

aiomqtt is an asyncio client over paho-mqtt (MQTT 5.0 and 3.1.1, TLS, user and
password); this module owns the reconnect loop, the backlog and the health status,
exactly as :class:`~bridges.telemetry.connection.WebSocketSource` does for
websockets, and hands samples to the same :class:`~bridges.telemetry.TelemetrySink`.

Under overload the newest message per topic wins: the client's incoming queue keeps
one message per topic (a newer one replaces the waiting one in place), holds at most
``max_backlog`` topics (the oldest waiting topic is dropped beyond that), and every
replacement or drop is counted. Subscriptions use QoS 0, so a broker never stores
old readings for us while we are away; retained messages give the current state on
every (re)connect.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bridges.telemetry.connection import SleepFn, TelemetrySource
from bridges.telemetry.types import Sample, SourceStatus, TelemetrySink

from .config import MqttSourceConfig

__all__ = ["MqttSource", "NewestPerTopicQueue"]

_LOGGER = logging.getLogger(__name__)

_BATCH_S = 0.005
"""Longest a source reads queued messages before handing their samples on."""


class NewestPerTopicQueue(asyncio.Queue[aiomqtt.Message]):
    """An asyncio queue that keeps one waiting message per topic, in arrival order.

    ``limit`` (a class attribute, set per source) bounds the topics waiting; the
    oldest is dropped beyond it. ``conflated`` and ``dropped`` count what was lost.
    """

    limit = 10_000
    #: The newest queue made from this class (the client makes one per connection).
    current: NewestPerTopicQueue | None = None

    def _init(self, maxsize: int) -> None:
        self._queue: OrderedDict[str, aiomqtt.Message] = OrderedDict()
        self.conflated = 0
        self.dropped = 0
        type(self).current = self

    def _put(self, item: aiomqtt.Message) -> None:
        key = item.topic.value
        if key in self._queue:
            self._queue[key] = item  # keeps its place: a busy topic cannot starve others
            self.conflated += 1
            return
        if len(self._queue) >= self.limit:
            self._queue.popitem(last=False)
            self.dropped += 1
        self._queue[key] = item

    def _get(self) -> aiomqtt.Message:
        return self._queue.popitem(last=False)[1]

    def _qsize(self) -> int:
        return len(self._queue)


class MqttSource(TelemetrySource):
    """Subscribes to a broker and turns matching messages into samples.

    Args:
        config: Broker, topics and limits.
        sink: Where samples and status changes go.
        rand: Uniform random numbers in [0, 1) for the backoff jitter.
        sleep: Awaitable sleep used between attempts.
        clock: Wall clock for ``last_frame_at``.
        log_interval: Seconds between repeated warnings of the same kind.
    """

    kind = "mqtt"

    def __init__(
        self,
        config: MqttSourceConfig,
        sink: TelemetrySink,
        *,
        rand: Callable[[], float] = random.random,
        sleep: SleepFn = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        log_interval: float = 10.0,
    ) -> None:
        super().__init__(config.name, sink, clock=clock, log_interval=log_interval)
        self.config = config
        self._parser = config.parser()
        self._rand = rand
        self._sleep = sleep
        self._queue_type: type[NewestPerTopicQueue] = type(
            "NewestPerTopicQueue", (NewestPerTopicQueue,), {"limit": config.max_backlog}
        )
        self._queue: NewestPerTopicQueue | None = None
        self._conflated = 0
        self._dropped = 0
        self.retained = 0

    def stats(self) -> dict[str, object]:
        """Health snapshot, with the broker, the subscriptions and the backlog."""
        queue = self._queue
        return {
            **super().stats(),
            "url": self.config.url,
            "topics": self._parser.subscriptions(),
            "retained": self.retained,
            "backlog": 0 if queue is None else queue.qsize(),
            "conflated": self._conflated + (0 if queue is None else queue.conflated),
            "backlog_dropped": self._dropped + (0 if queue is None else queue.dropped),
        }

    def _client(self) -> aiomqtt.Client:
        cfg = self.config
        host, port, tls = cfg.broker
        v5 = cfg.protocol == "5"
        properties = None
        if v5:
            # MQTT 5.0 §3.1.2.11.4: the broker must not send larger packets; the
            # payload limit plus room for the topic and headers.
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.MaximumPacketSize = cfg.max_payload_bytes + 65_536 + 16
        context = None
        if tls:
            context = ssl.create_default_context(cafile=cfg.ca_file or None)
            if cfg.tls_insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        return aiomqtt.Client(
            host,
            port,
            username=cfg.username or None,
            password=cfg.password or None,
            identifier=cfg.client_id or None,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            queue_type=self._queue_type,
            timeout=self.config.settings.open_timeout,
            keepalive=cfg.keepalive,
            properties=properties,
            tls_context=context,
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        opened = 0.0
        url = self.config.url
        while not self._closing:
            self._set_status(SourceStatus.CONNECTING, f"connecting to {url}")
            connected = False
            try:
                client = self._client()
                async with client:
                    for topic in self._parser.subscriptions():
                        await client.subscribe(topic, qos=0)
                    connected = True
                    opened = loop.time()
                    self.counters.connects += 1
                    self._set_status(SourceStatus.CONNECTED, f"connected to {url}")
                    _LOGGER.info("telemetry source %s subscribed at %s", self._name, url)
                    await self._session(client)
            except aiomqtt.MqttError as err:
                detail = _describe(err, connected, url)
                if not connected:
                    self.counters.connect_failures += 1
                self._set_status(SourceStatus.DISCONNECTED, detail)
                self._ratelimited.warning(
                    "disconnect", "telemetry source %s: %s", self._name, detail
                )
            finally:
                self._keep_queue_counts()
            # as for websocket sources, only a connection that lasted clears the backoff:
            # a broker that accepts and drops at once is not retried in a storm
            if connected and loop.time() - opened >= self.config.settings.stable_after:
                attempt = 0
            delay = self.config.settings.backoff.delay(attempt, self._rand())
            attempt += 1
            await self._sleep(delay)

    def _keep_queue_counts(self) -> None:
        queue = self._queue
        if queue is not None:
            self._conflated += queue.conflated
            self._dropped += queue.dropped
        self._queue = None

    async def _session(self, client: aiomqtt.Client) -> None:
        """Read messages until the connection ends (``MqttError``)."""
        loop = asyncio.get_running_loop()
        messages = client.messages
        self._queue = self._queue_type.current
        while True:
            message = await anext(messages)
            samples: list[Sample] = []
            self._handle(message, samples)
            started = loop.time()
            queue = self._queue
            # what else is waiting is taken straight from the queue (no task per message)
            while queue is not None and queue.qsize() and loop.time() - started < _BATCH_S:
                self._handle(queue.get_nowait(), samples)
            self._deliver(samples)

    def _handle(self, message: aiomqtt.Message, samples: list[Sample]) -> None:
        """Parse one message into ``samples``; count and log what was refused."""
        self.counters.frames += 1
        self.counters.last_frame_at = self._clock()
        if message.retain:
            self.retained += 1
        payload = message.payload
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, bytes | bytearray):
            payload = b"" if payload is None else str(payload).encode()
        result = self._parser.parse(message.topic.value, bytes(payload))
        if result.rejections:
            self.counters.reject(result.rejections)
            self._ratelimited.warning(
                "rejected",
                "telemetry source %s rejected data on %s: %s (totals: %s)",
                self._name,
                message.topic.value[:120],
                ", ".join(sorted({reason.value for reason in result.rejections})),
                dict(self.counters.rejected),
            )
        samples.extend(result.samples)


def _describe(err: aiomqtt.MqttError, connected: bool, url: str) -> str:
    text = str(err) or type(err).__name__
    if connected:
        return f"connection to {url} lost: {text}"
    return f"cannot connect to {url}: {text}"
