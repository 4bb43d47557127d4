"""Sans-I/O client side of the Home Assistant WebSocket API, for entity telemetry.

Protocol facts (https://developers.home-assistant.io/docs/api/websocket):

1. The server opens with ``{"type": "auth_required"}``; the client answers
   ``{"type": "auth", "access_token": ...}``; the server says ``auth_ok`` or
   ``auth_invalid`` (then closes).
2. In the command phase each client message carries an integer ``id``; replies are
   ``{"id": n, "type": "result", "success": bool, "result"|"error": ...}``.
   ``{"type": "supported_features", "features": {"coalesce_messages": 1}}`` lets the
   server pack several messages into one frame as a JSON array.
3. ``{"type": "subscribe_entities", "entity_ids": [...]}`` streams
   ``{"id": n, "type": "event", "event": {...}}`` with compressed states (see
   ``homeassistant/components/websocket_api/messages.py`` and
   ``home-assistant-js-websocket`` ``entities.ts``):
   ``"a"``: added, entity_id → ``{"s": state, "a": attributes, "c": context,
   "lc": last_changed, "lu": last_updated (only if different from lc)}``;
   ``"c"``: changed, entity_id → ``{"+": {s, a, c, lc, lu}, "-": {"a": [removed keys]}}``
   (an ``lc`` in ``+`` sets both times); ``"r"``: removed entity ids. One event may
   carry several groups; they are applied in the order a, r, c.

Conversion to samples (documented in ``docs/telemetry-protocol.md``):

* numeric states → float; ``unavailable`` / ``unknown`` → None, with a per-entity
  health flag; other states (``on``, ``off``, ``heat`` …) → strings (≤ 64 chars);
* power (``unit_of_measurement`` mW, W, kW, MW, GW) is normalised to **W**; energy
  (mWh, Wh, kWh, MWh, GWh) to **kWh**; other units pass through unchanged;
* the sample time is the entity's ``last_updated`` (epoch seconds).
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .exceptions import (
    HomeAssistantAuthError,
    HomeAssistantCommandError,
    TelemetryConfigError,
    TelemetryProtocolError,
)
from .protocol import decode_json_frame
from .types import MAX_STRING_LENGTH, RejectReason, Sample, SampleValue

__all__ = [
    "DEFAULT_HA_MAX_FRAME_BYTES",
    "ENERGY_UNITS_TO_KWH",
    "POWER_UNITS_TO_W",
    "EntityHealth",
    "EntityState",
    "HomeAssistantPhase",
    "HomeAssistantProtocol",
    "state_to_value",
]

#: Home Assistant's initial ``a`` event lists every subscribed entity: allow 1 MiB.
DEFAULT_HA_MAX_FRAME_BYTES = 1_048_576

POWER_UNITS_TO_W: Mapping[str, float] = {
    "mW": 1e-3,
    "W": 1.0,
    "kW": 1e3,
    "MW": 1e6,
    "GW": 1e9,
}
ENERGY_UNITS_TO_KWH: Mapping[str, float] = {
    "mWh": 1e-6,
    "Wh": 1e-3,
    "kWh": 1.0,
    "MWh": 1e3,
    "GWh": 1e6,
}
_UNIT_FACTORS: Mapping[str, float] = {**POWER_UNITS_TO_W, **ENERGY_UNITS_TO_KWH}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ENTITY_ID = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")

_SUPPORTED_FEATURES_ID = 1
_SUBSCRIBE_ID = 2


class HomeAssistantPhase(enum.Enum):
    """Where the conversation with Home Assistant stands."""

    AWAITING_AUTH_REQUIRED = "awaiting_auth_required"
    AUTHENTICATING = "authenticating"
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    FAILED = "failed"


class EntityHealth(enum.Enum):
    """Health of one configured entity, for the health display."""

    OK = "ok"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"
    #: Not (yet) reported by Home Assistant: possibly a typo in the entity id.
    MISSING = "missing"
    #: Removed from Home Assistant while subscribed.
    REMOVED = "removed"


@dataclass(slots=True)
class EntityState:
    """Current state of one entity, reassembled from compressed updates."""

    state: str
    attributes: dict[str, object] = field(default_factory=dict)
    last_changed: float | None = None
    last_updated: float | None = None


def _epoch(raw: object) -> float | None:
    """A finite epoch-seconds number, or None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def state_to_value(
    state: str, attributes: Mapping[str, object]
) -> tuple[SampleValue, RejectReason | None]:
    """Turn a Home Assistant state string into a sample value.

    Args:
        state: The entity state, always a string in Home Assistant.
        attributes: Its attributes; ``unit_of_measurement`` drives unit normalisation.

    Returns:
        ``(value, None)`` or ``(None, reason)`` for non-finite numbers and strings
        longer than 64 characters.
    """
    if state in ("unavailable", "unknown"):
        return None, None
    if _NUMBER.fullmatch(state):
        number = float(state) * _UNIT_FACTORS.get(str(attributes.get("unit_of_measurement")), 1.0)
        if not math.isfinite(number):
            return None, RejectReason.NON_FINITE
        return number, None
    if len(state) > MAX_STRING_LENGTH:
        return None, RejectReason.STRING_TOO_LONG
    return state, None


