"""Test support for the web tests: a fake show and a WebServer on its own loop thread.

The server runs on an asyncio loop in a background thread so the tests can drive
it with synchronous clients (``websockets.sync``, Playwright's sync API).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from show.web import WebServer

ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")

TOKEN = "test-token-5f3a"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
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

LAYOUT: list[dict[str, Any]] = [
    {
        "kind": "balance",
        "title": "Neighbourhood energy",
        "unit": "kW",
        "signals": {
            "supply": "grid.supply_kw",
            "demand": "grid.demand_kw",
            "exchange": "grid.exchange_kw",
        },
    },
    {
        "kind": "stoves",
        "title": "Stovetops",
        "stoves": [
            {
                "label": "Central stove",
                "state": "stove.central.state",
                "temperature": "stove.central.temp_c",
            },
            {
                "label": "North stove",
                "state": "stove.north.state",
                "temperature": "stove.north.temp_c",
            },
        ],
    },
    {
        "kind": "signal",
        "signal": "grid.frequency_hz",
        "label": "Grid frequency",
        "unit": "Hz",
        "decimals": 2,
    },
    {"kind": "messages", "title": "Announcements"},
]


class FakeShow:
    """Snapshot and control callables whose data changes on every call.

    Thread-safe: the server thread calls the snapshot callables, the test thread
    changes ``health`` and reads ``controls``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0
        self.started = True
        self.health: dict[str, str] = {}
        self.alerts: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = [
            {"id": "m1", "text": "Soup is served at 7", "level": "info"}
        ]
        self.controls: list[dict[str, Any]] = []
        self.preview: bytes | None = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"

    def _signal(self, value: Any, unit: str, name: str) -> dict[str, Any]:
        health = self.health.get(name, "live")
        history = [round(3 + math.sin((self.n - i) / 5), 3) for i in range(60)][::-1]
        return {
            "value": value,
            "unit": unit,
            "health": health,
            "age": 12.0 if health == "stale" else 0.1,
            "history": history,
        }

    def public_snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.n += 1
            if not self.started:
                return {
                    "title": "Stove Night",
                    "layout": LAYOUT,
                    "signals": {},
                    "alerts": [],
                    "messages": [],
                }
            n = self.n
            signals = {
                "grid.supply_kw": self._signal(round(3.0 + n * 0.01, 2), "kW", "grid.supply_kw"),
                "grid.demand_kw": self._signal(
                    round(2.5 + (n % 7) * 0.1, 2), "kW", "grid.demand_kw"
                ),
                "grid.exchange_kw": self._signal(
                    round(0.4 + (n % 3) * 0.1, 2), "kW", "grid.exchange_kw"
                ),
                "grid.frequency_hz": self._signal(50.0 + (n % 10) / 100, "Hz", "grid.frequency_hz"),
                "stove.central.state": self._signal("heating", "", "stove.central.state"),
                "stove.central.temp_c": self._signal(180.0 + n % 20, "°C", "stove.central.temp_c"),
                "stove.north.state": self._signal("off", "", "stove.north.state"),
                "stove.north.temp_c": self._signal(21.0, "°C", "stove.north.temp_c"),
            }
            return {
                "title": "Stove Night",
                "layout": LAYOUT,
                "history_period_s": 1.0,
                "signals": signals,
                "alerts": list(self.alerts),
                "messages": list(self.messages),
            }

    def console_snapshot(self) -> dict[str, Any]:
        with self.lock:
            n = self.n
        elapsed = (n % 50) / 10
        return {
            "cue_lists": [
                {
                    "name": "Main",
                    "playhead": "2",
                    "cues": [
                        {
                            "number": "1",
                            "name": "House lights down",
                            "type": "osc",
                            "state": "done",
                            "prewait": {"elapsed": 0, "total": 0},
                            "action": {"elapsed": 3, "total": 3},
                            "postwait": {"elapsed": 0, "total": 0},
                            "depth": 0,
                        },
                        {
                            "number": "2",
                            "name": "Stove glow",
                            "type": "visual",
                            "state": "running",
                            "prewait": {"elapsed": 1, "total": 1},
                            "action": {"elapsed": elapsed, "total": 5},
                            "postwait": {"elapsed": 0, "total": 2},
                            "depth": 0,
                        },
                    ],
                }
            ],
            "sources": [
                {
                    "name": "stoves",
                    "status": "connected",
                    "rate_hz": 9.8,
                    "rejected": 0,
                    "signals": [
                        {
                            "name": "stove.central.temp_c",
                            "value": 181.0,
                            "health": "live",
                            "age": 0.1,
                        }
                    ],
                }
            ],
            "outputs": [{"name": "lights", "kind": "osc", "state": "ok", "sent": n, "errors": 0}],
            "renderer": {"state": "running", "fps": 59.9, "restarts": 0},
            "log": [f"12:00:{n % 60:02d} cue 2 running"],
            "go_guard": {"min_interval": 0.5, "remaining": 0.0},
        }

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.controls.append(request)
        return {"ok": True, "message": f"{request['command']} accepted"}

    def control_commands(self) -> list[str]:
        with self.lock:
            return [c["command"] for c in self.controls]

    def get_preview(self) -> bytes | None:
        return self.preview


class ServerThread:
    """A WebServer running on an event loop in a daemon thread."""

    def __init__(self, show: FakeShow, port: int = 0, **kwargs: Any) -> None:
        self.show = show
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="web-test-loop", daemon=True
        )
        self.thread.start()
        params: dict[str, Any] = {
            "public_snapshot": show.public_snapshot,
            "console_snapshot": show.console_snapshot,
            "control": show.control,
            "console_token": TOKEN,
            "preview": show.get_preview,
            "auth_failure_delay": 0.05,
        }
        params.update(kwargs)
        self.server = WebServer("127.0.0.1", port, **params)
        self.call(self.server.start())
        self.port = self.server.port
        self.closed = False

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def stats(self) -> dict[str, Any]:
        async def get() -> dict[str, Any]:
            return self.server.stats()

        return self.call(get())

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.call(self.server.aclose())

    def shutdown(self) -> None:
        if self.loop.is_closed():
            return
        self.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` s (a bound, not a timing check)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
