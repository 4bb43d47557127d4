"""Dashboard relays: a running show publishes its public snapshot to a real Mosquitto,
``stovelight relay`` processes serve it (headless Chromium), never the console, and
show lost signals once the show stops."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from rehearsal.broker import MosquittoBroker
from show.showfile.load import parse_show
from show.web.publish import relay_payload
from show.web.relay import RelayFeed
from tests.clocks import FakeClock
from tests.show.test_show_in_browser import _LoopThread
from tests.web.webtest_support import screenshot

pytestmark = pytest.mark.timeout(90)
WAIT_MS = 15_000

SHOW = """
[show]
title = "Relay test"
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
unit = "°C"
[web]
host = "127.0.0.1"
port = 0
console_token = "relay-test-token"
[control]
enabled = false
[relay]
broker = "{broker}"
topic = "test/dashboard"
rate_hz = 10
[dashboard]
title = "Relay test"
[[dashboard.panels]]
kind = "signal"
signal = "kitchen.temp_c"
label = "Kitchen"
[[cue_lists]]
name = "Main"
"""


def test_feed_serves_the_newest_snapshot_and_marks_signals_lost_when_it_stops() -> None:
    clock = FakeClock(100.0)
    feed = RelayFeed("mqtt://127.0.0.1:1", "t", stale_after=3.0, clock=clock)
    assert feed.body()["title"] == "Waiting for the show…"
    body = {"title": "T", "signals": {"a": {"value": 1.0, "health": "live"}}}
    assert feed.receive(relay_payload(body, 1.0))
    assert feed.body() == {**body, "published": 1.0}  # the show's stamp, for staleness
    clock.now += 3.5
    assert feed.body()["signals"] == {"a": {"value": 1.0, "health": "lost"}}
    assert feed.body()["title"] == "T"
    assert feed.receive(relay_payload({**body, "title": "T2"}, 2.0))
    assert feed.body()["title"] == "T2" and feed.body()["signals"]["a"]["health"] == "live"


@pytest.mark.parametrize(
    "payload", [b"{not json", b'{"snapshot": 3}', b"[" * 100_000, b"x" * (5 << 20)]
)
def test_feed_refuses_malformed_messages_and_keeps_the_last_good_one(payload: bytes) -> None:
    feed = RelayFeed("mqtt://127.0.0.1:1", "t", clock=FakeClock(100.0))
    feed.receive(relay_payload({"title": "good"}, 0.0))
    assert not feed.receive(payload)
    assert feed.refused == 1
    assert feed.body()["title"] == "good"


def test_relay_table_in_the_show_file_is_checked() -> None:
    text = '[relay]\nbroker = "ws://x"\ntopic = "a/#"\n[[cue_lists]]\nname = "Main"\n'
    with pytest.raises(Exception) as err:
        parse_show(text, "r.toml")
    assert "mqtt://host:1883" in str(err.value)
    assert "no wildcards" in str(err.value)


def _start(args: list[str], cwd: Path, pattern: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "show.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(pattern, line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise AssertionError(f"{args[0]} did not print {pattern!r}")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _first_snapshot(url: str) -> dict[str, Any]:
    with connect(url.replace("http://", "ws://") + "/ws", open_timeout=5) as ws:
        for _ in range(50):
            message = json.loads(ws.recv(timeout=5))
            if message.get("signals"):
                return dict(message)
    raise AssertionError("no snapshot with signals")


def test_two_relays_serve_the_show_and_a_restarted_relay_loses_nothing(
    broker: MosquittoBroker, tmp_path: Path, browser: Any
) -> None:
    feed = _LoopThread()
    show = tmp_path / "show.toml"
    show.write_text(SHOW.format(ws_port=feed.server.port, broker=broker.url))
    relay_args = ["relay", "--broker", broker.url, "--topic", "test/dashboard"]
    relay_args += ["--host", "127.0.0.1", "--port", "0", "--stale-after", "1"]
    relay_line = r"dashboard on (http://\S+)/ "
    procs: list[subprocess.Popen[str]] = []
    try:
        show_proc, _ = _start(["run", str(show), "--no-visuals"], tmp_path, r"(Press Ctrl-C)")
        procs.append(show_proc)
        one, url_one = _start(relay_args, tmp_path, relay_line)
        two, url_two = _start(relay_args, tmp_path, relay_line)
        procs += [one, two]

        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(url_one + "/")
        page.wait_for_selector('body[data-conn="open"][data-feed="ok"]', timeout=WAIT_MS)
        value = '[data-signal="kitchen.temp_c"] .value'
        first = page.locator(value).first.inner_text()
        page.wait_for_function(
            f"(v) => document.querySelector('{value}').textContent !== v",
            arg=first,
            timeout=WAIT_MS,
        )
        screenshot(page, "relay-dashboard")
        assert _first_snapshot(url_two)["title"] == "Relay test"

        # A relay never serves the console, and its public socket refuses control.
        assert page.request.get(url_one + "/console?token=relay-test-token").status == 404
        with connect(url_two.replace("http://", "ws://") + "/ws", open_timeout=5) as ws:
            ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
            with pytest.raises(Exception) as closed:
                for _ in range(100):
                    ws.recv(timeout=5)
            assert "1008" in str(closed.value)

        # Killed and restarted, a relay serves the retained snapshot at once.
        two.kill()
        two.wait()
        three, url_three = _start(relay_args, tmp_path, relay_line)
        procs.append(three)
        assert "kitchen.temp_c" in _first_snapshot(url_three)["signals"]

        # The show stops: the relays' viewers see lost signals, not frozen numbers.
        assert _stop(show_proc) == 0
        page.wait_for_function(
            "() => document.querySelector('[data-signal=\"kitchen.temp_c\"]')"
            ".dataset.health === 'lost'",
            timeout=WAIT_MS,
        )
        screenshot(page, "relay-show-stopped")
        context.close()
    finally:
        for proc in procs:
            if proc.poll() is None:
                _stop(proc)
        feed.close()
    assert one.returncode == 0
