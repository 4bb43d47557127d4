"""The mapping scheduler alone: samples in, sends out at the rate limit, one schedule
entry per mapping however often it is marked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cues.commands import Outbox, SendOsc
from cues.mapping_scheduler import MappingScheduler
from cues.mappings import MappingState
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


def _sample_y(store: SignalStore, value: float, now: float) -> Signal:
    sig = store.update("y", value, now)
    assert sig is not None
    sig.health = Health.LIVE
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


class _OneQueue:
    """The schedule's rule written plainly: every live plan in one dict, the smallest
    ``(due time, name)`` run first (what one heap with stale entries dropped gives)."""

    def __init__(self, definitions: list[MappingDef], out: Outbox) -> None:
        self.out = out
        self.states = {
            m.name: MappingState(m, enabled=m.enabled, level=m.level) for m in definitions
        }
        self.due: dict[str, float] = {}

    def feed(self, sig: Signal) -> None:
        value = sig.numeric()
        for name, ms in self.states.items():
            if ms.definition.signal != sig.name:
                continue
            ms.stale = sig.health is not Health.LIVE
            if value is not None:
                ms.raw = value
            if ms.enabled and name not in self.due:
                self.due[name] = ms.due()

    def mark(self, name: str) -> None:
        due = self.states[name].due()
        if name not in self.due or due < self.due[name]:
            self.due[name] = due

    def set_enabled(self, name: str, on: bool) -> None:
        self.states[name].set_enabled(on)
        if on:
            self.mark(name)
        else:
            self.due.pop(name, None)

    def next_due(self) -> float | None:
        return min(self.due.values(), default=None)

    def run(self, now: float) -> None:
        while self.due:
            due, name = min((d, n) for n, d in self.due.items())
            if due > now:
                return
            del self.due[name]
            ms = self.states[name]
            if not ms.enabled:
                continue
            if now < ms.due():
                self.mark(name)
                continue
            cmd, settling = ms.step(now)
            if cmd is not None:
                self.out.emit(cmd)
            if settling:
                ms.last_send_time = max(ms.last_send_time, now)
                self.due[name] = ms.due()


_OPS = st.lists(
    st.tuples(
        st.sampled_from(["feed x", "feed y", "run", "mark", "on", "off", "level"]),
        st.integers(0, 3),  # which mapping
        st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.25]),  # time step before the operation
        st.floats(-1.0, 1.0),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_OPS)
def test_runs_in_due_then_name_order_as_one_queue_would(
    ops: list[tuple[str, int, float, float]],
) -> None:
    """Samples planned on the sorted list, marks and settling on the heap: the same sends in
    the same order and the same next due time as one queue of every live plan."""
    defs = [
        MappingDef(name="a", signal="x", target=OscTarget("desk", "/a"), max_rate_hz=10.0),
        MappingDef(
            name="b",
            signal="x",
            target=OscTarget("desk", "/b"),
            max_rate_hz=10.0,
            smoothing=SmoothingDef(ema=0.1),
        ),
        MappingDef(name="c", signal="y", target=OscTarget("desk", "/c"), max_rate_hz=20.0),
        MappingDef(
            name="d",
            signal="y",
            target=OscTarget("desk", "/d"),
            max_rate_hz=10.0,
            smoothing=SmoothingDef(ema=0.3),
        ),
    ]
    out, ref_out = Outbox(), Outbox()
    sched, ref = MappingScheduler(defs, out), _OneQueue(defs, ref_out)
    store = SignalStore([SignalDef("x"), SignalDef("y")])
    now = 0.0
    for op, which, step, value in ops:
        now += step
        name = defs[which].name
        if op.startswith("feed"):
            sig = _sample(store, value, now) if op == "feed x" else _sample_y(store, value, now)
            sched.feed(sig)
            ref.feed(sig)
        elif op == "run":
            sched.run(now)
            ref.run(now)
        elif op == "mark":
            sched.mark(name)
            ref.mark(name)
        elif op in ("on", "off"):
            sched.set_enabled(name, op == "on")
            ref.set_enabled(name, op == "on")
        else:
            sched.set_level(name, abs(value))
            ref.states[name].level = abs(value)
            if ref.states[name].enabled:
                ref.mark(name)
        assert sched.next_due() == ref.next_due()
        assert repr(out.take()) == repr(ref_out.take())
