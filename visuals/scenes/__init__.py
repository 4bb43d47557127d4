"""The scenes shipped with Stovelight, and resolution of scene names, paths and source.

Built-in scenes are ISF files in this folder: ``heat``, ``energy_flow``,
``dashboard`` and ``test_pattern``.
"""

from __future__ import annotations

from pathlib import Path

from visuals.errors import IsfError
from visuals.isf import IsfDocument, load_isf, parse_isf

__all__ = ["SCENE_DIR", "builtin_scene_names", "builtin_scene_path", "resolve_scene"]

SCENE_DIR = Path(__file__).resolve().parent


def builtin_scene_names() -> list[str]:
    """Names of the built-in scenes, sorted."""
    return sorted(p.stem for p in SCENE_DIR.glob("*.fs"))


def builtin_scene_path(name: str) -> Path | None:
    """The file of built-in scene ``name`` (with or without ``.fs``), or ``None``."""
    stem = name[:-3] if name.endswith(".fs") else name
    if "/" in stem or "\\" in stem or not stem:
        return None
    path = SCENE_DIR / f"{stem}.fs"
    return path if path.is_file() else None


def resolve_scene(scene: IsfDocument | str | Path) -> IsfDocument:
    """Turn a document, a path, a built-in scene name or ISF source text into a document.

    A string with a newline is treated as source; otherwise an existing file wins over
    a built-in name.

    Raises:
        IsfError: the scene cannot be found or parsed.
    """
    if isinstance(scene, IsfDocument):
        return scene
    if isinstance(scene, Path):
        return load_isf(scene)
    if "\n" in scene:
        return parse_isf(scene)
    path = Path(scene)
    if path.is_file():
        return load_isf(path)
    builtin = builtin_scene_path(scene)
    if builtin is not None:
        return load_isf(builtin)
    known = ", ".join(builtin_scene_names())
    raise IsfError(f"no such scene file or built-in scene (built-ins: {known})", filename=scene)
