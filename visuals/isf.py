"""Parse ISF 2.0 (and 1.0) shader files into frozen descriptions.

An ISF file is a GLSL fragment shader whose first comment holds a JSON header::

    /*{
        "ISFVSN": "2.0",
        "INPUTS": [{"NAME": "heat", "TYPE": "float", "DEFAULT": 0.5, "MIN": 0, "MAX": 1}],
        "PASSES": [{"TARGET": "blurred", "WIDTH": "floor($WIDTH/3.0)"}, {}]
    }*/

This module is pure: it reads text (and, in :func:`load_isf`, the file and its
optional ``.vs`` companion) and returns an :class:`IsfDocument`. Translation to
GLSL lives in :mod:`visuals.glsl`, GL work in :mod:`visuals.renderer`.

Tolerated beyond strict JSON: whitespace before the header, trailing commas,
booleans given as numbers or strings, version-1 names (``PERSISTENT_BUFFERS``,
``IMPORTED`` as a list, ``vv_FragNormCoord``). A file with no JSON header is
accepted as plain GLSL or a Shadertoy ``mainImage`` shader with no inputs.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visuals.errors import IsfError

__all__ = [
    "IMAGE_TYPES",
    "InputType",
    "IsfDocument",
    "IsfImported",
    "IsfInput",
    "IsfPass",
    "load_isf",
    "parse_isf",
]

logger = logging.getLogger(__name__)

_IDENT = re.compile(r"^[A-Za-z_]\w*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


class InputType(enum.Enum):
    """The ISF input types."""

    FLOAT = "float"
    BOOL = "bool"
    LONG = "long"
    COLOR = "color"
    POINT2D = "point2D"
    EVENT = "event"
    IMAGE = "image"
    AUDIO = "audio"
    AUDIO_FFT = "audioFFT"


IMAGE_TYPES = frozenset({InputType.IMAGE, InputType.AUDIO, InputType.AUDIO_FFT})
_TYPES_BY_LOWER = {t.value.lower(): t for t in InputType}


@dataclass(frozen=True)
class IsfInput:
    """One entry of ``INPUTS``.

    ``default``, ``minimum``, ``maximum`` and ``identity`` are already converted to
    the Python shape of the type: float, bool, int, ``tuple`` of 4 floats (color) or
    2 floats (point2D); ``None`` where the file gives none.
    """

    name: str
    type: InputType
    default: Any = None
    minimum: Any = None
    maximum: Any = None
    identity: Any = None
    values: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    label: str = ""
    line: int | None = None


@dataclass(frozen=True)
class IsfPass:
    """One entry of ``PASSES``; ``width``/``height`` are expressions or ``None`` (full size)."""

    target: str | None = None
    persistent: bool = False
    is_float: bool = False
    width: str | float | None = None
    height: str | float | None = None


@dataclass(frozen=True)
class IsfImported:
    """An image named in ``IMPORTED``, with its path resolved against the shader's folder."""

    name: str
    path: Path


