"""HomeAssistantSource against the Home Assistant stand-in, through real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bridges.telemetry import (
    HomeAssistantAuthError,
    HomeAssistantSource,
    HomeAssistantSourceConfig,
    RecordingSink,
    SourceStatus,
)
from tests.bridges.telemetry.ha_standin import HomeAssistantStandIn

pytestmark = pytest.mark.timeout(20)

TOKEN = "long-lived-token"
ENTITIES = {"sensor.stove_power": "stove.power_w", "sensor.grid_energy": "grid.energy_kwh"}


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(10):
            await scenario()

    asyncio.run(bounded())


async def no_wait(delay: float) -> None:
    await asyncio.sleep(0)


async def standin() -> HomeAssistantStandIn:
    server = HomeAssistantStandIn(TOKEN)
    server.seed("sensor.stove_power", "1.5", {"unit_of_measurement": "kW"})
    server.seed("sensor.grid_energy", "4200", {"unit_of_measurement": "Wh"})
    server.seed("light.porch", "on")
    await server.start()
    return server


def test_authenticates_subscribes_and_receives_changes() -> None:
    async def scenario() -> None:
        server = await standin()
        sink = RecordingSink()
        source = HomeAssistantSource(
            HomeAssistantSourceConfig("ha", server.url, TOKEN, ENTITIES), sink, sleep=no_wait
        )
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: len(sink.samples) >= 2)
        assert sink.latest()["stove.power_w"].value == pytest.approx(1500.0)
        assert sink.latest()["grid.energy_kwh"].value == pytest.approx(4.2)
        assert source.status is SourceStatus.CONNECTED
        assert server.received[0]["type"] == "supported_features"
        assert server.received[1] == {
            "id": 2,
            "type": "subscribe_entities",
            "entity_ids": list(ENTITIES),
        }

        await server.set_state("sensor.stove_power", "2.25")
        await sink.wait_for(lambda: sink.values("stove.power_w")[-1] == pytest.approx(2250.0))
        await server.set_state("sensor.grid_energy", "unavailable")
        await sink.wait_for(lambda: sink.values("grid.energy_kwh")[-1] is None)
        stats = source.stats()
        assert stats["entities"] == {
            "sensor.stove_power": "ok",
            "sensor.grid_energy": "unavailable",
        }
        assert stats["ha_version"] == "2025.11.3"
        assert stats["rejected"] == {}
        assert "light.porch" not in {s.signal for _, s in sink.samples}

        await source.aclose()
        await task
        await server.stop()
        assert sink.status_history() == [
            SourceStatus.CONNECTING,
            SourceStatus.CONNECTED,
            SourceStatus.DISCONNECTED,
        ]

    run(scenario)


def test_wrong_token_fails_clearly_and_does_not_retry() -> None:
    async def scenario() -> None:
        server = await standin()
        sink = RecordingSink()
        source = HomeAssistantSource(
            HomeAssistantSourceConfig("ha", server.url, "wrong-token", ENTITIES),
            sink,
            sleep=no_wait,
        )
        await source.run()  # returns by itself: the failure is permanent
        assert source.status is SourceStatus.FAILED
        assert isinstance(source.failure, HomeAssistantAuthError)
        _, status, detail = sink.statuses[-1]
        assert status is SourceStatus.FAILED
        assert "Home Assistant rejected the access token" in detail
        assert server.auth_attempts == 1
        assert sink.samples == []
        await server.stop()

    run(scenario)


def test_restart_reauthenticates_and_resubscribes() -> None:
    async def scenario() -> None:
        server = await standin()
        sink = RecordingSink()
        back = asyncio.Event()
        sleeps: list[float] = []

        async def wait_for_server(delay: float) -> None:
            sleeps.append(delay)
            await back.wait()

        source = HomeAssistantSource(
            HomeAssistantSourceConfig("ha", server.url, TOKEN, ENTITIES),
            sink,
            sleep=wait_for_server,
            rand=lambda: 0.5,
        )
        task = asyncio.create_task(source.run())
        await sink.wait_for(lambda: len(sink.samples) >= 2)
        await server.stop()
        await sink.wait_for(lambda: source.status is SourceStatus.DISCONNECTED)

        server.seed("sensor.stove_power", "3", {"unit_of_measurement": "kW"})
        await server.start()
        back.set()
        await sink.wait_for(lambda: sink.values("stove.power_w")[-1] == pytest.approx(3000.0))
        assert server.auth_attempts == 2
        assert server.subscriptions == 2
        assert source.status is SourceStatus.CONNECTED
        assert sleeps == [0.125]
        assert source.stats()["reconnects"] == 1
        await source.aclose()
        await task
        await server.stop()

    run(scenario)
