"""The history ring: values in order, and lookups at a time before and after it wraps."""

from __future__ import annotations

import numpy as np

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
