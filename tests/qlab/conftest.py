"""Fixtures for the QLab-control tests that drive a browser."""

from __future__ import annotations

from tests.browser import chromium_browser  # noqa: F401  (the ``browser`` fixture)
