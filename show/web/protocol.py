"""Wire format of the dashboard and console websockets: pure functions, no I/O.

Everything here turns bytes or dicts into decisions and back; the server module
(:mod:`show.web.server`) owns the sockets, the clock and the tasks.

Messages (all JSON text frames):

* server → public viewer: ``{"type": "snapshot", "seq", "t", ...}`` (see ``docs/web.md``)
* server → console: ``{"type": "hello"}``, ``{"type": "console", "seq", "t", ...}``,
  ``{"type": "reply", "id", "ok", ...}``
* console → server: ``{"type": "auth", "token"}`` first, then
  ``{"type": "control", "id", "command", "cue"?, "list"?}``

A public viewer never sends anything: any inbound frame closes its socket with
:data:`CLOSE_POLICY`.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from show.errors import StovelightError
from show.runtime.commands import (
    CONSOLE_COMMANDS,
    CONSOLE_COMMANDS_WITH_CUE,
    OperatorCommand,
    OperatorRequest,
    parse_command,
)

__all__ = [
    "CLOSE_GOING_AWAY",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN",
    "COMMANDS",
    "COMMANDS_WITH_CUE",
    "ControlRequest",
    "ProtocolError",
    "check_auth",
    "encode_message",
    "encode_message_bytes",
    "error_reply",
    "parse_control",
    "reply_message",
    "sanitize",
    "token_matches",
]

CLOSE_GOING_AWAY: Final = 1001
"""Close code: the show is shutting down the server."""
CLOSE_POLICY: Final = 1008
"""Close code: policy violation (public socket sent a frame, bad token, bad origin)."""
CLOSE_TOO_BIG: Final = 1009
"""Close code: an inbound frame exceeded ``max_message_bytes`` (sent by websockets)."""
CLOSE_TRY_AGAIN: Final = 1013
"""Close code: server at capacity, try again later."""

COMMANDS: Final[frozenset[str]] = frozenset(c.value for c in CONSOLE_COMMANDS)
"""Control commands the console may send, by wire name (from
:data:`show.runtime.commands.COMMAND_TABLE`); anything else gets an error reply."""

COMMANDS_WITH_CUE: Final[frozenset[str]] = frozenset(c.value for c in CONSOLE_COMMANDS_WITH_CUE)
"""Commands that require a ``cue`` field."""

_MAX_ID_LEN: Final = 64
_MAX_NAME_LEN: Final = 200


class ProtocolError(StovelightError, ValueError):
    """An inbound console message is malformed; ``str(err)`` is safe to send back.

    Attributes:
        message_id: The ``id`` of the offending message when it could be read, so
            the error reply can be matched by the console.
    """

    def __init__(self, text: str, message_id: int | str | None = None) -> None:
        super().__init__(text)
        self.message_id = message_id


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """A validated control message from an authenticated console.

    Attributes:
        id: Correlation id chosen by the console, echoed in the reply.
        command: One of :data:`COMMANDS`, typed.
        cue: Cue number or id, for the commands that need one.
        list: Cue list name; ``None`` means the runner's default list.
    """

    id: int | str
    command: OperatorCommand
    cue: str | None
    list: str | None

    def operator(self, origin: str) -> OperatorRequest:
        """The request as the runner takes it (:meth:`ShowRunner.submit`)."""
        return OperatorRequest(self.command, self.cue, self.list or "", origin=origin)

    def as_dict(self) -> dict[str, Any]:
        """Return the dict handed to the runner's ``control`` callable.

        Returns:
            ``{"command": ..., "cue": ..., "list": ...}`` without ``None`` values.
        """
        out: dict[str, Any] = {"command": self.command.value}
        if self.cue is not None:
            out["cue"] = self.cue
        if self.list is not None:
            out["list"] = self.list
        return out


def _decode_object(data: str | bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise ProtocolError("message is not valid JSON") from err
    if not isinstance(obj, dict):
        raise ProtocolError("message must be a JSON object")
    return obj


def _optional_name(obj: Mapping[str, Any], key: str, message_id: int | str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProtocolError(f"field {key!r} must be a string", message_id)
    text = str(value)
    if not text or len(text) > _MAX_NAME_LEN:
        raise ProtocolError(f"field {key!r} must be 1..{_MAX_NAME_LEN} characters", message_id)
    return text


def token_matches(given: str | None, token: str) -> bool:
    """Compare a console token in constant time.

    Args:
        given: The token presented by the client, or ``None``.
        token: The configured token.

    Returns:
        True when they are equal.
    """
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def check_auth(data: str | bytes, token: str) -> bool:
    """Check a console's first message against the configured token.

    Args:
        data: The raw first frame received on the console socket.
        token: The console token the show was started with.

    Returns:
        True when the frame is ``{"type": "auth", "token": <token>}``; the token is
        compared in constant time.

    Raises:
        ProtocolError: When the frame is not an auth message at all.
    """
    obj = _decode_object(data)
    if obj.get("type") != "auth":
        raise ProtocolError("first message must be {'type': 'auth', 'token': ...}")
    given = obj.get("token")
    return token_matches(given if isinstance(given, str) else None, token)


def parse_control(data: str | bytes) -> ControlRequest:
    """Validate a control message from an authenticated console.

    Args:
        data: The raw frame.

    Returns:
        The validated request.

    Raises:
        ProtocolError: With a human-readable reason when the message is malformed
            or names an unknown command.
    """
    obj = _decode_object(data)
    raw_id = obj.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
        raise ProtocolError("control message needs an 'id' (number or string)")
    if isinstance(raw_id, str) and len(raw_id) > _MAX_ID_LEN:
        raise ProtocolError("'id' is too long")
    message_id: int | str = raw_id
    if obj.get("type") != "control":
        raise ProtocolError(f"unsupported message type {obj.get('type')!r}", message_id)
    command = parse_command(obj.get("command"))
    if command is None or command not in CONSOLE_COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise ProtocolError(
            f"unknown command {obj.get('command')!r}; known commands: {known}", message_id
        )
    cue = _optional_name(obj, "cue", message_id)
    cue_list = _optional_name(obj, "list", message_id)
    if command in CONSOLE_COMMANDS_WITH_CUE and cue is None:
        raise ProtocolError(f"command {command.value!r} needs a 'cue'", message_id)
    return ControlRequest(id=message_id, command=command, cue=cue, list=cue_list)


def reply_message(message_id: int | str, result: Mapping[str, Any]) -> dict[str, Any]:
    """Build the reply sent back for a control request.

    Args:
        message_id: The request's ``id``.
        result: What the runner's ``control`` callable returned. ``ok`` defaults
            to True when the runner does not say otherwise.

    Returns:
        ``{"type": "reply", "id": message_id, "ok": ..., **result}``.
    """
    out: dict[str, Any] = {"ok": True}
    out.update(result)
    out["type"] = "reply"
    out["id"] = message_id
    return out


def error_reply(message_id: int | str | None, error: str) -> dict[str, Any]:
    """Build an error reply.

    Args:
        message_id: The request's ``id`` if it could be read, else ``None``.
        error: Human-readable reason shown on the console.

    Returns:
        ``{"type": "reply", "id": message_id, "ok": False, "error": error}``.
    """
    return {"type": "reply", "id": message_id, "ok": False, "error": error}


def sanitize(value: Any) -> Any:
    """Replace non-finite floats (NaN, ±inf) by ``None``, recursively.

    Browsers' ``JSON.parse`` rejects ``NaN``; a sensor glitch must not blank the
    dashboard.

    Args:
        value: A JSON-like structure.

    Returns:
        A copy where every non-finite float is ``None``; tuples become lists.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v) for v in value]
    return value


