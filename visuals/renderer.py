"""Render one ISF scene into an offscreen framebuffer with moderngl.

:class:`SceneRenderer` is bound to a context it is given (see :mod:`visuals.gl`). The
caller passes the frame time on every :meth:`SceneRenderer.render`; ``TIMEDELTA`` and
``FRAMEINDEX`` follow from the times it was given, so rehearsal with a virtual clock
renders exactly what a live show would. Nothing in here reads a clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moderngl
import numpy as np
import numpy.typing as npt

from visuals.blit import QUAD, Blitter
from visuals.errors import ExpressionError, InputError, IsfError, VisualsError
from visuals.expr import evaluate
from visuals.gl import unbind_framebuffers
from visuals.glsl import (
    DEFAULT_GLSL_VERSION,
    SHADERTOY_CHANNELS,
    TranslatedShader,
    image_rect_uniform,
    image_size_uniform,
    map_compile_error,
    translate,
)
from visuals.images import as_rgba, load_image
from visuals.inputs import coerce_value, default_value
from visuals.isf import IMAGE_TYPES, InputType, IsfDocument, IsfPass

__all__ = ["SceneRenderer", "compile_document", "read_rgba", "upload_rgba"]

logger = logging.getLogger(__name__)

Size = tuple[int, int]


def upload_rgba(
    ctx: moderngl.Context, image: npt.ArrayLike, texture: moderngl.Texture | None = None
) -> moderngl.Texture:
    """Upload an image array (row 0 at the top) to a texture, reusing ``texture`` if it fits."""
    arr = np.asarray(image)
    if arr.dtype.kind == "f" and arr.ndim == 3 and arr.shape[2] == 4:
        data = np.ascontiguousarray(arr[::-1], dtype="f4")
        dtype = "f4"
    else:
        data = np.ascontiguousarray(as_rgba(arr)[::-1])
        dtype = "f1"
    h, w = data.shape[:2]
    if texture is not None and texture.size == (w, h) and texture.dtype == dtype:
        texture.write(data.tobytes())
        return texture
    if texture is not None:
        texture.release()
    texture = ctx.texture((w, h), 4, data.tobytes(), dtype=dtype)
    texture.repeat_x = texture.repeat_y = False
    return texture


def _compile(
    ctx: moderngl.Context, document: IsfDocument
) -> tuple[TranslatedShader, moderngl.Program]:
    """Compile ``document`` as GLSL 330 core; if that fails, as the newest GLSL the context
    supports (files written for hosts with a newer GLSL rely on implicit int -> uint
    conversions or ``return 0;`` from a float function). The 330 error is reported when
    both fail.

    Raises:
        IsfError: the scene does not compile, on the designer's lines.
    """
    shader = translate(document)
    try:
        return shader, ctx.program(vertex_shader=shader.vertex, fragment_shader=shader.fragment)
    except moderngl.Error as err:
        _ = ctx.error  # reading clears the GL error flag the failed compile left behind
        first = map_compile_error(document, shader, str(err))
        first.__cause__ = err
    newest = int(getattr(ctx, "version_code", 0) or 0)
    if newest > DEFAULT_GLSL_VERSION:
        newer = translate(document, newest)
        try:
            program = ctx.program(vertex_shader=newer.vertex, fragment_shader=newer.fragment)
        except moderngl.Error:
            _ = ctx.error
        else:
            logger.info("%s: compiled as GLSL %d", document.filename, newest)
            return newer, program
    raise first


def compile_document(ctx: moderngl.Context, document: IsfDocument) -> None:
    """Compile ``document`` as the renderer would, then let it go (``stovelight check``).

    Raises:
        IsfError: the scene does not compile, on the designer's lines.
    """
    _, program = _compile(ctx, document)
    program.release()


def read_rgba(fbo: moderngl.Framebuffer) -> npt.NDArray[np.uint8]:
    """Read a framebuffer's colour attachment as an RGBA uint8 array, row 0 at the top."""
    w, h = fbo.size
    data = fbo.read(components=4, alignment=1)
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 4)[::-1].copy()


@dataclass
class _Target:
    """A pass target: two textures so a pass can read last frame's image while writing."""

    front: moderngl.Texture
    back: moderngl.Texture
    front_fbo: moderngl.Framebuffer
    back_fbo: moderngl.Framebuffer
    persistent: bool

    def swap(self) -> None:
        self.front, self.back = self.back, self.front
        self.front_fbo, self.back_fbo = self.back_fbo, self.front_fbo

    @property
    def size(self) -> Size:
        w, h = self.front.size
        return (w, h)

    def release(self) -> None:
        unbind_framebuffers(self.front.ctx, self.front_fbo, self.back_fbo)
        for obj in (self.front_fbo, self.back_fbo, self.front, self.back):
            obj.release()


