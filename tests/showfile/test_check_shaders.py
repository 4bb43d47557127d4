"""``stovelight check`` compiles the show's own ISF files, as the renderer will."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from show.showfile.load import load_show
from show.showfile.shadercheck import compile_problems, scene_files
from tests.tools import missing

GOOD = """/*{ "ISFVSN": "2", "INPUTS": [ {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.5} ] }*/
void main() { gl_FragColor = vec4(heat, 0.0, 0.0, 1.0); }
"""
BAD = """/*{ "ISFVSN": "2", "INPUTS": [ {"NAME": "heat", "TYPE": "float", "DEFAULT": 0.5} ] }*/
void main() {
    gl_FragColor = vec4(heat, undefined_thing, 0.0, 1.0);
}
"""
SHOW = """
[outputs.visuals.stage]
scene = "good.fs"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "visual"
output = "stage"
scene = "{scene}"
"""


@pytest.fixture(autouse=True)
def _needs_gl() -> None:
    try:
        from visuals.gl import create_context

        create_context().release()
    except Exception as exc:
        missing(f"no OpenGL context here: {exc}")


def write_show(folder: Path, scene: str) -> Path:
    (folder / "good.fs").write_text(GOOD)
    (folder / "bad.fs").write_text(BAD)
    show = folder / "show.toml"
    show.write_text(SHOW.format(scene=scene))
    return show


def test_a_shader_that_does_not_compile_fails_check_on_its_line(tmp_path: Path) -> None:
    show = write_show(tmp_path, "bad.fs")
    done = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(show)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"{tmp_path / 'bad.fs'}:3: the shader does not compile" in done.stderr
    assert "undefined_thing" in done.stderr
    assert "Traceback" not in done.stderr


def test_shaders_that_compile_pass_and_built_in_scenes_are_not_recompiled(tmp_path: Path) -> None:
    show = write_show(tmp_path, "good.fs")
    assert scene_files(load_show(show)) == [tmp_path / "good.fs"]
    assert compile_problems(scene_files(load_show(show))) == ([], "")
    done = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(show)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout
