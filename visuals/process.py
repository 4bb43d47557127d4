"""Supervise the renderer in its own process, from the runner's event loop.

:class:`RendererProcess` spawns :func:`visuals.process_child.child_main` with
multiprocessing 'spawn' and sends it the show's visual state: scene, transition and
input values. Only the newest state matters, so the parent keeps one snapshot and
sends it when it changed and the child has acknowledged all but a few earlier ones;
nothing queues up without bound. The child sends a heartbeat every 0.1 s; if it dies
or misses heartbeats for ``heartbeat_timeout`` seconds it is killed and a fresh one is
started with the current state. Preview JPEGs for the operator console arrive a few
times a second and are kept as the latest bytes.

Every task is named and owned; :meth:`RendererProcess.aclose` stops the watchdog,
asks the child to stop and kills it if it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visuals.compositor import curve_value
from visuals.errors import RendererProcessError
from visuals.process_child import ChildOptions, child_main

__all__ = ["ChildOptions", "RendererProcess", "RendererStats"]

logger = logging.getLogger(__name__)

MAX_UNACKED = 4
WATCHDOG_S = 0.05


@dataclass(frozen=True)
class RendererStats:
    """What the runner and operator console show about the renderer."""

    running: bool
    pid: int | None
    restarts: int
    fps: float
    frames: int
    scene: str | None
    last_error: str | None


class RendererProcess:
    """The renderer child process and its supervisor.

    Args:
        options: size, frame rate, window and preview settings for the child.
        heartbeat_timeout: seconds without a heartbeat before the child is restarted.
        startup_timeout: seconds a new child may take to send its first heartbeat.
    """

    def __init__(
        self,
        options: ChildOptions | None = None,
        *,
        heartbeat_timeout: float = 1.0,
        startup_timeout: float = 15.0,
    ):
        self.options = options or ChildOptions()
        self.heartbeat_timeout = heartbeat_timeout
        self.startup_timeout = startup_timeout
        self._quick_failures = 0
        self._mp = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._state: dict[str, Any] = {
            "scene": None,
            "scene_version": 0,
            "transition": None,
            "duration": 0.0,
            "curve": "linear",
            "inputs": {},
            "test_pattern": False,
            "identify": False,
            "fallback": None,
        }
        self._sent_seq = 0  # state messages sent to the current child

        self._acked_seq = 0
        self._dirty = False
        self._last_beat = 0.0
        self._started_at = 0.0
        self._got_beat = False
        self._restarts = 0
        self._stats: dict[str, Any] = {}
        self._last_error: str | None = None
        self._preview: bytes | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing = False

    # -- commands -------------------------------------------------------------------

    def set_scene(
        self,
        name_or_path: str | Path,
        transition: str | Path | None = None,
        duration: float = 0.0,
        curve: str = "linear",
    ) -> None:
        """Switch scene (built-in name or .fs path), optionally through a transition.

        Raises:
            VisualsError: unknown curve name.
        """
        curve_value(curve, 0.0)
        self._state.update(
            scene=str(name_or_path),
            scene_version=self._state["scene_version"] + 1,
            transition=str(transition) if transition is not None else None,
            duration=float(duration),
            curve=curve,
        )
        self._changed()

    def set_input(self, name: str, value: Any) -> None:
        """Set a scene input (numbers, bools, sequences, strings); the newest value wins."""
        self._state["inputs"] = {**self._state["inputs"], name: value}
        self._changed()

    def set_test_pattern(self, on: bool) -> None:
        """Show the test pattern instead of the show."""
        self._state["test_pattern"] = bool(on)
        self._changed()

    def identify(self, on: bool) -> None:
        """Show the display's name/number in big letters over the output."""
        self._state["identify"] = bool(on)
        self._changed()

    def stats(self) -> RendererStats:
        """Current state of the child: restarts, frame rate, scene, last error."""
        process = self._process
        return RendererStats(
            running=bool(process is not None and process.is_alive()),
            pid=process.pid if process is not None else None,
            restarts=self._restarts,
            fps=float(self._stats.get("fps", 0.0)),
            frames=int(self._stats.get("frames", 0)),
            scene=self._stats.get("scene"),
            last_error=self._last_error,
        )

    def latest_preview(self) -> bytes | None:
        """The newest preview frame as JPEG bytes, or ``None`` before the first."""
        return self._preview

    # -- lifetime -------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn the child and start the watchdog task.

        Raises:
            RendererProcessError: already started, or the process could not be spawned.
        """
        if self._watchdog is not None:
            raise RendererProcessError("renderer process already started")
        self._closing = False
        self._spawn()
        self._watchdog = asyncio.get_running_loop().create_task(
            self._watch(), name="visuals-renderer-watchdog"
        )

    async def aclose(self) -> None:
        """Stop the watchdog, ask the child to stop, and kill it after 2 s if needed."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("stop",))
        process = self._process
        if process is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, process.join, 2.0)
            if process.is_alive():
                process.kill()
                await loop.run_in_executor(None, process.join, 2.0)
        self._detach()
        self._process = None

    # -- internals ------------------------------------------------------------------

    def _changed(self) -> None:
        self._dirty = True
        self._flush()

    def _flush(self) -> None:
        """Send the current snapshot if the child is keeping up (bounded in flight)."""
        if not self._dirty or self._conn is None:
            return
        if self._sent_seq - self._acked_seq >= MAX_UNACKED:
            return  # the child is behind; the snapshot goes when it acknowledges
        try:
            self._conn.send(("state", self._sent_seq + 1, self._state))
        except (OSError, ValueError) as err:
            logger.warning("renderer pipe broken while sending state: %s", err)
            return
        self._sent_seq += 1
        self._dirty = False

    def _spawn(self) -> None:
        parent, child = self._mp.Pipe(duplex=True)
        process = self._mp.Process(
            target=child_main, args=(child, self.options), name="stovelight-renderer", daemon=True
        )
        try:
            process.start()
        except OSError as err:
            raise RendererProcessError(f"cannot start renderer process: {err}") from err
        child.close()
        self._process, self._conn = process, parent
        loop = asyncio.get_running_loop()
        self._started_at = loop.time()
        self._got_beat = False
        self._stats = {}
        self._sent_seq = self._acked_seq = 0
        loop.add_reader(parent.fileno(), self._on_readable)
        self._dirty = True
        self._flush()
        logger.info("renderer process started (pid %s)", process.pid)

    def _detach(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._conn.close()
            self._conn = None

    def _on_readable(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            while conn.poll():
                self._handle(conn.recv())
        except (EOFError, OSError):
            # The child is gone; the watchdog restarts it.
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(conn.fileno())
        self._flush()

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "hb":
            self._acked_seq = int(message[1])
            self._stats = dict(message[2])
            self._last_beat = asyncio.get_running_loop().time()
            self._got_beat = True
        elif kind == "preview":
            self._preview = bytes(message[1])
        elif kind == "error":
            self._last_error = str(message[1])
            logger.error("renderer: %s; the previous scene keeps running", message[1])
        elif kind == "scene":
            self._last_error = None
            # A restarted child falls back to this if the current scene does not compile.
            self._state = {**self._state, "fallback": message[1]}
            logger.info("renderer: scene %s on screen", message[1])

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closing:
            await asyncio.sleep(WATCHDOG_S)
            process = self._process
            now = loop.time()
            if process is None:
                continue
            if not process.is_alive():
                reason = f"exited with code {process.exitcode}"
            elif self._got_beat and now - self._last_beat > self.heartbeat_timeout:
                reason = f"no heartbeat for {now - self._last_beat:.1f} s"
            elif not self._got_beat and now - self._started_at > self.startup_timeout:
                reason = f"no heartbeat {self.startup_timeout:.0f} s after start"
            else:
                continue
            await self._restart(reason)

    async def _restart(self, reason: str) -> None:
        process = self._process
        loop = asyncio.get_running_loop()
        # a child that dies before its first heartbeat would otherwise be restarted in a
        # tight loop: back off (0.25 s doubling to 2 s) until one comes up healthy
        self._quick_failures = 0 if self._got_beat else self._quick_failures + 1
        delay = (
            0.0 if self._quick_failures <= 1 else min(2.0, 0.25 * 2 ** (self._quick_failures - 2))
        )
        logger.error(
            "renderer process %s; restarting it%s",
            reason,
            f" in {delay:.2f} s (failed {self._quick_failures} times at start)" if delay else "",
        )
        self._detach()
        if process is not None and process.is_alive():
            process.kill()
        if process is not None:
            await loop.run_in_executor(None, process.join, 1.0)
        if delay:
            await asyncio.sleep(delay)
        self._restarts += 1
        self._spawn()
