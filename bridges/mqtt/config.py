"""Configuration of an MQTT telemetry source: a frozen dataclass, validated on creation.

The show-file loader builds it (reading a password file there, not here); nothing
in this package reads files or the environment.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field

from bridges.telemetry.config import ConnectionSettings
from bridges.telemetry.exceptions import TelemetryConfigError

from .topics import DEFAULT_MAX_PAYLOAD_BYTES, MqttRoute, MqttTelemetryParser

__all__ = ["MQTT_VERSIONS", "MqttSourceConfig", "parse_broker_url", "tls_context_for"]

#: Accepted ``protocol`` values: MQTT 5.0 and MQTT 3.1.1.
MQTT_VERSIONS = ("5", "3.1.1")

_URL = re.compile(r"(mqtts?)://(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?/?")


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` → (host, port, tls).

    The default ports are 1883 and 8883 (IANA's registrations for MQTT).

    Raises:
        TelemetryConfigError: Not such a URL.
    """
    match = _URL.fullmatch(url)
    if match is None:
        raise TelemetryConfigError(
            f"broker url {url!r} must look like mqtt://host:1883 or mqtts://host:8883"
        )
    scheme, host, port_text = match.groups()
    tls = scheme == "mqtts"
    port = int(port_text) if port_text else (8883 if tls else 1883)
    if not 0 < port < 65536:
        raise TelemetryConfigError(f"broker url {url!r}: port {port} is out of range")
    return host.strip("[]"), port, tls


def tls_context_for(url: str, ca_file: str = "") -> ssl.SSLContext | None:
    """The TLS context an ``mqtts://`` URL needs (None for ``mqtt://``)."""
    if not parse_broker_url(url)[2]:
        return None
    return ssl.create_default_context(cafile=ca_file or None)


@dataclass(frozen=True, slots=True)
class MqttSourceConfig:
    """An MQTT broker and the topics that feed the show.

    Attributes:
        name: Source name shown on the health display.
        url: ``mqtt://host:port`` or ``mqtts://host:port`` (TLS).
        routes: Topic patterns → signals (see :class:`~bridges.mqtt.topics.MqttRoute`).
        protocol: ``"5"`` (MQTT 5.0) or ``"3.1.1"``.
        username: Broker user, if it asks for one.
        password: Broker password (kept out of ``repr``).
        client_id: Client identifier; empty for one chosen by the client library.
        ca_file: CA bundle for ``mqtts://``; empty for the system's.
        tls_insecure: Accept any certificate and host name (test benches only).
        max_payload_bytes: Larger messages are refused (and, over MQTT 5, the broker
            is asked not to send them at all).
        max_backlog: Most distinct topics waiting to be read; under overload the
            newest message per topic wins and the oldest topic waiting is dropped.
        keepalive: Seconds between MQTT keepalive pings (the broker declares the
            link dead after 1.5 times this).
        settings: Connect timeout and reconnection backoff, as for websocket sources.
    """

    name: str
    url: str
    routes: tuple[MqttRoute, ...]
    protocol: str = "5"
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""
    ca_file: str = ""
    tls_insecure: bool = False
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_backlog: int = 10_000
    keepalive: int = 10
    settings: ConnectionSettings = field(default_factory=ConnectionSettings)

    def __post_init__(self) -> None:
        if not self.name:
            raise TelemetryConfigError("a telemetry source needs a name")
        parse_broker_url(self.url)
        if self.protocol not in MQTT_VERSIONS:
            raise TelemetryConfigError(
                f"source {self.name!r}: protocol {self.protocol!r}; use one of {MQTT_VERSIONS}"
            )
        if self.password and not self.username:
            raise TelemetryConfigError(f"source {self.name!r}: a password needs a username")
        if not 16 <= self.max_payload_bytes <= 16 << 20:
            raise TelemetryConfigError(
                f"source {self.name!r}: max_payload_bytes must be 16 B to 16 MiB"
            )
        if self.max_backlog < 1:
            raise TelemetryConfigError(f"source {self.name!r}: max_backlog must be >= 1")
        if not 1 <= self.keepalive <= 65535:
            raise TelemetryConfigError(f"source {self.name!r}: keepalive must be 1-65535 s")
        self.parser()

    @property
    def broker(self) -> tuple[str, int, bool]:
        """(host, port, tls) from :attr:`url`."""
        return parse_broker_url(self.url)

    def parser(self) -> MqttTelemetryParser:
        """The pure parser for this source's routes."""
        return MqttTelemetryParser(self.routes, self.max_payload_bytes)
