"""``stovelight check`` compiles the show's own ISF files, as the renderer will.

Parsing (show.showfile.scenecheck) catches a broken header; only the GPU driver can say
whether the GLSL compiles. ``check`` therefore opens one headless OpenGL context
(the renderer's own, Mesa's EGL where there is no display) and compiles every ISF
file the show names as a scene or a transition, reporting errors on the designer's
lines. This runs in ``check`` only: a running show never opens a GL context in its
own process (the renderer has its own), so ``stovelight run`` does not do it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from cues.model import VisualAction
from show.showfile.config import Show
from visuals.errors import IsfError

__all__ = ["compile_problems", "scene_files"]

log = logging.getLogger(__name__)


def scene_files(show: Show) -> list[Path]:
    """The ISF files (not built-in scenes) the show's outputs and cues name."""
    names: list[str] = [vis.scene for vis in show.visuals]
    for cue in show.model.cues.values():
        if isinstance(cue.action, VisualAction):
            names += [cue.action.scene, cue.action.transition]
    files = {Path(n) for n in names if n.endswith((".fs", ".frag")) and Path(n).is_file()}
    return sorted(files)


def compile_problems(files: Iterable[Path]) -> tuple[list[str], str]:
    """Compile each file; returns (problems, note). The note says why nothing was
    compiled (no OpenGL here), or is empty."""
    files = list(files)
    if not files:
        return [], ""
    try:
        from visuals.gl import create_context
        from visuals.isf import load_isf
        from visuals.renderer import compile_document

        ctx = create_context()
    except Exception as exc:  # no GL library or device: say so, do not fail the check
        return [], f"ISF files not compiled: no OpenGL here ({exc})"
    problems: list[str] = []
    try:
        for path in files:
            try:
                compile_document(ctx, load_isf(path))
            except IsfError as exc:
                detail = getattr(exc, "detail", None) or str(exc)
                line = getattr(exc, "line", None)
                where = f":{line}" if line else ""
                problems.append(f"{path}{where}: the shader does not compile: {detail}")
    finally:
        ctx.release()
    return problems, ""
