"""Dry run: deterministic summaries, equality with a live runner fed by a 1x replay, the
report files and the ``rehearse`` command."""

from __future__ import annotations

import asyncio
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bridges.osc.output import MemoryOscOutput
from bridges.osc.output import OscTargetConfig as BridgeOscTarget
from cues.commands import Command, CueStateChanged, SendOsc, SignalHealthChanged, TriggerFired
from rehearsal.dryrun import dry_run, plotted_signals
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from rehearsal.replay import Replayer, ReplaySource
from rehearsal.report import summary_text, write_report
from show.cli import main as stovelight
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.config import Show
from show.showfile.load import load_show

SHOW = """
[show]
title = "Rehearsal test"
min_go_interval = 0.1

[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:9/"

[signals."kitchen.temp_c"]
source = "kitchen"
unit = "C"
stale_after = 0.5
lost_after = 5.0

[signals."kitchen.state"]
source = "kitchen"
stale_after = 2.0

[outputs.osc.desk]
port = 9000

[dashboard]
[[dashboard.panels]]
kind = "signal"
signal = "kitchen.temp_c"

[mappings.temp]
signal = "kitchen.temp_c"
to = { osc = "desk", address = "/temp" }
range = { in = [0, 100], out = [0.0, 1.0] }
max_rate_hz = 30

[[triggers]]
name = "hot"
when = { signal = "kitchen.temp_c", above = 75 }
hold = 0.25
start = "Events/10"

[[triggers]]
name = "faulty"
when = { signal = "kitchen.state", equals = "fault" }
start = "Events/11"

[[triggers]]
name = "never"
when = { signal = "kitchen.temp_c", above = 500 }
start = "Events/11"

[[cue_lists]]
name = "Main"

[[cue_lists.cues]]
number = "1"
name = "First"
type = "osc"
target = "desk"
address = "/cue/one"
args = ["fired"]

[[cue_lists.cues]]
number = "2"
name = "Light up"
type = "fade"
target = { osc = "desk", address = "/light" }
from = 0.0
to = 1.0
duration = 0.5
rate_hz = 10

[[cue_lists]]
name = "Events"

[[cue_lists.cues]]
number = "10"
name = "Alarm"
type = "osc"
target = "desk"
address = "/alarm"
args = [1]

[[cue_lists.cues]]
number = "11"
name = "Fault"
type = "memo"
"""

WALL0 = 1_764_230_400.0
GO_TIMES = (0.52, 1.02)
LAST = 2.95


def _show(tmp_path: Path) -> Show:
    path = tmp_path / "rehearsal.toml"
    path.write_text(SHOW, encoding="utf-8")
    return load_show(path)


def _recording(tmp_path: Path) -> Path:
    """Samples at 0.05 + k/10 s (off the engine's 0.1 s health grid): the temperature climbs
    by 3 per sample until 2.05 s (crossing 75 at 1.95 s, so the trigger's hold ends at 2.2 s
    with no temperature sample near it to race with) and then stops (stale at 2.6 s);
    the state is ``fault`` from 2.25 to 2.45 s; an undeclared signal is refused; the operator
    pressed GO twice and stop once."""
    path = tmp_path / "rehearsal.sqlite"
    with Recorder(path, show="Rehearsal test", started=WALL0) as rec:
        for k in range(30):
            t = round(0.05 + 0.1 * k, 9)
            rows: list[tuple[float, float, str, str, object, float]] = []
            if k <= 20:
                rows.append((t, WALL0 + t, "kitchen", "kitchen.temp_c", 20.0 + 3 * k, WALL0 + t))
            state = "fault" if 22 <= k <= 24 else "on"
            rows.append((t, WALL0 + t, "kitchen", "kitchen.state", state, WALL0 + t))
            rows.append((t, WALL0 + t, "kitchen", "kitchen.power_w", 1800.0, WALL0 + t))
            rec.add_samples(rows)
        for t in GO_TIMES:
            rec.add_event(t, "operator", {"command": "go", "cue": None, "origin": "console"})
        rec.add_event(2.7, "operator", {"command": "stop", "cue": None, "origin": "console"})
    return path


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
    return None


def _dry_log(show: Show, path: Path, **kwargs: object) -> list[Entry]:
    log: list[Entry] = []

    def hook(t: float, cmd: Command) -> None:
        entry = _entry(t, cmd)
        if entry is not None:
            log.append(entry)

    with Recording.open(path) as rec:
        dry_run(show, rec, on_command=hook, **kwargs)  # type: ignore[arg-type]
    return log


