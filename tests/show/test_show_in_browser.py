"""A real ``stovelight run`` fed by a websocket source, seen in headless Chromium:
the dashboard updates live and shows stale data, the console's GO fires a cue whose
OSC reaches a UDP receiver, and the public socket is refused control."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from bridges.osc.wire import decode_packet, iter_messages
from tests.show.live_support import TelemetryServer
from tests.web.webtest_support import screenshot, start_show, stop_show

WAIT_MS = 15_000
TOKEN = "browser-test-token"

SHOW = """
[show]
title = "Browser test"
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
unit = "°C"
stale_after = 0.5
lost_after = 60
[outputs.osc.desk]
port = {osc_port}
[web]
host = "127.0.0.1"
port = 0
console_token = "{token}"
[control]
host = "127.0.0.1"
port = 0
[dashboard]
title = "Browser test"
[[dashboard.panels]]
kind = "signal"
signal = "kitchen.temp_c"
label = "Kitchen"
[[dashboard.panels]]
kind = "messages"
[[cue_lists]]
name = "Main"
[mappings.glow]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/glow" }}
range = {{ in = [0, 100000], out = [0.0, 1.0] }}
max_rate_hz = 10
[[triggers]]
name = "very-hot"
when = {{ signal = "kitchen.temp_c", above = 1e12 }}
start = "Events/9"
[[cue_lists.cues]]
number = "1"
name = "Welcome"
type = "osc"
target = "desk"
address = "/cue/welcome"
args = [1]
notes = "Doors close first"
[[cue_lists.cues]]
number = "2"
name = "When the kitchen is very hot"
type = "osc"
target = "desk"
address = "/cue/hot"
wait_for = {{ signal = "kitchen.temp_c", above = 1e12 }}
timeout = 3
fallback = "Events/9"
[[cue_lists.cues]]
number = "3"
name = "Bows"
type = "memo"
[[cue_lists]]
name = "Events"
[[cue_lists.cues]]
number = "9"
name = "Carry on"
type = "osc"
target = "desk"
address = "/cue/fallback"
"""


class _LoopThread:
    """The telemetry server on its own event loop, so the sync Playwright API can run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = TelemetryServer()
        self.call(self.server.start())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def live_show(tmp_path: Path) -> Iterator[tuple[str, socket.socket, _LoopThread]]:
    feed = _LoopThread()
    osc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    osc.bind(("127.0.0.1", 0))
    osc.settimeout(10)
    show = tmp_path / "show.toml"
    show.write_text(
        SHOW.format(ws_port=feed.server.port, osc_port=osc.getsockname()[1], token=TOKEN)
    )
    proc, url = start_show(
        [sys.executable, "-m", "show.cli", "run", str(show), "--no-visuals"], cwd=tmp_path
    )
    try:
        yield url, osc, feed
    finally:
        stop_show(proc, signal.SIGTERM)
        osc.close()
        feed.close()
    assert proc.returncode == 0


def _value(page: Any) -> str:
    return str(page.locator('[data-signal="kitchen.temp_c"] .value').first.inner_text())


def test_dashboard_and_console_against_a_running_show(
    live_show: tuple[str, socket.socket, _LoopThread], browser: Any
) -> None:
    url, osc, feed = live_show
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.wait_for_selector('body[data-conn="open"][data-feed="ok"]', timeout=WAIT_MS)
        first = _value(page)
        page.wait_for_function(
            "(v) => document.querySelector('[data-signal=\"kitchen.temp_c\"] .value')"
            ".textContent !== v",
            arg=first,
            timeout=WAIT_MS,
        )
        screenshot(page, "e2e-dashboard-live")

        console = context.new_page()
        console.goto(url + f"/console?token={TOKEN}")
        console.wait_for_selector('tr.cue-row.standby[data-cue="1"]', timeout=WAIT_MS)
        console.keyboard.press("Space")
        while True:
            data, _ = osc.recvfrom(65536)
            addresses = [m.address for m in iter_messages(decode_packet(data))]
            if "/cue/welcome" in addresses:
                break
        screenshot(console, "e2e-console-after-go")

        # The public page's socket cannot send control: it is closed with 1008.
        ws_url = url.replace("http://", "ws://") + "/ws"
        with connect(ws_url, open_timeout=5) as ws:
            ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
            with pytest.raises(Exception) as closed:
                for _ in range(100):
                    ws.recv(timeout=5)
            assert "1008" in str(closed.value)

        # Pull the telemetry server: the dashboard marks the value as stale.
        feed.call(feed.server.stop())
        figure = page.locator('[data-signal="kitchen.temp_c"]').first
        page.wait_for_function(
            "() => document.querySelector('[data-signal=\"kitchen.temp_c\"]')"
            ".dataset.health !== 'live'",
            timeout=WAIT_MS,
        )
        assert figure.get_attribute("data-health") in ("stale", "lost")
        screenshot(page, "e2e-dashboard-stale")
    finally:
        context.close()


