"""Build the I/O parts of a running show from its show file.

The only place where show-file configuration meets the bridges' own config
types, so each bridge stays independent of ``show``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from bridges.midi.ports import MidiBackend
from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig
from bridges.osc.output import OscOutput
from bridges.telemetry import (
    Decoder,
    FrameLimits,
    HomeAssistantSourceConfig,
    JsonFeedSourceConfig,
    PointerSpec,
    StovelightSourceConfig,
    open_source,
)
from show.runtime.commands import OperatorRequest
from show.runtime.midi_hub import MidiHub
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.config import MqttSettings, Show, SourceConfig

__all__ = ["add_sources", "build_parts"]

log = logging.getLogger(__name__)


def _source_config(cfg: SourceConfig) -> Any:
    if cfg.kind == "json":
        return JsonFeedSourceConfig(
            cfg.name,
            cfg.url,
            {sig: PointerSpec(p, s, o) for sig, p, s, o in cfg.pointers},
            cfg.subscribe or None,
            cfg.ts_pointer or None,
            cfg.max_frame_bytes,
        )
    if cfg.kind == "homeassistant":
        return HomeAssistantSourceConfig(
            cfg.name, cfg.url, cfg.token, dict(cfg.entities), max_frame_bytes=cfg.max_frame_bytes
        )
    limits = FrameLimits(cfg.max_frame_bytes, cfg.max_objects, cfg.max_values)
    return StovelightSourceConfig(cfg.name, cfg.url, limits)


def build_parts(
    show: Show,
    *,
    clock: Any,
    recording: Path | None = None,
    headless: bool | None = None,
    renderers: bool = True,
) -> RunnerParts:
    """Outputs and recorder for ``show``; sources are added by ``add_sources``."""
    parts = RunnerParts()
    if show.osc_targets:
        parts.osc = OscOutput(show.osc_targets, clock=clock)
    if recording is not None:
        from rehearsal.recorder import Recorder

        parts.recorder = Recorder(recording, show=show.model.title)
    if renderers and show.visuals:
        from visuals.process import ChildOptions, RendererProcess

        for vis in show.visuals:
            window = not headless if headless is not None else vis.headless is not True
            if window and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
                if headless is None and vis.headless is None:
                    log.info("visual output %s: no display here, rendering headless", vis.name)
                window = False
            options = ChildOptions(
                size=vis.size,
                window=window,
                display=vis.display,
                fullscreen=vis.fullscreen,
                preview_fps=vis.preview_fps,
                identify_label=vis.name,
            )
            parts.renderers[vis.name] = RendererProcess(options)
    return parts


def add_sources(runner: ShowRunner) -> None:
    """Create the show's telemetry sources feeding ``runner``."""
    for cfg in runner.show.sources:
        if cfg.mqtt is not None:
            runner.parts.sources.append(MqttSource(_mqtt_config(cfg, cfg.mqtt), runner))
        else:
            decoder = Decoder(cfg.decoder)
            runner.parts.sources.append(open_source(_source_config(cfg), runner, decoder=decoder))


def _mqtt_config(cfg: SourceConfig, mqtt: MqttSettings) -> MqttSourceConfig:
    return MqttSourceConfig(
        cfg.name,
        cfg.url,
        tuple(MqttRoute(t.topic, t.signal, t.pointer, t.scale, t.offset) for t in mqtt.topics),
        protocol=mqtt.protocol,
        username=mqtt.username,
        password=mqtt.password,
        client_id=mqtt.client_id,
        ca_file=mqtt.ca_file,
        tls_insecure=mqtt.tls_insecure,
        max_payload_bytes=mqtt.max_payload_bytes,
    )


def add_midi(runner: ShowRunner, *, backend: MidiBackend | None = None) -> None:
    """Attach the show's MIDI ports (on ``backend``, default the real MIDI system);
    incoming messages become operator commands."""
    if not runner.show.midi_ports:
        return

    def on_control(request: OperatorRequest) -> None:
        result = runner.submit(request)
        if not result.get("ok"):
            log.warning("%s: %s refused: %s", request.origin, request.command, result.get("error"))

    runner.parts.midi = MidiHub(runner.show.midi_ports, on_control, backend=backend)
