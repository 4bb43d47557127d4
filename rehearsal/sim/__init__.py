"""Telemetry simulator: a deterministic neighbourhood model and its websocket server."""

from rehearsal.sim.model import NeighbourhoodModel, SimConfig, StoveState, run
from rehearsal.sim.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = [
    "SCENARIOS",
    "NeighbourhoodModel",
    "Scenario",
    "SimConfig",
    "StoveState",
    "get_scenario",
    "run",
]