class HomeAssistantProtocol:
    """Sans-I/O Home Assistant WebSocket API client subscribed to a set of entities.

    Create one per connection: a new connection re-authenticates, re-subscribes and
    receives every entity's state afresh as an ``a`` event.

    Args:
        access_token: A long-lived access token.
        entities: entity_id → signal name (use the entity id itself to keep it).
        max_frame_bytes: Largest accepted frame in UTF-8 bytes.

    Raises:
        TelemetryConfigError: No entities, a malformed entity id or an empty signal name.
    """

    def __init__(
        self,
        access_token: str,
        entities: Mapping[str, str],
        max_frame_bytes: int = DEFAULT_HA_MAX_FRAME_BYTES,
    ) -> None:
        if not entities:
            raise TelemetryConfigError("a Home Assistant source needs at least one entity")
        for entity_id, signal in entities.items():
            if _ENTITY_ID.fullmatch(entity_id) is None:
                raise TelemetryConfigError(f"{entity_id!r} is not a Home Assistant entity id")
            if not signal:
                raise TelemetryConfigError(f"entity {entity_id!r} needs a signal name")
        self._token = access_token
        self._entities = dict(entities)
        self._max_frame_bytes = max_frame_bytes
        self.phase = HomeAssistantPhase.AWAITING_AUTH_REQUIRED
        self.ha_version: str | None = None
        self._failure: TelemetryProtocolError | None = None
        self._states: dict[str, EntityState] = {}
        self._removed: set[str] = set()
        self._outgoing: list[str] = []
        self._samples: list[Sample] = []
        self._rejections: list[RejectReason] = []

    # -- public state ---------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once the subscription is confirmed."""
        return self.phase is HomeAssistantPhase.SUBSCRIBED

    @property
    def failure(self) -> TelemetryProtocolError | None:
        """The error that ended this connection, if any."""
        return self._failure

    def entity_states(self) -> dict[str, EntityState]:
        """Current state of every entity seen so far (a shallow copy)."""
        return dict(self._states)

    def entity_health(self) -> dict[str, EntityHealth]:
        """Health of every configured entity."""
        health: dict[str, EntityHealth] = {}
        for entity_id in self._entities:
            current = self._states.get(entity_id)
            if current is None:
                health[entity_id] = (
                    EntityHealth.REMOVED if entity_id in self._removed else EntityHealth.MISSING
                )
            elif current.state == "unavailable":
                health[entity_id] = EntityHealth.UNAVAILABLE
            elif current.state == "unknown":
                health[entity_id] = EntityHealth.UNKNOWN
            else:
                health[entity_id] = EntityHealth.OK
        return health

    # -- sans-I/O interface ---------------------------------------------------------

    def receive_text(self, text: str) -> None:
        """Feed one text frame: a message or a coalesced JSON array of messages."""
        if self.phase is HomeAssistantPhase.FAILED:
            return
        document, reason = decode_json_frame(text, self._max_frame_bytes)
        if reason is not None:
            self._rejections.append(reason)
            return
        for message in document if isinstance(document, list) else [document]:
            if self._failure is not None:
                return
            if not isinstance(message, dict):
                self._rejections.append(RejectReason.WRONG_TYPE)
                continue
            self._handle_message(message)

    def receive_bytes(self, data: bytes) -> None:
        """Reject a binary frame: Home Assistant sends text frames only."""
        self._rejections.append(RejectReason.BINARY_FRAME)

    def data_to_send(self) -> list[str]:
        """Return and clear the text frames to send."""
        outgoing, self._outgoing = self._outgoing, []
        return outgoing

    def samples_received(self) -> list[Sample]:
        """Return and clear the samples decoded so far."""
        samples, self._samples = self._samples, []
        return samples

    def rejections_received(self) -> list[RejectReason]:
        """Return and clear the rejection reasons recorded so far."""
        rejections, self._rejections = self._rejections, []
        return rejections

    # -- message handling -----------------------------------------------------------

    def _send(self, message: dict[str, object]) -> None:
        self._outgoing.append(json.dumps(message, separators=(",", ":")))

    def _fail(self, error: TelemetryProtocolError) -> None:
        self._failure = error
        self.phase = HomeAssistantPhase.FAILED

    def _handle_message(self, message: dict[str, object]) -> None:
        kind = message.get("type")
        if kind == "auth_required":
            self._on_auth_required()
        elif kind == "auth_ok":
            self._on_auth_ok(message)
        elif kind == "auth_invalid":
            detail = message.get("message")
            suffix = f" ({detail})" if isinstance(detail, str) and detail else ""
            self._fail(HomeAssistantAuthError(f"Home Assistant rejected the access token{suffix}"))
        elif kind == "result":
            self._handle_result(message)
        elif kind == "event":
            self._on_event(message)
        elif not isinstance(kind, str):
            self._rejections.append(RejectReason.PROTOCOL_ERROR)
        # Other message types (pong, …) carry no telemetry and are ignored.

    def _on_auth_required(self) -> None:
        if self.phase is not HomeAssistantPhase.AWAITING_AUTH_REQUIRED:
            self._rejections.append(RejectReason.PROTOCOL_ERROR)
            return
        self._send({"type": "auth", "access_token": self._token})
        self.phase = HomeAssistantPhase.AUTHENTICATING

    def _on_auth_ok(self, message: dict[str, object]) -> None:
        if self.phase is not HomeAssistantPhase.AUTHENTICATING:
            self._rejections.append(RejectReason.PROTOCOL_ERROR)
            return
        version = message.get("ha_version")
        self.ha_version = version if isinstance(version, str) else None
        self._send(
            {
                "id": _SUPPORTED_FEATURES_ID,
                "type": "supported_features",
                "features": {"coalesce_messages": 1},
            }
        )
        self._send(
            {
                "id": _SUBSCRIBE_ID,
                "type": "subscribe_entities",
                "entity_ids": list(self._entities),
            }
        )
        self.phase = HomeAssistantPhase.SUBSCRIBING

    def _on_event(self, message: dict[str, object]) -> None:
        if message.get("id") != _SUBSCRIBE_ID:
            return
        if self.phase is HomeAssistantPhase.SUBSCRIBING:
            self.phase = HomeAssistantPhase.SUBSCRIBED
        elif self.phase is not HomeAssistantPhase.SUBSCRIBED:
            self._rejections.append(RejectReason.PROTOCOL_ERROR)
            return
        event = message.get("event")
        if not isinstance(event, dict):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        self._apply_event(event)

    def _handle_result(self, message: dict[str, object]) -> None:
        iden = message.get("id")
        success = message.get("success")
        if iden == _SUBSCRIBE_ID:
            if success is True:
                if self.phase is HomeAssistantPhase.SUBSCRIBING:
                    self.phase = HomeAssistantPhase.SUBSCRIBED
                return
            error = message.get("error")
            code = message_text = "?"
            if isinstance(error, dict):
                code = str(error.get("code", "?"))
                message_text = str(error.get("message", "?"))
            self._fail(
                HomeAssistantCommandError(
                    f"Home Assistant refused subscribe_entities: {code}: {message_text}"
                )
            )
        # A failed supported_features (older Home Assistant) only means no coalescing.

    def _apply_event(self, event: dict[str, object]) -> None:
        added = event.get("a", {})
        removed = event.get("r", [])
        changed = event.get("c", {})
        if isinstance(added, dict):
            for entity_id, compressed in added.items():
                self._apply_added(entity_id, compressed)
        else:
            self._rejections.append(RejectReason.WRONG_TYPE)
        if isinstance(removed, list):
            for entity_id in removed:
                self._apply_removed(entity_id)
        else:
            self._rejections.append(RejectReason.WRONG_TYPE)
        if isinstance(changed, dict):
            for entity_id, diff in changed.items():
                self._apply_changed(entity_id, diff)
        else:
            self._rejections.append(RejectReason.WRONG_TYPE)

    def _apply_added(self, entity_id: str, compressed: object) -> None:
        if entity_id not in self._entities:
            self._rejections.append(RejectReason.UNKNOWN_ENTITY)
            return
        if not isinstance(compressed, dict):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        state = compressed.get("s")
        attributes = compressed.get("a", {})
        if not isinstance(state, str) or not isinstance(attributes, dict):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        last_changed = _epoch(compressed.get("lc"))
        last_updated = _epoch(compressed.get("lu"))
        self._states[entity_id] = EntityState(
            state=state,
            attributes=dict(attributes),
            last_changed=last_changed,
            last_updated=last_updated if last_updated is not None else last_changed,
        )
        self._removed.discard(entity_id)
        self._emit(entity_id)

    def _apply_removed(self, entity_id: object) -> None:
        if not isinstance(entity_id, str) or entity_id not in self._entities:
            self._rejections.append(RejectReason.UNKNOWN_ENTITY)
            return
        self._states.pop(entity_id, None)
        self._removed.add(entity_id)
        self._samples.append(Sample(self._entities[entity_id], None, None))

    def _apply_changed(self, entity_id: str, diff: object) -> None:
        current = self._states.get(entity_id)
        if current is None:
            # Not configured, or a change for an entity we never saw added.
            self._rejections.append(RejectReason.UNKNOWN_ENTITY)
            return
        if not isinstance(diff, dict):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        plus = diff.get("+", {})
        minus = diff.get("-", {})
        if not isinstance(plus, dict) or not isinstance(minus, dict):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        state = plus.get("s", current.state)
        added_attributes = plus.get("a", {})
        removed_attributes = minus.get("a", [])
        if (
            not isinstance(state, str)
            or not isinstance(added_attributes, dict)
            or not isinstance(removed_attributes, list)
        ):
            self._rejections.append(RejectReason.WRONG_TYPE)
            return
        current.state = state
        if (last_changed := _epoch(plus.get("lc"))) is not None:
            current.last_changed = current.last_updated = last_changed
        elif (last_updated := _epoch(plus.get("lu"))) is not None:
            current.last_updated = last_updated
        current.attributes.update(added_attributes)
        for key in removed_attributes:
            if isinstance(key, str):
                current.attributes.pop(key, None)
        self._emit(entity_id)

    def _emit(self, entity_id: str) -> None:
        current = self._states[entity_id]
        value, reason = state_to_value(current.state, current.attributes)
        if reason is not None:
            self._rejections.append(reason)
            return
        self._samples.append(Sample(self._entities[entity_id], value, current.last_updated))
