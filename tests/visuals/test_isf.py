"""Parsing ISF headers and translating to GLSL (no GL needed except where noted)."""

from __future__ import annotations

import logging
from pathlib import Path

import moderngl
import pytest

from visuals.errors import IsfError, VisualsError
from visuals.glsl import translate
from visuals.isf import InputType, load_isf, parse_isf
from visuals.renderer import SceneRenderer

HEADER = (
    '/*{\n  "ISFVSN": "2.0",\n'
    '  "INPUTS": [{"NAME": "level", "TYPE": "float", "DEFAULT": 0.5}]\n}*/\n'
)


def test_error_root() -> None:
    assert issubclass(IsfError, VisualsError)


def test_parses_inputs_and_passes(samples: Path) -> None:
    doc = load_isf(samples / "blur_multipass.fs")
    assert [i.name for i in doc.inputs] == ["inputImage", "radius"]
    assert doc.inputs[0].type is InputType.IMAGE
    assert doc.inputs[1].default == 1.0 and doc.inputs[1].maximum == 4.0
    assert doc.passes[0].target == "smallBuffer"
    assert doc.passes[0].width == "floor($WIDTH/3.0)"
    assert doc.passes[1].target is None
    assert doc.image_names == ("inputImage", "smallBuffer")
    assert doc.version == 2


def test_whitespace_before_header_bool_as_number_trailing_comma(
    samples: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        doc = load_isf(samples / "whitespace_bool.fs")
    assert "trailing commas" in caplog.text
    invert = doc.input("invert")
    assert invert is not None and invert.default is True
    tint = doc.input("tint")
    assert tint is not None and tint.default == (1.0, 0.5, 0.0, 1.0)
    mode = doc.input("mode")
    assert mode is not None and mode.values == (0, 1, 2) and mode.labels[2] == "Blue"
    assert doc.header_line == 3
    # The header is blanked but lines are kept, so body line numbers equal file lines.
    assert doc.body.splitlines()[14].startswith("void main()")


def test_version1_persistent_buffers(samples: Path) -> None:
    doc = load_isf(samples / "v1_persistent.fs")
    assert doc.version == 1
    assert doc.passes[0].target == "lastFrame" and doc.passes[0].persistent


def test_version1_imported_list_and_v2_dict(tmp_path: Path) -> None:
    v1 = parse_isf(
        '/*{"IMPORTED": [{"NAME": "logo", "PATH": "logo.png"}]}*/\nvoid main(){}', base_dir=tmp_path
    )
    v2 = parse_isf(
        '/*{"IMPORTED": {"logo": {"PATH": "logo.png"}}}*/\nvoid main(){}', base_dir=tmp_path
    )
    assert v1.imported[0].path == v2.imported[0].path == tmp_path / "logo.png"


def test_transition_detected(samples: Path) -> None:
    assert load_isf(samples / "wipe_transition.fs").is_transition
    assert not load_isf(samples / "blur_multipass.fs").is_transition


def test_no_header_is_plain_glsl(samples: Path) -> None:
    doc = load_isf(samples / "shadertoy.fs")
    assert doc.inputs == () and doc.is_shadertoy


def test_json_error_reports_file_line() -> None:
    text = (
        '\n\n/*{\n  "ISFVSN": "2.0",\n  "INPUTS": [\n'
        '    {"NAME": "a" "TYPE": "float"}\n  ]\n}*/\nvoid main(){}'
    )
    with pytest.raises(IsfError) as info:
        parse_isf(text, filename="broken.fs")
    assert info.value.line == 6
    assert info.value.filename == "broken.fs"
    assert str(info.value).startswith("broken.fs:6:")


@pytest.mark.parametrize(
    ("header", "line"),
    [
        ('/*{\n"INPUTS": [\n{"NAME": "x", "TYPE": "vec9"}\n]\n}*/', 3),
        ('/*{\n"INPUTS": [\n{"NAME": "a b", "TYPE": "float"}\n]\n}*/', 3),
        ('/*{\n"INPUTS": [{"NAME": "a", "TYPE": "float"},\n{"NAME": "a", "TYPE": "bool"}]\n}*/', 2),
        ('/*{\n"INPUTS": [\n{"NAME": "c", "TYPE": "color", "DEFAULT": [1]}\n]\n}*/', 3),
    ],
)
def test_invalid_inputs_have_lines(header: str, line: int) -> None:
    with pytest.raises(IsfError) as info:
        parse_isf(header + "\nvoid main(){}")
    assert info.value.line == line


def test_translation_rewrites_names(samples: Path) -> None:
    shader = translate(load_isf(samples / "blur_multipass.fs"))
    frag = shader.fragment
    assert frag.startswith("#version 330 core")
    assert "uniform sampler2D inputImage;" in frag and "uniform float radius;" in frag
    for builtin in ("TIME", "TIMEDELTA", "RENDERSIZE", "PASSINDEX", "FRAMEINDEX", "DATE"):
        assert f" {builtin};" in frag
    assert "gl_FragColor" not in frag and "IMG_" not in frag.split("out vec4 isf_FragColor;")[1]
    # Line N of the designer's file is line N + prelude of the generated shader.
    src_lines = (samples / "blur_multipass.fs").read_text().splitlines()
    gen_lines = frag.splitlines()
    p = shader.fragment_prelude_lines
    assert src_lines[16].strip() == "if (PASSINDEX == 0) {" == gen_lines[p + 16].strip()


def test_unknown_image_in_img_call_has_line() -> None:
    text = HEADER + "void main() {\n    gl_FragColor = IMG_NORM_PIXEL(nothing, vec2(0.5));\n}\n"
    with pytest.raises(IsfError) as info:
        translate(parse_isf(text, filename="x.fs"))
    assert info.value.line == 6


def test_compile_error_maps_to_designer_line(ctx: moderngl.Context) -> None:
    text = (
        HEADER
        + "\n// comment\nvoid main() {\n    vec4 c = vec4(level);\n"
        + "    gl_FragColor = c + undefinedThing;\n}\n"
    )
    with pytest.raises(IsfError) as info:
        SceneRenderer(ctx, parse_isf(text, filename="scene.fs"))
    assert info.value.filename == "scene.fs"
    assert info.value.line == 9
    assert "undefinedThing" in str(info.value)
    assert "line 9" in str(info.value)


def test_vertex_compile_error_names_vs_file(ctx: moderngl.Context) -> None:
    doc = parse_isf(
        HEADER + "void main() { gl_FragColor = vec4(1.0); }\n",
        filename="a.fs",
        vertex_source="void main() {\n    isf_vertShaderInit()\n}\n",
        vertex_filename="a.vs",
    )
    with pytest.raises(IsfError) as info:
        SceneRenderer(ctx, doc)
    assert info.value.filename == "a.vs"
    assert info.value.line in (2, 3)  # drivers report the missing ';' on either line
