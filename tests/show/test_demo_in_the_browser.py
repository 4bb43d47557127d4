"""The demo show as an audience and a stage manager see it: the dashboard in
projector mode fits 1080p, 720p and 4K with every panel on screen, phones scroll,
and the console's top 300 px say what GO will do and whether anything is unhealthy."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.webtest_support import free_port, screenshot, start_show, stop_show

TOKEN = "demo-browser-token"
WAIT_MS = 20_000
FITS_JS = """() => { const s = document.scrollingElement;
  return s.scrollHeight <= innerHeight && s.scrollWidth <= innerWidth; }"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    proc, url = start_show(
        [
            sys.executable,
            "-m",
            "show.cli",
            "demo",
            "--no-visuals",
            "--web-port",
            "0",
            "--control-port",
            "0",
            "--sim-port",
            str(free_port()),
            "--osc-out",
            f"127.0.0.1:{free_port()}",
            "--token",
            TOKEN,
            "--log-dir",
            str(work / "logs"),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    try:
        yield url
    finally:
        stop_show(proc)


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (3840, 2160)])
def test_demo_dashboard_fits_the_projector(demo: str, browser: Any, size: tuple[int, int]) -> None:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(demo + "/?projector")
        page.wait_for_selector('body[data-conn="open"]', timeout=WAIT_MS)
        page.wait_for_selector(
            'body[data-projector="fit"]:not([data-feed="waiting"])', timeout=WAIT_MS
        )
        page.wait_for_function(
            "() => document.documentElement.style.fontSize !== ''", timeout=WAIT_MS
        )
        page.wait_for_function(FITS_JS, timeout=WAIT_MS)
        assert page.evaluate("() => document.scrollingElement.scrollHeight") <= height
        assert page.inner_text("#page") == ""  # no panel is paged away
        panels = page.locator(".panel")
        kinds = [panels.nth(i).get_attribute("data-kind") for i in range(panels.count())]
        assert kinds == ["balance", "stoves", "signal", "messages"]
        for i in range(panels.count()):
            box = panels.nth(i).bounding_box()
            assert box is not None and panels.nth(i).is_visible()
            assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
        font = page.evaluate("() => parseFloat(document.documentElement.style.fontSize)")
        assert font >= height / 80
        screenshot(page, f"demo-projector-{width}x{height}")
    finally:
        context.close()


def test_demo_dashboard_scrolls_on_a_phone(demo: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(demo + "/")
        page.wait_for_selector('body[data-conn="open"]:not([data-feed="waiting"])', timeout=WAIT_MS)
        assert page.get_attribute("body", "data-projector") == "off"
        width = page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 390
        assert page.locator(".messages-panel").count() == 1
        screenshot(page, "demo-phone")
    finally:
        context.close()


def test_demo_console_top_300_px(demo: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = context.new_page()
        page.goto(demo + f"/console?token={TOKEN}")
        page.wait_for_function(
            "() => document.getElementById('sb-number').textContent === '1'", timeout=WAIT_MS
        )
        assert page.inner_text("#sb-name") == "House open"
        assert page.inner_text("#sb-fires").startswith("group (timeline)")
        assert "Dashboard on the projector" in page.inner_text("#sb-children")
        page.wait_for_selector('#health .chip[data-id="source:neighbourhood"]', timeout=WAIT_MS)
        for selector in ("#go", "#go-state", "#standby", "#running", "#health"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 300, selector
        screenshot(page, "demo-console")
    finally:
        context.close()
