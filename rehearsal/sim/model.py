"""Deterministic neighbourhood model: home stovetops, a central stovetop and the grid.

The model is a pure function of its seed, its scenario and the times it is stepped with: it
never reads a clock. ``NeighbourhoodModel.step(t)`` advances to ``t`` seconds after the start
and returns one protocol frame per source (``home-01`` … ``home-NN``, ``central``, ``grid``).
Stepping two models built from the same :class:`SimConfig` with the same sequence of times
yields identical frames.

Physics, deliberately simple and documented in ``docs/rehearsal.md``:

* Each stovetop is a first-order thermal mass: with the heater on its temperature approaches
  ``t_max_c`` with time constant ``tau_heat_s``, with the heater off it approaches the ambient
  temperature with ``tau_cool_s``. The exact exponential solution is used, so the result does
  not depend on the step size.
* A thermostat with ±``HYSTERESIS_C`` switches the heater around the setpoint; the power draw
  is the rated power while the heater is on.
* States: ``off`` (no setpoint), ``preheating`` (setpoint set, not yet reached since switching
  on), ``on`` (reached; the thermostat cycles), ``fault`` (heater disabled, power 0).
* Grid: solar follows the simulated clock (sunrise 06:00, sunset 20:00) times a slow random
  cloud factor; demand is household base load plus every stovetop; dispatchable supply follows
  ``demand - solar`` with a 4 s lag (negative when solar surplus is exported upstream), so
  ``balance_kw`` swings when stoves switch and ``frequency_hz`` deviates from 50 Hz in
  proportion; ``exchange_kw`` is the energy the central stovetop's microgrid shares with the
  homes, exactly 0 while the central stovetop is faulted.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rehearsal.sim.scenarios import Scenario, get_scenario
from rehearsal.telemetry import Frame, Value

__all__ = [
    "AMBIENT_C",
    "HYSTERESIS_C",
    "NOMINAL_HZ",
    "WINDOW_S",
    "NeighbourhoodModel",
    "SimConfig",
    "StoveState",
    "run",
]

AMBIENT_C = 21.0
"""Ambient kitchen temperature (°C) that idle stovetops cool toward."""
HYSTERESIS_C = 5.0
"""Thermostat half-band: heater on below ``setpoint - 5``, off above ``setpoint + 5``."""
NOMINAL_HZ = 50.0
"""Nominal grid frequency."""
WINDOW_S = 600.0
"""Home cooking sessions are drawn per window of this many scenario seconds."""

_FloatArray = npt.NDArray[np.float64]
_BoolArray = npt.NDArray[np.bool_]
_SETPOINTS_C = np.array([160.0, 180.0, 200.0, 220.0])


class StoveState(enum.StrEnum):
    """The ``state`` value of a stovetop frame."""

    OFF = "off"
    PREHEATING = "preheating"
    ON = "on"
    FAULT = "fault"


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What a simulation run is made of.

    Attributes:
        scenario: scenario name (see :data:`rehearsal.sim.scenarios.SCENARIOS`).
        homes: number of home stovetops (1 to 9999).
        seed: non-negative seed; the same seed gives the same run.
        time_scale: stretches the scenario: moment ``m`` happens at ``m * time_scale`` seconds.
        start_wall: Unix time stamped on the frame at ``t = 0`` (``ts = start_wall + t``).
        day_speed: simulated clock seconds per scenario second (solar and household load).
    """

    scenario: str = "normal-evening"
    homes: int = 12
    seed: int = 0
    time_scale: float = 1.0
    start_wall: float = 1_764_230_400.0
    day_speed: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.homes <= 9999:
            raise ValueError(f"homes must be between 1 and 9999, not {self.homes}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, not {self.seed}")
        if not (self.time_scale > 0 and math.isfinite(self.time_scale)):
            raise ValueError(f"time_scale must be positive, not {self.time_scale}")
        if self.day_speed < 0:
            raise ValueError(f"day_speed must not be negative, not {self.day_speed}")
        get_scenario(self.scenario)  # validates the name


def _relax(value: _FloatArray, target: _FloatArray, tau: _FloatArray, dt: float) -> _FloatArray:
    """Exact first-order step of ``value`` toward ``target`` over ``dt``."""
    result: _FloatArray = target + (value - target) * np.exp(-dt / tau)
    return result


