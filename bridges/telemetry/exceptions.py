"""Exceptions raised by the telemetry bridge.

Every exception this package raises derives from :class:`TelemetryError`::

    TelemetryError
     ├── TelemetryConfigError         a source or signal is misconfigured (show-file load time)
     │    └── PointerSyntaxError      a JSON pointer does not follow RFC 6901
     ├── PointerNotFound              a JSON pointer does not resolve in a document (also
     │                                LookupError; in ``jsonfeed``, caught where it is raised)
     ├── LinkError                    the decoder process's byte stream is not framed as
     │                                ``decoder_wire`` frames it (also ValueError)
     └── TelemetryProtocolError       the remote end broke the protocol (recorded, not raised
          │                           into the event loop: see ``TelemetrySource.failure``)
          ├── HomeAssistantAuthError  Home Assistant rejected the access token (permanent)
          └── HomeAssistantCommandError  Home Assistant answered a command with an error

Library errors (``websockets``, ``OSError``, ``json``) are translated into these at the
connection boundary; parsers never raise for bad input, they count rejections instead.
:class:`TelemetryError` derives from :class:`cues.errors.StovelightError`, Stovelight's one
exception root.
"""

from __future__ import annotations

from cues.errors import StovelightError

__all__ = [
    "HomeAssistantAuthError",
    "HomeAssistantCommandError",
    "PointerSyntaxError",
    "TelemetryConfigError",
    "TelemetryError",
    "TelemetryProtocolError",
]


class TelemetryError(StovelightError):
    """Root of every exception raised by :mod:`bridges.telemetry`."""


class TelemetryConfigError(TelemetryError, ValueError):
    """A telemetry source or signal configuration is invalid."""


class PointerSyntaxError(TelemetryConfigError):
    """A JSON pointer string is not valid RFC 6901 syntax."""


class TelemetryProtocolError(TelemetryError):
    """The remote end of a telemetry connection violated its protocol.

    Attributes:
        permanent: True when retrying cannot help (for example a rejected token);
            the source then stops instead of reconnecting.
    """

    permanent: bool = False


class HomeAssistantAuthError(TelemetryProtocolError):
    """Home Assistant answered ``auth_invalid``: the access token was rejected."""

    permanent = True


class HomeAssistantCommandError(TelemetryProtocolError):
    """Home Assistant answered a command with ``"success": false``."""
