"""Fixtures for the web tests; they always close the browser and the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.webtest_support import CHROMIUM_ARGS, FakeShow, ServerThread


@pytest.fixture
def show() -> FakeShow:
    return FakeShow()


@pytest.fixture
def server(show: FakeShow) -> Iterator[ServerThread]:
    srv = ServerThread(show)
    try:
        yield srv
    finally:
        srv.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("headless Chromium (/usr/bin/chromium) is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    pg.js_errors = errors
    try:
        yield pg
    finally:
        context.close()
