"""Named simulator scenarios and their timelines.

A scenario is data: when the simulated clock starts, how likely homes are to cook, what the
central community stovetop does, and the scripted moments (a community cooking event, a
central fault and its repair). All times are *scenario seconds*; the model divides the time it
is stepped with by ``time_scale`` before looking them up, so ``--time-scale 2`` makes every
moment happen twice as late. The exact timelines are documented in ``docs/rehearsal.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rehearsal.errors import UnknownScenarioError

__all__ = [
    "SCENARIOS",
    "CookingEvent",
    "Outage",
    "Scenario",
    "get_scenario",
]


@dataclass(frozen=True, slots=True)
class CookingEvent:
    """A community cooking event: many homes cook at once, the central stove runs hot.

    Attributes:
        start_s: first homes switch on (scenario seconds).
        end_s: first homes switch off.
        stagger_s: homes join within ``[start_s, start_s + stagger_s)`` and leave within
            ``[end_s, end_s + stagger_s)``.
        join_fraction: share of homes taking part.
        setpoint_c: setpoint of participating homes.
        central_setpoint_c: setpoint of the central stovetop during the event.
    """

    start_s: float
    end_s: float
    stagger_s: float
    join_fraction: float
    setpoint_c: float
    central_setpoint_c: float


@dataclass(frozen=True, slots=True)
class Outage:
    """The central stovetop faults and is repaired.

    Attributes:
        fault_s: the central state becomes ``fault``, its heater stops and the microgrid
            energy exchange (``grid.exchange_kw``) is exactly 0.
        restore_s: service is restored; the central stove preheats again and exchange resumes.
    """

    fault_s: float
    restore_s: float


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything that distinguishes one simulated evening from another.

    Attributes:
        name: the name used on the command line.
        description: one line for ``--help`` and logs.
        start_clock_h: simulated local clock time (hours) at scenario time 0; drives solar.
        duration_s: suggested length of a run (the model keeps going after it).
        cook_probability: chance that a home starts a cooking session in each 600 s window.
        central_setpoint_c: setpoint of the central stovetop outside events.
        event: the community cooking event, if any.
        outage: the central fault, if any.
    """

    name: str
    description: str
    start_clock_h: float
    duration_s: float
    cook_probability: float
    central_setpoint_c: float
    event: CookingEvent | None = None
    outage: Outage | None = None

    def timeline(self, time_scale: float = 1.0) -> list[tuple[float, str]]:
        """Return the scripted moments as ``(seconds, description)``, scaled by ``time_scale``."""
        moments: list[tuple[float, str]] = [(0.0, f"scenario {self.name} starts")]
        if self.event is not None:
            ev = self.event
            moments += [
                (ev.start_s, "cooking event: homes start switching on, central setpoint raised"),
                (ev.start_s + ev.stagger_s, "cooking event: every participating home is on"),
                (ev.end_s, "cooking event ends: homes start switching off"),
                (ev.end_s + ev.stagger_s, "cooking event: every participating home is off"),
            ]
        if self.outage is not None:
            moments += [
                (self.outage.fault_s, "central stovetop faults; energy exchange halts"),
                (self.outage.restore_s, "central stovetop restored; preheating, exchange resumes"),
            ]
        moments.append((self.duration_s, "suggested end of run"))
        return sorted((t * time_scale, text) for t, text in moments)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            name="normal-evening",
            description="an ordinary evening: homes cook now and then, the central stove is warm",
            start_clock_h=18.5,
            duration_s=600.0,
            cook_probability=0.35,
            central_setpoint_c=160.0,
        ),
        Scenario(
            name="community-cooking",
            description="a community cooking event from 60 s to 240 s with a demand peak",
            start_clock_h=17.0,
            duration_s=360.0,
            cook_probability=0.15,
            central_setpoint_c=160.0,
            event=CookingEvent(
                start_s=60.0,
                end_s=240.0,
                stagger_s=30.0,
                join_fraction=0.8,
                setpoint_c=220.0,
                central_setpoint_c=240.0,
            ),
        ),
        Scenario(
            name="malfunction",
            description="the central stovetop faults at 60 s and is restored at 150 s",
            start_clock_h=19.0,
            duration_s=240.0,
            cook_probability=0.35,
            central_setpoint_c=200.0,
            outage=Outage(fault_s=60.0, restore_s=150.0),
        ),
    )
}
"""Every scenario, by name."""


def get_scenario(name: str) -> Scenario:
    """Return the scenario called ``name``.

    Raises:
        UnknownScenarioError: no scenario has that name.
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise UnknownScenarioError(f"unknown scenario {name!r} (known: {known})") from None
