"""Simulator websocket server, its CLI registration and the live recorder client."""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bridges.telemetry import BackoffPolicy, ConnectionSettings, Sample, parse_frame
from rehearsal.live import record_urls
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from rehearsal.sim import NeighbourhoodModel, SimConfig
from rehearsal.sim import server as sim_server
from rehearsal.sim.server import SimulatorServer


def _server(homes: int = 6, **kwargs: Any) -> SimulatorServer:
    model = NeighbourhoodModel(SimConfig(scenario="malfunction", homes=homes, seed=7))
    return SimulatorServer(model, rate_hz=kwargs.pop("rate_hz", 20.0), port=0, **kwargs)


def test_server_serves_protocol_frames_to_a_real_client() -> None:
    async def scenario() -> list[str]:
        async with (
            _server() as server,
            asyncio.timeout(10),
            connect(f"ws://127.0.0.1:{server.port}") as ws,
        ):
            return [str(await ws.recv()) for _ in range(5)]

    messages = asyncio.run(scenario())
    stamps = []
    for message in messages:
        frames = json.loads(message)
        assert isinstance(frames, list)
        samples = decode(message)
        sources = {s.signal.split(".", 1)[0] for s in samples}
        assert {"central", "grid", "home-01", "home-06"} <= sources
        stamps.append(frames[0]["ts"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_large_ticks_are_split_into_bounded_messages() -> None:
    async def scenario() -> list[str]:
        async with (
            _server(homes=25, max_frames_per_message=10) as server,
            asyncio.timeout(10),
            connect(f"ws://127.0.0.1:{server.port}") as ws,
        ):
            return [str(await ws.recv()) for _ in range(6)]

    sizes = [len(json.loads(m)) for m in asyncio.run(scenario())]
    assert max(sizes) == 10
    assert sum(sizes[:3]) == 27  # 25 homes + central + grid per tick


def test_slow_client_queue_is_bounded() -> None:
    class FakeConnection:
        remote_address = ("127.0.0.1", 1)

    async def scenario() -> tuple[int, int, list[str]]:
        client = sim_server._Client(FakeConnection(), queue_len=3)  # type: ignore[arg-type]
        for i in range(10):
            client.offer([f"m{i}"], now=float(i))
        return len(client.queue), client.skipped, list(client.queue)

    length, skipped, kept = asyncio.run(scenario())
    assert (length, skipped, kept) == (3, 7, ["m7", "m8", "m9"])


def test_duration_stops_the_ticker() -> None:
    async def scenario() -> int:
        async with _server(rate_hz=50.0, duration_s=0.2) as server, asyncio.timeout(10):
            await server.wait()
            return server.ticks

    assert asyncio.run(scenario()) == 11


def test_register_adds_simulate_command() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    sim_server.register(sub)
    args = parser.parse_args(
        ["simulate", "--scenario", "malfunction", "--homes", "3", "--time-scale", "2"]
    )
    assert args.func is sim_server.run
    assert (args.scenario, args.homes, args.time_scale, args.port) == ("malfunction", 3, 2.0, 8766)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_recorder_client_records_and_reconnects(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    port = _free_port()

    async def scenario() -> None:
        with Recorder(path, show="test") as recorder:
            stop = asyncio.Event()
            url = f"ws://127.0.0.1:{port}"
            task = asyncio.create_task(
                record_urls(
                    [url],
                    recorder,
                    stop=stop,
                    settings=ConnectionSettings(backoff=BackoffPolicy(initial=0.05, cap=0.2)),
                ),
                name="test-record",
            )
            await asyncio.sleep(0.3)  # nothing listens yet: the client keeps retrying
            model = NeighbourhoodModel(SimConfig(homes=3))
            async with asyncio.timeout(10):
                async with SimulatorServer(model, rate_hz=20.0, port=port):
                    while recorder.stats.accepted < 250:  # samples and notes
                        await asyncio.sleep(0.05)
                stop.set()
                await task

    asyncio.run(scenario())
    with Recording.open(path) as rec:
        signals = rec.signals()
        assert "central.state" in signals and "grid.frequency_hz" in signals
        samples = list(rec.samples())
        assert len(samples) >= 200
        times = [s.t_recv for s in samples]
        assert times == sorted(times) and times[0] > 0.2
        assert {type(s.value) for s in samples} == {float, str}
        notes = [e.data["text"] for e in rec.events(kind="note")]
        assert notes[0] == "recording started" and notes[-1] == "recording stopped"
        assert "source connected" in notes


def decode(message: str) -> list[Sample]:
    """Samples of a message, checked by the parser the running show uses."""
    result = parse_frame(message)
    assert result.rejections == [], result.rejections
    return result.samples
