"""A telemetry server for runner tests, and a show assembled by ``stovelight run``'s own
composition root (``show.app``) with in-memory twins."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from bridges.midi.memory import MemoryMidiBackend
from show.app import RunOptions, Seams, start_show
from show.qlab.control import QLabControl
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.config import Show


class TelemetryServer:
    """Sends ``{"source": "kitchen", "values": {"temp_c": n}}`` every 20 ms to each client,
    with ``n`` counting up; can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.value = 0.0
        self.sent = 0
        self._server: Server | None = None

    async def _handler(self, ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                self.value += 1.0
                frame = {"source": "kitchen", "values": {"temp_c": self.value, "state": "on"}}
                await ws.send(json.dumps(frame))
                self.sent += 1
                await asyncio.sleep(0.02)

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


@contextlib.asynccontextmanager
async def running_show(
    show: Show, midi: MemoryMidiBackend | None = None, parts: RunnerParts | None = None
) -> AsyncIterator[tuple[ShowRunner, QLabControl]]:
    """The show as ``stovelight run`` assembles it (``show.app``), with the in-memory MIDI
    backend, no renderer process and no web server; sources started; closed after.

    The QLab control is the running one, or an unstarted one when ``[control]`` is off."""
    seams = Seams(parts=parts, midi_backend=midi, renderers=False, web=False)
    app = await start_show(show, RunOptions(), seams=seams)
    app.runner.start_sources()
    try:
        yield app.runner, app.control or QLabControl(app.runner, show.control)
    finally:
        await app.runner.aclose()


async def eventually(predicate: Any, timeout: float = 5.0, step: float = 0.02) -> None:
    """Wait until ``predicate()`` is true (bounded)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(step)
