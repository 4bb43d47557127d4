"""Pure wire-format tests: control parsing, auth, replies, JSON encoding."""

from __future__ import annotations

import json
import math

import pytest

from show.runtime.commands import OperatorCommand, OperatorRequest
from show.web.protocol import (
    COMMANDS,
    ProtocolError,
    check_auth,
    encode_message,
    error_reply,
    parse_control,
    reply_message,
)


def test_parse_control_accepts_every_known_command() -> None:
    for i, command in enumerate(sorted(COMMANDS)):
        req = parse_control(
            json.dumps({"type": "control", "id": i, "command": command, "cue": "3"})
        )
        assert req.id == i
        assert req.command is OperatorCommand(command)
        assert req.as_dict() == {"command": command, "cue": "3"}
        assert req.operator("console") == OperatorRequest(
            OperatorCommand(command), "3", "", origin="console"
        )


def test_the_console_vocabulary_is_unchanged() -> None:
    """What a console may send (the hello lists it): the runner's own commands
    (pause_cue, resume_cue, set_min_go) are refused here."""
    assert sorted(COMMANDS) == [
        "go",
        "identify",
        "panic",
        "pause",
        "playhead_next",
        "playhead_previous",
        "reload",
        "reset",
        "resume",
        "set_playhead",
        "start_cue",
        "stop",
        "stop_cue",
        "takeover",
        "test_pattern",
    ]
    for command in ("pause_cue", "resume_cue", "set_min_go"):
        with pytest.raises(ProtocolError, match="unknown command"):
            parse_control(json.dumps({"type": "control", "id": 1, "command": command}))


def test_parse_control_keeps_list_and_numeric_cue_as_text() -> None:
    req = parse_control(
        '{"type":"control","id":"a1","command":"start_cue","cue":4.5,"list":"Main"}'
    )
    assert req.as_dict() == {"command": "start_cue", "cue": "4.5", "list": "Main"}


@pytest.mark.parametrize(
    ("raw", "reason", "message_id"),
    [
        ("not json", "not valid JSON", None),
        ("[1, 2]", "JSON object", None),
        ('{"type":"control","command":"go"}', "needs an 'id'", None),
        ('{"type":"control","id":true,"command":"go"}', "needs an 'id'", None),
        ('{"type":"control","id":5,"command":"explode"}', "unknown command 'explode'", 5),
        ('{"type":"control","id":9,"command":3}', "unknown command 3", 9),
        ('{"type":"other","id":6,"command":"go"}', "unsupported message type", 6),
        ('{"type":"control","id":7,"command":"set_playhead"}', "needs a 'cue'", 7),
        ('{"type":"control","id":8,"command":"go","cue":{"x":1}}', "must be a string", 8),
    ],
)
def test_parse_control_rejects_with_reason(raw: str, reason: str, message_id: object) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_control(raw)
    assert reason in str(info.value)
    assert info.value.message_id == message_id


def test_check_auth() -> None:
    assert check_auth('{"type":"auth","token":"s3cret"}', "s3cret")
    assert not check_auth('{"type":"auth","token":"wrong"}', "s3cret")
    assert not check_auth('{"type":"auth","token":123}', "s3cret")
    with pytest.raises(ProtocolError):
        check_auth('{"type":"control","id":1,"command":"go"}', "s3cret")


def test_replies() -> None:
    assert reply_message(3, {"message": "went"}) == {
        "ok": True,
        "message": "went",
        "type": "reply",
        "id": 3,
    }
    assert reply_message(3, {"ok": False, "type": "x", "id": 9})["id"] == 3
    assert reply_message(3, {"ok": False})["ok"] is False
    assert error_reply(None, "bad") == {"type": "reply", "id": None, "ok": False, "error": "bad"}


def test_encode_message_replaces_non_finite_numbers() -> None:
    text = encode_message({"a": float("nan"), "b": [1.5, float("inf")], "c": (1, 2)})
    assert json.loads(text) == {"a": None, "b": [1.5, None], "c": [1, 2]}
    assert "NaN" not in text and "Infinity" not in text


def test_wire_encoding_is_strict_json_with_non_finite_values_as_null() -> None:
    import numpy as np

    from show.web.protocol import encode_message, encode_message_bytes

    message = {
        "t": 1.5,
        "v": float("nan"),
        "w": -math.inf,
        "np": np.float64(2.5),
        "arr": np.array([1.0, np.inf]),
        "rows": (1, "x", None, True),
    }
    data = encode_message_bytes(message)
    decoded = json.loads(data, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert decoded == {
        "t": 1.5,
        "v": None,
        "w": None,
        "np": 2.5,
        "arr": [1.0, None],
        "rows": [1, "x", None, True],
    }
    plain = {"a": [1, 2.5, "é"], "b": {"c": None}}
    assert json.loads(encode_message_bytes(plain)) == json.loads(encode_message(plain))
    # what orjson cannot represent still goes out through the standard encoder
    assert json.loads(encode_message_bytes({"big": 2**70})) == {"big": 2**70}