async def _live_log(show: Show, path: Path) -> tuple[list[Entry], MemoryOscOutput]:
    """The same recording through the live runner: a ReplaySource at 1x on the runner's
    clock, GOs pressed through ``runner.control`` at the recorded times."""
    log: list[Entry] = []
    osc = MemoryOscOutput([BridgeOscTarget("desk", "127.0.0.1", 9000)])
    runner = ShowRunner(show, RunnerParts(osc=osc))

    def listener(cmd: Command) -> None:
        entry = _entry(runner.now(), cmd)
        if entry is not None:
            log.append(entry)

    runner.listeners.append(listener)
    with Recording.open(path) as rec:
        source = ReplaySource(
            Replayer(rec, speed=1.0, clock=runner.now, anchor=0.0), runner, name="kitchen"
        )
        runner.parts.sources.append(source)
        await runner.start()
        runner.start_sources()
        for t in GO_TIMES:
            await asyncio.sleep(max(0.0, t - runner.now()))
            assert runner.control("go", origin="test") == {"ok": True}
        while not source.finished:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await runner.aclose()
    return log, osc


def test_dry_run_equals_a_real_time_run_of_the_same_inputs(tmp_path: Path) -> None:
    show = _show(tmp_path)
    path = _recording(tmp_path)
    dry = _dry_log(show, path, gos_from_recording=True)
    live, osc = asyncio.run(asyncio.wait_for(_live_log(show, path), 30))
    live = [e for e in live if e[0] <= LAST + 0.1]

    def by_kind(log: list[Entry]) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {}
        for entry in log:
            out.setdefault(entry[1], []).append(entry)
        return out

    dry_kinds, live_kinds = by_kind(dry), by_kind(live)
    assert (
        sorted(dry_kinds)
        == sorted(live_kinds)
        == [
            "cue",
            "health kitchen.state",
            "health kitchen.temp_c",
            "osc /alarm",
            "osc /cue/one",
            "osc /light",
            "osc /temp",
            "trigger",
        ]
    )
    for kind, entries in dry_kinds.items():
        live_entries = live_kinds[kind]
        # the same outputs, cue states and triggers, in the same order
        assert [e[2] for e in entries] == [e[2] for e in live_entries], kind
    # the dry run is what the show file says, to the sample
    assert [(round(t, 6), what) for t, _, what in dry_kinds["trigger"]] == [
        (2.2, ("hot", 80.0)),
        (2.25, ("faulty", "fault")),
    ]
    assert [e[2][0] for e in dry_kinds["osc /light"]] == pytest.approx(
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    )
    assert [(round(t, 6), what) for t, _, what in dry_kinds["health kitchen.temp_c"]] == [
        (0.05, ("live",)),
        (2.6, ("stale",)),
    ]
    assert len(dry_kinds["osc /temp"]) == 21
    assert [m.address for m in osc.messages("desk")].count("/cue/one") == 1


def test_go_times_given_on_the_command_line_act_like_recorded_ones(tmp_path: Path) -> None:
    show = _show(tmp_path)
    path = _recording(tmp_path)
    recorded = _dry_log(show, path, gos_from_recording=True)
    given = _dry_log(show, path, go_at=GO_TIMES)
    assert given == recorded
    without = _dry_log(show, path)
    assert not any(e[1] in ("osc /cue/one", "osc /light") for e in without)


def test_summary_is_deterministic_and_complete(tmp_path: Path) -> None:
    show = _show(tmp_path)
    path = _recording(tmp_path)
    summaries = []
    for out in ("a", "b"):
        with Recording.open(path) as rec:
            result = dry_run(show, rec, gos_from_recording=True)
        files = write_report(result, tmp_path / out)
        summaries.append(files.summary.read_bytes())
    assert summaries[0] == summaries[1]
    with Recording.open(path) as rec:
        again = summary_text(dry_run(_show(tmp_path), rec, gos_from_recording=True))
    assert again.encode() == summaries[0]
    text = summaries[0].decode()
    for line in (
        "show:       Rehearsal test (rehearsal.toml)",
        "recording:  rehearsal.sqlite: 81 samples in 30 instants",
        "show time:  0.000 s to 2.950 s (2.950 s)",
        "GOs:        2 (0 from --go-at, 2 from the recording), 0 refused",
        "operator actions replayed: go x2, stop x1",
        "       0.520  Main/1     First",
        "       1.020  Main/2     Light up",
        "       2.200  Events/10  Alarm",
        "       2.200  hot      value 80",
        '       2.250  faulty   value "fault"',
        "              never    kitchen.temp_c > 500",
        "       2.600  kitchen.temp_c  stale",
        "  OSC desk                                 29 messages",
        "      /temp                                21  first 0.2 at 0.050 s, last 0.8",
        '      /cue/one                              1  first "fired" at 0.520 s',
        "  undeclared signal                        30",
        "      kitchen.power_w                      30",
    ):
        assert line in text.splitlines(), line