_ORJSON_OPTIONS: Final = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def encode_message_bytes(message: Mapping[str, Any]) -> bytes:
    """Serialise a message to compact UTF-8 JSON for the wire, non-finite floats as null.

    orjson does it in one pass (NaN and ±inf become ``null`` natively), several
    times faster than the standard library for the snapshots built every tick on the
    show loop. Parts already encoded (``orjson.Fragment``) are copied as they are;
    integers beyond 64 bits are written exactly, as the standard library would.
    """
    try:
        return orjson.dumps(message, option=_ORJSON_OPTIONS)
    except TypeError:  # an integer beyond 64 bits, or a float subclass
        return orjson.dumps(_representable(message), option=_ORJSON_OPTIONS)


_INT_RANGE: Final = range(-(2**63), 2**64)
"""The integers orjson writes itself."""


def _representable(value: Any) -> Any:
    """``value`` with what orjson refuses made writable: integers beyond 64 bits as their
    exact JSON number text, float subclasses as floats; already encoded JSON
    (``orjson.Fragment``, e.g. the console's idle rows) and everything else as is."""
    if isinstance(value, dict):
        return {_key(k): _representable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_representable(v) for v in value]
    if _big_int(value):
        return orjson.Fragment(str(int(value)).encode())
    if isinstance(value, float) and type(value) is not float:
        return float(value)
    return value


def _big_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE


def _key(key: Any) -> Any:
    """A dict key orjson can write (an integer beyond 64 bits as its text)."""
    return str(int(key)) if _big_int(key) else key


def encode_message(message: Mapping[str, Any]) -> str:
    """Serialise a message to compact JSON, replacing non-finite floats by null.

    Args:
        message: A JSON-like mapping.

    Returns:
        The JSON text.

    Raises:
        TypeError: When the message holds values JSON cannot represent.
    """
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(sanitize(message), separators=(",", ":"), allow_nan=False)
