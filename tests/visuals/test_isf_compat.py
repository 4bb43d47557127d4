"""Scenes written for other ISF hosts: each of the causes that made public ISF files fail
here, reproduced by a minimal sample of our own; Shadertoy channels; short compile errors."""

from __future__ import annotations

import moderngl
import numpy as np
import pytest

from tests.visuals.test_renderer import render
from visuals.compositor import Compositor
from visuals.errors import IsfError
from visuals.glsl import MAX_ERROR_DETAILS
from visuals.isf import InputType, parse_isf

# GLSL 330 refuses both lines; hosts with a newer GLSL accept them.
NEWER_GLSL = """/*{"INPUTS": [{"NAME": "level", "TYPE": "float", "DEFAULT": 0.5}]}*/
float nearest(float x) {
    if (x > 2.0) return 1.0;
    return 0;
}
void main() {
    uint count = 3;
    gl_FragColor = vec4(count == 3u ? level : 0.0, nearest(0.0), 0.0, 1.0);
}
"""

IMG_IN_COMMENTS = """/*{"INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
void main() {
    // vec4 old = IMG_PIXEL(bufferVariableNameA, gl_FragCoord.xy);
    /* vec4 older = IMG_NORM_PIXEL(noSuchImage,
                                   isf_FragNormCoord); */
    gl_FragColor = IMG_THIS_NORM_PIXEL(inputImage);  // IMG_SIZE(gone)
}
"""

IMG_RECT = """/*{"INPUTS": [{"NAME": "inputImage", "TYPE": "image"}]}*/
void main() {
    gl_FragColor = vec4(_inputImage_imgRect.xy, _inputImage_imgRect.zw) / 255.0;
    if (_inputImage_flip) gl_FragColor = vec4(1.0);
}
"""

CHANNELS = """void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec4 c = texture(iChannel0, fragCoord / iResolution.xy);
    fragColor = vec4(c.r, iChannelResolution[0].x / 255.0, iChannelResolution[0].y / 255.0, 1.0);
}
"""

RED = """/*{}*/
void main() { gl_FragColor = vec4(1.0, 0.0, 0.0, 1.0); }
"""


def test_files_for_a_newer_glsl_compile(ctx: moderngl.Context) -> None:
    out = render(ctx, NEWER_GLSL, size=(4, 4))
    assert out[0, 0].tolist() == [128, 0, 0, 255]


def test_a_file_broken_in_every_version_reports_the_first_error(ctx: moderngl.Context) -> None:
    with pytest.raises(IsfError) as info:
        render(ctx, NEWER_GLSL.replace("return 0;", "return nope;"), size=(4, 4))
    assert info.value.line == 4
    assert "nope" in str(info.value)


def test_img_calls_in_comments_are_left_alone(ctx: moderngl.Context) -> None:
    image = np.zeros((4, 4, 4), np.uint8)
    image[..., 1] = 200
    image[..., 3] = 255
    out = render(ctx, IMG_IN_COMMENTS, size=(4, 4), inputImage=image)
    assert out[0, 0].tolist() == [0, 200, 0, 255]


def test_img_rect_and_flip_are_provided(ctx: moderngl.Context) -> None:
    image = np.full((5, 7, 4), 255, np.uint8)  # 7 wide, 5 high
    out = render(ctx, IMG_RECT, size=(4, 4), inputImage=image)
    assert out[0, 0].tolist() == [0, 0, 7, 5]


def test_shadertoy_channels_are_image_inputs(ctx: moderngl.Context) -> None:
    doc = parse_isf(CHANNELS)
    channel = doc.input("iChannel0")
    assert channel is not None and channel.type is InputType.IMAGE
    assert doc.input("iChannel1") is None  # only the channels the scene uses
    image = np.zeros((6, 9, 4), np.uint8)
    image[..., 0] = 255
    image[..., 3] = 255
    out = render(ctx, doc, size=(4, 4), iChannel0=image)
    assert out[0, 0].tolist() == [255, 9, 6, 255]
    blank = render(ctx, doc, size=(4, 4))
    assert blank[0, 0, 0] == 0


def test_shadertoy_channel_shows_another_scene(ctx: moderngl.Context) -> None:
    compositor = Compositor(ctx)
    try:
        compositor.load_scene(CHANNELS, name="channels")
        compositor.set_input("iChannel0", "scene:" + RED)
        compositor.render(0.0, (8, 4))
        red = compositor.read()
        assert red[0, 0, 0] == 255 and red[0, 0, 1] == 8 and red[0, 0, 2] == 4
        compositor.set_input("iChannel0", None)  # unbound again: blank
        compositor.render(0.1, (8, 4))
        assert compositor.read()[0, 0, 0] == 0
        compositor.set_input("iChannel0", "scene:no_such_scene")  # refused, logged
        compositor.render(0.2, (8, 4))
    finally:
        compositor.release()


def test_compile_errors_are_trimmed_to_the_lines_that_matter(ctx: moderngl.Context) -> None:
    source = """/*{}*/
void main() {
    vec4 a = texture(1.0, 2.0, 3);
    gl_FragColor = vec4(nope) + a + alsoNope + thirdNope + IMG_SIZE_X;
}
"""
    with pytest.raises(IsfError) as info:
        render(ctx, source, size=(4, 4))
    message = str(info.value)
    assert info.value.line == 3
    assert "no matching function for call to `texture(float, float, int)'" in message
    assert "overloads, none takes these arguments" in message
    assert "sampler1D" not in message  # the candidate list is gone
    assert message.count("line ") <= MAX_ERROR_DETAILS + 1
    assert len(message) < 1200
