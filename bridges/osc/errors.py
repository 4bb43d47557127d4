"""Exceptions raised by the OSC bridge.

Every exception raised on purpose by :mod:`bridges.osc` derives from one root,
so callers at the bridge boundary can translate them in one ``except``::

    OscError
    ├── OscDecodeError      a received packet or stream frame is malformed
    ├── OscEncodeError      a message cannot be encoded (bad address, bad argument)
    └── OscConfigError      an output target or server configuration is invalid
        └── OscBindError    the server could not bind its UDP or TCP socket

The value errors also derive from :class:`ValueError` so generic validation
code keeps working. :class:`OscError` derives from :class:`cues.errors.StovelightError`,
Stovelight's one exception root.
"""

from __future__ import annotations

from cues.errors import StovelightError

__all__ = [
    "OscBindError",
    "OscConfigError",
    "OscDecodeError",
    "OscEncodeError",
    "OscError",
]


class OscError(StovelightError):
    """Root of every exception raised by the OSC bridge."""


class OscDecodeError(OscError, ValueError):
    """A packet (or a frame on a stream) is not valid OSC.

    Attributes:
        reason: A short, human-readable description of what is wrong.
        offset: Byte offset in the packet where the problem was found, if known.
    """

    def __init__(self, reason: str, offset: int | None = None) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"malformed OSC packet{where}: {reason}")


class OscEncodeError(OscError, ValueError):
    """A message, bundle or argument cannot be encoded as OSC."""


class OscConfigError(OscError, ValueError):
    """An OSC target or server configuration is invalid."""


class OscBindError(OscConfigError):
    """The OSC server could not bind to the requested host and port."""
