"""WebServer behaviour seen from raw HTTP and websocket clients on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.web.webtest_support import TOKEN, FakeShow, ServerThread, wait_for


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def recv_json(ws: ClientConnection, type_: str | None = None) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = json.loads(ws.recv(timeout=10))
        if type_ is None or msg["type"] == type_:
            return msg


@contextlib.contextmanager
def console(srv: ServerThread) -> Iterator[ClientConnection]:
    with connect(srv.ws + "/console/ws", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "auth", "token": TOKEN}))
        hello = recv_json(ws, "hello")
        assert "go" in hello["commands"]
        yield ws


def closed_code(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        for _ in range(100):
            ws.recv(timeout=10)
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code, rcvd.reason


# ---------------------------------------------------------------- HTTP


def test_pages_and_static_files_are_served(server: ServerThread) -> None:
    status, headers, body = get(server.http + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/static/dashboard.js" in body
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    status, headers, body = get(server.http + "/console")
    assert status == 200 and b"/static/console.js" in body
    status, headers, _ = get(server.http + "/static/dashboard.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert get(server.http + "/static/../server.py")[0] == 404
    assert get(server.http + "/static/nope.js")[0] == 404
    assert get(server.http + "/etc/passwd")[0] == 404


def test_preview_needs_the_token(server: ServerThread, show: FakeShow) -> None:
    assert get(server.http + "/console/preview.jpg")[0] == 403
    assert get(server.http + "/console/preview.jpg?token=wrong")[0] == 403
    status, headers, body = get(server.http + f"/console/preview.jpg?token={TOKEN}")
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert body == show.preview
    show.preview = None
    assert get(server.http + f"/console/preview.jpg?token={TOKEN}")[0] == 404


# ---------------------------------------------------------------- public socket


def test_public_snapshots_carry_seq_time_and_the_runner_body(server: ServerThread) -> None:
    before = time.time()
    with connect(server.ws + "/ws") as ws:
        first = recv_json(ws, "snapshot")
        second = recv_json(ws, "snapshot")
    assert second["seq"] > first["seq"]
    assert first["t"] >= before - 1
    assert first["title"] == "Stove Night"
    assert [p["kind"] for p in first["layout"]] == ["balance", "stoves", "signal", "messages"]
    supply = first["signals"]["grid.supply_kw"]
    assert supply["health"] == "live" and len(supply["history"]) == 60


def test_public_socket_refuses_any_message_and_never_reaches_control(
    server: ServerThread, show: FakeShow
) -> None:
    with connect(server.ws + "/ws") as ws:
        recv_json(ws, "snapshot")
        ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
        code, reason = closed_code(ws)
    assert code == 1008
    assert "read-only" in reason
    assert show.control_commands() == []
    wait_for(lambda: server.stats()["refused_public_messages"] == 1)


def test_non_finite_values_do_not_break_json(show: FakeShow) -> None:
    def snapshot() -> dict[str, Any]:
        return {"signals": {"x": {"value": float("nan"), "health": "live"}}}

    srv = ServerThread(show, public_snapshot=snapshot)
    try:
        with connect(srv.ws + "/ws") as ws:
            msg = recv_json(ws, "snapshot")
        assert msg["signals"]["x"]["value"] is None
    finally:
        srv.shutdown()


def test_a_failing_snapshot_callable_is_counted_and_the_server_stays_up(show: FakeShow) -> None:
    calls = {"n": 0}

    def flaky() -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] % 2:
            raise RuntimeError("engine hiccup")
        return show.public_snapshot()

    srv = ServerThread(show, public_snapshot=flaky)
    try:
        with connect(srv.ws + "/ws") as ws:
            recv_json(ws, "snapshot")
            recv_json(ws, "snapshot")
        assert srv.stats()["snapshot_build_errors"] >= 1
    finally:
        srv.shutdown()


def test_slow_viewer_is_conflated_not_buffered(show: FakeShow) -> None:
    big = {"blob": "x" * 200_000}

    def snapshot() -> dict[str, Any]:
        return big

    srv = ServerThread(show, public_snapshot=snapshot, rate_hz=50.0, send_buffer_bytes=16_384)
    slow = socket.socket()
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", srv.port))
        slow.sendall(
            b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        # The slow viewer never reads. A healthy viewer keeps receiving meanwhile.
        with connect(srv.ws + "/ws", max_size=None) as fast:
            wait_for(lambda: srv.stats()["skipped_slow_viewer"] >= 5)
            seqs = [recv_json(fast)["seq"] for _ in range(3)]
        assert seqs == sorted(seqs)
        stats = srv.stats()
        # Never more than one partially sent snapshot queued in user space (and the
        # slow viewer's is seen: it was skipped holding it).
        assert 0 < stats["max_pending_bytes"] <= stats["snapshot_bytes"] + 1024
    finally:
        slow.close()
        srv.shutdown()


# ---------------------------------------------------------------- limits


def test_oversized_frame_is_refused_with_1009(server: ServerThread) -> None:
    with connect(server.ws + "/ws", max_size=None) as ws:
        recv_json(ws)
        ws.send("x" * 10_000)
        code, _ = closed_code(ws)
    assert code == 1009
    wait_for(lambda: server.stats()["refused_oversize"] == 1)


def test_connection_flood_from_one_address_is_refused(show: FakeShow) -> None:
    srv = ServerThread(show, max_per_address=4)
    try:
        with contextlib.ExitStack() as stack:
            held: list[ClientConnection] = []
            refused = 0
            for _ in range(10):
                try:
                    held.append(stack.enter_context(connect(srv.ws + "/ws", open_timeout=10)))
                except InvalidStatus as err:
                    assert err.response.status_code == 503
                    assert b"too many connections" in err.response.body
                    refused += 1
            assert len(held) == 4 and refused == 6
            assert srv.stats()["refused_per_address"] == 6
            recv_json(held[0], "snapshot")  # the admitted viewers still get data
            held[-1].close()
            wait_for(lambda: srv.stats()["sessions"] == 3)
            stack.enter_context(connect(srv.ws + "/ws", open_timeout=10))  # room again
    finally:
        srv.shutdown()


def test_total_cap_refuses_with_503(show: FakeShow) -> None:
    srv = ServerThread(show, max_connections=2)
    try:
        with connect(srv.ws + "/ws"), connect(srv.ws + "/ws"):
            with pytest.raises(InvalidStatus) as info:
                connect(srv.ws + "/ws")
            assert info.value.response.status_code == 503
            assert b"dashboard full" in info.value.response.body
    finally:
        srv.shutdown()


# ---------------------------------------------------------------- console socket


def test_console_requires_auth_before_anything(server: ServerThread, show: FakeShow) -> None:
    with connect(server.ws + "/console/ws") as ws:
        ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
        code, reason = closed_code(ws)
    assert code == 1008 and "auth" in reason
    with connect(server.ws + "/console/ws") as ws:
        ws.send(json.dumps({"type": "auth", "token": "guess"}))
        code, reason = closed_code(ws)
    assert (code, reason) == (1008, "wrong console token")
    assert show.control_commands() == []
    assert server.stats()["auth_failures"] == 2


def test_console_control_round_trip_and_errors(server: ServerThread, show: FakeShow) -> None:
    with console(server) as ws:
        snap = recv_json(ws, "console")
        assert snap["cue_lists"][0]["playhead"] == "2"
        assert snap["web"]["consoles"] == 1
        ws.send(json.dumps({"type": "control", "id": 7, "command": "go"}))
        reply = recv_json(ws, "reply")
        assert reply == {"type": "reply", "id": 7, "ok": True, "message": "go accepted"}
        ws.send(json.dumps({"type": "control", "id": 8, "command": "self_destruct"}))
        reply = recv_json(ws, "reply")
        assert reply["id"] == 8 and reply["ok"] is False
        assert "unknown command 'self_destruct'" in reply["error"]
        ws.send("{broken")
        assert recv_json(ws, "reply")["ok"] is False
        ws.send(json.dumps({"type": "control", "id": 9, "command": "start_cue", "cue": "4"}))
        assert recv_json(ws, "reply") == {
            "type": "reply",
            "id": 9,
            "ok": True,
            "message": "start_cue accepted",
        }
    assert show.controls == [{"command": "go"}, {"command": "start_cue", "cue": "4"}]


def test_async_and_failing_control_callables(show: FakeShow) -> None:
    async def control(request: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        if request["command"] == "panic":
            raise RuntimeError("MIDI port vanished")
        return {"ok": False, "error": "double-GO guard: 0.3 s left"}

    srv = ServerThread(show, control=control)
    try:
        with console(srv) as ws:
            ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
            assert recv_json(ws, "reply")["error"] == "double-GO guard: 0.3 s left"
            ws.send(json.dumps({"type": "control", "id": 2, "command": "panic"}))
            reply = recv_json(ws, "reply")
            assert reply["ok"] is False and "MIDI port vanished" in reply["error"]
            ws.send(json.dumps({"type": "control", "id": 3, "command": "go"}))
            assert recv_json(ws, "reply")["id"] == 3  # still serving
    finally:
        srv.shutdown()


def test_console_origin_check(server: ServerThread) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(server.ws + "/console/ws", origin=Origin("http://evil.example"))
    assert info.value.response.status_code == 403
    same = f"http://127.0.0.1:{server.port}"
    with connect(server.ws + "/console/ws", origin=Origin(same)) as ws:
        ws.send(json.dumps({"type": "auth", "token": TOKEN}))
        assert recv_json(ws, "hello")["type"] == "hello"
    # The public socket may be embedded anywhere.
    with connect(server.ws + "/ws", origin=Origin("http://elsewhere.example")) as ws:
        recv_json(ws, "snapshot")


def test_aclose_says_going_away(server: ServerThread) -> None:
    with connect(server.ws + "/ws") as ws:
        recv_json(ws)
        server.close()
        code, _ = closed_code(ws)
    assert code == 1001
