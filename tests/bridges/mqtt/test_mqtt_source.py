"""The MQTT source against a real Mosquitto on loopback: retained state, live values,
MQTT 5 and 3.1.1, passwords, bad payloads, a broker restart, newest-wins backlog."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
import pytest

from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig, NewestPerTopicQueue
from bridges.telemetry import BackoffPolicy, ConnectionSettings, RecordingSink, SourceStatus
from rehearsal.broker import BrokerError, MosquittoBroker
from tests.tools import missing

pytestmark = pytest.mark.timeout(30)

FAST = ConnectionSettings(open_timeout=2.0, backoff=BackoffPolicy(initial=0.05, cap=0.2))
ROUTES = (
    MqttRoute("tele/{home}/SENSOR", "{home}.power_kw", "/ENERGY/Power", scale=0.001),
    MqttRoute("stat/{home}/temp", "{home}.temp_c"),
)


def run(scenario: Callable[[], Awaitable[None]], limit: float = 20) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(limit):
            await scenario()

    asyncio.run(bounded())


async def publish(broker: MosquittoBroker, *messages: tuple[str, bytes | str, bool]) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        for topic, payload, retain in messages:
            await client.publish(topic, payload, qos=1, retain=retain)


def sensor(watts: float) -> str:
    return json.dumps({"ENERGY": {"Power": watts}})


def config(broker: MosquittoBroker, **kw: Any) -> MqttSourceConfig:
    return MqttSourceConfig("homes", broker.url, ROUTES, settings=FAST, **kw)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_retained_state_then_live_values(broker: MosquittoBroker, protocol: str) -> None:
    async def scenario() -> None:
        await publish(broker, ("tele/flat-1/SENSOR", sensor(1200), True))
        sink = RecordingSink()
        source = MqttSource(config(broker, protocol=protocol), sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: sink.values("flat-1.power_kw") == [1.2])
        await publish(
            broker, ("tele/flat-1/SENSOR", sensor(2500), False), ("stat/flat-1/temp", "21.5", False)
        )
        await sink.wait_for(lambda: "flat-1.temp_c" in sink.latest())
        assert sink.values("flat-1.power_kw") == [1.2, 2.5]
        assert sink.values("flat-1.temp_c") == [21.5]
        assert sink.status_history("homes")[-1] is SourceStatus.CONNECTED
        stats = source.stats()
        assert stats["retained"] == 1 and stats["connects"] == 1
        await source.aclose()
        await task

    run(scenario)


def test_bad_payloads_are_counted_and_the_source_stays_connected(broker: MosquittoBroker) -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        source = MqttSource(config(broker, protocol="3.1.1", max_payload_bytes=1024), sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: SourceStatus.CONNECTED in sink.status_history())
        await publish(
            broker,
            ("tele/a/SENSOR", "{broken", False),
            ("tele/a/SENSOR", json.dumps({"ENERGY": {"Power": "x" * 2000}}), False),
            ("stat/a/temp", "nan", False),
            ("stat/b b/temp", "1", False),
            ("tele/a/SENSOR", sensor(500), False),
        )
        await sink.wait_for(lambda: sink.values("a.power_kw") == [0.5])
        rejected = source.stats()["rejected"]
        assert rejected == {"bad_name": 1, "malformed_json": 1, "non_finite": 1, "oversize": 1}
        assert source.counters.connects == 1
        assert sink.status_history() == [SourceStatus.CONNECTING, SourceStatus.CONNECTED]
        await source.aclose()
        await task

    run(scenario)


def test_password_from_the_broker_is_required_and_checked() -> None:
    b = MosquittoBroker(users={"show": "s3cret"})
    try:
        b.start()
    except BrokerError as err:
        missing(str(err))

    async def scenario() -> None:
        wrong = RecordingSink()
        refused = MqttSource(config(b, username="show", password="nope"), wrong)
        task = asyncio.create_task(refused.run())
        await wrong.wait_for(lambda: refused.counters.connect_failures >= 2)
        assert SourceStatus.CONNECTED not in wrong.status_history()
        assert "cannot connect" in refused.detail
        await refused.aclose()
        await task

        sink = RecordingSink()
        source = MqttSource(config(b, username="show", password="s3cret"), sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: SourceStatus.CONNECTED in sink.status_history())
        async with aiomqtt.Client("127.0.0.1", b.port, username="show", password="s3cret") as c:
            await c.publish("stat/k/temp", "30", qos=1)
        await sink.wait_for(lambda: sink.values("k.temp_c") == [30.0])
        await source.aclose()
        await task

    try:
        run(scenario)
    finally:
        b.close()


def test_broker_restart_mid_show_reconnects_and_values_resume(broker: MosquittoBroker) -> None:
    async def scenario() -> None:
        sink = RecordingSink()
        source = MqttSource(config(broker), sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: SourceStatus.CONNECTED in sink.status_history())
        await publish(broker, ("stat/a/temp", "20", False))
        await sink.wait_for(lambda: sink.values("a.temp_c") == [20.0])

        await asyncio.to_thread(broker.stop)
        await sink.wait_for(lambda: sink.status_history()[-1] is not SourceStatus.CONNECTED)
        await asyncio.to_thread(broker.start)
        await sink.wait_for(lambda: sink.status_history().count(SourceStatus.CONNECTED) == 2)
        await publish(broker, ("stat/a/temp", "22", False))
        await sink.wait_for(lambda: sink.values("a.temp_c") == [20.0, 22.0])
        assert source.counters.connects == 2
        assert source.counters.reconnects == 1
        await source.aclose()
        await task

    run(scenario)


def test_backlog_keeps_the_newest_message_per_topic_in_place() -> None:
    async def scenario() -> None:
        queue_type = type("Q", (NewestPerTopicQueue,), {"limit": 2})
        queue = queue_type()

        def msg(topic: str, payload: str) -> aiomqtt.Message:
            return aiomqtt.Message(topic, payload.encode(), 0, False, 0, None)

        queue.put_nowait(msg("a", "1"))
        queue.put_nowait(msg("b", "1"))
        queue.put_nowait(msg("a", "2"))  # replaces a/1 where it stood
        assert [queue.get_nowait().payload for _ in range(2)] == [b"2", b"1"]
        for topic in ("x", "y", "z"):
            queue.put_nowait(msg(topic, topic))
        assert queue.qsize() == 2  # bounded: the oldest topic waiting was dropped
        assert (queue.conflated, queue.dropped) == (1, 1)
        assert [queue.get_nowait().topic.value for _ in range(2)] == ["y", "z"]

    run(scenario)


def test_a_flood_is_bounded_and_the_newest_value_arrives(broker: MosquittoBroker) -> None:
    """5,000 updates of 10 topics: every update is delivered or conflated into a newer
    one (counted), nothing waits afterwards, and the last value of each topic wins."""

    async def scenario() -> None:
        sink = RecordingSink()
        source = MqttSource(config(broker, protocol="3.1.1"), sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: SourceStatus.CONNECTED in sink.status_history())
        flood = [(f"stat/h{i % 10}/temp", str(i), False) for i in range(5000)]
        await publish(broker, *flood)
        await sink.wait_for(
            lambda: (
                all(sink.latest().get(f"h{k}.temp_c") is not None for k in range(10))
                and sink.latest()["h9.temp_c"].value == 4999.0
            )
        )
        for k in range(10):
            assert sink.latest()[f"h{k}.temp_c"].value == float(4990 + k)
        stats = source.stats()
        assert stats["backlog"] == 0
        conflated = stats["conflated"]
        assert isinstance(conflated, int)
        assert len(sink.samples) + conflated == 5000
        await source.aclose()
        await task

    run(scenario)


def test_tls_broker_with_its_ca_and_a_refusal_without_it() -> None:
    b = MosquittoBroker(tls=True)
    try:
        b.start()
    except BrokerError as err:
        missing(str(err))

    async def scenario() -> None:
        refused = RecordingSink()
        untrusted = MqttSource(MqttSourceConfig("homes", b.url, ROUTES, settings=FAST), refused)
        task = asyncio.create_task(untrusted.run())
        await refused.wait_for(lambda: untrusted.counters.connect_failures >= 1)
        assert "certificate" in untrusted.detail.lower()
        await untrusted.aclose()
        await task

        sink = RecordingSink()
        cfg = MqttSourceConfig("homes", b.url, ROUTES, ca_file=b.ca_file, settings=FAST)
        source = MqttSource(cfg, sink)
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: SourceStatus.CONNECTED in sink.status_history())
        context = ssl.create_default_context(cafile=b.ca_file)
        async with aiomqtt.Client("127.0.0.1", b.port, tls_context=context) as client:
            await client.publish("stat/t/temp", "19.5", qos=1)
        await sink.wait_for(lambda: sink.values("t.temp_c") == [19.5])
        await source.aclose()
        await task

    try:
        run(scenario)
    finally:
        b.close()


def test_a_broker_that_drops_every_connection_at_once_is_retried_with_growing_waits() -> None:
    """A hostile or broken broker: CONNACK, SUBACK, then close, every time. Only a
    connection that lasted clears the backoff, so the waits grow instead of a storm."""

    async def drop_after_subscribe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read(4096)  # CONNECT
        writer.write(bytes([0x20, 0x02, 0x00, 0x00]))  # CONNACK, accepted (MQTT 3.1.1 §3.2)
        subscribe = await reader.read(4096)
        if len(subscribe) >= 4:  # SUBACK for its packet id, QoS 0 granted (§3.9)
            writer.write(bytes([0x90, 0x03, subscribe[2], subscribe[3], 0x00]))
            await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()

    async def scenario() -> None:
        server = await asyncio.start_server(drop_after_subscribe, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        waits: list[float] = []
        done = asyncio.Event()

        async def sleep(delay: float) -> None:
            waits.append(delay)
            if len(waits) >= 4:
                done.set()
            await asyncio.sleep(0)

        routes = (MqttRoute("stat/{home}/temp", "{home}.temp_c"),)  # one SUBSCRIBE
        cfg = MqttSourceConfig("s", f"mqtt://127.0.0.1:{port}", routes, protocol="3.1.1")
        source = MqttSource(cfg, RecordingSink(), sleep=sleep, rand=lambda: 0.999)
        task = asyncio.create_task(source.run())
        await done.wait()
        await source.aclose()
        await task
        server.close()
        assert source.counters.connects >= 4
        assert waits[:4] == sorted(waits[:4]) and waits[3] > 2 * waits[0]

    run(scenario)
