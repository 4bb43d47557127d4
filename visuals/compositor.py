"""Scene management: the active scene, transitions, test pattern and identify overlay.

:class:`Compositor` owns the scenes on one moderngl context. Loading a scene compiles
it first; if that fails the :class:`~visuals.errors.IsfError` propagates and the
previous scene stays on screen. A transition (built-in crossfade or an ISF transition
shader with ``startImage``/``endImage``/``progress``) starts on the first frame after
the load, so its timing follows the frame times the caller passes to :meth:`render`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moderngl
import numpy as np
import numpy.typing as npt

from cues.curves import apply_curve, curve_named
from visuals.blit import Blitter
from visuals.dashboard_overlay import SignalHistory, draw_dashboard, draw_text_overlay
from visuals.errors import InputError, IsfError, VisualsError
from visuals.gl import unbind_framebuffers
from visuals.isf import IMAGE_TYPES, IsfDocument
from visuals.renderer import SceneRenderer, read_rgba, upload_rgba
from visuals.scenes import resolve_scene

__all__ = ["CURVES", "Compositor", "curve_value"]

logger = logging.getLogger(__name__)

CURVES = ("linear", "smoothstep", "s-curve", "exponential", "logarithmic")
CROSSFADE = "crossfade"
#: An image input set to ``"scene:NAME"`` shows scene NAME (e.g. a Shadertoy ``iChannel0``).
SCENE_PREFIX = "scene:"
# Image inputs with these names are fed by the compositor.
DASHBOARD_INPUT = "overlay"
DASHBOARD_REFRESH_S = 0.25
# Overlays are drawn on the CPU on the render thread: cap their size (GPU scales them up).
OVERLAY_MAX = (1920, 1080)


def curve_value(curve: str, x: float) -> float:
    """Map linear progress ``x`` in [0, 1] through a transition curve.

    The shapes are the cue engine's (:func:`cues.curves.apply_curve`), so a cue fades a
    light and crossfades the projector on the same curve: ``linear``;
    ``smoothstep``/``s-curve`` (slow, fast, slow); ``exponential`` (starts slowly, like a
    fade-in on a dimmer); ``logarithmic`` (starts quickly; its inverse).

    Raises:
        VisualsError: unknown curve name.
    """
    try:
        shape = curve_named(curve)
    except ValueError as err:
        raise VisualsError(
            f"unknown transition curve {curve!r}; use one of {', '.join(CURVES)}"
        ) from err
    return apply_curve(shape, float(x))


@dataclass
class _Active:
    renderer: SceneRenderer
    name: str
    epoch: float | None = None  # caller time of its first frame
    overlay_at: float | None = None
    # image inputs fed by another scene ("scene:NAME"), rendered before this one
    feeds: dict[str, _Active] = field(default_factory=dict)

    def scene_time(self, now: float) -> float:
        if self.epoch is None:
            self.epoch = now
        return now - self.epoch

    def render(
        self, time: float, size: tuple[int, int], date: tuple[float, float, float, float]
    ) -> moderngl.Texture:
        scene_time = self.scene_time(time)
        for input_name, feed in self.feeds.items():  # fed scenes keep this scene's clock
            image = feed.renderer.render(scene_time, size, date=date)
            self.renderer.set_input(input_name, image)
        return self.renderer.render(scene_time, size, date=date)

    def drop_feed(self, input_name: str) -> None:
        feed = self.feeds.pop(input_name, None)
        if feed is not None:
            feed.release()
            self.renderer.set_input(input_name, None)

    def release(self) -> None:
        for feed in self.feeds.values():
            feed.release()
        self.feeds.clear()
        self.renderer.release()


@dataclass
class _Transition:
    target: _Active
    duration: float
    curve: str
    shader: SceneRenderer | None
    start: float | None = None


class Compositor:
    """Renders the current scene, transitions, test pattern and identify overlay.

    Args:
        ctx: the moderngl context (from :func:`visuals.gl.create_context`).
    """

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._blitter = Blitter(ctx)
        self._current: _Active | None = None
        self._transition: _Transition | None = None
        self._inputs: dict[str, Any] = {}
        self._history = SignalHistory()
        self._test_pattern: _Active | None = None
        self._identify: list[str] | None = None
        self._identify_tex: moderngl.Texture | None = None
        self._identify_key: tuple[Any, ...] | None = None
        self._mix_tex: moderngl.Texture | None = None
        self._mix_fbo: moderngl.Framebuffer | None = None
        self._out_tex: moderngl.Texture | None = None
        self._out_fbo: moderngl.Framebuffer | None = None
        self._black = ctx.texture((1, 1), 4, bytes([0, 0, 0, 255]))

    # -- scenes ---------------------------------------------------------------------

    @property
    def current_scene(self) -> str | None:
        """Name of the scene on screen (the incoming one once a transition finishes)."""
        return self._current.name if self._current else None

    @property
    def in_transition(self) -> bool:
        """True while a transition is running."""
        return self._transition is not None

    def load_scene(
        self,
        scene: IsfDocument | str | Path,
        *,
        name: str | None = None,
        transition: IsfDocument | str | Path | None = None,
        duration: float = 0.0,
        curve: str = "linear",
    ) -> None:
        """Compile ``scene`` and make it current, optionally through a transition.

        Args:
            scene: document, file path, built-in scene name or ISF source.
            name: name to report (defaults to the scene argument).
            transition: ``None``/``"crossfade"`` for a mix, or an ISF transition scene.
            duration: transition length in seconds; 0 cuts.
            curve: one of :data:`CURVES`.

        Raises:
            IsfError: the scene (or transition) failed to parse or compile; the
                previous scene keeps running.
        """
        curve_value(curve, 0.0)  # validate before doing any work
        document = resolve_scene(scene)
        renderer = SceneRenderer(self.ctx, document)
        shader: SceneRenderer | None = None
        try:
            if transition is not None and transition != CROSSFADE and duration > 0:
                trans_doc = resolve_scene(transition)
                if not trans_doc.is_transition:
                    raise IsfError(
                        "not a transition (needs image inputs startImage and endImage "
                        "and a float progress)",
                        filename=trans_doc.filename,
                    )
                shader = SceneRenderer(self.ctx, trans_doc)
        except VisualsError:
            renderer.release()
            raise
        active = _Active(
            renderer,
            name or (str(scene) if not isinstance(scene, IsfDocument) else document.filename),
        )
        for input_name, value in self._inputs.items():
            self._apply(active, input_name, value)
        self._finish_transition(complete=False)
        if self._current is None or duration <= 0:
            self._replace_current(active)
            if shader is not None:
                shader.release()
        else:
            self._transition = _Transition(active, float(duration), curve, shader)
        logger.info("scene %s loaded (%s)", active.name, document.filename)

    def _replace_current(self, active: _Active) -> None:
        if self._current is not None:
            self._current.release()
        self._current = active

    def _finish_transition(self, *, complete: bool) -> None:
        trans = self._transition
        if trans is None:
            return
        self._transition = None
        if trans.shader is not None:
            trans.shader.release()
        if complete:
            self._replace_current(trans.target)
        else:
            trans.target.release()

    # -- inputs ---------------------------------------------------------------------

    def set_input(self, name: str, value: Any) -> None:
        """Set an input for the current scene and remember it for scenes loaded later.

        Inputs a scene does not declare are kept but ignored by it; a value that does
        not fit a scene's input type is logged and ignored for that scene.
        """
        self._inputs[name] = value
        for active in self._actives():
            self._apply(active, name, value)

    def set_inputs(self, values: dict[str, Any]) -> None:
        """Set several inputs (see :meth:`set_input`)."""
        for name, value in values.items():
            self.set_input(name, value)

    @property
    def inputs(self) -> dict[str, Any]:
        """Every input value given so far."""
        return dict(self._inputs)

    def _actives(self) -> list[_Active]:
        result = [a for a in (self._current, self._test_pattern) if a is not None]
        if self._transition is not None:
            result.append(self._transition.target)
        return result

    def _apply(self, active: _Active, name: str, value: Any) -> None:
        renderer = active.renderer
        item = renderer.document.input(name)
        if item is None:
            return
        try:
            if (
                item.type in IMAGE_TYPES
                and isinstance(value, str)
                and value.startswith(SCENE_PREFIX)
            ):
                self._feed_scene(active, name, value.removeprefix(SCENE_PREFIX))
                return
            active.drop_feed(name)
            renderer.set_input(name, value)
        except VisualsError as err:
            logger.warning(
                "input %s ignored by scene %s: %s", name, renderer.document.filename, err
            )

    def _feed_scene(self, active: _Active, input_name: str, scene: str) -> None:
        """Show scene ``scene`` in image input ``input_name`` of ``active`` (one level deep:
        inputs of the fed scene that name scenes are left out)."""
        feed = _Active(SceneRenderer(self.ctx, resolve_scene(scene)), scene)
        for other, value in self._inputs.items():
            if feed.renderer.document.input(other) is not None and not (
                isinstance(value, str) and value.startswith(SCENE_PREFIX)
            ):
                try:
                    feed.renderer.set_input(other, value)
                except InputError as err:
                    logger.warning("input %s ignored by scene %s: %s", other, scene, err)
        active.drop_feed(input_name)
        active.feeds[input_name] = feed

    # -- modes ----------------------------------------------------------------------

    def set_test_pattern(self, on: bool) -> None:
        """Show the built-in test pattern instead of the show (``True``) or go back."""
        if on and self._test_pattern is None:
            self._test_pattern = _Active(
                SceneRenderer(self.ctx, resolve_scene("test_pattern")), "test_pattern"
            )
        elif not on and self._test_pattern is not None:
            self._test_pattern.release()
            self._test_pattern = None

    def identify(self, label: str | None, detail: str = "") -> None:
        """Draw a big label (display name/number) over the output; ``None`` removes it."""
        self._identify = None if label is None else [label, *([detail] if detail else [])]

    # -- rendering ------------------------------------------------------------------

    def skip_to(self, time: float, fps: float) -> None:
        """Let the current scene, started at caller time 0, continue at caller time ``time``
        as if it had been rendered every ``1 / fps`` seconds until then (FRAMEINDEX and
        TIMEDELTA follow). Only right for scenes without history (one pass, nothing
        persistent); others must be rendered frame by frame."""
        current = self._current
        if current is None or fps <= 0:
            return
        current.epoch = 0.0
        frames = round(max(0.0, time) * fps)
        for active in (current, *current.feeds.values()):
            active.renderer.skip_to(frames, time - 1.0 / fps if frames else None)

    def render(
        self,
        time: float,
        size: tuple[int, int],
        *,
        date: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    ) -> moderngl.Texture:
        """Render the output frame for caller time ``time`` (seconds) at ``size``."""
        size = (max(1, int(size[0])), max(1, int(size[1])))
        out_fbo = self._ensure_out(size)
        for name, value in self._inputs.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                self._history.record(name, float(value), time)
        if self._test_pattern is not None:
            self._feed_overlay(self._test_pattern, time, size, test_pattern=True)
            source = self._test_pattern.renderer.render(
                self._test_pattern.scene_time(time), size, date=date
            )
        elif self._current is None:
            source = self._black
        else:
            source = self._render_show(time, size, date)
        self._blitter.draw(out_fbo, source, overlay=self._identify_overlay(size))
        assert self._out_tex is not None
        return self._out_tex

    def _render_show(
        self, time: float, size: tuple[int, int], date: tuple[float, float, float, float]
    ) -> moderngl.Texture:
        current = self._current
        assert current is not None
        self._feed_overlay(current, time, size)
        start_img = current.render(time, size, date)
        trans = self._transition
        if trans is None:
            return start_img
        if trans.start is None:
            trans.start = time
        progress = curve_value(trans.curve, (time - trans.start) / trans.duration)
        if time - trans.start >= trans.duration:
            self._finish_transition(complete=True)
            return self._render_show(time, size, date)
        self._feed_overlay(trans.target, time, size)
        end_img = trans.target.render(time, size, date)
        mix_fbo = self._ensure_mix(size)
        if trans.shader is None:
            self._blitter.draw(mix_fbo, start_img, end_img, progress)
        else:
            trans.shader.set_input("startImage", start_img)
            trans.shader.set_input("endImage", end_img)
            trans.shader.set_input("progress", progress)
            self._blitter.draw(mix_fbo, trans.shader.render(time - trans.start, size, date=date))
        assert self._mix_tex is not None
        return self._mix_tex

    def _feed_overlay(
        self, active: _Active, time: float, size: tuple[int, int], *, test_pattern: bool = False
    ) -> None:
        """Refresh a scene's ``overlay`` image input from the signal history (4 Hz)."""
        item = active.renderer.document.input(DASHBOARD_INPUT)
        if item is None or item.type not in IMAGE_TYPES:
            return
        if active.overlay_at is not None and 0 <= time - active.overlay_at < DASHBOARD_REFRESH_S:
            return
        active.overlay_at = time
        scale = min(1.0, OVERLAY_MAX[0] / size[0], OVERLAY_MAX[1] / size[1])
        small = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        if test_pattern or Path(active.renderer.document.filename).stem == "test_pattern":
            image = draw_text_overlay(
                [f"{size[0]} x {size[1]}", "Stovelight test pattern"], small, scale=0.1
            )
        else:
            image = draw_dashboard(self._history.series(), small, title="")
        active.renderer.set_input(DASHBOARD_INPUT, image)

    def _identify_overlay(self, size: tuple[int, int]) -> moderngl.Texture | None:
        if self._identify is None:
            return None
        key = (tuple(self._identify), size)
        if key != self._identify_key:
            image = draw_text_overlay(self._identify, size, scale=0.4)
            self._identify_tex = upload_rgba(self.ctx, image, self._identify_tex)
            self._identify_key = key
        return self._identify_tex

    def _ensure_out(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self._out_tex is None or self._out_tex.size != size:
            if self._out_fbo is not None and self._out_tex is not None:
                unbind_framebuffers(self.ctx, self._out_fbo)
                self._out_fbo.release()
                self._out_tex.release()
            self._out_tex = self.ctx.texture(size, 4)
            self._out_fbo = self.ctx.framebuffer([self._out_tex])
        assert self._out_fbo is not None
        return self._out_fbo

    def _ensure_mix(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        if self._mix_tex is None or self._mix_tex.size != size:
            if self._mix_fbo is not None and self._mix_tex is not None:
                unbind_framebuffers(self.ctx, self._mix_fbo)
                self._mix_fbo.release()
                self._mix_tex.release()
            self._mix_tex = self.ctx.texture(size, 4)
            self._mix_fbo = self.ctx.framebuffer([self._mix_tex])
        assert self._mix_fbo is not None
        return self._mix_fbo

    @property
    def render_texture(self) -> moderngl.Texture:
        """The texture holding the last output frame.

        Raises:
            VisualsError: nothing has been rendered yet.
        """
        if self._out_tex is None:
            raise VisualsError("no frame rendered yet")
        return self._out_tex

    @property
    def framebuffer(self) -> moderngl.Framebuffer | None:
        """The framebuffer holding the last output frame."""
        return self._out_fbo

    def read(self) -> npt.NDArray[np.uint8]:
        """The last output frame as RGBA uint8, row 0 at the top.

        Raises:
            VisualsError: nothing has been rendered yet.
        """
        if self._out_fbo is None:
            raise VisualsError("read() before the first render()")
        return read_rgba(self._out_fbo)

    def release(self) -> None:
        """Free every scene and GL object."""
        self._finish_transition(complete=False)
        self.set_test_pattern(False)
        if self._current is not None:
            self._current.release()
            self._current = None
        unbind_framebuffers(self.ctx, self._mix_fbo, self._out_fbo)
        for obj in (self._identify_tex, self._mix_fbo, self._mix_tex, self._out_fbo, self._out_tex):
            if obj is not None:
                obj.release()
        self._black.release()
        self._blitter.release()
