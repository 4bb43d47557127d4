"""A recorded live run, dry-run afterwards, gives the same show: a real ShowRunner fed by a
real websocket telemetry server, recording with operator actions (GO, a GO refused by the
double-GO guard, pause and resume, a cue edit, PANIC and a GO refused during it, stop), a
source that vanishes, a mapping, triggers and a scene input bound to a signal. Every output
command, cue state change, trigger firing and signal health change of the dry run equals the
live one, in order and payload, and happens when it happened live."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from bridges.osc.output import MemoryOscOutput
from bridges.osc.output import OscTargetConfig as BridgeOscTarget
from cues.commands import (
    Command,
    CueStateChanged,
    SendOsc,
    SetScene,
    SetVisualInput,
    SignalHealthChanged,
    TriggerFired,
)
from cues.events import EditCue
from cues.model import CueId
from rehearsal.dryrun import dry_run
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from rehearsal.report import summary_text
from show.runtime.assemble import add_sources
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show
from tests.show.live_support import eventually

SHOW = """
[show]
title = "Dry run equals live"
min_go_interval = 0.5

[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{port}/"

[signals."kitchen.temp_c"]
source = "kitchen"
stale_after = 0.4
lost_after = 0.8

[signals."kitchen.state"]
source = "kitchen"
stale_after = 0.4
lost_after = 0.8

[outputs.osc.desk]
port = 9

[outputs.visuals.projector]
scene = "heat"
inputs = {{ heat = "kitchen.temp_c" }}

[mappings.temp]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/temp" }}
range = {{ in = [0, 100], out = [0.0, 1.0] }}

[[triggers]]
name = "hot"
when = {{ signal = "kitchen.temp_c", above = 50 }}
hold = 0.25
start = "Events/10"

[[triggers]]
name = "faulty"
when = {{ signal = "kitchen.state", equals = "fault" }}
start = "Events/11"

[[cue_lists]]
name = "Main"

[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/cue/one"

[[cue_lists.cues]]
number = "2"
type = "fade"
target = {{ osc = "desk", address = "/light" }}
from = 0.0
to = 1.0
duration = 0.8
rate_hz = 10

[[cue_lists.cues]]
number = "3"
type = "visual"
output = "projector"
scene = "energy_flow"
duration = 0.5

[[cue_lists.cues]]
number = "4"
type = "osc"
target = "desk"
address = "/cue/four"
args = [4]

[[cue_lists]]
name = "Events"

[[cue_lists.cues]]
number = "10"
type = "osc"
target = "desk"
address = "/alarm"

[[cue_lists.cues]]
number = "11"
type = "memo"
"""

FRAME_S = 0.1


class ScriptedTelemetry:
    """A Stovelight telemetry server: a frame every 100 ms, the temperature climbing by 4 per
    frame (once ``null``: unavailable) and the state ``fault`` for three frames; ``vanish``
    closes it mid-show."""

    def __init__(self) -> None:
        self.port = 0
        self.k = 0
        self._server: Server | None = None

    async def _handler(self, ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            while True:
                state = "fault" if 12 <= self.k <= 14 else "on"
                temp = None if self.k == 6 else 20.0 + 4 * self.k  # once "unavailable"
                values = {"temp_c": temp, "state": state}
                await ws.send(json.dumps({"source": "kitchen", "values": values}))
                self.k += 1
                await asyncio.sleep(FRAME_S)

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def vanish(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class RecordingRenderer:
    """The renderer's in-memory stand-in: keeps what it was told."""

    def __init__(self) -> None:
        self.inputs: list[tuple[str, Any]] = []

    def set_scene(self, *args: Any, **kw: Any) -> None:
        pass

    def set_input(self, name: str, value: Any) -> None:
        self.inputs.append((name, value))

    def set_test_pattern(self, on: bool) -> None:
        pass

    def identify(self, on: bool) -> None:
        pass

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


Entry = tuple[float, str, tuple[object, ...]]


def _entry(t: float, cmd: Command) -> Entry | None:
    if isinstance(cmd, CueStateChanged):
        return (t, "cue", (cmd.cue, cmd.state.value))
    if isinstance(cmd, SendOsc):
        return (t, f"osc {cmd.address}", tuple(cmd.args))
    if isinstance(cmd, TriggerFired):
        return (t, "trigger", (cmd.trigger, cmd.value))
    if isinstance(cmd, SignalHealthChanged):
        return (t, f"health {cmd.signal}", (cmd.health.value,))
    if isinstance(cmd, SetVisualInput):
        return (t, f"input {cmd.output}", (cmd.name, cmd.value))
    if isinstance(cmd, SetScene):
        return (t, f"scene {cmd.output}", (cmd.scene, cmd.duration))
    return None


async def _live_run(path: Path) -> tuple[list[Entry], list[dict[str, Any]], RecordingRenderer]:
    server = ScriptedTelemetry()
    await server.start()
    show = parse_show(SHOW.format(port=server.port), "live.toml")
    renderer = RecordingRenderer()
    parts = RunnerParts(
        osc=MemoryOscOutput([BridgeOscTarget("desk", "127.0.0.1", 9)]),
        renderers={"projector": renderer},  # type: ignore[dict-item]
        recorder=Recorder(path, show=show.model.title),
    )
    runner = ShowRunner(show, parts)
    log: list[Entry] = []

    def listen(cmd: Command) -> None:
        entry = _entry(runner.now(), cmd)
        if entry is not None:
            log.append(entry)

    runner.listeners.append(listen)
    add_sources(runner)
    await runner.start()
    runner.start_sources()
    replies: list[dict[str, Any]] = []

    async def later(seconds: float) -> None:
        await asyncio.sleep(seconds)

    try:
        await eventually(lambda: runner.sources.get("kitchen", None) is not None)
        await eventually(lambda: runner.sources["kitchen"].samples >= 3)
        replies.append(runner.control("go", origin="test"))  # cue 1
        replies.append(runner.control("go", origin="test"))  # refused: double-GO guard
        await later(0.6)
        replies.append(runner.control("go", origin="test"))  # cue 2, a fade
        await later(0.3)
        replies.append(runner.control("pause", origin="test"))
        await later(0.3)
        replies.append(runner.control("resume", origin="test"))
        await later(0.3)
        runner.edit(EditCue(CueId("Main/4"), prewait=0.2), "test")
        replies.append(runner.control("go", origin="test"))  # cue 3, a scene change
        await later(0.6)
        replies.append(runner.control("go", origin="test"))  # cue 4 after its new pre-wait
        await later(0.4)
        replies.append(runner.control("panic", value=0.3, origin="test"))
        replies.append(runner.control("go", origin="test"))  # refused: panic
        await later(0.5)
        replies.append(runner.control("stop", origin="test"))
        await server.vanish()
        await eventually(lambda: runner.sources["kitchen"].up is False)
        await later(1.2)  # the signals go stale, then lost
    finally:
        await runner.aclose()
        await server.vanish()
    return log, replies, renderer


def _by_kind(log: list[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for entry in log:
        out.setdefault(entry[1], []).append(entry)
    return out


def test_the_dry_run_of_a_recorded_live_run_is_that_run(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    live, replies, renderer = asyncio.run(asyncio.wait_for(_live_run(path), 60))
    assert [r["ok"] for r in replies] == [
        True,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
        False,
        True,
    ]

    show = parse_show(SHOW.format(port=9), "live.toml")
    dry: list[Entry] = []

    def hook(t: float, cmd: Command) -> None:
        entry = _entry(t, cmd)
        if entry is not None:
            dry.append(entry)

    with Recording.open(path) as rec:
        sources = [e.data["event"] for e in rec.events(kind="source")]
        recorded_cues = [
            (e.t, f"{e.data['list']}/{e.data['cue']}", e.data["state"])
            for e in rec.events(kind="cue_state")
        ]
        result = dry_run(show, rec, gos_from_recording=True, on_command=hook)
    assert sources[0] == {"type": "SourceHealth", "source": "kitchen", "up": True}
    assert {"type": "SourceHealth", "source": "kitchen", "up": False} in sources

    dry_kinds, live_kinds = _by_kind(dry), _by_kind(live)
    assert sorted(dry_kinds) == sorted(live_kinds)
    for kind in (
        "cue",
        "osc /cue/one",
        "osc /light",
        "osc /cue/four",
        "osc /alarm",
        "osc /temp",
        "trigger",
        "input projector",
        "scene projector",
        "health kitchen.temp_c",
    ):
        assert kind in dry_kinds, kind
    for kind, entries in dry_kinds.items():
        live_entries = live_kinds[kind]
        # the same commands with the same payloads, in the same order ...
        assert [e[2] for e in entries] == [e[2] for e in live_entries], kind
        # ... at the times they happened live (which lag behind by the loop's wake-ups)
        for (t_dry, _, what), (t_live, _, _) in zip(entries, live_entries, strict=True):
            assert -1e-6 <= t_live - t_dry < 1.0, (kind, what, t_dry, t_live)

    # cue states caused by the operator land exactly on the times the live run recorded
    exact = {(round(t, 9), cue) for t, cue, state in recorded_cues if state == "running"}
    fired_dry = [(round(t, 9), what[0]) for t, _, what in dry_kinds["cue"] if what[1] == "running"]
    assert len(exact & set(fired_dry)) >= 4
    assert [(c, s) for _, c, s in recorded_cues] == [e[2] for e in dry_kinds["cue"]]
    # what the live run did, the dry run did: panic, pause, the disconnect
    states = {what[1] for _, _, what in dry_kinds["cue"]}
    assert {"running", "paused", "idle"} <= states
    assert ("lost",) in [e[2] for e in dry_kinds["health kitchen.temp_c"]]
    assert result.go_rejected == result.go_refused_live == 2
    # the bound scene input reached the renderer live with the values the dry run sends
    assert [("heat", e[2][1]) for e in dry_kinds["input projector"]] == renderer.inputs

    text = summary_text(result)
    assert "GOs:        6 (0 from --go-at, 6 from the recording), 2 refused" in text
    assert "operator actions replayed: edit x1, go x6, panic x1, pause x1, resume x1, stop x1" in (
        text
    )
    assert "source kitchen disconnected" in text
    assert "kitchen.temp_c  lost" in text
    assert "      input heat" in text
