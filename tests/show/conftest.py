"""Fixtures for the show tests that drive a browser."""

from __future__ import annotations

from tests.browser import chromium_browser  # noqa: F401  (the ``browser`` fixture)
