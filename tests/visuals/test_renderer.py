"""SceneRenderer: inputs, passes, persistent and float buffers, images, built-ins."""

from __future__ import annotations

from pathlib import Path

import moderngl
import numpy as np
import numpy.typing as npt
import pytest

from visuals.errors import InputError, IsfError
from visuals.images import save_png
from visuals.isf import load_isf, parse_isf
from visuals.renderer import SceneRenderer

SOLID = """/*{"INPUTS": [
  {"NAME": "level", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1},
  {"NAME": "ignored", "TYPE": "float", "DEFAULT": 0.1},
  {"NAME": "tint", "TYPE": "color", "DEFAULT": [1, 0, 0, 1]}
]}*/
void main() { gl_FragColor = vec4(level, tint.g, isf_FragNormCoord.x, 1.0); }
"""


def render(
    ctx: moderngl.Context,
    doc_or_src: object,
    *times: float,
    size: tuple[int, int] = (32, 16),
    **inputs: object,
) -> npt.NDArray[np.uint8]:
    doc = parse_isf(doc_or_src) if isinstance(doc_or_src, str) else doc_or_src
    renderer = SceneRenderer(ctx, doc)  # type: ignore[arg-type]
    try:
        renderer.set_inputs(inputs, strict=True)
        for t in times or (0.0,):
            renderer.render(t, size)
        return renderer.read()
    finally:
        renderer.release()


def test_solid_colour_and_inputs(ctx: moderngl.Context) -> None:
    img = render(ctx, SOLID)
    assert img.shape == (16, 32, 4)
    assert abs(int(img[8, 0, 0]) - 128) <= 1  # level default 0.5
    assert img[8, 0, 1] == 0
    img = render(ctx, SOLID, level=0.25, tint="0,1,0")
    assert abs(int(img[8, 0, 0]) - 64) <= 1
    assert img[8, 0, 1] == 255
    # isf_FragNormCoord.x grows left to right.
    assert img[8, 0, 2] < 10 and img[8, 31, 2] > 245


def test_input_clamped_and_validated(ctx: moderngl.Context) -> None:
    renderer = SceneRenderer(ctx, parse_isf(SOLID))
    try:
        renderer.set_input("level", 7.0)
        assert renderer.input_values["level"] == 1.0
        with pytest.raises(InputError):
            renderer.set_input("nope", 1.0)
        with pytest.raises(InputError):
            renderer.set_input("level", "hot")
        with pytest.raises(InputError):
            renderer.set_input("tint", [1, 2])
        renderer.set_input("ignored", 3.0)  # optimised away by the compiler: no error
        renderer.render(0.0, (4, 4))
    finally:
        renderer.release()


def test_broken_shader_fails(ctx: moderngl.Context) -> None:
    with pytest.raises(IsfError):
        render(ctx, SOLID.replace("tint.g", "tintt.g"))


def test_multipass_size_expression(ctx: moderngl.Context, samples: Path) -> None:
    image = np.zeros((48, 96, 4), dtype=np.uint8)
    image[..., 0] = 200
    image[..., 3] = 255
    out = render(ctx, load_isf(samples / "blur_multipass.fs"), size=(96, 48), inputImage=image)
    # Green/blue report IMG_SIZE(smallBuffer) = floor(96/3), floor(48/3).
    assert out[10, 10, 1] == 32 and out[10, 10, 2] == 16
    assert abs(int(out[10, 10, 0]) - 200) <= 2


def test_persistent_float_buffer_accumulates(ctx: moderngl.Context, samples: Path) -> None:
    doc = load_isf(samples / "feedback_persistent.fs")
    # value_n = value_{n-1} * 0.5 + 1 -> 1, 1.5, 1.75, 1.875 (above 1.0: needs a float target)
    out = render(ctx, doc, 0.0, 0.1, 0.2, 0.35)
    assert abs(int(out[0, 0, 0]) - round(1.875 / 4 * 255)) <= 1
    assert out[0, 0, 1] == 3  # FRAMEINDEX of the last frame
    assert abs(int(out[0, 0, 2]) - round(0.15 * 255)) <= 1  # TIMEDELTA from caller times


