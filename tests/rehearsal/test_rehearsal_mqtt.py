"""The simulator publishes its neighbourhood to a real Mosquitto, and an MQTT source
reads back exactly the values the simulator made."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig
from bridges.telemetry import RecordingSink
from rehearsal.broker import BrokerError, MosquittoBroker
from rehearsal.mqtt_publish import MqttFramePublisher, frame_messages
from rehearsal.recording import Recording
from rehearsal.sim.model import NeighbourhoodModel, SimConfig
from rehearsal.sim.server import SimulatorServer
from rehearsal.telemetry import Frame
from tests.tools import missing

pytestmark = pytest.mark.timeout(40)


def test_frame_messages_are_plain_values_per_topic() -> None:
    frame: Frame = {
        "source": "home-01",
        "ts": 0.0,
        # null is no simulator value, but a frame read back from JSON may hold one
        "values": {"temp_c": 182.5, "on": True, "state": "cooking", "power_w": None},  # type: ignore[dict-item]
    }
    assert frame_messages("sl", [frame]) == [
        ("sl/home-01/temp_c", b"182.5"),
        ("sl/home-01/on", b"true"),
        ("sl/home-01/state", b"cooking"),
        ("sl/home-01/power_w", b"null"),
    ]


def test_simulated_homes_arrive_through_the_broker_unchanged() -> None:
    broker = MosquittoBroker()
    try:
        broker.start()
    except BrokerError as err:
        missing(str(err))

    async def main() -> None:
        model = NeighbourhoodModel(SimConfig(scenario="normal-evening", homes=3, seed=1))
        server = SimulatorServer(model, rate_hz=20, port=0, duration_s=1.0)
        publisher = MqttFramePublisher(broker.url, "sim")
        sent: dict[str, object] = {}

        def remember(frames: list[Frame]) -> None:
            for f in frames:
                for key, value in f["values"].items():
                    sent[f"{f['source']}.{key}"] = value

        server.frame_listeners += [publisher.offer, remember]
        sink = RecordingSink()
        route = MqttRoute("sim/{source}/{key}", "{source}.{key}")
        source = MqttSource(MqttSourceConfig("sim", broker.url, (route,)), sink)
        reading = asyncio.create_task(source.run())
        publishing = asyncio.create_task(publisher.run())
        await asyncio.wait_for(publisher.connected.wait(), 5)
        async with server:
            await server.wait()
        await sink.wait_for(
            lambda: {k: s.value for k, s in sink.latest().items()} == sent and bool(sent)
        )
        assert {"home-01.temp_c", "home-03.state", "central.temp_c"} <= sent.keys()
        assert source.stats()["rejected"] == {}
        publishing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publishing
        await source.aclose()
        await reading

    try:
        asyncio.run(asyncio.wait_for(main(), 30))
    finally:
        broker.close()


def test_stovelight_record_reads_a_broker_with_topic_routes(tmp_path: Path) -> None:
    broker = MosquittoBroker()
    try:
        broker.start()
    except BrokerError as err:
        missing(str(err))

    async def publish() -> None:
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            payload = json.dumps({"ENERGY": {"Power": 1850, "Today": 0.8}})
            await client.publish("tele/flat-9/SENSOR", payload, qos=1, retain=True)

    out = tmp_path / "rec.sqlite"
    exe = Path(sys.executable).with_name("stovelight")
    try:
        asyncio.run(publish())
        args = [str(exe), "record", broker.url, "-o", str(out)]
        args += ["--topic", "tele/{home}/SENSOR={home}.power_w@/ENERGY/Power"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 15
        found: list[str] = []
        while time.monotonic() < deadline and not found:
            time.sleep(0.2)
            if out.exists():
                with contextlib.suppress(Exception), Recording.open(out) as rec:
                    found = rec.signals()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        broker.close()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "recorded" in stdout
    with Recording.open(out) as rec:
        assert rec.signals() == ["flat-9.power_w"]
        assert [s.value for s in rec.samples()] == [1850.0]


def test_record_refuses_a_bad_topic_route_before_creating_the_file(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("stovelight")
    out = tmp_path / "rec.sqlite"
    args = [str(exe), "record", "mqtt://127.0.0.1:1", "-o", str(out), "--topic", "a/#/b=x"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=20)
    assert done.returncode == 2
    assert "'#' must be the last level" in done.stdout
    assert not out.exists()
