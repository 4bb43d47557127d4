"""The signal flow alone: health, derived signals, triggers and the waits it tells, with
a hand-made show and stand-ins for the cues."""

from __future__ import annotations

from cues.commands import (
    Outbox,
    Report,
    ReportLevel,
    SignalHealthChanged,
    TriggerFired,
)
from cues.events import SourceHealth
from cues.flow import SignalFlow
from cues.mapping_scheduler import MappingScheduler
from cues.model import (
    Above,
    Condition,
    CueId,
    DerivedDef,
    DerivedOp,
    Health,
    HealthIs,
    OnSignal,
    OnSource,
    ShowModel,
    SignalDef,
    TriggerDef,
)


class Waits:
    """Cues waiting on a condition, as the flow sees them."""

    def __init__(self) -> None:
        self.waiting: set[CueId] = set()
        self.rechecks: list[tuple[str | None, float]] = []

    def recheck_waits(self, signal: str | None, now: float) -> None:
        self.rechecks.append((signal, now))


def _flow(
    triggers: tuple[TriggerDef, ...] = (), derived: tuple[DerivedDef, ...] = ()
) -> tuple[SignalFlow, Outbox, Waits, list[tuple[str, float]]]:
    show = ShowModel(
        title="t",
        cue_lists=(),
        cues={},
        signals=(SignalDef("x", stale_after=1.0, lost_after=2.0, source="src"), SignalDef("y")),
        derived=derived,
        triggers=triggers,
        health_interval=0.5,
    )
    out, waits = Outbox(), Waits()
    fired: list[tuple[str, float]] = []
    flow = SignalFlow(
        show,
        0.0,
        out,
        MappingScheduler((), out),
        waits,
        lambda t, now: fired.append((t.name, now)),
    )
    return flow, out, waits, fired


def test_a_first_sample_makes_a_signal_live_and_the_sweep_makes_it_stale_then_lost() -> None:
    flow, out, _, _ = _flow()
    flow.sample("x", 1.0, "src", 0.0)
    assert out.take() == [SignalHealthChanged("x", Health.LIVE)]
    assert flow.next_deadline(0.0) == 0.0  # the first sweep is due at once
    for t in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5):
        flow.advance(t)
    assert out.take() == [
        SignalHealthChanged("x", Health.STALE),
        SignalHealthChanged("x", Health.LOST),
    ]
    assert flow.next_deadline(2.5) == float("inf")  # every signal lost: no sweep
    assert flow.samples == 1


def test_a_trigger_fires_once_its_hold_is_over_and_acts() -> None:
    trig = TriggerDef("hot", Condition(OnSignal("x"), Above(5.0)), hold=1.0)
    flow, out, _, fired = _flow(triggers=(trig,))
    flow.sample("x", 6.0, "src", 0.0)
    assert fired == []
    assert flow.next_deadline(0.0) == 0.0  # the sweep; the hold ends at 1.0
    flow.advance(0.0)
    assert flow.next_deadline(0.0) == 0.5
    flow.advance(0.5)
    assert flow.next_deadline(0.5) == 1.0
    out.take()
    flow.advance(1.0)
    assert fired == [("hot", 1.0)]
    assert out.take() == [
        TriggerFired("hot", 6.0),
        Report(ReportLevel.INFO, "hot", "trigger fired (x > 5)"),
    ]


def test_a_disarmed_trigger_does_not_fire_and_an_external_one_does() -> None:
    trig = TriggerDef("t", Condition(OnSignal("x"), Above(0.0)))
    flow, _, _, fired = _flow(triggers=(trig,))
    flow.set_trigger_enabled("t", False, 0.0)
    flow.sample("x", 1.0, "src", 0.0)
    assert fired == []
    assert flow.fire_external("t", 0.5)
    assert not flow.fire_external("nope", 0.5)
    assert fired == [("t", 0.5)]


def test_derived_signals_are_recomputed_once_per_advance() -> None:
    flow, out, _, _ = _flow(derived=(DerivedDef("sum", DerivedOp.SUM, ("x", "y")),))
    flow.advance(0.0)  # the first sweep
    flow.sample("x", 1.0, "src", 0.1)
    flow.sample("y", 2.0, "", 0.1)
    assert flow.next_deadline(0.25) == 0.25  # due at once: at the engine's time
    flow.advance(0.25)
    assert flow.signals.signals["sum"].value == 3.0
    assert SignalHealthChanged("sum", Health.LIVE) in out.take()
    assert flow.next_deadline(0.25) == 0.5  # the next sweep only


def test_waits_are_rechecked_only_while_a_cue_waits() -> None:
    flow, _, waits, _ = _flow()
    flow.sample("x", 1.0, "src", 0.0)
    assert waits.rechecks == []
    waits.waiting.add(CueId("Main/1"))
    flow.sample("x", 2.0, "src", 0.1)
    flow.source_health(SourceHealth("src", False), 0.2)
    assert waits.rechecks[0] == ("x", 0.1)
    assert waits.rechecks[-1] == (None, 0.2)


def test_a_lost_source_marks_its_signals_lost_at_once() -> None:
    flow, out, _, _ = _flow()
    flow.sample("x", 1.0, "src", 0.0)
    out.take()
    flow.source_health(SourceHealth("src", False), 0.1)
    assert out.take() == [
        Report(ReportLevel.WARNING, "src", "source lost: its signals are marked lost"),
        SignalHealthChanged("x", Health.LOST),
    ]
    assert flow.holds(Condition(OnSource("src"), HealthIs(Health.LOST)), 0.1, False)
    assert not flow.holds(Condition(OnSignal("x"), Above(0.0)), 0.1, False)
