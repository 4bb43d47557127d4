"""A Home Assistant stand-in: a real websocket server speaking the documented protocol.

Implements the part of https://developers.home-assistant.io/docs/api/websocket that
Stovelight uses: the auth phase (``auth_required`` → ``auth`` → ``auth_ok`` /
``auth_invalid`` then close), ``supported_features`` with ``coalesce_messages`` (the
result and the first event then share one JSON-array frame), and ``subscribe_entities``
with compressed ``a`` / ``c`` / ``r`` events. Unknown commands get a
``{"success": false, "error": {"code": "unknown_command"}}`` result.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

__all__ = ["HA_VERSION", "HomeAssistantStandIn"]

HA_VERSION = "2025.11.3"


@dataclass
class _EntityState:
    state: str
    attributes: dict[str, Any]
    last_changed: float
    last_updated: float


@dataclass
class _Subscriber:
    websocket: ServerConnection
    iden: int
    entity_ids: set[str] | None


@dataclass
class HomeAssistantStandIn:
    """The stand-in server. Start with :meth:`start`, stop with :meth:`stop`."""

    token: str
    states: dict[str, _EntityState] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    auth_attempts: int = 0
    subscriptions: int = 0
    port: int = 0
    _server: Server | None = None
    _subscribers: list[_Subscriber] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _clock: float = 1764230400.0

    @property
    def url(self) -> str:
        """The websocket URL, like Home Assistant's ``/api/websocket``."""
        return f"ws://127.0.0.1:{self.port}/api/websocket"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (an ephemeral port first, the same port on restarts)."""
        self._server = await serve(self._handler, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every client (like a Home Assistant restart)."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self._subscribers.clear()

    async def wait_for(self, predicate: Any) -> None:
        """Wait until ``predicate()`` is true (re-checked after each client message)."""
        while not predicate():
            self._changed.clear()
            await self._changed.wait()

    def seed(self, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None:
        """Set an initial state without notifying anyone."""
        self._clock += 1
        self.states[entity_id] = _EntityState(
            state, dict(attributes or {}), self._clock, self._clock
        )

    async def set_state(
        self, entity_id: str, state: str, attributes: dict[str, Any] | None = None
    ) -> None:
        """Change (or add) an entity and send the compressed diff to subscribers."""
        self._clock += 1
        old = self.states.get(entity_id)
        new_attributes = dict(
            attributes if attributes is not None else (old.attributes if old else {})
        )
        if old is None:
            self.seed(entity_id, state, new_attributes)
            await self._broadcast(entity_id, {"a": {entity_id: self._compressed(entity_id)}})
            return
        plus: dict[str, Any] = {}
        if old.state != state:
            plus["s"] = state
            old.last_changed = self._clock
            plus["lc"] = self._clock
        else:
            plus["lu"] = self._clock
        old.last_updated = self._clock
        changed = {k: v for k, v in new_attributes.items() if old.attributes.get(k) != v}
        if changed:
            plus["a"] = changed
        diff: dict[str, Any] = {"+": plus}
        removed = [k for k in old.attributes if k not in new_attributes]
        if removed:
            diff["-"] = {"a": removed}
        old.state, old.attributes = state, new_attributes
        await self._broadcast(entity_id, {"c": {entity_id: diff}})

    async def remove(self, entity_id: str) -> None:
        """Remove an entity and tell subscribers."""
        del self.states[entity_id]
        await self._broadcast(entity_id, {"r": [entity_id]})

    def _compressed(self, entity_id: str) -> dict[str, Any]:
        entity = self.states[entity_id]
        compressed: dict[str, Any] = {
            "s": entity.state,
            "a": entity.attributes,
            "c": f"ctx-{entity_id}",
            "lc": entity.last_changed,
        }
        if entity.last_updated != entity.last_changed:
            compressed["lu"] = entity.last_updated
        return compressed

    async def _broadcast(self, entity_id: str, event: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers):
            if subscriber.entity_ids is None or entity_id in subscriber.entity_ids:
                message = {"id": subscriber.iden, "type": "event", "event": event}
                try:
                    await subscriber.websocket.send(json.dumps(message))
                except ConnectionClosed:
                    self._subscribers.remove(subscriber)

    async def _handler(self, websocket: ServerConnection) -> None:
        await websocket.send(json.dumps({"type": "auth_required", "ha_version": HA_VERSION}))
        auth = json.loads(await websocket.recv())
        self.auth_attempts += 1
        self._changed.set()
        if auth.get("type") != "auth" or auth.get("access_token") != self.token:
            await websocket.send(
                json.dumps({"type": "auth_invalid", "message": "Invalid access token or password"})
            )
            await websocket.close()
            return
        await websocket.send(json.dumps({"type": "auth_ok", "ha_version": HA_VERSION}))
        coalesce = False
        try:
            async for raw in websocket:
                message = json.loads(raw)
                self.received.append(message)
                iden, kind = message.get("id"), message.get("type")
                result = {"id": iden, "type": "result", "success": True, "result": None}
                if kind == "supported_features":
                    coalesce = bool(message.get("features", {}).get("coalesce_messages"))
                    await websocket.send(json.dumps(result))
                elif kind == "subscribe_entities":
                    wanted = message.get("entity_ids")
                    entity_ids = None if wanted is None else set(wanted)
                    initial = {
                        "id": iden,
                        "type": "event",
                        "event": {
                            "a": {
                                entity_id: self._compressed(entity_id)
                                for entity_id in self.states
                                if entity_ids is None or entity_id in entity_ids
                            }
                        },
                    }
                    if coalesce:
                        await websocket.send(json.dumps([result, initial]))
                    else:
                        await websocket.send(json.dumps(result))
                        await websocket.send(json.dumps(initial))
                    self._subscribers.append(_Subscriber(websocket, iden, entity_ids))
                    self.subscriptions += 1
                else:
                    error = {"code": "unknown_command", "message": "Unknown command."}
                    await websocket.send(
                        json.dumps({"id": iden, "type": "result", "success": False, "error": error})
                    )
                self._changed.set()
        except ConnectionClosed:
            pass
