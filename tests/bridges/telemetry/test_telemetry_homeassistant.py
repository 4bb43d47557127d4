"""Sans-I/O Home Assistant WebSocket API protocol, with realistic messages."""

from __future__ import annotations

import json

import pytest

from bridges.telemetry.exceptions import (
    HomeAssistantAuthError,
    HomeAssistantCommandError,
    TelemetryConfigError,
)
from bridges.telemetry.homeassistant import (
    EntityHealth,
    HomeAssistantPhase,
    HomeAssistantProtocol,
    state_to_value,
)
from bridges.telemetry.types import RejectReason, Sample

ENTITIES = {
    "sensor.stove_power": "stove.power_w",
    "sensor.grid_energy": "grid.energy_kwh",
    "switch.hood_fan": "hood.fan",
}

INITIAL_EVENT = {
    "id": 2,
    "type": "event",
    "event": {
        "a": {
            "sensor.stove_power": {
                "s": "1.8",
                "a": {"unit_of_measurement": "kW", "friendly_name": "Stove power"},
                "c": "01JDAB0000000000000000000A",
                "lc": 1764230400.0,
            },
            "sensor.grid_energy": {
                "s": "12500",
                "a": {"unit_of_measurement": "Wh", "state_class": "total_increasing"},
                "c": "01JDAB0000000000000000000B",
                "lc": 1764230000.0,
                "lu": 1764230300.5,
            },
            "switch.hood_fan": {"s": "off", "a": {}, "c": "01JDAB0000000000000000000C", "lc": 1.0},
        }
    },
}


def send(protocol: HomeAssistantProtocol, *messages: object) -> None:
    for message in messages:
        protocol.receive_text(json.dumps(message))


def subscribed() -> HomeAssistantProtocol:
    protocol = HomeAssistantProtocol("secret-token", ENTITIES)
    send(
        protocol,
        {"type": "auth_required", "ha_version": "2025.11.3"},
        {"type": "auth_ok", "ha_version": "2025.11.3"},
        {"id": 1, "type": "result", "success": True, "result": None},
        {"id": 2, "type": "result", "success": True, "result": None},
    )
    protocol.data_to_send()
    return protocol


def test_auth_and_subscribe_flow() -> None:
    protocol = HomeAssistantProtocol("secret-token", ENTITIES)
    assert protocol.data_to_send() == []
    assert not protocol.ready
    send(protocol, {"type": "auth_required", "ha_version": "2025.11.3"})
    assert [json.loads(m) for m in protocol.data_to_send()] == [
        {"type": "auth", "access_token": "secret-token"}
    ]
    assert protocol.phase is HomeAssistantPhase.AUTHENTICATING
    send(protocol, {"type": "auth_ok", "ha_version": "2025.11.3"})
    sent = [json.loads(m) for m in protocol.data_to_send()]
    assert sent == [
        {"id": 1, "type": "supported_features", "features": {"coalesce_messages": 1}},
        {"id": 2, "type": "subscribe_entities", "entity_ids": list(ENTITIES)},
    ]
    assert protocol.ha_version == "2025.11.3"
    assert not protocol.ready
    send(protocol, {"id": 1, "type": "result", "success": True, "result": None})
    send(protocol, {"id": 2, "type": "result", "success": True, "result": None})
    assert protocol.ready
    assert protocol.failure is None
    assert protocol.rejections_received() == []


def test_auth_invalid_gives_clear_permanent_error() -> None:
    protocol = HomeAssistantProtocol("wrong", ENTITIES)
    send(
        protocol,
        {"type": "auth_required", "ha_version": "2025.11.3"},
        {"type": "auth_invalid", "message": "Invalid access token or password"},
    )
    assert isinstance(protocol.failure, HomeAssistantAuthError)
    assert protocol.failure.permanent
    assert "Home Assistant rejected the access token" in str(protocol.failure)
    assert protocol.phase is HomeAssistantPhase.FAILED
    send(protocol, INITIAL_EVENT)
    assert protocol.samples_received() == []


