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

from tests.web.webtest_support import (
    LAYOUT,
    TOKEN,
    FakeShow,
    ServerThread,
    drawn_pixels,
    screenshot,
    wait_for,
)

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
    drawn = drawn_pixels(page, ".balance canvas")
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


# ---------------------------------------------------------------- console: the top 300 px


def _console(browser: Any, server: ServerThread, width: int = 1920, height: int = 1080) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda err: page.js_errors.append(str(err)))
    page.goto(server.http + f"/console?token={TOKEN}")
    page.wait_for_selector("#console", state="visible", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.getElementById('sb-number').textContent !== ''", timeout=WAIT_MS
    )
    return page


def _bottom(page: Any, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return float(box["y"] + box["height"])


def test_console_top_says_what_go_does_what_runs_and_what_is_sick(
    server: ServerThread, browser: Any
) -> None:
    page = _console(browser, server)
    try:
        assert page.inner_text("#sb-number") == "2"
        assert page.inner_text("#sb-name") == "Stove glow"
        assert "scene heat on projector" in page.inner_text("#sb-fires")
        assert page.inner_text("#sb-notes") == "Wait for the actor to reach the stove"
        assert "stove.central.temp_c above 150" in page.inner_text("#sb-waits")
        running = page.locator('#running li[data-cue="1"]')
        assert "House lights down" in running.inner_text()
        assert "2.5 s left" in running.inner_text()
        assert page.get_attribute("#go", "data-state") == "ready"
        assert page.locator("#health .chip").count() == 2
        # a newcomer reads all of it in the top 300 px
        for selector in ("#go", "#go-state", "#standby", "#running", "#health"):
            assert _bottom(page, selector) <= 300, selector
        screenshot(page, "console-top")
        assert_no_js_errors(page)
    finally:
        page.context.close()


def test_go_button_shows_panic_and_guard_and_the_refusal_says_which(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    page = _console(browser, server)
    try:
        with show.lock:
            show.go = {
                "state": "panic",
                "allowed": False,
                "reason": "PANIC: fading out, GO refused for 1.5 s",
                "remaining": 1.5,
            }
        page.wait_for_selector('#go[data-state="panic"]', timeout=WAIT_MS)
        assert "PANIC" in page.inner_text("#go-state")
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.getElementById('reply').textContent.includes('PANIC')",
            timeout=WAIT_MS,
        )
        assert "error" in (page.get_attribute("#reply", "class") or "")
        screenshot(page, "console-panic")
        with show.lock:
            show.go = {
                "state": "guard",
                "allowed": False,
                "reason": "double-GO guard: 0.4 s",
                "remaining": 0.4,
            }
        page.wait_for_selector('#go[data-state="guard"]', timeout=WAIT_MS)
        assert page.inner_text("#go-state") == "double-GO guard: 0.4 s"
        with show.lock:
            show.go = {"state": "ready", "allowed": True, "reason": "ready"}
        page.wait_for_selector('#go[data-state="ready"]', timeout=WAIT_MS)
    finally:
        page.context.close()


def test_waiting_cue_counts_down_then_says_how_it_ended(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    page = _console(browser, server)
    try:
        story = page.locator('tr.cue-row[data-cue="3"] .story')
        story.and_(page.locator('[data-result="waiting"]')).wait_for(timeout=WAIT_MS)
        first = story.inner_text()
        assert "waiting for stove.central.temp_c above 250" in first
        assert "now 181.0 °C" in first
        assert "timeout in 2:" in first and "→ fallback 9" in first
        page.wait_for_function(
            "(t) => document.querySelector('tr.cue-row[data-cue=\"3\"] .story').textContent !== t",
            arg=first,
            timeout=WAIT_MS,
        )
        assert "timeout in" in story.inner_text()  # the countdown moved on
        with show.lock:
            show.wait_outcome = {"result": "timed out", "at": 1_700_000_000.0, "fallback": "9"}
        story.and_(page.locator('[data-result="timed out"]')).wait_for(timeout=WAIT_MS)
        assert story.inner_text().startswith("timed out at ")
        assert story.inner_text().endswith("→ fallback 9")
        with show.lock:
            show.wait_outcome = {"result": "succeeded", "at": 1_700_000_000.0, "fallback": ""}
        story.and_(page.locator('[data-result="succeeded"]')).wait_for(timeout=WAIT_MS)
        assert story.inner_text().startswith("succeeded at ")
    finally:
        page.context.close()


def test_health_chip_turns_when_a_source_dies_and_opens_its_details(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    page = _console(browser, server)
    try:
        chip = page.locator('#health .chip[data-id="source:stoves"]')
        assert chip.get_attribute("data-state") == "ok"
        with show.lock:
            show.source_state = "down"
        page.wait_for_selector(
            '#health .chip[data-id="source:stoves"][data-state="down"]', timeout=WAIT_MS
        )
        assert "disconnected" in chip.inner_text()
        assert page.locator("#chip-details").is_hidden()
        chip.click()
        page.wait_for_selector("#chip-details", state="visible", timeout=WAIT_MS)
        assert "refused: bad name 3" in page.inner_text("#chip-lines")
        screenshot(page, "console-chip-details")
        page.click("#chip-close")
        page.wait_for_selector("#chip-details", state="hidden", timeout=WAIT_MS)
    finally:
        page.context.close()


def test_mappings_panel_plots_what_is_sent_and_shows_panic_turned_them_off(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    page = _console(browser, server)
    try:
        row = page.locator('#mappings tr[data-mapping="glow"]')
        row.and_(page.locator('[data-state="on"]')).wait_for(timeout=WAIT_MS)
        assert "181.0 °C" in row.inner_text()
        assert "0.70" in row.inner_text() and "40 sent" in row.inner_text()
        drawn = drawn_pixels(page, "#mappings canvas")
        assert drawn > 20
        assert page.locator("#maps-note").is_hidden()
        with show.lock:
            show.mappings_off = True
        row.and_(page.locator('[data-state="off (PANIC)"]')).wait_for(timeout=WAIT_MS)
        page.wait_for_selector("#maps-note", state="visible", timeout=WAIT_MS)
        assert "PANIC turned every mapping off" in page.inner_text("#maps-note")
        trig = page.locator('#triggers tr[data-trigger="fault"]')
        assert trig.get_attribute("data-state") == "armed"
        assert "never" in trig.inner_text()
    finally:
        page.context.close()


# ---------------------------------------------------------------- dashboard: projector mode

FITS_JS = """() => { const s = document.scrollingElement;
  return s.scrollHeight <= innerHeight && s.scrollWidth <= innerWidth; }"""


def _fitted(browser: Any, server: ServerThread, width: int, height: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(server.http + "/?projector")
    wait_live(page)
    page.wait_for_selector('body[data-projector="fit"]', timeout=WAIT_MS)
    page.wait_for_function("() => document.documentElement.style.fontSize !== ''", timeout=WAIT_MS)
    return page


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (3840, 2160)])
def test_projector_mode_fits_the_window_with_every_panel(
    server: ServerThread, browser: Any, size: tuple[int, int]
) -> None:
    width, height = size
    page = _fitted(browser, server, width, height)
    try:
        page.wait_for_function(FITS_JS, timeout=WAIT_MS)
        metrics = page.evaluate(
            """() => ({ sh: document.scrollingElement.scrollHeight, h: innerHeight,
            font: parseFloat(document.documentElement.style.fontSize),
            page: document.getElementById('page').textContent })"""
        )
        assert metrics["sh"] <= height
        assert metrics["page"] == ""  # everything on one page, nothing rotating away
        assert metrics["font"] >= height / 80  # the smallest type the fit allows
        panels = page.locator(".panel")
        assert panels.count() == 4
        for i in range(4):
            box = panels.nth(i).bounding_box()
            assert box is not None and panels.nth(i).is_visible()
            assert box["y"] >= 0 and box["y"] + box["height"] <= height
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        if width == 1920:
            screenshot(page, "dashboard-projector-1080p")
    finally:
        page.context.close()


def test_projector_mode_pages_panels_when_they_cannot_fit(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    signal = LAYOUT[2]
    with show.lock:
        show.layout = [*LAYOUT, *([signal] * 14)]
    page = _fitted(browser, server, 1280, 720)
    try:
        page.wait_for_function(
            "() => document.getElementById('page').textContent !== ''", timeout=WAIT_MS
        )
        page.wait_for_function(FITS_JS, timeout=WAIT_MS)
        assert page.inner_text("#page").startswith("1 / ")
        visible = page.evaluate(
            "() => [...document.querySelectorAll('.panel')].filter((p) => !p.hidden).length"
        )
        assert 0 < visible < 18
        # the next page comes by itself, laid out for its own panels, and fits too
        page.wait_for_function(
            "() => document.getElementById('page').textContent.startsWith('2 / ')",
            timeout=30_000,
        )
        page.wait_for_function(FITS_JS, timeout=WAIT_MS)
    finally:
        page.context.close()


def test_phone_keeps_a_scrolling_page_even_in_projector_mode(
    server: ServerThread, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(server.http + "/?projector")
        wait_live(page)
        assert page.get_attribute("body", "data-projector") == "scroll"
        sizes = page.evaluate(
            "() => [document.scrollingElement.scrollHeight, document.scrollingElement.scrollWidth]"
        )
        assert sizes[0] > 844  # the panels stack and scroll
        assert sizes[1] <= 390  # nothing sideways
        screenshot(page, "dashboard-phone-projector-param")
    finally:
        context.close()


def test_live_badge_is_off_while_every_signal_is_lost(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    assert page.inner_text("#conn") == "● Live"
    names = list(show.public_snapshot()["signals"])
    with show.lock:
        for name in names:
            show.health[name] = "lost"
    page.wait_for_selector('body[data-feed="nosignal"]', timeout=WAIT_MS)
    assert page.inner_text("#conn") == "No live data"
    assert page.locator("#offline").is_visible()
    with show.lock:
        show.health.clear()
    wait_live(page)
    assert page.inner_text("#conn") == "● Live"


def test_every_text_and_the_language_come_from_the_show(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    with show.lock:
        show.text = {
            "language": "de",
            "live": "● Live-Daten",
            "energy_explain": "So viel Energie erzeugen und brauchen die Häuser gerade.",
            "energy_made": "Erzeugt",
            "chart_now": "jetzt",
        }
    page.goto(server.http + "/")
    page.wait_for_function(
        "() => document.getElementById('conn').textContent === '● Live-Daten'", timeout=WAIT_MS
    )
    assert page.get_attribute("html", "lang") == "de"
    assert page.inner_text(".balance .explain").startswith("So viel Energie")
    assert page.inner_text('.figure[data-signal="grid.supply_kw"] .label').startswith("Erzeugt")
    assert "," in value_of(page, "grid.supply_kw")  # German decimal comma


def test_charts_keep_a_minimum_span_or_the_declared_range(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    ranges = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-signal] canvas,'
        + ' .panel > canvas')].map((c, i) => [c.closest('[data-signal]')?.dataset.signal
        || c.closest('.panel').dataset.kind, c.dataset.range]))"""
    )
    lo, hi = (float(v) for v in ranges["stove.central.state"].split(","))
    assert hi - lo >= 10  # ±1 °C of noise drawn on a 10 °C axis at least
    with show.lock:
        show.layout = [{**LAYOUT[1], "range": [0.0, 300.0]}, LAYOUT[3]]
    page.wait_for_function(
        "() => document.querySelector('.stove canvas')?.dataset.range === '0,300'",
        timeout=WAIT_MS,
    )


def test_cue_list_scrolls_to_follow_the_standby(
    server: ServerThread, show: FakeShow, browser: Any
) -> None:
    with show.lock:
        show.more_cues = 60
    page = _console(browser, server)
    try:
        page.wait_for_selector('tr.cue-row[data-cue="69"]', state="attached", timeout=WAIT_MS)
        assert page.evaluate("() => document.getElementById('cue-lists').scrollTop") == 0
        with show.lock:
            show.playhead = "60"
        page.wait_for_selector('tr.cue-row.standby[data-cue="60"]', timeout=WAIT_MS)
        page.wait_for_function(
            """() => { const box = document.getElementById('cue-lists').getBoundingClientRect();
            const row = document.querySelector('tr.cue-row[data-cue="60"]').getBoundingClientRect();
            return row.top >= box.top && row.bottom <= box.bottom; }""",
            timeout=WAIT_MS,
        )
        assert page.evaluate("() => document.getElementById('cue-lists').scrollTop") > 0
    finally:
        page.context.close()


def test_projector_button_turns_the_mode_on_and_it_is_remembered(
    server: ServerThread, page: Any
) -> None:
    page.goto(server.http + "/")
    wait_live(page)
    assert page.get_attribute("body", "data-projector") == "off"
    page.click("#kiosk")
    page.wait_for_selector('body[data-projector="fit"]', timeout=WAIT_MS)
    page.reload()
    wait_live(page)
    page.wait_for_selector('body[data-projector="fit"]', timeout=WAIT_MS)
    page.keyboard.press("p")
    page.wait_for_selector('body[data-projector="off"]', timeout=WAIT_MS)
    assert page.evaluate("() => document.documentElement.style.fontSize") == ""


def test_charts_keep_their_history_between_snapshots_that_carry_one(
    server: ServerThread, show: FakeShow, page: Any
) -> None:
    with show.lock:
        show.history_every = 7  # like the runner: a history now and then, values every tick
    page.goto(server.http + "/")
    wait_live(page)
    page.wait_for_function(
        "() => document.querySelector('.balance canvas').dataset.range", timeout=WAIT_MS
    )
    first = value_of(page, "grid.supply_kw")
    page.wait_for_function(CHANGED_JS, arg=first, timeout=WAIT_MS)
    drawn = drawn_pixels(page, ".balance canvas")
    assert drawn > 100
    assert_no_js_errors(page)


def test_go_says_it_cannot_be_sent_while_the_console_is_disconnected(
    show: FakeShow, browser: Any
) -> None:
    srv = ServerThread(show)
    try:
        page = _console(browser, srv)
        assert page.get_attribute("#go", "data-state") == "ready"
        srv.shutdown()
        page.wait_for_selector('#go[data-state="offline"]', timeout=WAIT_MS)
        assert page.inner_text("#go-state") == "not connected: GO cannot be sent"
        page.context.close()
    finally:
        srv.shutdown()