class NeighbourhoodModel:
    """The simulated neighbourhood (sans-I/O, time passed in).

    Args:
        config: the run's configuration.
    """

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.scenario: Scenario = get_scenario(config.scenario)
        n = config.homes
        self._n = n
        width = max(2, len(str(n)))
        self.sources: tuple[str, ...] = (
            *(f"home-{i + 1:0{width}d}" for i in range(n)),
            "central",
            "grid",
        )
        rng = np.random.default_rng([config.seed, 1])
        stoves = n + 1
        self._rating_w = np.append(np.round(rng.uniform(1400, 2200, n), -2), 7200.0)
        self._t_max = np.append(rng.uniform(300, 360, n), 340.0)
        self._tau_heat = np.append(rng.uniform(60, 120, n), 150.0)
        self._tau_cool = self._tau_heat * np.append(rng.uniform(1.4, 2.0, n), 1.6)
        self._base_kw = rng.uniform(0.3, 0.9, n)
        self._noise = np.random.default_rng([config.seed, 2])
        self._windows: dict[int, tuple[_BoolArray, _FloatArray, _FloatArray, _FloatArray]] = {}
        event_rng = np.random.default_rng([config.seed, 3])
        self._joins = event_rng.random(n)
        self._join_at = event_rng.uniform(0.0, 1.0, n)
        self._leave_at = event_rng.uniform(0.0, 1.0, n)
        # dynamic state
        self._temp = np.full(stoves, AMBIENT_C)
        self._heater = np.zeros(stoves, dtype=bool)
        self._reached = np.zeros(stoves, dtype=bool)
        central_sp = self._setpoints(0.0)[n]
        if central_sp > 0:  # the central stovetop is already hot when the show starts
            self._temp[n] = central_sp
            self._reached[n] = True
        self._last_s: float | None = None
        self._cloud = 0.85
        self._dispatch: float | None = None
        self._exchange: float | None = None

    # -- schedule (pure functions of seed and scenario time) ---------------------------------

    def _window(self, w: int) -> tuple[_BoolArray, _FloatArray, _FloatArray, _FloatArray]:
        cached = self._windows.get(w)
        if cached is None:
            rng = np.random.default_rng([self.config.seed, 100, w])
            n = self._n
            cook = rng.random(n) < self.scenario.cook_probability
            start = w * WINDOW_S + rng.uniform(0.0, WINDOW_S, n)
            duration = rng.uniform(90.0, 360.0, n)
            setpoint = rng.choice(_SETPOINTS_C, n)
            cached = (cook, start, start + duration, setpoint)
            self._windows[w] = cached
            for old in [k for k in self._windows if k < w - 2]:
                del self._windows[old]
        return cached

    def _setpoints(self, s: float) -> _FloatArray:
        """Setpoint of every stove at scenario time ``s`` (0 means switched off)."""
        n = self._n
        sp = np.zeros(n + 1)
        current = int(s // WINDOW_S)
        for w in (current - 1, current):
            if w < 0:
                continue
            cook, start, end, setpoint = self._window(w)
            active = cook & (start <= s) & (s < end)
            sp[:n] = np.where(active, setpoint, sp[:n])
        sp[n] = self.scenario.central_setpoint_c
        event = self.scenario.event
        if event is not None:
            join = self._joins < event.join_fraction
            on_at = event.start_s + self._join_at * event.stagger_s
            off_at = event.end_s + self._leave_at * event.stagger_s
            active = join & (on_at <= s) & (s < off_at)
            sp[:n] = np.where(active, event.setpoint_c, sp[:n])
            if event.start_s <= s < event.end_s + event.stagger_s:
                sp[n] = event.central_setpoint_c
        return sp

    def _central_faulted(self, s: float) -> bool:
        outage = self.scenario.outage
        return outage is not None and outage.fault_s <= s < outage.restore_s

    # -- stepping ---------------------------------------------------------------------------

    def step(self, t: float) -> list[Frame]:
        """Advance the model to ``t`` seconds after the start and return the frames.

        Args:
            t: seconds since the start of the run; never less than the previous call's.

        Returns:
            One frame per source, homes first, then ``central``, then ``grid``.

        Raises:
            ValueError: ``t`` went backwards.
        """
        cfg = self.config
        s = t / cfg.time_scale
        if self._last_s is not None and s < self._last_s:
            raise ValueError(f"time went backwards: {t} after {self._last_s * cfg.time_scale}")
        dt = 0.0 if self._last_s is None else s - self._last_s
        self._last_s = s
        n = self._n

        # thermal step with the heater state held over [last, t)
        heating = self._heater
        target = np.where(heating, self._t_max, AMBIENT_C)
        tau = np.where(heating, self._tau_heat, self._tau_cool)
        self._temp = _relax(self._temp, target, tau, dt) if dt > 0 else self._temp

        sp = self._setpoints(s)
        fault = np.zeros(n + 1, dtype=bool)
        fault[n] = self._central_faulted(s)
        wanted = (sp > 0) & ~fault
        temp = self._temp
        heater = np.where(
            temp < sp - HYSTERESIS_C, True, np.where(temp > sp + HYSTERESIS_C, False, heating)
        )
        self._heater = heater & wanted
        self._reached = wanted & (self._reached | (temp >= sp - HYSTERESIS_C))
        state = np.where(fault, 3, np.where(~wanted, 0, np.where(self._reached, 2, 1))).tolist()
        noise = self._noise.normal(0.0, 1.0, 2 * (n + 1) + 3)
        power = self._heater * self._rating_w * (1.0 + 0.01 * noise[n + 1 : 2 * (n + 1)])
        shown_temp = np.round(temp + 0.2 * noise[: n + 1], 2).tolist()
        shown_power = np.round(power, 1).tolist()
        shown_sp = sp.tolist()

        ts = cfg.start_wall + t
        names = ("off", "preheating", "on", "fault")
        frames: list[Frame] = [
            {
                "source": self.sources[i],
                "ts": ts,
                "values": {
                    "temp_c": shown_temp[i],
                    "power_w": shown_power[i],
                    "state": names[state[i]],
                    "setpoint_c": shown_sp[i],
                },
            }
            for i in range(n + 1)
        ]
        frames.append(self._grid(s, dt, ts, power, bool(fault[n]), noise[-3:]))
        return frames

    def _grid(
        self,
        s: float,
        dt: float,
        ts: float,
        power_w: _FloatArray,
        faulted: bool,
        noise: _FloatArray,
    ) -> Frame:
        cfg = self.config
        n = self._n
        clock_h = (self.scenario.start_clock_h + s * cfg.day_speed / 3600.0) % 24.0
        sun = max(0.0, math.sin(math.pi * (clock_h - 6.0) / 14.0)) if 6 <= clock_h <= 20 else 0.0
        keep = math.exp(-dt / 120.0)
        self._cloud = 0.85 + (self._cloud - 0.85) * keep
        self._cloud += 0.05 * math.sqrt(1.0 - keep * keep) * float(noise[0])
        self._cloud = min(1.0, max(0.3, self._cloud))
        solar_kw = 1.5 * n * sun * self._cloud

        evening = 0.6 + 0.6 * math.exp(-(((clock_h - 19.0) / 1.5) ** 2))
        household_kw = float(self._base_kw.sum()) * evening * (1.0 + 0.01 * float(noise[1]))
        stove_kw = float(power_w.sum()) / 1000.0
        demand_kw = household_kw + stove_kw

        wanted_dispatch = demand_kw - solar_kw  # negative: surplus exported upstream
        if self._dispatch is None:
            self._dispatch = wanted_dispatch
        else:
            self._dispatch = wanted_dispatch + (self._dispatch - wanted_dispatch) * math.exp(
                -dt / 4.0
            )
        supply_kw = solar_kw + self._dispatch
        balance_kw = supply_kw - demand_kw
        frequency = NOMINAL_HZ + 1.0 * balance_kw / max(demand_kw, 1.0)
        frequency = min(50.5, max(49.5, frequency + 0.002 * float(noise[2])))

        home_stove_kw = float(power_w[:n].sum()) / 1000.0
        share_kw = min(0.4 * n + 1.0, 0.5 + 0.3 * home_stove_kw)
        if faulted:
            self._exchange = 0.0
        elif self._exchange is None:
            self._exchange = share_kw
        else:
            self._exchange = share_kw + (self._exchange - share_kw) * math.exp(-dt / 5.0)
        values: dict[str, Value] = {
            "solar_kw": round(solar_kw, 3),
            "demand_kw": round(demand_kw, 3),
            "supply_kw": round(supply_kw, 3),
            "balance_kw": round(balance_kw, 3),
            "frequency_hz": round(frequency, 4),
            "exchange_kw": round(self._exchange, 3),
        }
        return {"source": "grid", "ts": ts, "values": values}


def run(
    model: NeighbourhoodModel, duration_s: float, rate_hz: float
) -> Iterator[tuple[float, list[Frame]]]:
    """Step ``model`` on the exact grid ``k / rate_hz`` for ``k = 0 … duration*rate``.

    Yields:
        ``(t, frames)`` per tick.
    """
    if rate_hz <= 0:
        raise ValueError(f"rate must be positive, not {rate_hz}")
    ticks = math.floor(duration_s * rate_hz + 1e-9)
    for k in range(ticks + 1):
        t = k / rate_hz
        yield t, model.step(t)
