"""The mapping scheduler alone: samples in, sends out at the rate limit, one schedule
entry per mapping however often it is marked."""

from __future__ import annotations

from cues.commands import Outbox, SendOsc
from cues.mapping_scheduler import MappingScheduler
from cues.model import Health, MappingDef, OscTarget, SignalDef, SmoothingDef
from cues.signals import Signal, SignalStore


def _mapping(name: str = "m", **kw: object) -> MappingDef:
    return MappingDef(
        name=name,
        signal="x",
        target=OscTarget("desk", f"/{name}"),
        max_rate_hz=10.0,
        **kw,  # type: ignore[arg-type]
    )


def _sample(store: SignalStore, value: float, now: float) -> Signal:
    sig = store.update("x", value, now)
    assert sig is not None
    sig.health = Health.LIVE  # the signal flow's job; a lost signal would be held
    return sig


def _sent(out: Outbox) -> list[tuple[str, float]]:
    return [(c.address, float(c.args[0])) for c in out.take() if isinstance(c, SendOsc)]  # type: ignore[arg-type]


def test_a_sample_is_sent_once_due_and_not_again_within_the_rate_limit() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping()], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.25, 0.0))
    assert sched.next_due() == float("-inf")  # never sent: due at once
    sched.run(0.0)
    assert _sent(out) == [("/m", 0.25)]
    sched.feed(_sample(store, 0.5, 0.01))
    assert sched.next_due() == 0.1  # one rate interval after the send
    sched.run(0.05)
    assert _sent(out) == []
    sched.run(0.1)
    assert _sent(out) == [("/m", 0.5)]
    assert sched.next_due() is None


def test_marking_again_never_makes_a_mapping_due_later_nor_queues_it_twice() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping()], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.25, 0.0))
    sched.run(0.0)
    out.take()
    for _ in range(5):
        sched.mark("m")
        sched.feed(_sample(store, 0.5, 0.02))
    assert sched.next_due() == 0.1
    sched.run(0.1)
    assert _sent(out) == [("/m", 0.5)]
    assert sched.next_due() is None  # the stale heap entries were dropped


def test_a_disabled_mapping_takes_samples_but_sends_nothing() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping(enabled=False)], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.75, 0.0))
    assert sched.next_due() is None
    assert sched.states["m"].raw == 0.75
    sched.set_enabled("m", True)
    sched.run(0.0)
    assert _sent(out) == [("/m", 0.75)]
    sched.set_enabled("m", False)
    sched.set_level("m", 0.5)  # off: nothing scheduled
    assert sched.next_due() is None


def test_a_settling_filter_asks_for_further_runs() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping(smoothing=SmoothingDef(ema=0.1))], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.0, 0.0))
    sched.run(0.0)
    sched.feed(_sample(store, 1.0, 0.1))
    sched.run(0.1)
    assert sched.next_due() == 0.2  # still moving towards 1.0
    sched.run(0.2)
    values = [v for _, v in _sent(out)]
    assert values[0] == 0.0
    assert 0.0 < values[1] < values[2] < 1.0


def test_flush_sends_now_and_silence_sends_zero_once() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping(), _mapping("n")], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.5, 0.0))
    sched.run(0.0)
    out.take()
    sched.set_level("m", 0.5)
    sched.flush("m", 0.01)  # within the rate limit, sent anyway
    assert _sent(out) == [("/m", 0.25)]
    sched.silence()
    assert sorted(_sent(out)) == [("/m", 0.0), ("/n", 0.0)]
    assert sched.next_due() is None
    sched.silence()
    assert _sent(out) == []


def test_a_lost_signal_is_held_not_sent() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping()], out)
    store = SignalStore([SignalDef("x")])
    sig = _sample(store, 0.5, 0.0)
    sig.health = Health.LOST
    sched.feed(sig)
    sched.run(0.0)
    assert _sent(out) == []
    assert sched.states["m"].stale


def test_disable_all_and_reset() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping(level=0.5)], out)
    sched.force_level("m", 0.1)
    sched.disable_all()
    state = sched.states["m"]
    assert (state.enabled, state.level) == (False, 0.5)
    assert sched.next_due() is None
    sched.reset()
    assert state.enabled
    assert sched.next_due() is not None
    assert sched.enabled_levels() == {"m": 0.5}


def test_replace_schedules_new_enabled_mappings_and_forgets_removed_ones() -> None:
    out = Outbox()
    sched = MappingScheduler([_mapping(), _mapping("gone")], out)
    store = SignalStore([SignalDef("x")])
    sched.feed(_sample(store, 0.5, 0.0))
    kept = sched.states["m"]
    new = MappingScheduler([_mapping("new")], Outbox()).states["new"]
    sched.replace({"m": kept, "new": new}, [_mapping(), _mapping("new")])
    assert set(sched.states) == {"m", "new"}
    sched.feed(_sample(store, 0.75, 0.0))
    sched.run(0.0)
    assert sorted(_sent(out)) == [("/m", 0.75), ("/new", 0.75)]
