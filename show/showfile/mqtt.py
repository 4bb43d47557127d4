"""The show file's MQTT tables, read and checked: ``kind = "mqtt"`` sources and
``[relay]`` (the public dashboard published to a broker).

    [sources.homes]
    kind = "mqtt"
    url = "mqtt://127.0.0.1:1883"
    [[sources.homes.topics]]
    topic = "tele/{home}/SENSOR"
    signal = "{home}.power_kw"
    pointer = "/ENERGY/Power"
    scale = 0.001

Topic patterns, signal templates and broker URLs are checked with the MQTT bridge's
own rules, so ``stovelight check`` refuses exactly what the source would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridges.mqtt.config import MQTT_VERSIONS, parse_broker_url
from bridges.mqtt.topics import DEFAULT_MAX_PAYLOAD_BYTES, MqttRoute
from bridges.telemetry.exceptions import TelemetryConfigError
from show.showfile.config import MqttSettings, MqttTopicConfig, RelayConfig, SourceConfig
from show.showfile.reader import Reader

__all__ = ["MQTT_KEYS", "read_mqtt_source", "read_relay"]

MQTT_KEYS = (
    "kind",
    "url",
    "topics",
    "protocol",
    "username",
    "password_file",
    "client_id",
    "ca_file",
    "tls_insecure",
    "max_payload_bytes",
)
_TOPIC_KEYS = ("topic", "signal", "pointer", "scale", "offset")


def read_mqtt_source(
    r: Reader, name: str, t: dict[str, Any], path: str, base: Path
) -> SourceConfig:
    """One ``[sources.NAME]`` table of kind ``mqtt``; problems go to ``r``."""
    r.check_keys(t, MQTT_KEYS, path)
    url = r.string(t, "url", path)
    if url:
        try:
            parse_broker_url(url)
        except TelemetryConfigError as err:
            r.problem(f"{path}.url", str(err))
    topics = _topics(r, t, path)
    username = r.string(t, "username", path, default="")
    password = ""
    password_file = r.string(t, "password_file", path, default="")
    if password_file:
        pf = (base / password_file).expanduser()
        try:
            password = pf.read_text(encoding="utf-8").strip()
        except OSError as exc:
            r.problem(f"{path}.password_file", f"cannot read {pf}: {exc.strerror}")
        if not username:
            r.problem(f"{path}.password_file", "a password needs username = '...' too")
    ca_file = r.string(t, "ca_file", path, default="")
    if ca_file:
        ca = (base / ca_file).expanduser()
        if not ca.is_file():
            r.problem(f"{path}.ca_file", f"no such file: {ca}")
        ca_file = str(ca)
    settings = MqttSettings(
        topics=tuple(topics),
        protocol=r.string(t, "protocol", path, default="5", choices=MQTT_VERSIONS),
        username=username,
        password=password,
        client_id=r.string(t, "client_id", path, default=""),
        ca_file=ca_file,
        tls_insecure=r.boolean(t, "tls_insecure", path, default=False),
        max_payload_bytes=r.integer(
            t, "max_payload_bytes", path, default=DEFAULT_MAX_PAYLOAD_BYTES, lo=16, hi=16 << 20
        ),
    )
    return SourceConfig(name=name, kind="mqtt", url=url, mqtt=settings)


def _topics(r: Reader, t: dict[str, Any], path: str) -> list[MqttTopicConfig]:
    raw = t.get("topics")
    if raw is None:
        r.problem(
            f"{path}.topics",
            "an mqtt source needs topics = [{ topic = 'tele/{home}/SENSOR', "
            "signal = '{home}.power_w', pointer = '/ENERGY/Power' }]",
        )
        return []
    entries = r.tables(t, "topics", path)
    out: list[MqttTopicConfig] = []
    for i, spec in enumerate(entries):
        tp = f"{path}.topics[{i}]"
        r.check_keys(spec, _TOPIC_KEYS, tp)
        topic = r.string(spec, "topic", tp)
        signal = r.string(spec, "signal", tp)
        pointer = r.string(spec, "pointer", tp, default="")
        if pointer and not pointer.startswith("/"):
            r.problem(f"{tp}.pointer", f"found {pointer!r}; a JSON pointer starts with '/'")
            continue
        entry = MqttTopicConfig(
            topic,
            signal,
            pointer,
            r.number(spec, "scale", tp, default=1.0),
            r.number(spec, "offset", tp, default=0.0),
        )
        if topic and signal:
            try:
                MqttRoute(entry.topic, entry.signal, entry.pointer, entry.scale, entry.offset)
            except TelemetryConfigError as err:
                r.problem(tp, str(err))
                continue
        out.append(entry)
    if not entries and isinstance(raw, list):
        r.problem(f"{path}.topics", "list at least one topic")
    return out


_RELAY_KEYS = ("broker", "topic", "rate_hz", "username", "password_file")


def read_relay(r: Reader, data: dict[str, Any], base: Path) -> RelayConfig | None:
    """The optional ``[relay]`` table: where the public dashboard is published."""
    if "relay" not in data:
        return None
    t = r.table(data, "relay", "")
    r.check_keys(t, _RELAY_KEYS, "relay")
    broker = r.string(t, "broker", "relay")
    if broker:
        try:
            parse_broker_url(broker)
        except TelemetryConfigError as err:
            r.problem("relay.broker", str(err))
    topic = r.string(t, "topic", "relay", default="stovelight/dashboard")
    if not topic or any(c in topic for c in "+#") or topic.startswith("$"):
        r.problem(
            "relay.topic",
            f"found {topic!r}; a topic to publish to has no wildcards and does not start with $",
        )
    username = r.string(t, "username", "relay", default="")
    password = ""
    password_file = r.string(t, "password_file", "relay", default="")
    if password_file:
        pf = (base / password_file).expanduser()
        try:
            password = pf.read_text(encoding="utf-8").strip()
        except OSError as exc:
            r.problem("relay.password_file", f"cannot read {pf}: {exc.strerror}")
    return RelayConfig(
        broker=broker,
        topic=topic,
        rate_hz=r.number(t, "rate_hz", "relay", default=10.0, lo=0.5, hi=60.0),
        username=username,
        password=password,
    )