@dataclass(frozen=True)
class IsfDocument:
    """A parsed ISF file.

    Attributes:
        filename: where the source came from (used in error messages).
        body: the fragment source with the header blanked out, so that line N of
            ``body`` is line N of the designer's file.
        vertex_body: the companion ``.vs`` source, or ``None`` for the default.
        vertex_filename: where ``vertex_body`` came from.
        metadata: the remaining header keys (DESCRIPTION, CREDIT, CATEGORIES, ...).
        version: 1 or 2 (from ``ISFVSN``; files without it are treated as 1 when they use
            version-1 names, otherwise 2).
        header_line: the file line where the JSON header starts (``None`` if absent).
    """

    filename: str
    body: str
    inputs: tuple[IsfInput, ...] = ()
    passes: tuple[IsfPass, ...] = (IsfPass(),)
    imported: tuple[IsfImported, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 2
    vertex_body: str | None = None
    vertex_filename: str | None = None
    header_line: int | None = None

    @property
    def description(self) -> str:
        """The header's DESCRIPTION, or an empty string."""
        return str(self.metadata.get("DESCRIPTION", ""))

    @property
    def is_transition(self) -> bool:
        """True for ISF transitions (image inputs startImage/endImage, float progress)."""
        names = {i.name: i.type for i in self.inputs}
        return (
            names.get("startImage") in IMAGE_TYPES
            and names.get("endImage") in IMAGE_TYPES
            and names.get("progress") is InputType.FLOAT
        )

    @property
    def is_shadertoy(self) -> bool:
        """True when the body defines ``mainImage`` and no ``main``."""
        return bool(re.search(r"\bvoid\s+mainImage\s*\(", self.body)) and not re.search(
            r"\bvoid\s+main\s*\(", self.body
        )

    def input(self, name: str) -> IsfInput | None:
        """The input called ``name``, or ``None``."""
        for item in self.inputs:
            if item.name == name:
                return item
        return None

    @property
    def image_names(self) -> tuple[str, ...]:
        """Every sampler the shader can read: image inputs, imported images, pass targets."""
        names = [i.name for i in self.inputs if i.type in IMAGE_TYPES]
        names += [i.name for i in self.imported]
        for p in self.passes:
            if p.target and p.target not in names:
                names.append(p.target)
        return tuple(names)


def load_isf(path: str | Path) -> IsfDocument:
    """Read and parse an ISF file, plus a ``.vs`` file of the same stem if present.

    Raises:
        IsfError: the file cannot be read or parsed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise IsfError(f"cannot read shader: {err}", filename=str(path)) from err
    vs_path = path.with_suffix(".vs")
    vertex: str | None = None
    if vs_path.is_file():
        try:
            vertex = vs_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise IsfError(f"cannot read vertex shader: {err}", filename=str(vs_path)) from err
    return parse_isf(
        text,
        filename=str(path),
        vertex_source=vertex,
        vertex_filename=str(vs_path) if vertex is not None else None,
        base_dir=path.parent,
    )


def parse_isf(
    text: str,
    *,
    filename: str = "<string>",
    vertex_source: str | None = None,
    vertex_filename: str | None = None,
    base_dir: Path | None = None,
) -> IsfDocument:
    """Parse ISF source text.

    Args:
        text: the whole fragment file, header included.
        filename: used in error messages.
        vertex_source: optional companion vertex shader source.
        vertex_filename: used in vertex-shader error messages.
        base_dir: folder against which ``IMPORTED`` paths are resolved.

    Returns:
        The parsed document.

    Raises:
        IsfError: malformed header JSON (with the file line of the JSON error) or an
            invalid INPUTS / PASSES / IMPORTED entry.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header, header_start, header_end = _find_header(text)
    if header is None:
        return _with_shadertoy_channels(
            IsfDocument(
                filename=filename,
                body=text,
                vertex_body=vertex_source,
                vertex_filename=vertex_filename,
            )
        )
    header_line = text.count("\n", 0, header_start) + 1
    blanked = re.sub(r"[^\n]", " ", text[header_start:header_end])
    body = text[:header_start] + blanked + text[header_end:]
    ctx = _HeaderContext(filename, header, header_line)
    data = ctx.load_json()
    if not isinstance(data, dict):
        raise IsfError("the ISF header must be a JSON object", filename=filename, line=header_line)

    version = _version(data, body)
    inputs = ctx.inputs(data.get("INPUTS", []))
    passes = ctx.passes(data.get("PASSES", []), data.get("PERSISTENT_BUFFERS"))
    imported = ctx.imported(data.get("IMPORTED", {}), base_dir or Path("."))
    _check_names(ctx, inputs, passes, imported)
    metadata = {
        k: v
        for k, v in data.items()
        if k not in {"INPUTS", "PASSES", "PERSISTENT_BUFFERS", "IMPORTED"}
    }
    return _with_shadertoy_channels(
        IsfDocument(
            filename=filename,
            body=body,
            inputs=inputs,
            passes=passes,
            imported=imported,
            metadata=metadata,
            version=version,
            vertex_body=vertex_source,
            vertex_filename=vertex_filename,
            header_line=header_line,
        )
    )


def _with_shadertoy_channels(doc: IsfDocument) -> IsfDocument:
    """A Shadertoy scene reads ``iChannel0`` ... ``iChannel3`` without declaring them: each
    one it uses becomes an image input (blank until set to an image or ``scene:NAME``)."""
    if not doc.is_shadertoy:
        return doc
    used = sorted(set(re.findall(r"\biChannel[0-3]\b", doc.body)))
    extra = tuple(
        IsfInput(name, InputType.IMAGE, label=f"Shadertoy channel {name[-1]}")
        for name in used
        if doc.input(name) is None
    )
    return dataclasses.replace(doc, inputs=doc.inputs + extra) if extra else doc


def _find_header(text: str) -> tuple[str | None, int, int]:
    """Locate the leading ``/*{ ... }*/`` comment: (json text, start, end) or (None, 0, 0)."""
    stripped = len(text) - len(text.lstrip())
    if not text.startswith("/*", stripped):
        return None, 0, 0
    end = text.find("*/", stripped + 2)
    if end < 0:
        return None, 0, 0
    inner = text[stripped + 2 : end]
    if not inner.lstrip().startswith("{"):
        return None, 0, 0
    return inner, stripped, end + 2


def _version(data: dict[str, Any], body: str) -> int:
    raw = data.get("ISFVSN")
    if raw is not None:
        try:
            return int(float(str(raw).split(".")[0]))
        except ValueError:
            return 2
    if "PERSISTENT_BUFFERS" in data or re.search(r"\bvv_(FragNormCoord|vertShaderInit)\b", body):
        return 1
    return 2


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class _HeaderContext:
    """Helpers that know where the header sits, to put file lines on errors."""

    def __init__(self, filename: str, header: str, header_line: int):
        self.filename = filename
        self.header = header
        self.header_line = header_line

    def error(self, detail: str, needle: str | None = None) -> IsfError:
        return IsfError(detail, filename=self.filename, line=self.line_of(needle))

    def line_of(self, needle: str | None) -> int:
        """File line of the first ``"needle"`` inside the header (the header line if absent)."""
        if needle:
            pos = self.header.find(f'"{needle}"')
            if pos >= 0:
                return self.header_line + self.header.count("\n", 0, pos)
        return self.header_line

    def load_json(self) -> Any:
        try:
            return json.loads(self.header)
        except json.JSONDecodeError as strict_err:
            tolerant = _TRAILING_COMMA.sub(r"\1", self.header)
            try:
                data = json.loads(tolerant)
            except json.JSONDecodeError as err:
                raise IsfError(
                    f"invalid JSON in ISF header: {err.msg} (column {err.colno})",
                    filename=self.filename,
                    line=self.header_line + err.lineno - 1,
                ) from err
            logger.warning(
                "%s:%d: ISF header is not strict JSON (%s); accepted after removing "
                "trailing commas",
                self.filename,
                self.header_line + strict_err.lineno - 1,
                strict_err.msg,
            )
            return data

    def inputs(self, raw: Any) -> tuple[IsfInput, ...]:
        if not isinstance(raw, list):
            raise self.error("INPUTS must be a list", "INPUTS")
        return tuple(self.one_input(item) for item in raw)

    def one_input(self, item: Any) -> IsfInput:
        if not isinstance(item, dict) or "NAME" not in item or "TYPE" not in item:
            raise self.error("every INPUTS entry needs NAME and TYPE", "INPUTS")
        name = str(item["NAME"])
        line = self.line_of(name)
        if not _IDENT.match(name):
            raise self.error(f"input name {name!r} is not a GLSL identifier", name)
        kind = _TYPES_BY_LOWER.get(str(item["TYPE"]).lower())
        if kind is None:
            raise self.error(f"input {name!r} has unknown TYPE {item['TYPE']!r}", name)
        try:
            return IsfInput(
                name=name,
                type=kind,
                default=_convert(kind, item.get("DEFAULT")),
                minimum=_convert(kind, item.get("MIN")),
                maximum=_convert(kind, item.get("MAX")),
                identity=_convert(kind, item.get("IDENTITY")),
                values=tuple(int(v) for v in item.get("VALUES", ())),
                labels=tuple(str(v) for v in item.get("LABELS", ())),
                label=str(item.get("LABEL", "")),
                line=line,
            )
        except (TypeError, ValueError) as err:
            raise self.error(f"input {name!r}: {err}", name) from err

    def passes(self, raw: Any, persistent_buffers: Any) -> tuple[IsfPass, ...]:
        if not isinstance(raw, list):
            raise self.error("PASSES must be a list", "PASSES")
        # Version 1: PERSISTENT_BUFFERS is a list of names or a dict name -> settings.
        persistent: dict[str, dict[str, Any]] = {}
        if isinstance(persistent_buffers, list):
            persistent = {str(n): {} for n in persistent_buffers}
        elif isinstance(persistent_buffers, dict):
            persistent = {
                str(k): (v if isinstance(v, dict) else {}) for k, v in persistent_buffers.items()
            }
        elif persistent_buffers is not None:
            raise self.error("PERSISTENT_BUFFERS must be a list or object", "PERSISTENT_BUFFERS")
        result: list[IsfPass] = []
        for item in raw:
            if not isinstance(item, dict):
                raise self.error("every PASSES entry must be an object", "PASSES")
            target = item.get("TARGET")
            if target is not None:
                target = str(target)
                if not _IDENT.match(target):
                    raise self.error(f"pass TARGET {target!r} is not a GLSL identifier", target)
            extra = persistent.get(target, {}) if target else {}
            result.append(
                IsfPass(
                    target=target or None,
                    persistent=_truthy(item.get("PERSISTENT", False)) or bool(target in persistent),
                    is_float=_truthy(item.get("FLOAT", extra.get("FLOAT", False))),
                    width=_size_expr(item.get("WIDTH", extra.get("WIDTH"))),
                    height=_size_expr(item.get("HEIGHT", extra.get("HEIGHT"))),
                )
            )
        return tuple(result) or (IsfPass(),)

    def imported(self, raw: Any, base_dir: Path) -> tuple[IsfImported, ...]:
        entries: list[tuple[str, Any]] = []
        if isinstance(raw, dict):
            entries = [(str(k), v) for k, v in raw.items()]
        elif isinstance(raw, list):  # version 1
            entries = [(str(v.get("NAME", "")), v) for v in raw if isinstance(v, dict)]
        else:
            raise self.error("IMPORTED must be an object or a list", "IMPORTED")
        result = []
        for name, spec in entries:
            if not _IDENT.match(name) or not isinstance(spec, dict) or "PATH" not in spec:
                raise self.error(f"IMPORTED entry {name!r} needs a name and a PATH", "IMPORTED")
            result.append(IsfImported(name=name, path=base_dir / str(spec["PATH"])))
        return tuple(result)


def _size_expr(value: Any) -> str | float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return str(value)


def _convert(kind: InputType, value: Any) -> Any:
    """Convert a header value to the Python shape of ``kind`` (``None`` stays ``None``)."""
    if value is None or kind in IMAGE_TYPES:
        return None
    if kind in (InputType.BOOL, InputType.EVENT):
        return _truthy(value)
    if kind is InputType.LONG:
        return int(float(value))
    if kind is InputType.FLOAT:
        return float(value)
    if kind is InputType.COLOR:
        values = [float(v) for v in value]
        if len(values) == 3:
            values.append(1.0)
        if len(values) != 4:
            raise ValueError("a color needs 3 or 4 components")
        return tuple(values)
    values = [float(v) for v in value]
    if len(values) != 2:
        raise ValueError("a point2D needs 2 components")
    return tuple(values)


def _check_names(
    ctx: _HeaderContext,
    inputs: tuple[IsfInput, ...],
    passes: tuple[IsfPass, ...],
    imported: tuple[IsfImported, ...],
) -> None:
    seen: set[str] = set()
    for name in [i.name for i in inputs] + [i.name for i in imported]:
        if name in seen:
            raise ctx.error(f"name {name!r} is declared twice", name)
        seen.add(name)
    for p in passes:
        if p.target and p.target in seen:
            raise ctx.error(f"pass TARGET {p.target!r} clashes with an input", p.target)