def test_report_files_picture_and_html(tmp_path: Path) -> None:
    show = _show(tmp_path)
    path = _recording(tmp_path)
    with Recording.open(path) as rec:
        result = dry_run(show, rec, gos_from_recording=True)
    files = write_report(result, tmp_path / "report")
    assert files.summary.is_file() and files.html.is_file() and files.png.is_file()
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    image = pygame.image.load(str(files.png))
    assert image.get_size() == (1600, 900)
    pixels = pygame.surfarray.array3d(image)
    background = (pixels == 255).all(axis=2)
    assert (~background).mean() > 0.05, "the timeline is (almost) blank"
    colors = {tuple(pixels[x, y]) for x in range(0, 1600, 7) for y in range(0, 900, 7)}
    assert len(colors) > 20
    curve = pixels[250:1570, 90:800]
    assert ((curve[..., 0] == 25) & (curve[..., 1] == 113) & (curve[..., 2] == 194)).sum() > 500

    page = files.html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for external in ("src=", "href=", "@import", "url("):
        assert external not in page
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    root = ET.fromstring(svg)
    assert root.get("width") == "1600" and root.get("height") == "900"
    texts = {el.text for el in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"kitchen.temp_c", "kitchen.state", "hot", "faulty"} <= texts
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 2
    assert "Triggers that never fired (1)" in page


def test_plotted_signals_put_conditions_first_and_resolve_patterns(tmp_path: Path) -> None:
    show = _show(tmp_path)
    assert plotted_signals(show, ["kitchen.power_w", "kitchen.state", "kitchen.temp_c"]) == [
        "kitchen.temp_c",
        "kitchen.state",
    ]


def test_recorded_frame_sources_map_to_the_single_show_source(tmp_path: Path) -> None:
    """A recording made by ``stovelight record`` stores the frame's source (``kitchen`` here is
    also the show's source, so use a show whose source has another name)."""
    text = SHOW.replace("[sources.kitchen]", "[sources.neighbourhood]").replace(
        'source = "kitchen"', 'source = "neighbourhood"'
    )
    path = tmp_path / "renamed.toml"
    path.write_text(text, encoding="utf-8")
    show = load_show(path)
    rec_path = _recording(tmp_path)
    with Recording.open(rec_path) as rec:
        result = dry_run(show, rec, go_at=GO_TIMES)
    assert [name for _, name, _ in result.triggers] == ["hot", "faulty"]
    assert result.report_counts["warning"] == 0


def test_rehearse_command_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _show(tmp_path)
    path = _recording(tmp_path)
    out = tmp_path / "out"
    argv = ["rehearse", str(tmp_path / "rehearsal.toml"), str(path), "--go-at", "0.52",
            "--go-at", "1.02", "--out", str(out)]  # fmt: skip
    assert stovelight(argv) == 0
    printed = capsys.readouterr().out
    assert "81 samples" in printed and "4 cue firings" in printed
    assert {p.name for p in out.iterdir()} == {"summary.txt", "timeline.png", "report.html"}
    assert stovelight(["rehearse", str(tmp_path / "missing.toml"), str(path)]) == 1
    assert stovelight(["rehearse", str(tmp_path / "rehearsal.toml"), str(out / "none")]) == 1


def test_long_dry_runs_report_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rehearsal.dryrun
    from rehearsal.cli import _progress_printer

    monkeypatch.setattr(rehearsal.dryrun, "PROGRESS_EVERY", 10)
    show = _show(tmp_path)
    calls: list[tuple[float, float, float]] = []
    with Recording.open(_recording(tmp_path)) as rec:
        dry_run(show, rec, progress=lambda t, a, b: calls.append((t, a, b)))
    # every 10 instants of 30, and once at the end
    assert [round(t, 2) for t, _, _ in calls] == [0.95, 1.95, 2.95, 2.95]
    assert all((a, b) == (0.0, 2.95) for _, a, b in calls)
    printer = _progress_printer(every_s=0.0)
    printer(1.5, 0.0, 3.0)
    assert "dry run:  50% (2 s of 3 s of show" in capsys.readouterr().err


def test_a_live_reload_in_the_recording_is_pointed_out(tmp_path: Path) -> None:
    path = _recording(tmp_path)
    with Recorder(path) as rec:  # appends
        rec.add_event(1.5, "note", {"type": "Reload", "message": "2 cues changed"})
    with Recording.open(path) as recording:
        result = dry_run(_show(tmp_path), recording, gos_from_recording=True)
    assert result.reloads == [1.5]
    line = (
        "       1.500  the show file was reloaded live; this dry run uses rehearsal.toml throughout"
    )
    assert line in summary_text(result).splitlines()
