"""The parts of a show file that configure I/O rather than the engine.

One configuration type per thing: an OSC target is the OSC bridge's own
:class:`~bridges.osc.output.OscTargetConfig` (validated there), the web server takes
:class:`WebConfig` as it is, and every default lives here or in the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bridges.mqtt.topics import DEFAULT_MAX_PAYLOAD_BYTES
from bridges.osc.output import OscTargetConfig
from bridges.telemetry.protocol import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_MAX_VALUES,
)
from cues.model import ShowModel

__all__ = [
    "WEB_HEAD_TIMEOUT_S",
    "WEB_MAX_CONNECTIONS",
    "WEB_MAX_CONSOLES",
    "WEB_MAX_PER_ADDRESS",
    "WEB_PORT",
    "ControlConfig",
    "MidiInputBinding",
    "MidiPortConfig",
    "MqttSettings",
    "MqttTopicConfig",
    "OscTargetConfig",
    "RelayConfig",
    "Show",
    "SourceConfig",
    "VisualOutputConfig",
    "WebConfig",
]


@dataclass(frozen=True, slots=True)
class MqttTopicConfig:
    """One MQTT topic route: ``topic`` pattern → ``signal`` (template), payload reading."""

    topic: str
    signal: str
    pointer: str = ""
    scale: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """What an ``mqtt`` source adds to the common fields (see docs/telemetry-protocol.md)."""

    topics: tuple[MqttTopicConfig, ...]
    protocol: str = "5"
    username: str = ""
    password: str = field(default="", repr=False)
    client_id: str = ""
    ca_file: str = ""
    tls_insecure: bool = False
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """A telemetry source: ``kind`` is ``stovelight``, ``json``, ``homeassistant`` or
    ``mqtt``."""

    name: str
    kind: str
    url: str
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    # stovelight sources: objects per array frame, values per object
    max_objects: int = DEFAULT_MAX_OBJECTS
    max_values: int = DEFAULT_MAX_VALUES
    # websocket sources: where frames are decoded ("auto", "thread" or "process")
    decoder: str = "auto"
    # json feeds: signal name -> (pointer, scale, offset)
    pointers: tuple[tuple[str, str, float, float], ...] = ()
    ts_pointer: str = ""
    subscribe: str = ""
    # home assistant
    token: str = ""
    entities: tuple[tuple[str, str], ...] = ()
    # mqtt
    mqtt: MqttSettings | None = None


@dataclass(frozen=True, slots=True)
class MidiInputBinding:
    """What an incoming MIDI message does: ``action`` is ``go``, ``stop``, ``panic``
    or ``start`` (with ``cue``)."""

    message: str
    channel: int
    number: int
    action: str
    cue: str = ""
    threshold: int = 64


@dataclass(frozen=True, slots=True)
class MidiPortConfig:
    """A MIDI port opened by name pattern, for output, input or both."""

    name: str
    pattern: str
    output: bool = True
    input: bool = False
    bindings: tuple[MidiInputBinding, ...] = ()
    msc_device: int = 0
    msc_go: bool = True
    timecode_fps: float | None = None


@dataclass(frozen=True, slots=True)
class VisualOutputConfig:
    """A projector output driven by the renderer process."""

    name: str
    scene: str = "heat"
    display: int = 0
    fullscreen: bool = False
    size: tuple[int, int] = (1280, 720)
    headless: bool | None = None
    preview_fps: float = 4.0
    bindings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ControlConfig:
    """The QLab-compatible OSC control server."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 53000
    reply_port: int | None = 53001
    passcode: str = ""
    allow: tuple[str, ...] = ()
    open: bool = False
    discovery: bool = True


WEB_PORT: Final = 8765
"""Port the show serves the dashboard and console on unless ``[web] port`` says otherwise."""
WEB_HEAD_TIMEOUT_S: Final = 10.0
"""Seconds a web client has to send its HTTP request head."""
WEB_MAX_CONNECTIONS: Final = 2500
"""Public websocket seats (dashboard viewers) unless ``[web] max_connections`` says otherwise."""
WEB_MAX_PER_ADDRESS: Final = 50
"""Viewer seats per client address unless ``[web] max_per_address`` says otherwise."""
WEB_MAX_CONSOLES: Final = 8
"""Operator console seats (separate from viewers) unless ``[web] max_consoles`` says otherwise."""


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The dashboard and console web server (``show.web.server.WebServer`` takes it as it is).

    The fields up to ``allowed_origins`` come from ``[web]``, ``title`` to ``texts`` from
    ``[dashboard]``; the rest are the server's own limits, which no show file sets (tests,
    benches and ``stovelight relay`` do).
    """

    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = WEB_PORT
    """TCP port; 0 lets the system pick a free one."""
    console_token: str = ""
    """Secret the console must present; empty in a show file means a random one per run
    (the server itself needs one)."""
    rate_hz: float = 10.0
    """Snapshots per second on both sockets."""
    max_connections: int = WEB_MAX_CONNECTIONS
    """Viewer seats: public sockets (and consoles that authenticate with their first
    message)."""
    max_per_address: int = WEB_MAX_PER_ADDRESS
    """Viewer seats per client IP address (raise it behind a NAT or reverse proxy)."""
    max_consoles: int = WEB_MAX_CONSOLES
    """Console seats for ``/console/ws?token=...``, apart from the viewers."""
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed to open the console socket; none: the server's own origin only."""
    title: str = ""
    panels: tuple[dict[str, Any], ...] = ()
    texts: tuple[tuple[str, str], ...] = ()
    """``[dashboard.text]``: the dashboard's wording and language (``show.showfile.dashtext``)."""
    console: bool = True
    """Serve the operator console; a dashboard relay serves the public pages only."""
    max_message_bytes: int = 4096
    """Largest inbound websocket frame; a larger one closes the socket with code 1009."""
    ping_interval: float = 20.0
    """Seconds between keepalive pings."""
    ping_timeout: float = 20.0
    """Seconds without a pong before a connection is dropped."""
    head_timeout: float = WEB_HEAD_TIMEOUT_S
    """Seconds a client has to send its HTTP request head."""
    auth_timeout: float = 10.0
    """Seconds a console has to send its auth message."""
    auth_failure_delay: float = 0.5
    """Seconds to wait before closing after a wrong token."""
    control_timeout: float = 5.0
    """Seconds a control call may take before an error reply."""
    send_buffer_bytes: int | None = 256 * 1024
    """``SO_SNDBUF`` per websocket, bounding what a slow viewer can have queued in the
    kernel; None leaves the system's default."""


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """``[relay]``: publish the public dashboard snapshot to an MQTT broker, retained,
    for ``stovelight relay`` processes to serve (docs/deployment.md)."""

    broker: str
    topic: str = "stovelight/dashboard"
    rate_hz: float = 10.0
    username: str = ""
    password: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Show:
    """A parsed and validated show file."""

    path: Path
    model: ShowModel
    sources: tuple[SourceConfig, ...] = ()
    osc_targets: tuple[OscTargetConfig, ...] = ()
    midi_ports: tuple[MidiPortConfig, ...] = ()
    visuals: tuple[VisualOutputConfig, ...] = ()
    control: ControlConfig = field(default_factory=ControlConfig)
    web: WebConfig = field(default_factory=WebConfig)
    log_dir: str = "logs"
    relay: RelayConfig | None = None

    def summary(self) -> str:
        """A few lines for ``stovelight check``."""
        m = self.model
        lists = ", ".join(f"{cl.name} ({len(cl.cues)} top-level)" for cl in m.cue_lists)
        outputs = (
            f"{len(self.osc_targets)} OSC target(s), {len(self.midi_ports)} MIDI port(s),"
            f" {len(self.visuals)} visual output(s)"
        )
        return "\n".join(
            [
                f"{self.path}: OK — {m.title!r}",
                f"  cue lists: {len(m.cue_lists)}: {lists}",
                f"  cues:      {len(m.cues)}{_cue_notes(m)}",
                f"  sources:   {len(self.sources)}",
                f"  signals:   {len(m.signals)} declared, {len(m.derived)} derived",
                f"  mappings:  {len(m.mappings)}{_disarmed(m)}",
                f"  triggers:  {len(m.triggers)}",
                f"  outputs:   {outputs}",
            ]
        )


def _cue_notes(m: ShowModel) -> str:
    waits = [c.wait for c in m.cues.values() if c.wait is not None]
    waiting = len(waits)
    fallbacks = len({w.fallback for w in waits if w.fallback is not None})
    if not waiting:
        return ""
    return f" ({waiting} waiting, {fallbacks} fallback(s) outside the GO order)"


def _disarmed(m: ShowModel) -> str:
    off = [x.name for x in m.mappings if not x.enabled]
    return f" ({len(off)} start disarmed: {', '.join(off[:6])})" if off else ""
