"""Translate a parsed ISF document to GLSL (330 core, or newer), and map compiler errors back.

The translation keeps the designer's lines where they were: the JSON header is
blanked (see :mod:`visuals.isf`), a prelude of ``prelude_lines`` lines is put in
front, and every rewrite (``gl_FragColor``, ``texture2D``, ``IMG_*`` calls) keeps
the newlines of the text it replaces. Line ``L`` of a compiler message is therefore
line ``L - prelude_lines`` of the designer's file.

``IMG_*`` calls inside comments are left alone. Every image gets the built-ins other
ISF hosts provide: ``_NAME_imgSize`` (pixels), ``_NAME_imgRect`` (``0, 0, width,
height``) and ``_NAME_flip`` (always false: images are uploaded upright). A Shadertoy
scene (one with ``mainImage``) also gets ``iChannel0`` … ``iChannel3`` and
``iChannelResolution[4]``: image inputs of those names (the parser adds the ones a
scene uses without declaring them), which take an image or ``scene:NAME``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from visuals.errors import IsfError
from visuals.isf import IMAGE_TYPES, InputType, IsfDocument

__all__ = [
    "BUILTIN_UNIFORMS",
    "DEFAULT_GLSL_VERSION",
    "MAX_ERROR_DETAILS",
    "SHADERTOY_CHANNELS",
    "TranslatedShader",
    "image_rect_uniform",
    "image_size_uniform",
    "map_compile_error",
    "translate",
]

BUILTIN_UNIFORMS = ("TIME", "TIMEDELTA", "RENDERSIZE", "PASSINDEX", "FRAMEINDEX", "DATE")
#: The GLSL version tried first; newer ones (as far as the context goes) when it fails.
DEFAULT_GLSL_VERSION = 330
#: Compiler messages kept in an error (the rest are counted).
MAX_ERROR_DETAILS = 6
_MAX_DETAIL_CHARS = 240
#: Shadertoy's image channels.
SHADERTOY_CHANNELS = ("iChannel0", "iChannel1", "iChannel2", "iChannel3")

_UNIFORM_TYPES = {
    InputType.FLOAT: "float",
    InputType.BOOL: "bool",
    InputType.EVENT: "bool",
    InputType.LONG: "int",
    InputType.COLOR: "vec4",
    InputType.POINT2D: "vec2",
}

_IMG_CALL = re.compile(
    r"\b(IMG_PIXEL|IMG_NORM_PIXEL|IMG_THIS_PIXEL|IMG_THIS_NORM_PIXEL|IMG_NORM_THIS_PIXEL|IMG_SIZE)"
    r"\s*\("
)
_ARITY = {
    "IMG_PIXEL": 2,
    "IMG_NORM_PIXEL": 2,
    "IMG_THIS_PIXEL": 1,
    "IMG_THIS_NORM_PIXEL": 1,
    "IMG_NORM_THIS_PIXEL": 1,
    "IMG_SIZE": 1,
}
_COMMENT = re.compile(r"//[^\n]*|/\*.*?(?:\*/|$)", re.S)
# Compiler log formats: Mesa "0:12(5): error", NVIDIA "0(12) : error", AMD/Apple "ERROR: 0:12:".
_LOG_LINE = re.compile(r"^\s*(?:ERROR:\s*)?\d+(?::(?P<a>\d+)\(\d+\)|\((?P<b>\d+)\)|:(?P<c>\d+):)")


@dataclass(frozen=True)
class TranslatedShader:
    """GLSL sources ready for ``ctx.program`` plus what is needed to map errors back."""

    vertex: str
    fragment: str
    vertex_prelude_lines: int
    fragment_prelude_lines: int


def image_size_uniform(name: str) -> str:
    """Name of the ``vec2`` uniform that holds the pixel size of image ``name``."""
    return f"_{name}_imgSize"


def image_rect_uniform(name: str) -> str:
    """Name of the ``vec4`` uniform ``(x, y, width, height)`` of image ``name`` in pixels."""
    return f"_{name}_imgRect"


def translate(doc: IsfDocument, glsl_version: int = DEFAULT_GLSL_VERSION) -> TranslatedShader:
    """Produce GLSL vertex and fragment shaders (``#version glsl_version core``) for ``doc``.

    Raises:
        IsfError: an ``IMG_*`` call names an unknown image or has the wrong arguments.
    """
    images = set(doc.image_names)
    uniforms = _uniform_block(doc)
    version = f"#version {glsl_version} core"

    frag_body, frag_ext = _hoist_directives(doc.body)
    frag_body = _rewrite_common(frag_body, images, doc.filename, stage="fragment")
    frag_body = re.sub(r"\bvarying\b", "in", frag_body)
    shadertoy = doc.is_shadertoy
    frag_prelude = [version, *frag_ext, *uniforms]
    if shadertoy:
        frag_prelude += [
            "uniform vec3 iChannelResolution[4];",
            "uniform vec4 iMouse;",
            "#define iTime TIME",
            "#define iTimeDelta TIMEDELTA",
            "#define iFrame FRAMEINDEX",
            "#define iDate DATE",
            "#define iResolution vec3(RENDERSIZE, 1.0)",
        ]
    frag_prelude += [
        "in vec2 isf_FragNormCoord;",
        "#define vv_FragNormCoord isf_FragNormCoord",
        "out vec4 isf_FragColor;",
    ]
    fragment = "\n".join(frag_prelude) + "\n" + frag_body
    if shadertoy:
        fragment += (
            "\nvoid main() {\n    vec4 isf_color = vec4(0.0, 0.0, 0.0, 1.0);\n"
            "    mainImage(isf_color, gl_FragCoord.xy);\n    isf_FragColor = isf_color;\n}\n"
        )

    vert_source = (
        doc.vertex_body
        if doc.vertex_body is not None
        else "void main() {\n    isf_vertShaderInit();\n}\n"
    )
    vert_body, vert_ext = _hoist_directives(vert_source)
    vert_body = _rewrite_common(
        vert_body, images, doc.vertex_filename or doc.filename, stage="vertex"
    )
    vert_body = re.sub(r"\bvarying\b", "out", vert_body)
    vert_body = re.sub(r"\battribute\b", "in", vert_body)
    vert_prelude = [
        version,
        *vert_ext,
        *uniforms,
        "in vec2 isf_position;",
        "out vec2 isf_FragNormCoord;",
        "#define vv_FragNormCoord isf_FragNormCoord",
        "void isf_vertShaderInit() {",
        "    gl_Position = vec4(isf_position, 0.0, 1.0);",
        "    isf_FragNormCoord = isf_position * 0.5 + 0.5;",
        "}",
        "#define vv_vertShaderInit isf_vertShaderInit",
    ]
    vertex = "\n".join(vert_prelude) + "\n" + vert_body
    return TranslatedShader(
        vertex=vertex,
        fragment=fragment,
        vertex_prelude_lines=len(vert_prelude),
        fragment_prelude_lines=len(frag_prelude),
    )


def _uniform_block(doc: IsfDocument) -> list[str]:
    lines = [
        "uniform float TIME;",
        "uniform float TIMEDELTA;",
        "uniform vec2 RENDERSIZE;",
        "uniform int PASSINDEX;",
        "uniform int FRAMEINDEX;",
        "uniform vec4 DATE;",
    ]
    for item in doc.inputs:
        if item.type in IMAGE_TYPES:
            continue
        lines.append(f"uniform {_UNIFORM_TYPES[item.type]} {item.name};")
    for name in doc.image_names:
        lines.append(f"uniform sampler2D {name};")
        lines.append(f"uniform vec2 {image_size_uniform(name)};")
        lines.append(f"uniform vec4 {image_rect_uniform(name)};")
        lines.append(f"uniform bool _{name}_flip;")
    return lines


def _hoist_directives(source: str) -> tuple[str, list[str]]:
    """Blank ``#version`` lines and move ``#extension`` lines to the prelude."""
    extensions: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.group(1) == "extension":
            extensions.append(match.group(0).strip())
        return ""

    body = re.sub(r"^[ \t]*#[ \t]*(version|extension)\b[^\n]*", repl, source, flags=re.M)
    return body, extensions


def _rewrite_common(source: str, images: set[str], filename: str, *, stage: str) -> str:
    source = re.sub(r"\bgl_FragColor\b", "isf_FragColor", source)
    source = re.sub(r"\btexture2DRect\s*\(", "texture(", source)
    source = re.sub(r"\btexture2DLod\s*\(", "textureLod(", source)
    source = re.sub(r"\btexture2D\s*\(", "texture(", source)
    return _rewrite_img_calls(source, images, filename, stage)


def _comment_spans(source: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the ``//`` and ``/* */`` comments of ``source``."""
    starts: list[int] = []
    ends: list[int] = []
    for m in _COMMENT.finditer(source):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


def _in_comment(spans: tuple[list[int], list[int]], pos: int) -> bool:
    i = bisect.bisect_right(spans[0], pos) - 1
    return i >= 0 and pos < spans[1][i]


def _rewrite_img_calls(source: str, images: set[str], filename: str, stage: str) -> str:
    out: list[str] = []
    pos = 0
    comments = _comment_spans(source)
    while (match := _IMG_CALL.search(source, pos)) is not None:
        if _in_comment(comments, match.start()):  # commented-out code stays as written
            out.append(source[pos : match.end()])
            pos = match.end()
            continue
        out.append(source[pos : match.start()])
        func = match.group(1)
        line = source.count("\n", 0, match.start()) + 1
        args, end = _split_call(source, match.end(), filename, line)
        args = [_rewrite_img_calls(a, images, filename, stage) for a in args]
        if len(args) != _ARITY[func]:
            raise IsfError(f"{func} takes {_ARITY[func]} argument(s)", filename=filename, line=line)
        raw_name = args[0].strip()
        if raw_name not in images:
            raise IsfError(
                f"{func}: {raw_name!r} is not an image input, imported image or pass target",
                filename=filename,
                line=line,
            )
        # Keep the newlines the original call spanned so later lines do not shift.
        name_nl = "\n" * args[0].count("\n")
        size = image_size_uniform(raw_name)
        if func == "IMG_SIZE":
            text = f"{size}{name_nl}"
        elif func == "IMG_NORM_PIXEL":
            text = f"texture({raw_name},{name_nl}({args[1]}))"
        elif func == "IMG_PIXEL":
            text = f"texture({raw_name},{name_nl}({args[1]}) / {size})"
        elif func == "IMG_THIS_PIXEL":
            text = f"texture({raw_name},{name_nl}gl_FragCoord.xy / {size})"
        else:
            text = f"texture({raw_name},{name_nl}isf_FragNormCoord)"
        out.append(text)
        pos = end
    out.append(source[pos:])
    return "".join(out)


def _split_call(source: str, start: int, filename: str, line: int) -> tuple[list[str], int]:
    """Split the arguments of a call whose ``(`` ends just before ``start``."""
    depth = 0
    args: list[str] = []
    current = start
    for i in range(start, len(source)):
        ch = source[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                args.append(source[current:i])
                return args, i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(source[current:i])
            current = i + 1
    raise IsfError("unbalanced parentheses in image call", filename=filename, line=line)


def map_compile_error(doc: IsfDocument, shader: TranslatedShader, message: str) -> IsfError:
    """Turn a moderngl compile/link error into an :class:`IsfError` on the designer's lines."""
    stage = (
        "vertex" if "vertex_shader" in message and "fragment_shader" not in message else "fragment"
    )
    if stage == "vertex":
        prelude = shader.vertex_prelude_lines
        filename = doc.vertex_filename or doc.filename
    else:
        prelude = shader.fragment_prelude_lines
        filename = doc.filename
    first_line: int | None = None
    details: list[str] = []
    candidates = 0
    for raw in message.splitlines():
        match = _LOG_LINE.match(raw)
        if match is None:
            continue
        shader_line = int(match.group("a") or match.group("b") or match.group("c"))
        file_line = shader_line - prelude
        rest = raw[match.end() :].lstrip(" :")
        if re.match(r"error:\s{2,}\S", rest) and details:
            candidates += 1  # Mesa lists every overload of a function on its own line
            continue
        details = _close_candidates(details, candidates)
        candidates = 0
        if len(rest) > _MAX_DETAIL_CHARS:
            rest = rest[: _MAX_DETAIL_CHARS - 3] + "..."
        if file_line >= 1:
            details.append(f"line {file_line}: {rest}")
            if first_line is None and "error" in raw.lower():
                first_line = file_line
        else:
            details.append(f"(generated prelude): {rest}")
    details = _close_candidates(details, candidates)
    if not details:
        details = [line.strip() for line in message.splitlines() if line.strip()][-3:]
    if len(details) > MAX_ERROR_DETAILS:
        more = len(details) - MAX_ERROR_DETAILS
        details = [*details[:MAX_ERROR_DETAILS], f"and {more} more"]
    return IsfError(
        f"{stage} shader failed to compile: " + "; ".join(details),
        filename=filename,
        line=first_line,
    )


def _close_candidates(details: list[str], candidates: int) -> list[str]:
    """End the last detail with how many overloads the compiler listed after it."""
    if candidates and details:
        last = details[-1].removesuffix(" candidates are:").rstrip(";")
        details[-1] = f"{last} ({candidates} overloads, none takes these arguments)"
    return details
