"""The dashboard and the console in headless Chromium, against a live WebServer.

Screenshots land in ``artifacts/screenshots/`` (kept by CI).
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.web.webtest_support import TOKEN, FakeShow, ServerThread, screenshot, wait_for

WAIT_MS = 15_000
CHANGED_JS = (
    "(v) => document.querySelector('[data-signal=\"grid.supply_kw\"] .value').textContent !== v"
)
CENTRAL = '.stove[data-signal="stove.central.state"]'


def value_of(page: Any, signal: str) -> str:
    return str(page.locator(f'[data-signal="{signal}"] .value').first.inner_text())


def wait_live(page: Any) -> None:
    page.wait_for_selector('body[data-conn="open"][data-feed="ok"]', timeout=WAIT_MS)


def assert_no_js_errors(page: Any) -> None:
    assert page.js_errors == []


# ---------------------------------------------------------------- public dashboard


def test_dashboard_shows_live_values_that_change(server: ServerThread, page: Any) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    assert page.inner_text("#title") == "Stove Night"
    first = value_of(page, "grid.supply_kw")
    assert first not in ("", "—")
    page.wait_for_function(CHANGED_JS, arg=first, timeout=WAIT_MS)
    assert value_of(page, "grid.supply_kw") != first
    assert page.locator(f"{CENTRAL} .state").inner_text() == "HEATING"
    assert "°C" in page.locator(f"{CENTRAL} .temp").inner_text()
    assert "Soup is served at 7" in page.inner_text(".messages")
    assert page.locator("#waiting").is_hidden()
    assert page.locator("#offline").is_hidden()
    # The history charts were actually drawn (some non-transparent pixels).
    drawn = page.evaluate(
        """() => { const c = document.querySelector('.balance canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""
    )
    assert drawn > 100
    screenshot(page, "dashboard-live")
    assert_no_js_errors(page)


def test_stale_and_lost_signals_are_marked(server: ServerThread, show: FakeShow, page: Any) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    with show.lock:
        show.health["grid.demand_kw"] = "stale"
        show.health["grid.frequency_hz"] = "lost"
    demand = page.locator('.figure[data-signal="grid.demand_kw"]')
    demand.and_(page.locator(".health-stale")).wait_for(timeout=WAIT_MS)
    assert "STALE" in demand.locator(".health").inner_text()
    freq = page.locator('.figure[data-signal="grid.frequency_hz"]')
    freq.and_(page.locator(".health-lost")).wait_for(timeout=WAIT_MS)
    assert freq.locator(".health").inner_text() == "NO SIGNAL"
    assert freq.locator(".value").inner_text() == "—"
    # Live signals stay unmarked.
    supply = page.locator('.figure[data-signal="grid.supply_kw"]')
    assert supply.get_attribute("data-health") == "live"
    screenshot(page, "dashboard-stale")


def test_alerts_appear_as_banners(server: ServerThread, show: FakeShow, page: Any) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    with show.lock:
        show.alerts = [{"id": "a1", "text": "Central stove malfunction", "level": "critical"}]
    page.wait_for_selector(".alert.level-critical", timeout=WAIT_MS)
    assert page.inner_text(".alerts") == "Central stove malfunction"


def test_waiting_for_data_before_the_show_sends(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    with show.lock:
        show.started = False
        show.messages = []
    page.goto(server.http + "/")
    page.wait_for_selector('body[data-conn="open"]', timeout=WAIT_MS)
    page.wait_for_selector("#waiting", state="visible", timeout=WAIT_MS)
    assert "Waiting for data" in page.inner_text("#waiting")
    assert page.get_attribute("body", "data-feed") == "waiting"
    screenshot(page, "dashboard-waiting")
    with show.lock:
        show.started = True
    wait_live(page)
    assert page.locator("#waiting").is_hidden()


def test_connection_lost_is_shown_and_reconnects(show: FakeShow, page: Any) -> None:
    srv = ServerThread(show)
    port = srv.port
    try:
        page.goto(srv.http + "/")
        wait_live(page)
        srv.shutdown()
        page.wait_for_selector('body[data-conn="lost"]', timeout=WAIT_MS)
        page.wait_for_selector("#offline", state="visible", timeout=WAIT_MS)
        assert "Connection to the show lost" in page.inner_text("#offline")
        screenshot(page, "dashboard-connection-lost")
        # The page reconnects by itself when the show comes back on the same port.
        srv = ServerThread(show, port=port)
        wait_live(page)
        assert page.locator("#offline").is_hidden()
    finally:
        srv.shutdown()


def test_portrait_phone_layout_fits(server: ServerThread, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(server.http + "/")
        wait_live(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        screenshot(page, "dashboard-phone-portrait")
    finally:
        context.close()


def test_refusals_do_not_disturb_the_page(show: FakeShow, page: Any) -> None:
    srv = ServerThread(show, max_per_address=6)
    try:
        page.goto(srv.http + "/")
        wait_live(page)
        # The public socket is refused control.
        with connect(srv.ws + "/ws") as ws:
            ws.send(json.dumps({"type": "control", "id": 1, "command": "go"}))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        # An oversized frame is refused.
        with connect(srv.ws + "/ws", max_size=None) as ws:
            ws.send("x" * 100_000)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        wait_for(lambda: srv.stats()["sessions"] == 1)
        # A flood from the page's own address: the page holds 1 of 6 slots.
        refused = 0
        with contextlib.ExitStack() as stack:
            for _ in range(20):
                try:
                    stack.enter_context(connect(srv.ws + "/ws", open_timeout=10))
                except InvalidStatus as err:
                    assert err.response.status_code == 503
                    refused += 1
            assert refused == 15
            before = value_of(page, "grid.supply_kw")
            page.wait_for_function(CHANGED_JS, arg=before, timeout=WAIT_MS)
        assert page.get_attribute("body", "data-conn") == "open"
        assert show.control_commands() == []
        stats = srv.stats()
        assert stats["refused_public_messages"] == 1
        assert stats["refused_oversize"] == 1
        assert stats["refused_per_address"] == 15
        assert_no_js_errors(page)
    finally:
        srv.shutdown()


# ---------------------------------------------------------------- console


def test_console_without_token_shows_nothing_and_cannot_send(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(server.http + "/console")
    page.wait_for_selector("#login-form", state="visible", timeout=WAIT_MS)
    assert page.locator("#console").is_hidden()
    assert page.locator(".cue-row").count() == 0
    page.keyboard.press("Space")
    page.keyboard.press("Escape")
    assert sockets == []  # no console socket was even opened
    assert server.stats()["consoles"] == 0
    assert show.control_commands() == []
    screenshot(page, "console-login")


def test_console_wrong_token_is_refused_with_reason(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    page.goto(server.http + "/console?token=not-the-token")
    page.wait_for_function(
        "() => document.getElementById('login-error').textContent.includes('wrong console token')",
        timeout=WAIT_MS,
    )
    assert page.locator("#console").is_hidden()
    page.keyboard.press("Space")
    assert show.control_commands() == []
    assert server.stats()["auth_failures"] >= 1


def test_console_with_token_space_bar_sends_go(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    data_url = page.evaluate(
        """() => { const c = document.createElement('canvas'); c.width = 64; c.height = 36;
        const g = c.getContext('2d'); g.fillStyle = '#f80'; g.fillRect(0, 0, 64, 36);
        return c.toDataURL('image/jpeg'); }"""
    )
    show.preview = base64.b64decode(data_url.split(",", 1)[1])
    page.goto(server.http + f"/console?token={TOKEN}")
    page.wait_for_selector("#console", state="visible", timeout=WAIT_MS)
    assert "token=" not in page.url  # taken off the address bar
    page.wait_for_selector('tr.cue-row.standby[data-cue="2"]', timeout=WAIT_MS)
    page.keyboard.press("Space")
    wait_for(lambda: show.control_commands() == ["go"], what="go to reach control()")
    page.wait_for_function(
        "() => document.getElementById('reply').textContent.includes('go accepted')",
        timeout=WAIT_MS,
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Escape")
    wait_for(lambda: show.control_commands() == ["go", "playhead_next", "panic"])
    page.click("text=Stop all")
    wait_for(lambda: show.control_commands()[-1] == "stop")
    page.click('tr.cue-row[data-cue="1"]')
    wait_for(lambda: show.controls[-1] == {"command": "set_playhead", "cue": "1", "list": "Main"})
    source_row = '#sources tr[data-signal="stove.central.temp_c"] .h-live'
    page.wait_for_selector(source_row, timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.getElementById('preview').naturalWidth === 64", timeout=WAIT_MS
    )
    # the double-GO guard shows at once after a GO (the engine enforces it)
    guard = page.evaluate(
        "() => { document.getElementById('go').click();"
        " return [document.getElementById('go').dataset.state,"
        " document.getElementById('go-state').textContent]; }"
    )
    assert guard[0] == "guard" and guard[1].startswith("double-GO guard")
    wait_for(lambda: show.control_commands()[-1] == "go", what="the button's GO")
    screenshot(page, "console-live")
    assert_no_js_errors(page)


def test_console_login_form(server: ServerThread, show: FakeShow, page: Any) -> None:
    page.goto(server.http + "/console")
    page.fill("#token-input", TOKEN)
    page.click("text=Open console")
    page.wait_for_selector("#console", state="visible", timeout=WAIT_MS)
    page.click("#go")
    wait_for(lambda: show.control_commands() == ["go"])