def test_subscribe_error_result() -> None:
    protocol = HomeAssistantProtocol("t", ENTITIES)
    send(
        protocol,
        {"type": "auth_required"},
        {"type": "auth_ok"},
        {"id": 1, "type": "result", "success": False, "error": {"code": "x", "message": "y"}},
    )
    assert protocol.failure is None  # an old HA without coalescing is fine
    send(
        protocol,
        {
            "id": 2,
            "type": "result",
            "success": False,
            "error": {"code": "unknown_command", "message": "Unknown command."},
        },
    )
    assert isinstance(protocol.failure, HomeAssistantCommandError)
    assert not protocol.failure.permanent
    assert "unknown_command: Unknown command." in str(protocol.failure)


def test_added_states_become_normalised_samples() -> None:
    protocol = subscribed()
    send(protocol, INITIAL_EVENT)
    samples = protocol.samples_received()
    assert [(s.signal, s.ts) for s in samples] == [
        ("stove.power_w", 1764230400.0),
        ("grid.energy_kwh", 1764230300.5),
        ("hood.fan", 1.0),
    ]
    # kW and Wh are converted to W and kWh: the numbers up to rounding.
    assert [s.value for s in samples] == [pytest.approx(1800.0), pytest.approx(12.5), "off"]
    assert protocol.rejections_received() == []
    assert set(protocol.entity_health().values()) == {EntityHealth.OK}


def test_changes_with_plus_and_minus() -> None:
    protocol = subscribed()
    send(protocol, INITIAL_EVENT)
    protocol.samples_received()
    send(
        protocol,
        {
            "id": 2,
            "type": "event",
            "event": {
                "c": {
                    "sensor.stove_power": {
                        "+": {"s": "2.4", "lc": 1764230460.0, "c": "01JDAB0000000000000000000D"}
                    },
                    "switch.hood_fan": {"+": {"s": "on", "lu": 1764230461.0}},
                }
            },
        },
    )
    samples = protocol.samples_received()
    assert [(s.signal, s.ts) for s in samples] == [
        ("stove.power_w", 1764230460.0),
        ("hood.fan", 1764230461.0),
    ]
    assert [s.value for s in samples] == [pytest.approx(2400.0), "on"]
    # Unit attribute removed: value passes through unscaled.
    send(
        protocol,
        {
            "id": 2,
            "type": "event",
            "event": {
                "c": {
                    "sensor.stove_power": {
                        "+": {"a": {"icon": "mdi:fire"}, "lu": 1764230470.0},
                        "-": {"a": ["unit_of_measurement"]},
                    }
                }
            },
        },
    )
    assert protocol.samples_received() == [Sample("stove.power_w", 2.4, 1764230470.0)]
    state = protocol.entity_states()["sensor.stove_power"]
    assert state.attributes == {"friendly_name": "Stove power", "icon": "mdi:fire"}
    assert state.last_changed == 1764230460.0
    assert state.last_updated == 1764230470.0


def test_unavailable_unknown_and_removed() -> None:
    protocol = subscribed()
    send(protocol, INITIAL_EVENT)
    protocol.samples_received()
    send(
        protocol,
        {
            "id": 2,
            "type": "event",
            "event": {
                "c": {
                    "sensor.stove_power": {"+": {"s": "unavailable", "lc": 5.0}},
                    "sensor.grid_energy": {"+": {"s": "unknown", "lc": 6.0}},
                }
            },
        },
    )
    assert protocol.samples_received() == [
        Sample("stove.power_w", None, 5.0),
        Sample("grid.energy_kwh", None, 6.0),
    ]
    health = protocol.entity_health()
    assert health["sensor.stove_power"] is EntityHealth.UNAVAILABLE
    assert health["sensor.grid_energy"] is EntityHealth.UNKNOWN
    send(protocol, {"id": 2, "type": "event", "event": {"r": ["switch.hood_fan"]}})
    assert protocol.samples_received() == [Sample("hood.fan", None, None)]
    assert protocol.entity_health()["switch.hood_fan"] is EntityHealth.REMOVED


def test_missing_entity_health_before_first_state() -> None:
    protocol = subscribed()
    assert set(protocol.entity_health().values()) == {EntityHealth.MISSING}


