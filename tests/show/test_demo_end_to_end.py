"""``stovelight demo`` end to end: headless, driven through the QLab-compatible OSC
port and the console, OSC checked with oscdump, the dashboard in Chromium, the
preview frames, and a clean shutdown with no stray process."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.show_process import read_banner
from tests.web.webtest_support import screenshot

TOKEN = "demo-test-token"
WAIT_MS = 20_000


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free for both TCP and UDP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, other) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


class _Dump:
    """liblo's oscdump on a UDP port; lines read from a file to avoid pipe stalls."""

    def __init__(self, port: int, out: Path) -> None:
        self.out = out
        self.file = out.open("w")
        self.proc = subprocess.Popen(
            ["oscdump", "-L", str(port)], stdout=self.file, stderr=subprocess.DEVNULL
        )

    def addresses(self) -> list[str]:
        lines = self.out.read_text().splitlines()
        return [shlex.split(x)[1] for x in lines if len(x.split()) > 1]

    def wait_for(self, address: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while address not in self.addresses():
            if time.monotonic() > deadline:
                raise AssertionError(f"oscdump never saw {address}: {self.addresses()[-5:]}")
            time.sleep(0.05)

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.file.close()


def _oscsend(port: int, *args: str) -> None:
    subprocess.run(["oscsend", "localhost", str(port), *args], check=True, timeout=10)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.timeout(180)
def test_demo_end_to_end(tmp_path: Path, browser: Any) -> None:
    web, control, sim = _free_port(), _free_port(), _free_port()
    osc_out = _free_port(socket.SOCK_DGRAM)
    dump = _Dump(osc_out, tmp_path / "oscdump.txt")
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "show.cli",
            "demo",
            "--web-port",
            str(web),
            "--control-port",
            str(control),
            "--sim-port",
            str(sim),
            "--osc-out",
            f"127.0.0.1:{osc_out}",
            "--token",
            TOKEN,
            "--log-dir",
            str(tmp_path / "logs"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    renderer_pids: list[int] = []
    try:
        text = "".join(read_banner(proc))
        assert f"http://127.0.0.1:{web}/console?token={TOKEN}" in text, text
        assert f"udp/tcp port {control}" in text
        renderer_pids = _children(proc.pid)

        # 1. GO through the QLab-compatible OSC port: cue 1 fades the house lights
        _oscsend(control, "/go")
        dump.wait_for("/light/house")

        # 2. the public dashboard shows the simulated neighbourhood
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{web}/")
            page.wait_for_selector('body[data-conn="open"][data-feed="ok"]', timeout=WAIT_MS)
            page.wait_for_selector('.stove[data-signal="central.state"]', timeout=WAIT_MS)
            page.wait_for_selector('[data-signal="grid.frequency_hz"] .value', timeout=WAIT_MS)
            screenshot(page, "demo-dashboard")

            # 3. GO from the console: the cooking scene sends its sound cue
            console = context.new_page()
            console.goto(f"http://127.0.0.1:{web}/console?token={TOKEN}")
            console.wait_for_selector('tr.cue-row.standby[data-cue="2"]', timeout=WAIT_MS)
            console.keyboard.press("Space")
            dump.wait_for("/sound/cue")
            dump.wait_for("/light/warm/level")  # the mapping the scene started
            screenshot(console, "demo-console")
        finally:
            context.close()

        # 4. the renderer's preview frames reach the console
        deadline = time.monotonic() + 30
        jpeg = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web}/console/preview.jpg?token={TOKEN}", timeout=5
                ) as resp:
                    jpeg = resp.read()
                    break
            except OSError:
                time.sleep(0.5)
        assert jpeg[:2] == b"\xff\xd8", "no JPEG preview from the renderer"

        # 5. Ctrl-C stops everything cleanly
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        dump.close()
    assert proc.returncode == 0, err[-3000:]
    assert "Stovelight stopped cleanly." in out
    assert re.search(r"closed renderer projector", err)
    # the cooking scene's cue crossfaded the renderer (in its own process) to the heat scene
    assert "visual projector: scene heat (crossfade, 4.0 s)" in err
    assert "renderer: scene heat on screen" in err
    assert renderer_pids, "the renderer should run in its own process"
    deadline = time.monotonic() + 10  # a bound for the children's own exit, not a timing check
    stray = renderer_pids
    while stray and time.monotonic() < deadline:
        stray = [pid for pid in renderer_pids if _alive(pid)]
        time.sleep(0.1)
    assert stray == [], [_cmdline(pid) for pid in stray]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return "(gone)"
