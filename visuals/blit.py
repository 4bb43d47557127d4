"""A tiny shader that copies, crossfades and overlays textures into a framebuffer."""

from __future__ import annotations

import moderngl
import numpy as np

__all__ = ["QUAD", "Blitter"]

# A full-screen quad as a triangle strip: custom vertex shaders see the four corners.
QUAD = np.array([-1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0], dtype="f4")

_VERTEX = """#version 330 core
in vec2 isf_position;
out vec2 uv;
void main() {
    gl_Position = vec4(isf_position, 0.0, 1.0);
    uv = isf_position * 0.5 + 0.5;
}
"""
_FRAGMENT = """#version 330 core
uniform sampler2D src_a;
uniform sampler2D src_b;
uniform sampler2D overlay;
uniform float amount;
uniform bool use_overlay;
in vec2 uv;
out vec4 color;
void main() {
    vec4 c = mix(texture(src_a, uv), texture(src_b, uv), amount);
    if (use_overlay) {
        vec4 o = texture(overlay, uv);
        c.rgb = mix(c.rgb, o.rgb, o.a);
        c.a = max(c.a, o.a);
    }
    color = c;
}
"""


class Blitter:
    """Draws ``mix(a, b, amount)`` with an optional alpha overlay over a full viewport."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self._program = ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        self._vbo = ctx.buffer(QUAD.tobytes())
        self._vao = ctx.vertex_array(self._program, [(self._vbo, "2f", "isf_position")])
        for name, unit in (("src_a", 0), ("src_b", 1), ("overlay", 2)):
            self._program[name].value = unit  # type: ignore[union-attr]

    def draw(
        self,
        dest: moderngl.Framebuffer,
        a: moderngl.Texture,
        b: moderngl.Texture | None = None,
        amount: float = 0.0,
        overlay: moderngl.Texture | None = None,
    ) -> None:
        """Draw into ``dest``: ``a`` crossfaded towards ``b`` by ``amount``, then ``overlay``."""
        dest.use()
        a.use(location=0)
        (b or a).use(location=1)
        (overlay or a).use(location=2)
        self._program["amount"].value = float(amount) if b is not None else 0.0  # type: ignore[union-attr]
        self._program["use_overlay"].value = overlay is not None  # type: ignore[union-attr]
        self._vao.render(moderngl.TRIANGLE_STRIP)

    def release(self) -> None:
        """Free the GL objects."""
        for obj in (self._vao, self._vbo, self._program):
            obj.release()