def test_coalesced_array_of_messages() -> None:
    protocol = HomeAssistantProtocol("t", ENTITIES)
    send(protocol, {"type": "auth_required"}, {"type": "auth_ok"})
    protocol.data_to_send()
    frame = [
        {"id": 1, "type": "result", "success": True, "result": None},
        {"id": 2, "type": "result", "success": True, "result": None},
        INITIAL_EVENT,
        {"id": 2, "type": "event", "event": {"c": {"switch.hood_fan": {"+": {"s": "on"}}}}},
    ]
    protocol.receive_text(json.dumps(frame))
    assert protocol.ready
    assert [s.value for s in protocol.samples_received()][-2:] == ["off", "on"]


def test_one_event_with_several_groups_applies_a_then_r_then_c() -> None:
    protocol = subscribed()
    send(protocol, INITIAL_EVENT)
    protocol.samples_received()
    send(
        protocol,
        {
            "id": 2,
            "type": "event",
            "event": {
                "c": {"sensor.grid_energy": {"+": {"s": "13000"}}},
                "r": ["switch.hood_fan"],
                "a": {"switch.hood_fan": {"s": "on", "a": {}, "lc": 9.0}},
            },
        },
    )
    assert [(s.signal, s.value) for s in protocol.samples_received()] == [
        ("hood.fan", "on"),
        ("hood.fan", None),
        ("grid.energy_kwh", pytest.approx(13.0)),
    ]


def test_unknown_entities_and_bad_messages_are_counted() -> None:
    protocol = subscribed()
    send(
        protocol,
        {
            "id": 2,
            "type": "event",
            "event": {
                "a": {"light.porch": {"s": "on", "a": {}, "lc": 1.0}},
                "c": {"sensor.stove_power": {"+": {"s": "3"}}},  # never added
                "r": ["light.porch"],
            },
        },
    )
    assert protocol.samples_received() == []
    assert protocol.rejections_received() == [RejectReason.UNKNOWN_ENTITY] * 3
    protocol.receive_text("{nope")
    protocol.receive_text("[1, 2]")
    send(protocol, {"id": 2, "type": "event", "event": []})
    send(protocol, {"no": "type"})
    send(protocol, {"id": 2, "type": "event", "event": {"a": {"switch.hood_fan": {"s": 3}}}})
    send(protocol, {"type": "auth_required"})
    protocol.receive_bytes(b"\x00")
    send(protocol, {"id": 9, "type": "pong"})
    assert protocol.rejections_received() == [
        RejectReason.MALFORMED_JSON,
        RejectReason.WRONG_TYPE,
        RejectReason.WRONG_TYPE,
        RejectReason.WRONG_TYPE,
        RejectReason.PROTOCOL_ERROR,
        RejectReason.WRONG_TYPE,
        RejectReason.PROTOCOL_ERROR,
        RejectReason.BINARY_FRAME,
    ]
    assert protocol.failure is None


@pytest.mark.parametrize(
    ("state", "unit", "expected"),
    [
        ("1800", "W", 1800.0),
        ("1.8", "kW", 1800.0),
        ("0.0025", "MW", 2500.0),
        ("500", "mW", 0.5),
        ("12500", "Wh", 12.5),
        ("12.5", "kWh", 12.5),
        ("0.5", "MWh", 500.0),
        ("21.5", "°C", 21.5),
        ("-3e2", None, -300.0),
        (".5", None, 0.5),
        ("on", None, "on"),
        ("heat", None, "heat"),
        ("1_000", None, "1_000"),
        ("nan", None, "nan"),
        ("unavailable", "W", None),
        ("unknown", "W", None),
    ],
)
def test_state_to_value(state: str, unit: str | None, expected: object) -> None:
    attributes = {} if unit is None else {"unit_of_measurement": unit}
    value, reason = state_to_value(state, attributes)
    assert reason is None
    assert value == (pytest.approx(expected) if isinstance(expected, float) else expected)


def test_state_to_value_rejections() -> None:
    assert state_to_value("1e999", {}) == (None, RejectReason.NON_FINITE)
    assert state_to_value("x" * 65, {}) == (None, RejectReason.STRING_TOO_LONG)


def test_config_errors() -> None:
    with pytest.raises(TelemetryConfigError):
        HomeAssistantProtocol("t", {})
    with pytest.raises(TelemetryConfigError):
        HomeAssistantProtocol("t", {"Not An Entity": "x"})
    with pytest.raises(TelemetryConfigError):
        HomeAssistantProtocol("t", {"sensor.a": ""})
