"""Fixtures for the runtime tests that drive a browser (the tracking pair's consoles)."""

from __future__ import annotations

from tests.browser import chromium_browser  # noqa: F401  (the ``browser`` fixture)
