"""Simulator model: determinism, scenario timelines, protocol validity."""

from __future__ import annotations

import pytest

from bridges.telemetry import Sample, parse_frame
from rehearsal.errors import UnknownScenarioError
from rehearsal.sim import SCENARIOS, NeighbourhoodModel, SimConfig, run
from rehearsal.telemetry import Frame, encode_frames


def _series(
    config: SimConfig, duration: float, rate: float
) -> list[tuple[float, dict[str, Frame]]]:
    model = NeighbourhoodModel(config)
    return [(t, {f["source"]: f for f in frames}) for t, frames in run(model, duration, rate)]


def test_same_seed_gives_identical_frames() -> None:
    config = SimConfig(scenario="normal-evening", homes=8, seed=42)
    a = list(run(NeighbourhoodModel(config), 120, 5))
    b = list(run(NeighbourhoodModel(config), 120, 5))
    assert a == b
    assert encode_frames(a[-1][1]) == encode_frames(b[-1][1])


def test_different_seed_differs() -> None:
    a = list(run(NeighbourhoodModel(SimConfig(seed=1, homes=8)), 60, 2))
    b = list(run(NeighbourhoodModel(SimConfig(seed=2, homes=8)), 60, 2))
    assert a != b


def test_frames_follow_the_protocol() -> None:
    model = NeighbourhoodModel(SimConfig(homes=12, start_wall=1_764_230_400.0))
    frames = model.step(0.0)
    frames = model.step(0.5)
    sources = [f["source"] for f in frames]
    assert sources == [f"home-{i:02d}" for i in range(1, 13)] + ["central", "grid"]
    samples = decode(encode_frames(frames))
    signals = {s.signal for s in samples}
    for key in ("temp_c", "power_w", "state", "setpoint_c"):
        assert f"central.{key}" in signals
        assert f"home-07.{key}" in signals
    for key in ("solar_kw", "demand_kw", "supply_kw", "balance_kw", "frequency_hz", "exchange_kw"):
        assert f"grid.{key}" in signals
    assert all(s.ts == 1_764_230_400.5 for s in samples)


def test_states_and_power_are_consistent() -> None:
    for _t, frames in _series(SimConfig(scenario="community-cooking", homes=10), 300, 2):
        for source, frame in frames.items():
            if source == "grid":
                continue
            values = frame["values"]
            assert values["state"] in {"off", "preheating", "on", "fault"}
            if values["state"] in {"off", "fault"}:
                assert values["power_w"] == 0.0
        grid = frames["grid"]["values"]
        assert grid["balance_kw"] == pytest.approx(
            float(grid["supply_kw"]) - float(grid["demand_kw"]), abs=0.002
        )
        assert 49.5 <= float(grid["frequency_hz"]) <= 50.5


def test_malfunction_timeline() -> None:
    outage = SCENARIOS["malfunction"].outage
    assert outage is not None and (outage.fault_s, outage.restore_s) == (60.0, 150.0)
    series = _series(SimConfig(scenario="malfunction", homes=10, seed=3), 240, 10)

    def at(t: float) -> dict[str, Frame]:
        return next(frames for when, frames in series if when >= t - 1e-9)

    before = [f for t, f in series if t < 60]
    during = [f for t, f in series if 60 <= t < 150]
    after = [f for t, f in series if t >= 150]
    assert all(f["central"]["values"]["state"] != "fault" for f in before)
    assert all(float(f["grid"]["values"]["exchange_kw"]) > 0 for f in before)
    assert all(f["central"]["values"]["state"] == "fault" for f in during)
    assert all(f["central"]["values"]["power_w"] == 0.0 for f in during)
    assert all(f["grid"]["values"]["exchange_kw"] == 0.0 for f in during)
    assert at(59.9)["central"]["values"]["state"] == "on"
    temp_at_fault = float(at(60)["central"]["values"]["temp_c"])
    temp_before_restore = float(at(149.9)["central"]["values"]["temp_c"])
    assert temp_before_restore < temp_at_fault - 30
    assert all(f["central"]["values"]["state"] != "fault" for f in after)
    assert at(150)["central"]["values"]["state"] == "preheating"
    assert at(240)["central"]["values"]["state"] == "on"
    assert float(at(240)["grid"]["values"]["exchange_kw"]) > 0


def test_time_scale_stretches_the_timeline() -> None:
    series = _series(SimConfig(scenario="malfunction", homes=4, time_scale=2.0), 320, 2)
    states = {t: f["central"]["values"]["state"] for t, f in series}
    assert states[119.5] != "fault"
    assert states[120.0] == "fault"
    assert states[299.5] == "fault"
    assert states[300.0] != "fault"


def test_community_cooking_has_a_demand_peak() -> None:
    series = _series(SimConfig(scenario="community-cooking", homes=20, seed=5), 360, 2)
    demand = {t: float(f["grid"]["values"]["demand_kw"]) for t, f in series}
    quiet = [d for t, d in demand.items() if t < 55]
    event = [d for t, d in demand.items() if 100 <= t < 240]
    peak_time = max(demand, key=lambda t: demand[t])
    assert 60 <= peak_time <= 270
    assert sum(event) / len(event) > 1.5 * sum(quiet) / len(quiet)
    central = {t: f["central"]["values"]["setpoint_c"] for t, f in series}
    assert central[30.0] == 160.0 and central[120.0] == 240.0


def test_time_must_not_go_backwards() -> None:
    model = NeighbourhoodModel(SimConfig())
    model.step(1.0)
    with pytest.raises(ValueError):
        model.step(0.5)


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(UnknownScenarioError):
        SimConfig(scenario="opening-night")
    with pytest.raises(ValueError):
        SimConfig(homes=0)
    with pytest.raises(ValueError):
        SimConfig(time_scale=0)


def test_timeline_documents_scaled_times() -> None:
    moments = dict((what, t) for t, what in SCENARIOS["malfunction"].timeline(3.0))
    assert moments["central stovetop faults; energy exchange halts"] == 180.0
    assert moments["central stovetop restored; preheating, exchange resumes"] == 450.0


def decode(message: str) -> list[Sample]:
    """Samples of a message, checked by the parser the running show uses."""
    result = parse_frame(message)
    assert result.rejections == [], result.rejections
    return result.samples
