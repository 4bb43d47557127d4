"""Test support for the web tests: a fake show and a WebServer on its own loop thread.

The server runs on an asyncio loop in a background thread so the tests can drive
it with synchronous clients (``websockets.sync``, Playwright's sync API).
"""

from __future__ import annotations

import asyncio
import math
import re
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from show.showfile.config import WebConfig
from show.web import WebServer

ROOT = Path(__file__).resolve().parents[2]

T = TypeVar("T")

TOKEN = "test-token-5f3a"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

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
        self.text: dict[str, str] = {}
        self.layout: list[dict[str, Any]] = LAYOUT
        self.go: dict[str, Any] = {"state": "ready", "allowed": True, "reason": "ready"}
        self.source_state = "ok"
        self.mappings_off = False
        self.wait_remaining = 170.0
        self.wait_outcome: dict[str, Any] | None = None
        self.more_cues = 0
        self.history_every = 1
        self.playhead = "2"

    def _signal(self, value: Any, unit: str, name: str) -> dict[str, Any]:
        health = self.health.get(name, "live")
        out = {"value": value, "unit": unit, "health": health}
        out["age"] = 12.0 if health == "stale" else 0.1
        if self.n % self.history_every == 0:  # like the runner: histories now and then
            out["history"] = [round(3 + math.sin((self.n - i) / 5), 3) for i in range(60)][::-1]
        return out

    def public_snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.n += 1
            if not self.started:
                return {
                    "title": "Stove Night",
                    "layout": self.layout,
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
                "layout": self.layout,
                "history_period_s": 1.0,
                "text": dict(self.text),
                "signals": signals,
                "alerts": list(self.alerts),
                "messages": list(self.messages),
            }

    def console_snapshot(self) -> dict[str, Any]:
        with self.lock:
            n = self.n
            self.wait_remaining = max(0.0, self.wait_remaining - 0.1)
            extra = self._console_extra()
        elapsed = (n % 50) / 10
        waiting_row = extra.pop("waiting_row")
        with self.lock:
            more, playhead = self.more_cues, self.playhead
        return {
            **extra,
            "cue_lists": [
                {
                    "name": "Main",
                    "playhead": playhead,
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
                        waiting_row,
                        *(
                            {
                                "number": str(10 + i),
                                "name": f"Cue {10 + i}",
                                "type": "memo",
                                "state": "idle",
                                "prewait": {"elapsed": 0, "total": 0},
                                "action": {"elapsed": 0, "total": 0},
                                "postwait": {"elapsed": 0, "total": 0},
                                "depth": 0,
                            }
                            for i in range(more)
                        ),
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

    def _console_extra(self) -> dict[str, Any]:
        """The console's top bar, health line and live panels (shapes in docs/web.md)."""
        bad = self.source_state
        waiting = self.wait_outcome is None
        return {
            "go": dict(self.go),
            "standby": [
                {
                    "list": "Main",
                    "number": "2",
                    "name": "Stove glow",
                    "type": "visual",
                    "notes": "Wait for the actor to reach the stove",
                    "fires": "scene heat on projector (crossfade 4 s)",
                    "armed": True,
                    "waits_for": "stove.central.temp_c above 150, at most 180 s then fallback 9",
                }
            ],
            "running": [
                {
                    "list": "Main",
                    "number": "1",
                    "name": "House lights down",
                    "type": "fade",
                    "state": "running",
                    "depth": 0,
                    "elapsed": 1.5,
                    "remaining": 2.5,
                }
            ],
            "health": [
                {
                    "id": "source:stoves",
                    "kind": "source",
                    "label": "stoves",
                    "state": bad,
                    "text": "9.8/s" if bad == "ok" else "disconnected",
                    "details": ["status: connected", "refused: bad name 3"],
                },
                {
                    "id": "output:lights",
                    "kind": "output",
                    "label": "lights",
                    "state": "ok",
                    "text": "12 sent",
                    "details": ["kind: osc"],
                },
            ],
            "mappings": {
                "panic_off_at": 1_700_000_000.0 if self.mappings_off else None,
                "all_off": self.mappings_off,
                "rows": [
                    {
                        "name": "glow",
                        "describe": "stove.central.temp_c → OSC lights /glow (40…240 → 0…1)",
                        "signal": "stove.central.temp_c",
                        "input": 181.0,
                        "input_unit": "°C",
                        "input_health": "live",
                        "output": None if self.mappings_off else 0.7,
                        "out_range": [0.0, 1.0],
                        "level": 1.0,
                        "enabled": not self.mappings_off,
                        "state": "off (PANIC)" if self.mappings_off else "on",
                        "pinned": "",
                        "sent": 40,
                        "plot": [None] * 50
                        + [0.6, 0.62, 0.65, 0.7, 0.7, 0.71, 0.7, 0.69, 0.7, 0.7],
                    }
                ],
            },
            "triggers": [
                {
                    "name": "fault",
                    "describe": "when stove.central.state is fault for 1 s → start Main/9",
                    "state": "armed",
                    "value": "heating",
                    "unit": "",
                    "holding_for": None,
                    "hold": 1.0,
                    "fired": 0,
                    "last_fired_ago": None,
                }
            ],
            "waiting_row": {
                "number": "3",
                "name": "When the stove is hot",
                "type": "notice",
                "state": "waiting" if waiting else "idle",
                "depth": 0,
                "prewait": {"elapsed": 0, "total": 0},
                "action": {"elapsed": 0, "total": 0},
                "postwait": {"elapsed": 0, "total": 0},
                "wait": {
                    "condition": "stove.central.temp_c above 250",
                    "value": 181.0,
                    "unit": "°C",
                    "health": "live",
                    "timeout": 180.0,
                    "fallback": "9",
                    "remaining": round(self.wait_remaining, 2) if waiting else None,
                    "hold": 0.0,
                    "held_for": None,
                    **({"outcome": self.wait_outcome} if self.wait_outcome else {}),
                },
            },
        }

    def control(self, request: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.controls.append(request)
            go = dict(self.go)
        if request["command"] == "go" and go["state"] in ("panic", "guard"):
            return {"ok": False, "refused": go["state"], "error": f"GO refused: {go['reason']}"}
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
        parts: dict[str, Any] = {
            "public_snapshot": show.public_snapshot,
            "console_snapshot": show.console_snapshot,
            "control": show.control,
            "preview": show.get_preview,
        }
        limits: dict[str, Any] = {"console_token": TOKEN, "auth_failure_delay": 0.05}
        for key, value in kwargs.items():  # collaborators, or fields of the config
            (parts if key in parts or key == "clock" else limits)[key] = value
        config = WebConfig(host="127.0.0.1", port=port, **limits)
        self.server = WebServer(config, **parts)
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


def drawn_pixels(page: Any, selector: str) -> int:
    """How many pixels of the first canvas matching ``selector`` are not transparent."""
    return int(
        page.evaluate(
            """(sel) => { const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""",
            selector,
        )
    )


def start_show(cmd: list[str], **popen: Any) -> tuple[subprocess.Popen[str], str]:
    """Start ``stovelight run``/``demo``; returns the process and its dashboard URL."""
    out, err = subprocess.PIPE, subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, **popen)
    assert proc.stdout is not None
    url = ""
    for line in proc.stdout:
        m = re.search(r"Dashboard:\s+(http://\S+)/", line)
        if m:
            url = m.group(1)
        if "Press Ctrl-C" in line:
            break
    if not url:
        stop_show(proc)
        raise AssertionError("the show did not print its dashboard address")
    return proc, url


def stop_show(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> None:
    """Ask the show to stop and wait for it (killed after 30 s)."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    """A TCP port that was free a moment ago (for servers that need a fixed port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def concurrent_handshakes(port: int, count: int, extra: str = "") -> Counter[str]:
    """``count`` websocket handshakes in flight at once; status code -> how many."""
    request = (
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Upgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    got: Counter[str] = Counter()
    with selectors.DefaultSelector() as sel:
        socks = []
        for _ in range(count):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            sel.register(s, selectors.EVENT_WRITE)
            socks.append(s)
        deadline = time.monotonic() + 60
        while sum(got.values()) < count and time.monotonic() < deadline:
            for key, events in sel.select(1.0):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if events & selectors.EVENT_WRITE:
                    sock.sendall(request)
                    sel.modify(sock, selectors.EVENT_READ)
                    continue
                head = sock.recv(200)
                got[head.split(b" ", 2)[1].decode() if head else "closed"] += 1
                sel.unregister(sock)
        for s in socks:
            s.close()
    return got