def test_console_top_bar_tells_the_truth_about_a_running_show(
    live_show: tuple[str, socket.socket, _LoopThread], browser: Any
) -> None:
    """Standby, what GO fires, a conditional GO timing out into its fallback, PANIC
    refusing GO and switching the mappings off, refused samples by name, and the
    source's chip turning when its feed dies."""
    url, _osc, feed = live_show
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(url + f"/console?token={TOKEN}")
        page.wait_for_function(
            "() => document.getElementById('sb-number').textContent === '1'", timeout=WAIT_MS
        )
        assert page.inner_text("#sb-name") == "Welcome"
        assert page.inner_text("#sb-fires") == "OSC desk /cue/welcome 1"
        assert page.inner_text("#sb-notes") == "Doors close first"
        page.wait_for_selector(
            '#health .chip[data-id="source:kitchen"][data-state="ok"]', timeout=WAIT_MS
        )
        # the feed also sends kitchen.state, which the show does not declare: refused by name
        refused = page.locator('#health .chip[data-id="refused"]')
        refused.wait_for(timeout=WAIT_MS)
        refused.click()
        page.wait_for_selector("#chip-details", state="visible", timeout=WAIT_MS)
        assert "kitchen.state" in page.inner_text("#chip-lines")
        page.click("#chip-close")

        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.getElementById('sb-number').textContent === '2'", timeout=WAIT_MS
        )
        assert "waits for kitchen.temp_c > 1e+12" in page.inner_text("#sb-waits")
        page.wait_for_selector('#go[data-state="ready"]', timeout=WAIT_MS)
        page.keyboard.press("Space")
        story = page.locator('tr.cue-row[data-cue="2"] .story')
        story.and_(page.locator('[data-result="waiting"]')).wait_for(timeout=WAIT_MS)
        assert "waiting for kitchen.temp_c > 1e+12" in story.inner_text()
        assert "timeout in" in story.inner_text() and "→ fallback 9" in story.inner_text()
        page.wait_for_selector('#go[data-state="waiting"]', timeout=WAIT_MS)
        assert "cue 2 waits for" in page.inner_text("#go-state")
        screenshot(page, "e2e-console-waiting")
        story.and_(page.locator('[data-result="timed out"]')).wait_for(timeout=WAIT_MS)
        assert story.inner_text().endswith("→ fallback 9")

        glow = page.locator('#mappings tr[data-mapping="glow"]')
        glow.and_(page.locator('[data-state="on"]')).wait_for(timeout=WAIT_MS)
        page.keyboard.press("Escape")
        page.wait_for_selector('#go[data-state="panic"]', timeout=WAIT_MS)
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.getElementById('reply').textContent.includes('PANIC in progress')",
            timeout=WAIT_MS,
        )
        screenshot(page, "e2e-console-panic")
        page.wait_for_selector("#maps-note", state="visible", timeout=WAIT_MS)
        assert glow.get_attribute("data-state") == "off (PANIC)"

        feed.call(feed.server.stop())
        page.wait_for_selector(
            '#health .chip[data-id="source:kitchen"]:is([data-state="down"],'
            ' [data-state="stale"], [data-state="lost"])',
            timeout=WAIT_MS,
        )
        screenshot(page, "e2e-console-source-down")
    finally:
        context.close()
