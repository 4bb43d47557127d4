"""The history ring: values in order, and lookups at a time before and after it wraps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cues.model import SignalDef
from cues.signals import SignalStore


def test_value_at_searches_the_ring_before_and_after_it_wraps() -> None:
    store = SignalStore([SignalDef("x", history=4)])
    sig = store.signals["x"]
    assert sig.value_at(1.0) is None
    for t in (1.0, 2.0, 3.0):
        store.update("x", t * 10, t)
    assert sig.value_at(0.5) is None
    assert sig.value_at(2.5) == (2.0, 20.0)
    for t in (4.0, 5.0, 6.0):  # wraps: the ring now holds 3, 4, 5, 6
        store.update("x", t * 10, t)
    times, values = sig.history()
    assert list(times) == [3.0, 4.0, 5.0, 6.0] and list(values) == [30.0, 40.0, 50.0, 60.0]
    for t, expected in [
        (2.9, None),
        (3.0, (3.0, 30.0)),
        (4.5, (4.0, 40.0)),
        (5.0, (5.0, 50.0)),
        (9.0, (6.0, 60.0)),
    ]:
        assert sig.value_at(t) == expected, t
    store.update("x", "fault", 7.0)  # strings are gaps in the numeric history
    assert np.isnan(sig.history()[1][-1])


def test_the_ring_holds_numbers_as_doubles_and_refuses_what_is_not_one() -> None:
    store = SignalStore([SignalDef("x", history=3)])
    sig = store.signals["x"]
    for t, v in [(1.0, True), (2.0, 7), (3.0, 2**53 + 1)]:
        store.update("x", v, t)
    assert sig.numeric() == 2.0**53 and sig.value == 2**53 + 1
    times, values = sig.history()
    assert list(times) == [1.0, 2.0, 3.0] and list(values) == [1.0, 7.0, 2.0**53]
    with pytest.raises(OverflowError):  # the engine reports it; the ring keeps its place
        store.update("x", 10**400, 4.0)
    assert sig.head == 0 and list(sig.history()[1]) == [1.0, 7.0, 2.0**53]
    store.update("x", None, 5.0)
    assert np.isnan(sig.history()[1][-1]) and sig.numeric() is None


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.0]), st.floats(-1e3, 1e3) | st.none()),
        max_size=20,
    ),
    st.lists(st.floats(-1.0, 25.0), min_size=1, max_size=8),
)
def test_history_and_value_at_match_a_list_of_every_sample(
    capacity: int, seq: list[tuple[float, float | None]], probes: list[float]
) -> None:
    store = SignalStore([SignalDef("x", history=capacity)])
    sig = store.signals["x"]
    kept: list[tuple[float, float]] = []
    t = 0.0
    for gap, value in seq:
        t += gap
        store.update("x", value, t)
        kept = [*kept, (t, math.nan if value is None else value)][-capacity:]
    times, values = sig.history()
    assert repr(list(zip(times.tolist(), values.tolist(), strict=True))) == repr(kept)
    for probe in probes:
        before = [(kt, kv) for kt, kv in kept if kt <= probe]
        expected = before[-1] if before else None
        assert repr(sig.value_at(probe)) == repr(expected), probe
