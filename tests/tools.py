"""External tools some tests need (liblo, Chromium, Xvfb): skipped where missing on a
developer's machine, but a failure under ``./scripts/test``, which installs them
and sets ``STOVELIGHT_REQUIRE_TOOLS=1`` so a missing tool never hides a feature."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRED = os.environ.get("STOVELIGHT_REQUIRE_TOOLS") == "1"


def missing(reason: str) -> NoReturn:
    """Skip the test, or fail it when the tools are required."""
    if REQUIRED:
        pytest.fail(f"{reason} (required under ./scripts/test)")
    pytest.skip(reason)
