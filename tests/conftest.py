"""Fixtures shared by every test package.

Only what every folder may need and what imports nothing heavy: the engine's tests
(``tests/cues``) must run without the web stack. Fixtures for one folder live in that
folder's conftest (the browser: ``tests/browser.py``, imported by the conftests of the
folders that drive one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from tests.tools import missing

if TYPE_CHECKING:
    from rehearsal.broker import MosquittoBroker

# Property tests check laws, not speed: no per-example deadline, which a busy shared
# machine would turn into failures that say nothing about the code.
settings.register_profile("stovelight", deadline=None)
settings.load_profile("stovelight")


@pytest.fixture
def broker() -> Iterator[MosquittoBroker]:
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
