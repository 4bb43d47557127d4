"""Public live dashboard and operator console served by the running show.

The runner builds a :class:`WebServer` with callables (snapshots, control,
preview), awaits :meth:`WebServer.start` and later :meth:`WebServer.aclose`.
Pages, socket endpoints and snapshot shapes are documented in ``docs/web.md``.
"""

from show.web.protocol import COMMANDS
from show.web.server import (
    DEFAULT_PORT,
    ControlCallable,
    PreviewCallable,
    SnapshotCallable,
    WebServer,
    new_console_token,
)

__all__ = [
    "COMMANDS",
    "DEFAULT_PORT",
    "ControlCallable",
    "PreviewCallable",
    "SnapshotCallable",
    "WebServer",
    "new_console_token",
]
