"""A real ``stovelight run`` under the web side's hostile cases: a full dashboard, a
handshake flood, repeated ``Host`` headers; the operator still gets in with the token,
nothing crashes, no traceback, and the log holds summaries, not one line per request.
(Timings are measured by ``bench/chaos.py``, not here.)"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.web.webtest_support import concurrent_handshakes as handshakes

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "door-test-token"
VIEWERS = 4

SHOW = """\
[show]
title = "Door test"

[web]
host = "127.0.0.1"
port = {web}
console_token = "{token}"
max_connections = {viewers}
max_per_address = {viewers}
max_consoles = 2

[control]
port = {control}

[[cue_lists]]
name = "Main"

[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def show_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path, Path]]:
    web = free_port()
    show = tmp_path / "door.toml"
    show.write_text(
        SHOW.format(web=web, control=free_port(), token=TOKEN, viewers=VIEWERS), encoding="utf-8"
    )
    logs = tmp_path / "logs"
    stderr = tmp_path / "stderr.txt"
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/stovelight"),
            "run",
            str(show),
            "--no-visuals",
            *("--log-dir", str(logs)),
        ],
        stdout=subprocess.PIPE,
        stderr=stderr.open("wb"),
    )
    try:
        assert proc.stdout is not None
        banner = b""
        while b"Operator console" not in banner:
            line = proc.stdout.readline()
            assert line, "stovelight run ended before its banner: " + stderr.read_text()
            banner += line
        yield proc, web, logs, stderr
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_operator_gets_in_through_a_full_dashboard_and_floods(
    show_run: tuple[subprocess.Popen[bytes], int, Path, Path],
) -> None:
    proc, port, logs, stderr = show_run
    url = f"ws://127.0.0.1:{port}"
    double_host = sum(
        (handshakes(port, 1, "Host: evil.example\r\n") for _ in range(100)), Counter()
    )
    assert double_host == Counter({"400": 100})
    with contextlib.ExitStack() as stack:
        for _ in range(VIEWERS):
            stack.enter_context(connect(url + "/ws", open_timeout=10))
        with pytest.raises(InvalidStatus) as info:
            connect(url + "/ws", open_timeout=10)
        assert info.value.response.status_code == 503  # the cap holds
        with ThreadPoolExecutor(1) as pool:
            # The operator connects while 1,000 handshakes from the same address flood in.
            flood = pool.submit(handshakes, port, 1000)
            with connect(f"{url}/console/ws?token={TOKEN}", open_timeout=10) as ws:
                ws.send(json.dumps({"type": "auth", "token": TOKEN}))
                while json.loads(ws.recv(timeout=10))["type"] != "hello":
                    pass
                ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
                while (reply := json.loads(ws.recv(timeout=10)))["type"] != "reply":
                    pass
            assert flood.result(60) == Counter({"503": 1000})
        assert reply["ok"] is True, reply
    assert proc.poll() is None  # still running
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    log = "".join(p.read_text(encoding="utf-8") for p in logs.glob("*.log*"))
    assert "Traceback" not in log
    assert "Traceback" not in stderr.read_text()
    assert "console connected" in log
    # 1,001 refusals and 100 malformed requests: a summary line each, not 1,101 lines.
    assert log.count("refusing connections") <= 2
    assert log.count("repeated header") <= 2
    assert len(log.splitlines()) < 60