def test_v1_persistent_buffer_and_vv_names(ctx: moderngl.Context, samples: Path) -> None:
    doc = load_isf(samples / "v1_persistent.fs")
    one = render(ctx, doc, 0.0)
    three = render(ctx, doc, 0.0, 1.0, 2.0)
    assert abs(int(one[0, 0, 0]) - 64) <= 1
    assert abs(int(three[0, 0, 0]) - 191) <= 2
    assert three[-1, -1, 1] > 240 and three[0, -1, 2] > 240  # vv_FragNormCoord: (1,1) top right


def test_image_orientation_row0_is_top(ctx: moderngl.Context, tmp_path: Path) -> None:
    src = (
        '/*{"INPUTS": [{"NAME": "img", "TYPE": "image"}]}*/\n'
        "void main() { gl_FragColor = IMG_THIS_PIXEL(img); }"
    )
    image = np.zeros((8, 8, 4), dtype=np.uint8)
    image[:4, :, 0] = 255  # top half red
    image[..., 3] = 255
    out = render(ctx, src, size=(8, 8), img=image)
    assert out[0, 0, 0] == 255 and out[7, 0, 0] == 0
    save_png(image, tmp_path / "img.png")
    out = render(ctx, src, size=(8, 8), img=str(tmp_path / "img.png"))
    assert out[0, 0, 0] == 255 and out[7, 0, 0] == 0


def test_imported_image(ctx: moderngl.Context, tmp_path: Path) -> None:
    image = np.zeros((4, 4, 4), dtype=np.uint8)
    image[..., 1] = 255
    image[..., 3] = 255
    save_png(image, tmp_path / "logo.png")
    (tmp_path / "s.fs").write_text(
        '/*{"IMPORTED": {"logo": {"PATH": "logo.png"}}}*/\n'
        "void main() { gl_FragColor = IMG_NORM_PIXEL(logo, isf_FragNormCoord); }\n"
    )
    out = render(ctx, load_isf(tmp_path / "s.fs"))
    assert tuple(out[0, 0]) == (0, 255, 0, 255)
    (tmp_path / "logo.png").unlink()
    with pytest.raises(IsfError):
        render(ctx, load_isf(tmp_path / "s.fs"))


def test_whitespace_bool_long_event_point(ctx: moderngl.Context, samples: Path) -> None:
    doc = load_isf(samples / "whitespace_bool.fs")
    out = render(ctx, doc)  # invert defaults to true (given as 1): 1 - (1, .5, 0)
    assert np.abs(out[0, 0, :3].astype(int) - (0, 128, 255)).max() <= 1  # bool given as 1
    assert abs(int(out[0, 0, 3]) - 64) <= 1  # center.x = 0.25 in alpha
    out = render(ctx, doc, invert=False, mode="Blue")
    assert tuple(out[0, 0, :3]) == (0, 0, 255)
    renderer = SceneRenderer(ctx, doc)
    try:
        renderer.set_input("flash", True)
        renderer.render(0.0, (4, 4))
        assert tuple(renderer.read()[0, 0, :3]) == (255, 255, 255)
        renderer.render(0.1, (4, 4))  # an event lasts one frame
        assert tuple(renderer.read()[0, 0, :3]) != (255, 255, 255)
    finally:
        renderer.release()


def test_shadertoy_main_image(ctx: moderngl.Context, samples: Path) -> None:
    out = render(ctx, load_isf(samples / "shadertoy.fs"), 0.0, 0.25, size=(16, 8))
    assert abs(int(out[0, 0, 1]) - 64) <= 1  # fract(iTime)
    assert out[0, 0, 2] == 1  # iFrame of the second frame
    assert out[0, 15, 0] > out[0, 0, 0]


def test_vertex_shader_companion(ctx: moderngl.Context, samples: Path) -> None:
    doc = load_isf(samples / "vertex_custom.fs")
    assert doc.vertex_body is not None
    out = render(ctx, doc, size=(16, 4))
    assert 120 <= out[0, 15, 0] <= 130  # x * shift at the right edge


def test_time_from_caller_only(ctx: moderngl.Context) -> None:
    src = (
        "/*{}*/\nvoid main() {\n"
        "    gl_FragColor = vec4(TIME / 10.0, TIMEDELTA, float(FRAMEINDEX) / 255.0, 1.0);\n}"
    )
    out = render(ctx, src, 2.0, 5.0, 5.5)
    assert tuple(out[0, 0, :3]) == (140, 128, 2)
