"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.tools import missing
from tests.web.webtest_support import CHROMIUM_ARGS

# Property tests check laws, not speed: no per-example deadline, which a busy shared
# machine would turn into failures that say nothing about the code.
settings.register_profile("stovelight", deadline=None)
settings.load_profile("stovelight")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright import sync_api
    except ImportError:
        missing("Playwright for Python is not installed")
    if not Path("/usr/bin/chromium").exists():
        missing("headless Chromium (/usr/bin/chromium) is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def broker() -> Iterator[Any]:
    """A private Mosquitto on a free loopback port (``rehearsal.broker``)."""
    from rehearsal.broker import BrokerError, MosquittoBroker

    b = MosquittoBroker()
    try:
        b.start()
    except BrokerError as err:
        missing(str(err))
    try:
        yield b
    finally:
        b.close()
