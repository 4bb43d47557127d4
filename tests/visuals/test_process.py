"""The renderer process: state reaches the child, a killed child is restarted."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from visuals.process import ChildOptions, RendererProcess
from visuals.process_child import RENDERER_NICENESS

OPTIONS = ChildOptions(size=(64, 36), fps=30, preview_size=(32, 18), preview_fps=10)


async def wait_for(check: Callable[[], bool], timeout: float) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds (a bound, not a timing test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)


def niceness(pid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def test_killed_child_restarts_and_resumes(tmp_path: Path) -> None:
    async def scenario() -> None:
        renderer = RendererProcess(OPTIONS, heartbeat_timeout=1.0)
        await renderer.start()
        try:
            renderer.set_scene("heat")
            renderer.set_input("heat", 0.9)
            await wait_for(lambda: renderer.stats().scene == "heat", 30)
            await wait_for(lambda: renderer.latest_preview() is not None, 10)
            preview = renderer.latest_preview()
            assert preview is not None and preview[:2] == b"\xff\xd8"  # JPEG
            first = renderer.stats()
            assert first.running and first.restarts == 0 and first.frames > 0
            assert first.pid is not None
            # the renderer yields the CPU to the show (the cue list goes first)
            assert niceness(first.pid) == min(19, niceness(os.getpid()) + RENDERER_NICENESS)
            os.kill(first.pid, signal.SIGKILL)
            await wait_for(lambda: renderer.stats().restarts == 1, 15)
            # The new child picks up the current scene and inputs by itself.
            await wait_for(lambda: renderer.stats().scene == "heat", 30)
            second = renderer.stats()
            assert second.running and second.pid != first.pid
            assert second.pid is not None
            assert niceness(second.pid) == min(19, niceness(os.getpid()) + RENDERER_NICENESS)

            # A broken scene is reported with the designer's line; heat keeps running.
            bad = tmp_path / "bad.fs"
            bad.write_text("/*{}*/\n\nvoid main() {\n  gl_FragColor = vec4(oops);\n}\n")
            renderer.set_scene(bad)
            await wait_for(lambda: renderer.stats().last_error is not None, 10)
            assert "bad.fs:4" in (renderer.stats().last_error or "")
            await asyncio.sleep(0.3)
            assert renderer.stats().scene == "heat"

            # Restarted while the broken scene is selected: it comes back on the last good one.
            os.kill(renderer.stats().pid or 0, signal.SIGKILL)
            await wait_for(lambda: renderer.stats().restarts == 2, 15)
            await wait_for(lambda: renderer.stats().scene == "heat", 30)

            # A hung child (stopped, no heartbeats) is killed and replaced.
            os.kill(renderer.stats().pid or 0, signal.SIGSTOP)
            await wait_for(lambda: renderer.stats().restarts == 3, 15)

            # Saving the scene file reloads it; a broken save is reported, not shown.
            live = tmp_path / "live.fs"
            live.write_text("/*{}*/\nvoid main() { gl_FragColor = vec4(1.0); }\n")
            renderer.set_scene(live)
            await wait_for(lambda: renderer.stats().scene == str(live), 30)
            await wait_for(lambda: renderer.stats().last_error is None, 5)
            live.write_text("/*{}*/\n\n\nvoid main() { gl_FragColor = vec4(1.0) }\n")
            await wait_for(lambda: renderer.stats().last_error is not None, 5)
            assert "live.fs:" in (renderer.stats().last_error or "")
            assert renderer.stats().scene == str(live)
        finally:
            await renderer.aclose()
        assert not renderer.stats().running

    asyncio.run(scenario())


def _brightness(jpeg: bytes | None) -> float:
    import io

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import numpy as np
    import pygame

    assert jpeg is not None
    surface = pygame.image.load(io.BytesIO(jpeg), "preview.jpg")
    return float(np.asarray(pygame.surfarray.array3d(surface), dtype=float).mean())


def test_scene_inputs_reach_the_picture_and_survive_a_restart() -> None:
    async def scenario() -> None:
        renderer = RendererProcess(OPTIONS, heartbeat_timeout=1.0)
        await renderer.start()
        try:
            renderer.set_scene("heat")
            renderer.set_input("heat", 1.0)
            for name in ("stove1", "stove2", "stove3", "stove4"):
                renderer.set_input(name, 1.0)
            await wait_for(lambda: renderer.stats().scene == "heat", 30)
            await wait_for(lambda: renderer.latest_preview() is not None, 15)
            await asyncio.sleep(0.5)  # let a preview with the inputs arrive
            hot = _brightness(renderer.latest_preview())
            renderer.set_input("heat", 0.15)  # low, but still animated
            for name in ("stove1", "stove2", "stove3", "stove4"):
                renderer.set_input(name, 0.15)
            await wait_for(lambda: _brightness(renderer.latest_preview()) < hot / 2, 15)
            pid = renderer.stats().pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await wait_for(lambda: renderer.stats().restarts == 1, 15)
            await wait_for(lambda: renderer.stats().scene == "heat", 30)
            old = renderer.latest_preview()
            await wait_for(lambda: renderer.latest_preview() != old, 15)  # the new child's
            # the new child resumed the cold inputs, not the scene's defaults
            assert _brightness(renderer.latest_preview()) < hot / 2
        finally:
            await renderer.aclose()

    asyncio.run(scenario())