class SceneRenderer:
    """One compiled ISF scene with its pass targets, image inputs and input values.

    Args:
        ctx: the moderngl context to render with.
        document: the parsed scene (see :func:`visuals.isf.parse_isf` and
            :func:`visuals.scenes.resolve_scene`).

    Raises:
        IsfError: translation or compilation failed; the message and ``line`` refer
            to the designer's file.
    """

    def __init__(self, ctx: moderngl.Context, document: IsfDocument):
        self.ctx = ctx
        self.document = document
        self._shader, self._program = _compile(ctx, document)
        self._vbo = ctx.buffer(QUAD.tobytes())
        self._vao = ctx.vertex_array(
            self._program, [(self._vbo, "2f", "isf_position")], skip_errors=True
        )
        self._inputs = {i.name: i for i in document.inputs}
        self._values: dict[str, Any] = {}
        for item in document.inputs:
            value = default_value(item)
            if value is not None:
                self._values[item.name] = value
        self._images: dict[str, moderngl.Texture] = {}
        self._owned_images: set[str] = set()
        self._blank = ctx.texture((1, 1), 4, bytes(4))
        self._targets: dict[str, _Target] = {}
        self._output: moderngl.Texture | None = None
        self._output_fbo: moderngl.Framebuffer | None = None
        self._last_time: float | None = None
        self._blitter: Blitter | None = None
        self.frame_index = 0
        self._units = {name: unit for unit, name in enumerate(document.image_names)}
        self._channels = document.is_shadertoy
        for name, unit in self._units.items():
            self._set_uniform(name, unit)
        for imported in document.imported:
            try:
                self._set_image(imported.name, load_image(imported.path))
            except VisualsError as err:
                self.release()
                raise IsfError(str(err), filename=document.filename) from err

    # -- inputs ---------------------------------------------------------------------

    @property
    def input_values(self) -> dict[str, Any]:
        """The current value of every non-image input."""
        return dict(self._values)

    def set_input(self, name: str, value: Any) -> None:
        """Set an input declared by the scene.

        Args:
            name: the input's NAME.
            value: a number/bool/sequence/string for uniform inputs; for image inputs a
                numpy array (row 0 at the top), a file path, or a ``moderngl.Texture``
                (borrowed, not released by the renderer).

        Raises:
            InputError: the scene has no such input, or the value does not fit.
        """
        item = self._inputs.get(name)
        if item is None:
            raise InputError(f"scene {self.document.filename} has no input {name!r}")
        if item.type in IMAGE_TYPES:
            if isinstance(value, moderngl.Texture):
                self._drop_image(name)
                self._images[name] = value
            elif isinstance(value, str | Path):
                try:
                    self._set_image(name, load_image(value))
                except VisualsError as err:
                    raise InputError(f"input {name!r}: {err}") from err
            elif value is None:
                self._drop_image(name)
            else:
                try:
                    self._set_image(name, value)
                except VisualsError as err:
                    raise InputError(f"input {name!r}: {err}") from err
            return
        self._values[name] = coerce_value(item, value)

    def set_inputs(self, values: dict[str, Any], *, strict: bool = False) -> None:
        """Set several inputs; with ``strict=False`` names the scene lacks are skipped."""
        for name, value in values.items():
            if not strict and name not in self._inputs:
                continue
            self.set_input(name, value)

    def _set_image(self, name: str, image: npt.ArrayLike) -> None:
        existing = self._images.get(name) if name in self._owned_images else None
        if name not in self._owned_images:
            self._images.pop(name, None)
        self._images[name] = upload_rgba(self.ctx, image, existing)
        self._owned_images.add(name)

    def _drop_image(self, name: str) -> None:
        texture = self._images.pop(name, None)
        if texture is not None and name in self._owned_images:
            texture.release()
        self._owned_images.discard(name)

    # -- rendering ------------------------------------------------------------------

    @property
    def output(self) -> moderngl.Texture | None:
        """The texture holding the last rendered frame (``None`` before the first)."""
        return self._output

    def render(
        self,
        time: float,
        size: Size,
        *,
        date: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
    ) -> moderngl.Texture:
        """Render one frame at scene time ``time`` into an RGBA8 texture of ``size``.

        Args:
            time: the scene's TIME in seconds (measured by the caller).
            size: (width, height) of the output.
            date: the ISF DATE vector (year, month, day, seconds since midnight),
                given by the caller because the renderer reads no clock.

        Returns:
            The output texture (also available as :attr:`output`).

        Raises:
            IsfError: a pass size expression is invalid.
        """
        width, height = max(1, int(size[0])), max(1, int(size[1]))
        fbo = self._ensure_output((width, height))
        delta = 0.0 if self._last_time is None else max(0.0, time - self._last_time)
        self._set_uniform("TIME", float(time))
        self._set_uniform("TIMEDELTA", float(delta))
        self._set_uniform("FRAMEINDEX", self.frame_index)
        self._set_uniform("DATE", tuple(float(d) for d in date))
        for name, value in self._values.items():
            self._set_uniform(name, value)
        last_target: _Target | None = None
        for index, spec in enumerate(self.document.passes):
            if spec.target:
                target = self._ensure_target(spec, (width, height))
                dest, dest_size = target.back_fbo, target.size
            else:
                target, dest, dest_size = None, fbo, (width, height)
            self._bind_images()
            dest.use()
            self._set_uniform("RENDERSIZE", (float(dest_size[0]), float(dest_size[1])))
            self._set_uniform("PASSINDEX", index)
            self._vao.render(moderngl.TRIANGLE_STRIP)
            if target is not None:
                target.swap()
            last_target = target
        if last_target is not None:
            # The last pass drew into a target: that target is the scene's image.
            if self._blitter is None:
                self._blitter = Blitter(self.ctx)
            self._blitter.draw(fbo, last_target.front)
        for name, item in self._inputs.items():
            if item.type is InputType.EVENT:
                self._values[name] = False
        self._last_time = time
        self.frame_index += 1
        assert self._output is not None
        return self._output

    def skip_to(self, frame_index: int, last_time: float | None) -> None:
        """Continue as if ``frame_index`` frames had been rendered, the last one at scene
        time ``last_time``: the next :meth:`render` gets that FRAMEINDEX and its TIMEDELTA
        from ``last_time``. For scenes whose frame depends on nothing else (one pass, no
        persistent buffer)."""
        self.frame_index = max(0, int(frame_index))
        self._last_time = last_time

    def read(self) -> npt.NDArray[np.uint8]:
        """The last frame as an RGBA uint8 array, row 0 at the top.

        Raises:
            VisualsError: nothing has been rendered yet.
        """
        if self._output_fbo is None:
            raise VisualsError("read() before the first render()")
        return read_rgba(self._output_fbo)

    def _bind_images(self) -> None:
        for name, unit in self._units.items():
            target = self._targets.get(name)
            texture = target.front if target is not None else self._images.get(name, self._blank)
            texture.use(location=unit)
            w, h = texture.size
            self._set_uniform(image_size_uniform(name), (float(w), float(h)))
            self._set_uniform(image_rect_uniform(name), (0.0, 0.0, float(w), float(h)))
        if self._channels:
            sizes = []
            for channel in SHADERTOY_CHANNELS:
                image = self._images.get(channel)
                w, h = image.size if image is not None else (0, 0)
                sizes.append((float(w), float(h), 1.0))
            uniform = self._program.get("iChannelResolution", None)
            if uniform is not None:  # the compiler keeps the array up to the last index used
                length = int(getattr(uniform, "array_length", 1))
                uniform.value = sizes[0] if length == 1 else sizes[:length]  # type: ignore[union-attr]

    def _ensure_output(self, size: Size) -> moderngl.Framebuffer:
        if self._output is None or self._output.size != size:
            self._release_output()
            self._output = self.ctx.texture(size, 4)
            self._output.repeat_x = self._output.repeat_y = False
            self._output_fbo = self.ctx.framebuffer([self._output])
        assert self._output_fbo is not None
        return self._output_fbo

    def _ensure_target(self, spec: IsfPass, size: Size) -> _Target:
        assert spec.target is not None
        wanted = self._target_size(spec, size)
        target = self._targets.get(spec.target)
        if target is not None and target.size == wanted:
            return target
        if target is not None:
            target.release()
        dtype = "f4" if spec.is_float else "f1"
        textures = [self.ctx.texture(wanted, 4, dtype=dtype) for _ in range(2)]
        fbos = [self.ctx.framebuffer([t]) for t in textures]
        for tex, fb in zip(textures, fbos, strict=True):
            tex.repeat_x = tex.repeat_y = False
            fb.clear(0.0, 0.0, 0.0, 0.0)
        target = _Target(textures[0], textures[1], fbos[0], fbos[1], spec.persistent)
        self._targets[spec.target] = target
        return target

    def _target_size(self, spec: IsfPass, size: Size) -> Size:
        variables: dict[str, float] = {"WIDTH": float(size[0]), "HEIGHT": float(size[1])}
        for name, value in self._values.items():
            if isinstance(value, int | float):
                variables[name] = float(value)
        result = []
        for expr, full in ((spec.width, size[0]), (spec.height, size[1])):
            if expr is None:
                result.append(full)
                continue
            try:
                result.append(max(1, int(evaluate(expr, variables))))
            except ExpressionError as err:
                raise IsfError(
                    f"pass {spec.target!r} size: {err}", filename=self.document.filename
                ) from err
        return (result[0], result[1])

    def _set_uniform(self, name: str, value: Any) -> None:
        uniform = self._program.get(name, None)
        if uniform is None:  # declared but optimised away by the compiler
            return
        uniform.value = value  # type: ignore[union-attr]

    # -- lifetime -------------------------------------------------------------------

    def _release_output(self) -> None:
        unbind_framebuffers(self.ctx, self._output_fbo)
        if self._output_fbo is not None:
            self._output_fbo.release()
        if self._output is not None:
            self._output.release()
        self._output = None
        self._output_fbo = None

    def release(self) -> None:
        """Free every GL object this renderer created (borrowed textures are left alone)."""
        self._release_output()
        for target in self._targets.values():
            target.release()
        self._targets.clear()
        for name in list(self._owned_images):
            self._drop_image(name)
        self._images.clear()
        if self._blitter is not None:
            self._blitter.release()
        for obj in (self._blank, self._vao, self._vbo, self._program):
            obj.release()
