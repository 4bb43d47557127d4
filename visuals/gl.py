"""The one place where OpenGL contexts are created.

Headless rendering (tests, ``stovelight render``, the renderer process when no
display is present) uses a standalone EGL context; the window module asks for the
context of the window it has just opened. Nothing else in the package calls
``moderngl.create_*context``.
"""

from __future__ import annotations

import logging

import moderngl

from visuals.errors import VisualsError

__all__ = ["GL_VERSION", "create_context", "describe_context", "unbind_framebuffers"]

logger = logging.getLogger(__name__)

GL_VERSION = 330


def create_context(*, window: bool = False) -> moderngl.Context:
    """Create a moderngl context that supports GLSL 330 core.

    Args:
        window: ``True`` to attach to the GL context of the window that the caller
            has made current (pygame ``OPENGL`` display); ``False`` for a standalone,
            headless EGL context.

    Returns:
        The context.

    Raises:
        VisualsError: no context could be created, or it is older than OpenGL 3.3.
    """
    try:
        if window:
            ctx = moderngl.create_context(require=GL_VERSION)
        else:
            ctx = moderngl.create_standalone_context(require=GL_VERSION, backend="egl")  # type: ignore[arg-type]
    except Exception as err:  # moderngl/glcontext raise plain Exception subclasses
        kind = "window" if window else "headless EGL"
        raise VisualsError(f"cannot create {kind} OpenGL context: {err}") from err
    logger.info("OpenGL context: %s", describe_context(ctx))
    return ctx


def describe_context(ctx: moderngl.Context) -> str:
    """A one-line description of the driver, e.g. ``"llvmpipe (LLVM 15) / GL 4.5"``."""
    info = ctx.info
    return f"{info.get('GL_RENDERER', '?')} / GL {ctx.version_code / 100:.1f}"


def unbind_framebuffers(ctx: moderngl.Context, *fbos: moderngl.Framebuffer | None) -> None:
    """Bind the default framebuffer if one of ``fbos`` (about to be released) is bound.

    moderngl rebinds the current framebuffer after creating a new one; if that one
    was deleted the driver reports GL_INVALID_OPERATION.
    """
    current = ctx.fbo
    if current is not None and any(f is not None and f is current for f in fbos):
        ctx.detect_framebuffer(0).use()
