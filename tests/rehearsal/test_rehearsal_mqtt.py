"""The simulator publishes its neighbourhood to a real Mosquitto, and an MQTT source
reads back exactly the values the simulator made."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig
from bridges.telemetry import RecordingSink
from rehearsal.broker import BrokerError, MosquittoBroker
from rehearsal.mqtt_publish import MqttFramePublisher, frame_messages
from rehearsal.sim.model import NeighbourhoodModel, SimConfig
from rehearsal.sim.server import SimulatorServer
from rehearsal.telemetry import Frame
from tests.tools import missing

pytestmark = pytest.mark.timeout(40)


def test_frame_messages_are_plain_values_per_topic() -> None:
    frame: Frame = {
        "source": "home-01",
        "ts": 0.0,
        "values": {"temp_c": 182.5, "on": True, "state": "cooking", "power_w": None},
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
