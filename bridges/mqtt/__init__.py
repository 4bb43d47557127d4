"""MQTT telemetry: a broker's topics as a telemetry source.

The pure part (topic patterns, payload parsing) is :mod:`.topics`; the client (over
aiomqtt) is :mod:`.source`; configuration is :mod:`.config`. The source reports to the
same :class:`~bridges.telemetry.TelemetrySink` as the websocket sources, with the same
counters and health. See the MQTT section of ``docs/telemetry-protocol.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridges.lazy import lazy_attributes

from .config import MQTT_VERSIONS, MqttSourceConfig, parse_broker_url
from .topics import DEFAULT_MAX_PAYLOAD_BYTES, MqttRoute, MqttTelemetryParser, TopicPattern

if TYPE_CHECKING:
    from .source import MqttSource, NewestPerTopicQueue

# The client (aiomqtt, paho) loads on first use, so that reading a show file does not.
_LAZY = {"MqttSource": ".source", "NewestPerTopicQueue": ".source"}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "MQTT_VERSIONS",
    "MqttRoute",
    "MqttSource",
    "MqttSourceConfig",
    "MqttTelemetryParser",
    "NewestPerTopicQueue",
    "TopicPattern",
    "parse_broker_url",
]
