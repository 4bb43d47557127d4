"""``stovelight render`` and render_frame."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
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


# Writes TIME*10, FRAMEINDEX, round(1/TIMEDELTA) and DATE's day and hour into the colour.
CLOCK = """/*{}*/
void main() {
    float hour = floor(DATE.w / 3600.0);
    gl_FragColor = vec4(TIME * 10.0, float(FRAMEINDEX), floor(1.0 / TIMEDELTA + 0.5),
                        DATE.z * 10.0 + hour) / 255.0;
}
"""


def test_single_pass_scene_sees_time_frame_delta_and_date() -> None:
    date = (2026.0, 11.0, 9.0, 3 * 3600.0 + 120.0)  # the 9th, 03:02
    frame = render_frame(CLOCK, {}, time=2.5, size=(4, 4), fps=20, date=date)
    # TIME 2.5 s, FRAMEINDEX 50 (2.5 s at 20 fps), TIMEDELTA 1/20 s, day 9 hour 3
    assert frame[0, 0].tolist() == [25, 50, 20, 93]


def test_render_command_sets_the_date(tmp_path: Path) -> None:
    out = tmp_path / "clock.fs"
    out.write_text(CLOCK)
    png = tmp_path / "clock.png"
    args = _args(str(out), "--time", "1", "--fps", "10", "--date", "2026-01-07T05:00:00",
                 "--size", "4x4", "-o", str(png))  # fmt: skip
    assert run(args) == 0
    assert load_image(png)[0, 0].tolist() == [10, 10, 10, 75]


def test_unknown_input_is_refused_with_the_scene_s_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args("heat", "-i", "heatt=0.5", "--size", "8x8", "-o", str(tmp_path / "x.png"))
    assert run(args) == 1
    err = capsys.readouterr().err
    assert "no input 'heatt'; did you mean 'heat'?" in err
    assert "its inputs: heat, stove1, stove2, stove3, stove4, flicker" in err
    assert not (tmp_path / "x.png").exists()
    # the dashboard shows any other number as a tile
    args = _args("dashboard", "-i", "supply=4.2", "--size", "32x18", "-o", str(tmp_path / "d.png"))
    assert run(args) == 0


def test_a_shadertoy_channel_shows_another_scene_with_its_inputs(tmp_path: Path) -> None:
    scene = tmp_path / "mirror.fs"
    scene.write_text(
        "void mainImage(out vec4 fragColor, in vec2 fragCoord) {\n"
        "    fragColor = texture(iChannel0, fragCoord / iResolution.xy);\n}\n"
    )
    png = tmp_path / "mirror.png"
    argv = [str(scene), "-i", "iChannel0=scene:heat", "-i", "heat=0.9", "--time", "2",
            "--size", "32x18", "-o", str(png)]  # fmt: skip
    assert run(_args(*argv)) == 0
    mirrored = load_image(png)
    heat = render_frame("heat", {"heat": 0.9}, time=2.0, size=(32, 18))
    assert np.abs(mirrored.astype(int) - heat.astype(int)).max() <= 2
