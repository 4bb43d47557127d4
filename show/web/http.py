"""Plain HTTP on the websocket port: static files, small responses, origin checks.

The pages and their scripts are package data under ``show/web/static/``; they are
read once when the server starts and served from memory. Only names present in
that folder can be served, so no request path ever reaches the file system.
"""

from __future__ import annotations

import email.utils
import http
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response

__all__ = [
    "CONTENT_TYPES",
    "StaticFile",
    "load_static",
    "make_response",
    "origin_allowed",
]

CONTENT_TYPES: Final[Mapping[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

# Pages load nothing from elsewhere; the socket is same-origin. No referrer is sent
# so a console URL that carries ?token= never leaks through a link.
_SECURITY_HEADERS: Final = (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'self'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)


@dataclass(frozen=True, slots=True)
class StaticFile:
    """A file served from memory.

    Attributes:
        body: The file's bytes.
        content_type: Its ``Content-Type`` header.
    """

    body: bytes
    content_type: str


def load_static(package: str = "show.web", folder: str = "static") -> dict[str, StaticFile]:
    """Read every servable file of the static folder into memory.

    Args:
        package: Package holding the folder.
        folder: Folder name inside the package.

    Returns:
        File name → file, for every file with a known extension.
    """
    out: dict[str, StaticFile] = {}
    root = resources.files(package).joinpath(folder)
    for entry in root.iterdir():
        if not entry.is_file():
            continue
        name = entry.name
        dot = name.rfind(".")
        content_type = CONTENT_TYPES.get(name[dot:]) if dot >= 0 else None
        if content_type is None:
            continue
        out[name] = StaticFile(entry.read_bytes(), content_type)
    return out


def make_response(
    status: int,
    body: bytes | str,
    content_type: str = "text/plain; charset=utf-8",
    extra_headers: Sequence[tuple[str, str]] = (),
) -> Response:
    """Build an HTTP response sent instead of a websocket handshake.

    Args:
        status: HTTP status code.
        body: Body; text is encoded as UTF-8.
        content_type: ``Content-Type`` header.
        extra_headers: More headers (e.g. ``Retry-After``).

    Returns:
        The response; the connection is closed after it is sent.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    code = http.HTTPStatus(status)
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(data))),
            ("Content-Type", content_type),
            ("Cache-Control", "no-cache"),
            *_SECURITY_HEADERS,
            *extra_headers,
        ]
    )
    return Response(code.value, code.phrase, headers, data)


def origin_allowed(origin: str | None, host: str | None, allowed: Sequence[str] | None) -> bool:
    """Decide whether a browser page from ``origin`` may open the console socket.

    Args:
        origin: The request's ``Origin`` header; ``None`` when absent, which only
            non-browser clients do (they still need the token).
        host: The request's ``Host`` header.
        allowed: Explicit allow-list of origins such as ``"http://cue-laptop:8765"``;
            ``None`` allows only the server's own origin (same host and port).

    Returns:
        True when the origin is acceptable.
    """
    if origin is None:
        return True
    if allowed is not None:
        return origin in allowed
    if host is None:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return False
    return parts.netloc.lower() == host.lower()
