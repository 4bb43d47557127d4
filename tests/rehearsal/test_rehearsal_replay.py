"""Replay: grouping, pacing on an injected and on the real clock, start from a time or a cue,
looping, the replay source, and ``replay --serve`` to real websocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from bridges.telemetry import (
    RecordingSink,
    Sample,
    SourceStatus,
    StovelightSource,
    StovelightSourceConfig,
    create_source,
    parse_frame,
)
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from rehearsal.replay import CueNotFoundError, Pacer, Replayer, ReplayFrame, ReplaySource
from rehearsal.replay_serve import ReplayServer, instant_messages
from show.cli import main as stovelight
from tests.clocks import FakeClock

ROOT = Path(__file__).resolve().parents[2]
WALL0 = 1_764_230_400.0


def write_recording(
    path: Path,
    rows: Sequence[tuple[float, str, str, object]],
    events: Sequence[tuple[float, str, Mapping[str, object]]] = (),
) -> Path:
    """Rows are ``(t, source, signal, value)``; ``ts`` is ``WALL0 + t``."""
    with Recorder(path, show="replay test", started=WALL0) as rec:
        rec.add_samples([(t, WALL0 + t, src, sig, v, WALL0 + t) for t, src, sig, v in rows])
        for t, kind, data in events:
            rec.add_event(t, kind, data)
    return path


def grid(n: int, step: float = 0.1, t0: float = 0.0) -> list[tuple[float, str, str, object]]:
    """``n`` instants, each with two sources and three signals."""
    rows: list[tuple[float, str, str, object]] = []
    for k in range(n):
        t = round(t0 + k * step, 9)
        rows += [
            (t, "central", "central.temp_c", 100.0 + k),
            (t, "grid", "grid.demand_kw", float(k)),
            (t, "central", "central.state", "on" if k % 2 else "off"),
        ]
    return rows


async def collect(replayer: Replayer, limit: int | None = None) -> list[ReplayFrame]:
    out: list[ReplayFrame] = []
    async for frame in replayer.play():
        out.append(frame)
        if limit is not None and len(out) >= limit:
            break
    return out


def test_frames_are_grouped_by_source_per_instant(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(3))
    with Recording.open(path) as rec:
        frames = list(Replayer(rec, speed=None).frames())
    assert [(f.t, f.source, [s.signal for s in f.samples]) for f in frames] == [
        (0.0, "central", ["central.temp_c", "central.state"]),
        (0.0, "grid", ["grid.demand_kw"]),
        (0.1, "central", ["central.temp_c", "central.state"]),
        (0.1, "grid", ["grid.demand_kw"]),
        (0.2, "central", ["central.temp_c", "central.state"]),
        (0.2, "grid", ["grid.demand_kw"]),
    ]
    assert frames[2].samples[1].value == "on" and frames[3].samples[0].value == 1.0


@pytest.mark.parametrize("speed", [0.1, 1.0, 2.0, 25.0])
def test_pacing_follows_the_injected_clock(tmp_path: Path, speed: float) -> None:
    times = [0.0, 0.013, 0.5, 0.75, 2.0, 2.004, 3.3]
    rows = [(t, "a", "a.x", float(i)) for i, t in enumerate(times)]
    path = write_recording(tmp_path / "r.sqlite", rows)
    clock = FakeClock(1000.0)
    with Recording.open(path) as rec:
        replayer = Replayer(rec, speed=speed, clock=clock.time, sleep=clock.sleep)
        seen: list[tuple[float, float]] = []

        async def run() -> None:
            async for frame in replayer.play():
                seen.append((frame.t, clock.now))

        asyncio.run(run())
    assert [t for t, _ in seen] == times
    for t, at in seen:
        assert at == pytest.approx(1000.0 + t / speed, abs=1e-9)
    assert replayer.stats()["samples"] == len(times)


def test_full_speed_never_sleeps(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(200))

    async def forbidden(_: float) -> None:
        raise AssertionError("an unpaced replay must not sleep")

    with Recording.open(path) as rec:
        frames = asyncio.run(collect(Replayer(rec, speed=None, sleep=forbidden)))
    assert len(frames) == 400


def test_pacer_and_bad_speeds(tmp_path: Path) -> None:
    pacer = Pacer(4.0, origin=10.0, anchor=100.0)
    assert pacer.due(10.0) == 100.0 and pacer.due(14.0) == 101.0
    assert pacer.delay(14.0, now=100.5) == 0.5
    path = write_recording(tmp_path / "r.sqlite", grid(2))
    with Recording.open(path) as rec:
        for bad in (0.0, -1.0, float("nan")):
            with pytest.raises(ValueError):
                Replayer(rec, speed=bad)


def test_start_at_a_time_or_where_a_cue_fired(tmp_path: Path) -> None:
    events = [
        (0.35, "cue_state", {"cue": "2", "list": "Main", "state": "running"}),
        (0.62, "cue_state", {"cue": "2", "list": "Events", "state": "running"}),
        (0.9, "cue_state", {"cue": "2", "list": "Main", "state": "idle"}),
    ]
    path = write_recording(tmp_path / "r.sqlite", grid(10), events)
    with Recording.open(path) as rec:
        from_time = list(Replayer(rec, speed=None, start=0.5).frames())
        assert from_time[0].t == 0.5 and from_time[-1].t == pytest.approx(0.9)
        for cue in ("2", "Main/2"):
            replayer = Replayer(rec, speed=None, start=cue)
            assert replayer.origin == 0.35
            assert next(iter(replayer.frames())).t == pytest.approx(0.4)
        assert Replayer(rec, speed=None, start="Events/2").origin == 0.62
        with pytest.raises(CueNotFoundError):
            Replayer(rec, start="7")
        with pytest.raises(CueNotFoundError):
            Replayer(rec, start="Events/9")


def test_start_from_a_cue_paces_from_that_moment(tmp_path: Path) -> None:
    events = [(0.35, "cue_state", {"cue": "2", "list": "Main", "state": "running"})]
    path = write_recording(tmp_path / "r.sqlite", grid(10), events)
    clock = FakeClock(0.0)
    with Recording.open(path) as rec:
        replayer = Replayer(rec, speed=1.0, start="2", clock=clock.time, sleep=clock.sleep)
        asyncio.run(collect(replayer))
    # the first instant after the cue (0.4) is due 0.05 s after the replay starts
    assert clock.sleeps[0] == pytest.approx(0.05)
    assert clock.now == pytest.approx(0.9 - 0.35)


def test_loop_starts_over_with_increasing_times(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(5))
    clock = FakeClock(0.0)
    with Recording.open(path) as rec:
        replayer = Replayer(rec, speed=1.0, loop=True, clock=clock.time, sleep=clock.sleep)
        frames = asyncio.run(collect(replayer, limit=5 * 2 * 3))
    times = [f.t for f in frames if f.source == "central"]
    assert times == pytest.approx([k * 0.1 for k in range(15)])
    assert [f.lap for f in frames[::10]] == [0, 1, 2]
    assert frames[10].samples[0].t_recv == 0.0 and frames[10].shift == pytest.approx(0.5)
    assert clock.now == pytest.approx(1.4)
    assert replayer.laps == 3


def test_loop_from_a_cue_repeats_only_the_rest(tmp_path: Path) -> None:
    events = [(0.25, "cue_state", {"cue": "3", "list": "Main", "state": "running"})]
    path = write_recording(tmp_path / "r.sqlite", grid(5), events)
    with Recording.open(path) as rec:
        replayer = Replayer(rec, speed=None, start="3", loop=True)
        frames = [f for f, _ in zip(replayer.frames(), range(12), strict=False)]
    values = [f.samples[0].value for f in frames if f.source == "central"]
    assert values == [103.0, 104.0, 103.0, 104.0, 103.0, 104.0]
    assert [f.t for f in frames if f.source == "central"] == pytest.approx(
        [0.3, 0.4, 0.55, 0.65, 0.8, 0.9]
    )


def test_replay_source_feeds_a_sink_like_a_telemetry_source(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(4))
    sink = RecordingSink()

    async def run() -> ReplaySource:
        with Recording.open(path) as rec:
            source = ReplaySource(Replayer(rec, speed=20.0), sink, name="neighbourhood")
            await source.run()
            assert source.finished
            assert source.status is SourceStatus.CONNECTED
            await source.aclose()
            return source

    source = asyncio.run(run())
    assert sink.status_history("neighbourhood") == [
        SourceStatus.CONNECTED,
        SourceStatus.DISCONNECTED,
    ]
    assert {name for name, _ in sink.samples} == {"neighbourhood"}
    assert sink.values("central.temp_c") == [100.0, 101.0, 102.0, 103.0]
    assert sink.values("central.state") == ["off", "on", "off", "on"]
    assert sink.samples[0][1].ts == WALL0
    stats = source.stats()
    assert stats["kind"] == "replay" and stats["samples"] == 12 and stats["frames"] == 8
    replay = stats["replay"]
    assert isinstance(replay, dict) and replay["samples"] == 12


def test_protocol_messages_group_an_instant_by_telemetry_source(tmp_path: Path) -> None:
    rows = [
        (0.0, "neighbourhood", "central.temp_c", 180.5),
        (0.0, "neighbourhood", "grid.demand_kw", 3.0),
        (0.0, "neighbourhood", "central.on", True),
        (0.0, "neighbourhood", "central.missing", float("nan")),
    ]
    path = write_recording(tmp_path / "r.sqlite", rows)
    with Recording.open(path) as rec:
        instant = next(Replayer(rec, speed=None).instants())
    (message,) = instant_messages(instant)
    assert json.loads(message) == [
        {"source": "central", "ts": WALL0, "values": {"temp_c": 180.5, "on": True}},
        {"source": "grid", "ts": WALL0, "values": {"demand_kw": 3.0}},
    ]
    assert instant_messages(instant, max_frames=1)[1] == (
        '[{"source":"grid","ts":1764230400.0,"values":{"demand_kw":3.0}}]'
    )


def test_serve_sends_valid_protocol_frames_to_a_real_client(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(20))

    async def scenario() -> list[str]:
        with Recording.open(path) as rec:
            server = ReplayServer(Replayer(rec, speed=10.0), port=0)
            async with server, asyncio.timeout(20):
                async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
                    messages = [str(await ws.recv()) for _ in range(20)]
                await server.wait()
                assert server.stats()["messages"] == 20
            return messages

    messages = asyncio.run(scenario())
    stamps = []
    for k, message in enumerate(messages):
        result = parse_frame(message)
        assert result.rejections == []
        assert {(s.signal, s.value) for s in result.samples} == {
            ("central.temp_c", 100.0 + k),
            ("central.state", "on" if k % 2 else "off"),
            ("grid.demand_kw", float(k)),
        }
        frames = json.loads(message)
        assert [f["source"] for f in frames] == ["central", "grid"]
        stamps.append(frames[0]["ts"])
        assert len(decode(message)) == 3
    assert stamps == sorted(stamps) and stamps[0] == WALL0


def test_a_stovelight_source_rehearses_against_the_served_replay(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(15))
    sink = RecordingSink()

    async def scenario() -> None:
        with Recording.open(path) as rec:
            server = ReplayServer(Replayer(rec, speed=20.0, loop=True), port=0)
            async with server:
                config = StovelightSourceConfig("kitchen", f"ws://127.0.0.1:{server.port}/")
                source = create_source(config, sink)
                assert isinstance(source, StovelightSource)
                task = asyncio.create_task(source.run(), name="source:kitchen")
                async with asyncio.timeout(20):
                    await sink.wait_for(lambda: len(sink.values("central.temp_c")) >= 20)
                await source.aclose()
                await task

    asyncio.run(scenario())
    values = sink.values("central.temp_c")
    assert values[:20] == [100.0 + k for k in range(15)] + [100.0 + k for k in range(5)]
    assert sink.status_history("kitchen")[:2] == [
        SourceStatus.CONNECTING,
        SourceStatus.CONNECTED,
    ]


def test_replay_command_prints_protocol_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(6))
    assert stovelight(["replay", str(path), "--speed", "max", "--from", "0.3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert [s.value for s in decode(lines[0]) if s.signal == "central.temp_c"] == [103.0]


def test_replay_serve_command_serves_until_the_end(tmp_path: Path) -> None:
    path = write_recording(tmp_path / "r.sqlite", grid(10))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "show.cli", "replay", str(path), "--serve", "--port", "0",
           "--speed", "5"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        found = re.search(r"ws://127\.0\.0\.1:(\d+)/", banner)
        assert found is not None, banner
        port = int(found.group(1))

        async def client() -> list[str]:
            async with asyncio.timeout(20), connect(f"ws://127.0.0.1:{port}/") as ws:
                return [str(await ws.recv()) for _ in range(10)]

        messages = asyncio.run(client())
        assert proc.wait(timeout=20) == 0
        assert "replayed 30 samples in 10 messages" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert all(parse_frame(m).rejections == [] for m in messages)


def decode(message: str) -> list[Sample]:
    """Samples of a message, checked by the parser the running show uses."""
    result = parse_frame(message)
    assert result.rejections == [], result.rejections
    return result.samples


def test_replay_command_at_4x_from_the_moment_a_cue_fired(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = [(0.8, "cue_state", {"cue": "20", "list": "Events", "state": "running"})]
    path = write_recording(tmp_path / "r.sqlite", grid(12), fault)
    assert stovelight(["replay", str(path), "--speed", "4", "--from-cue", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    temps = [s.value for line in lines for s in decode(line) if s.signal == "central.temp_c"]
    assert temps == [108.0, 109.0, 110.0, 111.0]  # from t = 0.8 to the end, nothing before
    assert stovelight(["replay", str(path), "--from-cue", "99"]) != 0  # no such cue: refused
