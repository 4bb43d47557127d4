"""The renderer child process: owns the GL context, renders, reports back.

Started by :class:`visuals.process.RendererProcess` with multiprocessing 'spawn'.
Each loop it drains the pipe and keeps only the newest state, renders the frame for
the measured time since start (so a slow frame is skipped, never slows the show),
sends a heartbeat every 0.1 s and a small JPEG preview a few times a second, and
reloads the scene file when it is saved. A scene that fails to compile is reported
to the parent with the designer's line; the last good scene keeps running.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import moderngl

from visuals.blit import Blitter
from visuals.compositor import Compositor
from visuals.errors import IsfError, VisualsError
from visuals.images import encode_jpeg
from visuals.inputs import date_vector
from visuals.isf import IsfDocument
from visuals.renderer import read_rgba
from visuals.scenes import resolve_scene

__all__ = ["RENDERER_NICENESS", "ChildOptions", "child_main"]

RENDERER_NICENESS = 5
"""How much the renderer process lowers its own CPU priority: when the show and its
renderer want the same core, the cue list goes first (on the two-core test machine,
with software GL, an OSC+MIDI+visual cue's GO reached the wire at p99 0.65-0.88 ms this
way, 0.80-2.07 ms at equal priority). A GPU-bound renderer mostly waits on the GPU and
does not notice."""

logger = logging.getLogger(__name__)

HEARTBEAT_S = 0.1
WATCH_S = 0.5


@dataclass(frozen=True)
class ChildOptions:
    """How the child renders; fixed for the life of the process."""

    size: tuple[int, int] = (1920, 1080)
    fps: float = 60.0
    window: bool = False
    display: int = 0
    fullscreen: bool = True
    preview_size: tuple[int, int] = (320, 180)
    preview_fps: float = 4.0
    identify_label: str = "Display 1"


def _date_now() -> tuple[float, float, float, float]:
    return date_vector(datetime.datetime.now())


class _Child:
    def __init__(self, conn: Connection, options: ChildOptions):
        self.conn = conn
        self.options = options
        self.window: Any = None
        if options.window:
            from visuals.window import OutputWindow

            try:
                self.window = OutputWindow(display=options.display, fullscreen=options.fullscreen)
            except VisualsError as err:
                self.send("error", f"{err}; rendering headless", None, None)
        if self.window is not None:
            self.ctx: moderngl.Context = self.window.ctx
        else:
            from visuals.gl import create_context

            self.ctx = create_context()
        self.compositor = Compositor(self.ctx)
        self.blitter = Blitter(self.ctx)
        self.preview_tex = self.ctx.texture(options.preview_size, 4)
        self.preview_fbo = self.ctx.framebuffer([self.preview_tex])
        self.state: dict[str, Any] = {}
        self.acked = 0
        self.scene_version = -1
        self.watched: dict[Path, float] = {}
        self.frames = 0
        self.fps = 0.0

    def send(self, *message: Any) -> None:
        self.conn.send(message)

    def drain(self) -> bool:
        """Apply the newest state waiting in the pipe; False when told to stop."""
        newest: dict[str, Any] | None = None
        while self.conn.poll():
            message = self.conn.recv()
            if message[0] == "stop":
                return False
            if message[0] == "state":
                self.acked = message[1]
                newest = message[2]
        if newest is not None:
            self.apply(newest)
        return True

    def apply(self, state: dict[str, Any]) -> None:
        comp = self.compositor
        if state.get("inputs") != self.state.get("inputs"):
            comp.set_inputs(state.get("inputs", {}))
        if state.get("scene_version") != self.scene_version and state.get("scene"):
            self.scene_version = state["scene_version"]
            self.load(state, transition=True)
        comp.set_test_pattern(bool(state.get("test_pattern")))
        comp.identify(self.options.identify_label if state.get("identify") else None)
        self.state = state

    def load(self, state: dict[str, Any], *, transition: bool, scene: str | None = None) -> None:
        scene = scene or state["scene"]
        try:
            document: IsfDocument = resolve_scene(scene)
            self.compositor.load_scene(
                document,
                name=str(scene),
                transition=state.get("transition") if transition else None,
                duration=float(state.get("duration", 0.0)) if transition else 0.0,
                curve=str(state.get("curve", "linear")),
            )
        except VisualsError as err:
            isf = err if isinstance(err, IsfError) else None
            self.send("error", str(err), isf and isf.filename, isf and isf.line)
            fallback = state.get("fallback")
            if self.compositor.current_scene is None and fallback and fallback != scene:
                self.load(state, transition=False, scene=fallback)  # last good after a restart
            return
        self.watched = {}
        for name in (document.filename, document.vertex_filename):
            if name and Path(name).is_file():
                self.watched[Path(name)] = Path(name).stat().st_mtime
        self.send("scene", str(scene))

    def check_saved(self) -> None:
        for path, mtime in self.watched.items():
            try:
                current = path.stat().st_mtime
            except OSError:
                continue
            if current != mtime:
                self.watched[path] = current
                logger.info("%s saved; reloading", path)
                self.load(self.state, transition=False)
                return

    def preview(self) -> bytes:
        self.blitter.draw(self.preview_fbo, self.compositor.render_texture)
        return encode_jpeg(read_rgba(self.preview_fbo))

    def run(self) -> None:
        start = time.monotonic()
        next_beat = next_watch = next_preview = 0.0
        frame_budget = 1.0 / self.options.fps
        fps_window_start, fps_frames = 0.0, 0
        while self.drain():
            now = time.monotonic() - start
            size = self.window.size if self.window is not None else self.options.size
            texture = self.compositor.render(now, size, date=_date_now())
            if self.window is not None:
                self.window.present(texture)
                if self.window.pump():
                    logger.warning("output window close request ignored; stop the show instead")
            self.frames += 1
            fps_frames += 1
            if now - fps_window_start >= 1.0:
                self.fps = fps_frames / (now - fps_window_start)
                fps_window_start, fps_frames = now, 0
            if now >= next_beat:
                stats = {
                    "frames": self.frames,
                    "fps": self.fps,
                    "scene": self.compositor.current_scene,
                }
                self.send("hb", self.acked, stats)
                next_beat = now + HEARTBEAT_S
            if now >= next_preview and self.options.preview_fps > 0:
                self.send("preview", self.preview())
                next_preview = now + 1.0 / self.options.preview_fps
            if now >= next_watch:
                self.check_saved()
                next_watch = now + WATCH_S
            if self.window is None:  # headless: pace to the frame rate
                spare = frame_budget - (time.monotonic() - start - now)
                if spare > 0:
                    time.sleep(spare)

    def close(self) -> None:
        self.compositor.release()
        self.blitter.release()
        if self.window is not None:
            self.window.close()


def child_main(conn: Connection, options: ChildOptions) -> None:
    """Entry point of the renderer process."""
    logging.basicConfig(level=logging.INFO, format="renderer %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(AttributeError, OSError):  # (no os.nice on Windows)
        os.nice(RENDERER_NICENESS)
    child = _Child(conn, options)
    try:
        child.run()
    except (EOFError, BrokenPipeError):
        pass  # the parent went away
    finally:
        with contextlib.suppress(Exception):
            child.close()
