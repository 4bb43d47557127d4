"""The renderer's output window on a real X server (Xvfb): it opens, presents frames
and keeps its scene, instead of quietly falling back to headless."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.tools import missing
from visuals.process import ChildOptions, RendererProcess


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        missing("Xvfb is not installed (scripts/setup installs it)")
    for number in range(90, 110):
        if not os.path.exists(f"/tmp/.X11-unix/X{number}"):
            break
    display = f":{number}"
    proc = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "640x360x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{number}"):
            assert proc.poll() is None, "Xvfb exited"
            assert time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_renderer_window_presents_frames_on_a_display(xvfb: str) -> None:
    async def main() -> None:
        renderer = RendererProcess(
            ChildOptions(size=(160, 90), fps=30, window=True, fullscreen=False)
        )
        await renderer.start()
        try:
            renderer.set_scene("heat")
            renderer.set_input("heat", 0.7)
            async with asyncio.timeout(30):
                while renderer.stats().frames < 10 or renderer.stats().scene != "heat":
                    await asyncio.sleep(0.1)
            stats = renderer.stats()
            assert stats.running and stats.last_error is None  # no fallback to headless
            async with asyncio.timeout(15):
                while renderer.latest_preview() is None:
                    await asyncio.sleep(0.1)
            assert (renderer.latest_preview() or b"")[:2] == b"\xff\xd8"
        finally:
            await renderer.aclose()

    asyncio.run(main())
