"""``stovelight render`` and render_frame."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from visuals.images import load_image
from visuals.render_cli import parse_size, register, render_frame, run


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["render", *argv])


def test_render_writes_png(tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    args = _args(
        "heat",
        "--input",
        "heat=0.9",
        "-i",
        "stove2=1",
        "--time",
        "1",
        "--size",
        "64x36",
        "-o",
        str(out),
    )
    assert run(args) == 0
    assert load_image(out).shape == (36, 64, 4)


def test_render_reports_scene_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.fs"
    bad.write_text("/*{}*/\nvoid main() {\n  gl_FragColor = nope;\n}\n")
    assert run(_args(str(bad), "-o", str(tmp_path / "x.png"), "--size", "8x8")) == 1
    assert "bad.fs:3" in capsys.readouterr().err
    assert run(_args("no_such_scene", "-o", str(tmp_path / "x.png"))) == 1


def test_parse_size() -> None:
    assert parse_size("1920x1080") == (1920, 1080)
    for bad in ("1920", "0x10", "ax2"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_stateful_scene_renders_history(samples: Path) -> None:
    scene = samples / "feedback_persistent.fs"
    # 1 s at 10 fps: frames 0..10 rendered, FRAMEINDEX of the last is 10.
    frame = render_frame(scene, {}, time=1.0, size=(8, 8), fps=10)
    assert frame[0, 0, 1] == 10
