"""MQTT topic patterns and payload parsing: pure, with the payloads real devices send."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridges.mqtt import MqttRoute, MqttSourceConfig, MqttTelemetryParser, TopicPattern
from bridges.mqtt.config import parse_broker_url
from bridges.telemetry import ParseResult, RejectReason, TelemetryConfigError

# A Tasmota energy meter's tele/<topic>/SENSOR message (key names from Tasmota's
# i18n.h: D_RSLT_ENERGY "ENERGY", D_JSON_POWERUSAGE "Power", D_JSON_TODAY "Today").
TASMOTA_SENSOR = json.dumps(
    {
        "Time": "2026-11-29T19:00:00",
        "ENERGY": {
            "TotalStartTime": "2026-01-01T00:00:00",
            "Total": 123.456,
            "Yesterday": 1.2,
            "Today": 0.8,
            "Power": 1850,
            "ApparentPower": 1900,
            "ReactivePower": 300,
            "Factor": 0.97,
            "Voltage": 231,
            "Current": 8.1,
        },
    }
).encode()

# A Shelly Gen2 switch status (<id>/status/switch:0) and a NotifyStatus event
# (<id>/events/rpc), as in Shelly's Gen2 API documentation.
SHELLY_STATUS = json.dumps(
    {
        "id": 0,
        "source": "WS_in",
        "output": True,
        "apower": 2100.5,
        "voltage": 230.2,
        "current": 9.1,
        "aenergy": {"total": 5123.4, "by_minute": [35.1, 34.9, 35.0], "minute_ts": 1764442800},
        "temperature": {"tC": 41.2, "tF": 106.2},
    }
).encode()
SHELLY_EVENT = json.dumps(
    {
        "src": "shellyplus1pm-a8032ab1",
        "dst": "shellyplus1pm-a8032ab1/events",
        "method": "NotifyStatus",
        "params": {"ts": 1764442801.5, "switch:0": {"id": 0, "apower": 1999.0}},
    }
).encode()


def parse(routes: list[MqttRoute], topic: str, payload: bytes, limit: int = 65536) -> ParseResult:
    return MqttTelemetryParser(routes, limit).parse(topic, payload)


# -- topic patterns ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "topic", "captures"),
    [
        ("tele/{home}/SENSOR", "tele/kitchen-3/SENSOR", {"home": "kitchen-3"}),
        ("tele/{home}/SENSOR", "tele/kitchen/STATE", None),
        ("tele/{home}/SENSOR", "tele/a/b/SENSOR", None),
        ("tele/+/SENSOR", "tele/x/SENSOR", {}),
        ("homes/#", "homes/a/b/c", {}),
        ("homes/#", "homes", {}),  # '#' also matches the parent level (MQTT 5 §4.7.1.2)
        ("#", "$SYS/broker/uptime", None),  # wildcards never match $ topics (§4.7.2)
        ("+/status", "$SYS/status", None),
        ("{dev}/status/switch:0", "shelly-1/status/switch:0", {"dev": "shelly-1"}),
        ("a/{x}/{y}", "a/1/2", {"x": "1", "y": "2"}),
        ("a/b", "a/b/c", None),
    ],
)
def test_topic_patterns_match_like_mqtt_filters(
    pattern: str, topic: str, captures: dict[str, str] | None
) -> None:
    assert TopicPattern(pattern).match(topic) == captures


def test_named_levels_subscribe_as_plus() -> None:
    assert TopicPattern("tele/{home}/SENSOR").subscription == "tele/+/SENSOR"
    assert TopicPattern("a/{x}/#").subscription == "a/+/#"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a/#/b", "'#' must be the last level"),
        ("a/x+/b", "whole level"),
        ("a/{x}y/b", "whole level"),
        ("a/{x}/{x}", "appears twice"),
        ("", "empty"),
    ],
)
def test_bad_patterns_are_config_errors(pattern: str, message: str) -> None:
    with pytest.raises(TelemetryConfigError, match=message):
        TopicPattern(pattern)


def test_signal_template_may_only_use_named_levels() -> None:
    with pytest.raises(TelemetryConfigError, match=r"\{room\} is not a level"):
        MqttRoute("tele/{home}/SENSOR", "{room}.power_w")


# -- payloads -----------------------------------------------------------------------


def test_tasmota_sensor_message_with_a_named_level_and_unit_scaling() -> None:
    routes = [
        MqttRoute("tele/{home}/SENSOR", "{home}.power_kw", "/ENERGY/Power", scale=0.001),
        MqttRoute("tele/{home}/SENSOR", "{home}.today_kwh", "/ENERGY/Today"),
    ]
    result = parse(routes, "tele/flat-12/SENSOR", TASMOTA_SENSOR)
    assert [(s.signal, s.value) for s in result.samples] == [
        ("flat-12.power_kw", 1.85),
        ("flat-12.today_kwh", 0.8),
    ]
    assert result.rejections == []


def test_shelly_status_and_event_topics() -> None:
    routes = [
        MqttRoute("{dev}/status/switch:0", "{dev}.power_w", "/apower"),
        MqttRoute("{dev}/events/rpc", "{dev}.power_w", "/params/switch:0/apower"),
    ]
    status = parse(routes, "shellyplus1pm-a8/status/switch:0", SHELLY_STATUS)
    event = parse(routes, "shellyplus1pm-a8/events/rpc", SHELLY_EVENT)
    assert [(s.signal, s.value) for s in status.samples] == [("shellyplus1pm-a8.power_w", 2100.5)]
    assert [(s.signal, s.value) for s in event.samples] == [("shellyplus1pm-a8.power_w", 1999.0)]


def test_event_without_the_pointer_is_counted_not_fatal() -> None:
    routes = [MqttRoute("{dev}/events/rpc", "{dev}.power_w", "/params/switch:0/apower")]
    other = json.dumps({"method": "NotifyStatus", "params": {"sys": {"uptime": 5}}}).encode()
    result = parse(routes, "s1/events/rpc", other)
    assert result.samples == []
    assert result.rejections == [RejectReason.POINTER_NOT_FOUND]


@pytest.mark.parametrize(
    ("payload", "value"),
    [
        (b"21.5", 21.5),
        (b" 7 ", 7.0),
        (b'"3.25"', 3.25),
        (b"on", "on"),
        (b"OFF", "OFF"),
        (b"true", True),
        (b"False", False),
        (b"unavailable", None),
        (b"unknown", None),
        (b"heating", "heating"),
    ],
)
def test_plain_payloads_as_home_assistant_statestream_sends_them(
    payload: bytes, value: float | bool | str | None
) -> None:
    routes = [MqttRoute("homeassistant/sensor/{entity}/state", "ha.{entity}")]
    result = parse(routes, "homeassistant/sensor/stove_temp/state", payload)
    assert [(s.signal, s.value) for s in result.samples] == [("ha.stove_temp", value)]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"nan", RejectReason.NON_FINITE),
        (b"-inf", RejectReason.NON_FINITE),
        (b"1e999", RejectReason.NON_FINITE),
        (b"\xff\xfe", RejectReason.WRONG_TYPE),
        (b"x" * 65, RejectReason.STRING_TOO_LONG),
    ],
)
def test_bad_plain_payloads_are_refused_with_a_reason(payload: bytes, reason: RejectReason) -> None:
    result = parse([MqttRoute("t/{k}", "s.{k}")], "t/a", payload)
    assert result.samples == []
    assert result.rejections == [reason]


def test_malformed_and_deeply_nested_json_are_refused() -> None:
    routes = [MqttRoute("t", "sig", "/a")]
    assert parse(routes, "t", b"{not json").rejections == [RejectReason.MALFORMED_JSON]
    deep = b"[" * 60_000 + b"]" * 60_000
    assert parse(routes, "t", deep, limit=1 << 20).rejections == [RejectReason.MALFORMED_JSON]
    assert parse(routes, "t", b'{"a": NaN}').rejections == [RejectReason.NON_FINITE]


def test_oversize_payload_refused_before_decoding() -> None:
    routes = [MqttRoute("t", "sig", "/a")]
    big = json.dumps({"a": 1, "pad": "x" * 2000}).encode()
    assert parse(routes, "t", big, limit=1024).rejections == [RejectReason.OVERSIZE]
    assert parse(routes, "t", big, limit=4096).samples[0].value == 1.0


def test_captured_level_that_is_not_a_signal_name_is_refused() -> None:
    result = parse([MqttRoute("t/{k}", "s.{k}")], "t/has space", b"1")
    assert result.rejections == [RejectReason.BAD_NAME]


def test_empty_retained_payload_clears_without_a_sample_or_a_rejection() -> None:
    result = parse([MqttRoute("t/{k}", "s.{k}")], "t/a", b"")
    assert (result.samples, result.rejections) == ([], [])


@given(st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e3, 1e3))
def test_scale_applies_to_every_finite_number(raw: float, scale: float) -> None:
    routes = [MqttRoute("t", "sig", "/v", scale=scale, offset=1.0)]
    result = parse(routes, "t", json.dumps({"v": raw}).encode())
    if result.samples:
        value = result.samples[0].value
        assert isinstance(value, float)
        assert value == raw * scale + 1.0 or math.isnan(raw * scale + 1.0)


# -- configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", ("127.0.0.1", 1883, False)),
        ("mqtts://broker.example:8884", ("broker.example", 8884, True)),
        ("mqtts://broker", ("broker", 8883, True)),
        ("mqtt://[::1]:1884", ("::1", 1884, False)),
    ],
)
def test_broker_urls(url: str, expected: tuple[str, int, bool]) -> None:
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize("url", ["ws://x", "mqtt://", "mqtt://h:99999", "mqtt://h:1883/topic/x"])
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(TelemetryConfigError):
        parse_broker_url(url)


def test_config_checks_protocol_and_credentials() -> None:
    routes = (MqttRoute("t", "sig"),)
    with pytest.raises(TelemetryConfigError, match="protocol"):
        MqttSourceConfig("m", "mqtt://h", routes, protocol="4")
    with pytest.raises(TelemetryConfigError, match="username"):
        MqttSourceConfig("m", "mqtt://h", routes, password="secret")
    with pytest.raises(TelemetryConfigError, match="topic route"):
        MqttSourceConfig("m", "mqtt://h", ())
    cfg = MqttSourceConfig("m", "mqtt://h", routes, username="u", password="secret")
    assert "secret" not in repr(cfg)


def test_a_scaled_value_that_overflows_is_refused_not_infinite() -> None:
    result = parse([MqttRoute("t", "sig", scale=10.0)], "t", b"1e308")
    assert (result.samples, result.rejections) == ([], [RejectReason.NON_FINITE])
