"""``stovelight render``: render one frame of a scene to a PNG, headless.

The lead's CLI calls :func:`register` with its subparsers and dispatches to
:func:`run`. :func:`render_frame` is the library form used by tests and tools.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visuals.compositor import DASHBOARD_INPUT, SCENE_PREFIX, Compositor
from visuals.errors import VisualsError
from visuals.gl import create_context
from visuals.images import save_png
from visuals.inputs import check_input_names, date_vector
from visuals.isf import IMAGE_TYPES, IsfDocument
from visuals.scenes import builtin_scene_names

__all__ = ["DEFAULT_FPS", "parse_size", "register", "render_frame", "run"]

logger = logging.getLogger(__name__)

DEFAULT_FPS = 60.0


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"1920x1080"`` into ``(1920, 1080)``.

    Raises:
        ValueError: malformed or non-positive size.
    """
    parts = text.lower().replace("*", "x").split("x")
    if len(parts) != 2:
        raise ValueError(f"size must look like 1920x1080, not {text!r}")
    width, height = int(parts[0]), int(parts[1])
    if width <= 0 or height <= 0 or width > 16384 or height > 16384:
        raise ValueError(f"size out of range: {text!r}")
    return width, height


def parse_date(text: str) -> datetime.datetime:
    """Parse an ISO date and time (``2026-11-29T18:30:00``) for ``--date``.

    Raises:
        ValueError: not an ISO date.
    """
    return datetime.datetime.fromisoformat(text)


def render_frame(
    scene: IsfDocument | str | Path,
    inputs: dict[str, Any] | None = None,
    time: float = 0.0,
    size: tuple[int, int] = (640, 360),
    *,
    fps: float = DEFAULT_FPS,
    date: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> npt.NDArray[np.uint8]:
    """Render the frame a scene shows at ``time`` seconds after it starts.

    Scenes with several passes or persistent buffers depend on their history, so
    every frame from 0 up to ``time`` is rendered at ``1/fps`` steps; a single-pass
    scene is rendered once, with TIME = ``time``, FRAMEINDEX = ``round(time * fps)`` and
    TIMEDELTA = ``1 / fps`` as if it had run since 0.

    Args:
        scene: document, file path, built-in scene name or ISF source.
        inputs: input values (strings are parsed, e.g. ``"0.5"``, ``"1,0,0"``).
        time: scene time of the wanted frame, seconds.
        size: (width, height).
        fps: frame rate used to step towards ``time``.
        date: the DATE uniform.

    Returns:
        RGBA uint8 array of shape (height, width, 4), row 0 at the top.

    Raises:
        IsfError: the scene does not parse or compile.
        InputError: an input the scene does not have (a scene with a dashboard
            ``overlay`` input takes any number: it becomes a tile), or a value that does
            not fit.
        VisualsError: no GL context.
    """
    from visuals.scenes import resolve_scene

    document = resolve_scene(scene)
    # a scene that draws the dashboard overlay shows any other number as a tile; scenes
    # fed into an image input ("scene:NAME") take their own inputs
    overlay = document.input(DASHBOARD_INPUT)
    known = list(document.inputs)
    for value in (inputs or {}).values():
        if isinstance(value, str) and value.startswith(SCENE_PREFIX):
            known += resolve_scene(value.removeprefix(SCENE_PREFIX)).inputs
    check_input_names(
        Path(document.filename).stem or "scene",
        known,
        (inputs or {}).keys(),
        extra_ok=overlay is not None and overlay.type in IMAGE_TYPES,
    )
    ctx = create_context()
    compositor = Compositor(ctx)
    try:
        compositor.set_inputs(dict(inputs or {}))
        compositor.load_scene(document)
        time = max(0.0, time)
        stateful = len(document.passes) > 1 or any(p.persistent for p in document.passes)
        if stateful:
            for i in range(round(time * fps)):
                compositor.render(i / fps, size, date=date)
        else:
            compositor.skip_to(time, fps)
        compositor.render(time, size, date=date)
        return compositor.read()
    finally:
        compositor.release()
        ctx.release()


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``render`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "render",
        help="render one frame of a scene to PNG (headless)",
        description="Render one frame of an ISF scene (file or built-in: "
        + ", ".join(builtin_scene_names())
        + ") to a PNG file.",
    )
    parser.add_argument("scene", help="ISF .fs file or built-in scene name")
    parser.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an input, e.g. heat=0.8, tint=1,0.5,0 or photo=path.png (repeatable)",
    )
    parser.add_argument("--time", "-t", type=float, default=0.0, help="scene time in seconds")
    parser.add_argument("--size", "-s", type=parse_size, default=(1280, 720), help="WxH")
    parser.add_argument(
        "--fps", type=float, default=DEFAULT_FPS, help="frame rate (FRAMEINDEX, TIMEDELTA)"
    )
    parser.add_argument(
        "--date",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DDTHH:MM:SS",
        help="the scene's DATE (default: now, local time)",
    )
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute ``stovelight render``; returns the process exit status."""
    inputs: dict[str, Any] = {}
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"error: --input needs NAME=VALUE, got {item!r}", file=sys.stderr)
            return 2
        inputs[name.strip()] = value
    moment = args.date if args.date is not None else datetime.datetime.now()
    if args.fps <= 0:
        print("error: --fps must be above 0", file=sys.stderr)
        return 2
    try:
        frame = render_frame(
            args.scene,
            inputs,
            args.time,
            tuple(args.size),
            fps=args.fps,
            date=date_vector(moment),
        )
        save_png(frame, args.output)
    except VisualsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({frame.shape[1]}x{frame.shape[0]}, t={args.time:g}s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m visuals.render_cli render SCENE ...``."""
    parser = argparse.ArgumentParser(prog="stovelight")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
