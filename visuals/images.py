"""Image helpers built on pygame: load, save PNG, encode JPEG, resize.

Arrays are ``numpy.uint8`` of shape ``(height, width, 4)`` (RGBA), row 0 at the top,
the way image files and people see them. The renderer flips rows when it talks to
OpenGL, whose row 0 is at the bottom.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visuals.errors import VisualsError

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

__all__ = ["as_rgba", "encode_jpeg", "load_image", "resize", "save_png"]

RGBA = npt.NDArray[np.uint8]


def as_rgba(array: npt.ArrayLike) -> RGBA:
    """Convert a grey, RGB, RGBA (uint8 or 0..1 float) array to RGBA uint8.

    Raises:
        VisualsError: the shape is not an image.
    """
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4) or 0 in arr.shape:
        raise VisualsError(f"not an image array: shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = (np.clip(arr.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    h, w, c = arr.shape
    if c == 4:
        return np.ascontiguousarray(arr)
    out = np.full((h, w, 4), 255, dtype=np.uint8)
    if c in (1, 2):
        out[:, :, :3] = arr[:, :, :1]
        if c == 2:
            out[:, :, 3] = arr[:, :, 1]
    else:
        out[:, :, :3] = arr
    return out


def _surface(array: RGBA) -> pygame.Surface:
    rgba = as_rgba(array)
    h, w = rgba.shape[:2]
    return pygame.image.frombuffer(rgba.tobytes(), (w, h), "RGBA")


def load_image(path: str | Path) -> RGBA:
    """Load a PNG/JPEG/... file into an RGBA array.

    Raises:
        VisualsError: the file is missing or not an image pygame can read.
    """
    try:
        surface = pygame.image.load(str(path))
    except (pygame.error, FileNotFoundError, OSError) as err:
        raise VisualsError(f"cannot load image {path}: {err}") from err
    w, h = surface.get_size()
    data = pygame.image.tobytes(surface, "RGBA")
    return np.frombuffer(data, dtype=np.uint8).reshape(h, w, 4).copy()


def save_png(array: npt.ArrayLike, path: str | Path) -> None:
    """Write an image array as PNG."""
    try:
        pygame.image.save(_surface(as_rgba(array)), str(path))
    except pygame.error as err:
        raise VisualsError(f"cannot save {path}: {err}") from err


def resize(array: npt.ArrayLike, size: tuple[int, int]) -> RGBA:
    """Smoothly scale an image array to ``size`` = (width, height)."""
    scaled = pygame.transform.smoothscale(_surface(as_rgba(array)), size)
    data = pygame.image.tobytes(scaled, "RGBA")
    return np.frombuffer(data, dtype=np.uint8).reshape(size[1], size[0], 4).copy()


def encode_jpeg(array: npt.ArrayLike, *, size: tuple[int, int] | None = None) -> bytes:
    """Encode an image array as JPEG bytes, optionally scaled to ``size`` first."""
    rgba = as_rgba(array) if size is None else resize(array, size)
    rgb = np.ascontiguousarray(rgba[:, :, :3])
    h, w = rgb.shape[:2]
    surface = pygame.image.frombuffer(rgb.tobytes(), (w, h), "RGB")
    buffer = io.BytesIO()
    try:
        pygame.image.save(surface, buffer, "preview.jpg")
    except pygame.error as err:
        raise VisualsError(f"cannot encode JPEG: {err}") from err
    return buffer.getvalue()
