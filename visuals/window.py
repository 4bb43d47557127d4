"""The output window: the only module that opens windows and pumps events.

:class:`OutputWindow` opens a pygame OpenGL window (full screen on a chosen display,
or windowed), hides the cursor, asks for vsync, creates the GL context through
:func:`visuals.gl.create_context` and presents rendered textures. Animation time
is measured by the caller (the renderer loop), so a dropped frame never slows the show.
"""

from __future__ import annotations

import logging
import os

import moderngl

from visuals.blit import Blitter
from visuals.errors import VisualsError
from visuals.gl import create_context

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

__all__ = ["OutputWindow"]

logger = logging.getLogger(__name__)


class OutputWindow:
    """A pygame window with an OpenGL 3.3 core context.

    Args:
        size: window size, or ``None`` for the display's full resolution.
        display: index of the monitor to open on.
        fullscreen: borderless full screen on ``display``.
        vsync: ask the driver to sync buffer swaps to the display.
        title: window caption.

    Raises:
        VisualsError: no display, or no OpenGL 3.3 context.
    """

    def __init__(
        self,
        *,
        size: tuple[int, int] | None = None,
        display: int = 0,
        fullscreen: bool = True,
        vsync: bool = True,
        title: str = "Stovelight",
    ):
        try:
            pygame.display.init()
            sizes = pygame.display.get_desktop_sizes()
            if display >= len(sizes):
                logger.warning("display %d not present (%d found); using 0", display, len(sizes))
                display = 0
            if size is None:
                size = sizes[display]
            pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MAJOR_VERSION, 3)
            pygame.display.gl_set_attribute(pygame.GL_CONTEXT_MINOR_VERSION, 3)
            pygame.display.gl_set_attribute(
                pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE
            )
            flags = pygame.OPENGL | pygame.DOUBLEBUF
            if fullscreen:
                flags |= pygame.FULLSCREEN | pygame.NOFRAME
            pygame.display.set_mode(size, flags, display=display, vsync=1 if vsync else 0)
            pygame.display.set_caption(title)
            pygame.mouse.set_visible(False)
        except pygame.error as err:
            pygame.display.quit()
            raise VisualsError(f"cannot open output window on display {display}: {err}") from err
        self.ctx = create_context(window=True)
        self._screen = self.ctx.detect_framebuffer(0)
        self._blitter = Blitter(self.ctx)
        self.size = pygame.display.get_surface().get_size()
        logger.info(
            "output window %dx%d on display %d (%s)",
            self.size[0],
            self.size[1],
            display,
            "full screen" if fullscreen else "windowed",
        )

    def present(self, texture: moderngl.Texture) -> None:
        """Draw ``texture`` to the window and swap buffers (blocks on vsync)."""
        self._screen.use()
        self.ctx.viewport = (0, 0, *self.size)
        self._blitter.draw(self._screen, texture)
        pygame.display.flip()

    def pump(self) -> bool:
        """Handle window events; returns True if the window was asked to close.

        The show does not stop on a close request; the caller decides (and logs).
        """
        closing = False
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                closing = True
            elif event.type == pygame.VIDEORESIZE:
                self.size = (event.w, event.h)
        return closing

    def close(self) -> None:
        """Release the GL objects and close the window."""
        self._blitter.release()
        pygame.display.quit()
