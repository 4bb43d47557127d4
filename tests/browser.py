"""The headless Chromium fixture, for the test folders that drive a browser.

A conftest that needs it imports it (``from tests.browser import chromium_browser``); tests
ask for it as ``browser``. A test folder without browser tests never imports Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.tools import missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module", name="browser")
def chromium_browser() -> Iterator[Any]:
    """One headless Chromium per test module (Playwright's ``Browser``)."""
    try:
        from playwright import sync_api
    except ImportError:
        missing("Playwright for Python is not installed")
    if not CHROMIUM.exists():
        missing(f"headless Chromium ({CHROMIUM}) is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
