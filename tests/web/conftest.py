"""Fixtures for the web tests; they always close the browser and the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium_browser  # noqa: F401  (the ``browser`` fixture)
from tests.web.webtest_support import FakeShow, ServerThread


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
