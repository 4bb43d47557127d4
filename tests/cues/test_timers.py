"""The timer queue alone: order, validity checked as timers are taken, lazy deletion."""

from __future__ import annotations

import math

from cues.timers import TimerKind, TimerQueue


class Owner:
    """A timer owner whose generations the test moves by hand."""

    def __init__(self) -> None:
        self.gen: dict[str, int] = {}
        self.asked = 0

        self.ran: list[tuple[TimerKind, str, float]] = []

    def valid(self, key: str, gen: int) -> bool:
        self.asked += 1
        return self.gen.get(key) == gen

    def run(self, kind: TimerKind, key: str, due: float) -> None:
        self.ran.append((kind, key, due))


def _queue(owner: Owner) -> TimerQueue:
    q = TimerQueue()
    q.own(TimerKind, owner.valid, owner.run)
    return q


def test_timers_come_out_by_due_time_then_in_the_order_they_were_set() -> None:
    owner = Owner()
    owner.gen = {"a": 0, "b": 0, "c": 0}
    q = _queue(owner)
    q.push(2.0, TimerKind.END, "a", 0)
    q.push(1.0, TimerKind.ACTION, "b", 0)
    q.push(1.0, TimerKind.FADE, "c", 0)
    assert q.next_due() == 1.0
    assert q.pop_due(5.0) == (1.0, TimerKind.ACTION, "b")
    assert q.pop_due(5.0) == (1.0, TimerKind.FADE, "c")
    assert q.pop_due(1.5) is None  # not due yet
    assert q.pop_due(2.0) == (2.0, TimerKind.END, "a")
    assert q.pop_due(9.0) is None
    assert q.next_due() is None


def test_a_stale_timer_is_skipped_and_dropped() -> None:
    owner = Owner()
    owner.gen = {"a": 1, "b": 0}
    q = _queue(owner)
    q.push(1.0, TimerKind.END, "a", 0)  # set under an older generation: stale
    q.push(2.0, TimerKind.END, "b", 0)
    assert q.next_due() == 2.0
    assert len(q) == 1  # the stale one is gone
    assert q.pop_due(3.0) == (2.0, TimerKind.END, "b")


def test_validity_is_checked_when_a_timer_is_taken_not_when_it_was_set() -> None:
    owner = Owner()
    owner.gen = {"a": 0, "b": 0}
    q = _queue(owner)
    q.push(1.0, TimerKind.END, "a", 0)
    q.push(1.0, TimerKind.END, "b", 0)
    assert q.pop_due(1.0) == (1.0, TimerKind.END, "a")
    owner.gen["b"] = 1  # what "a" did made "b" stale
    assert q.pop_due(1.0) is None
    assert len(q) == 0


def test_head_is_a_cheap_lower_bound_stale_timers_included() -> None:
    owner = Owner()
    q = _queue(owner)
    assert q.head == math.inf
    q.push(3.0, TimerKind.HOLD, "a", 0)
    q.push(1.0, TimerKind.HOLD, "b", 0)
    assert q.head == 1.0
    asked = owner.asked
    assert q.head <= 1.0  # reading it asks no owner
    assert owner.asked == asked
    owner.gen = {"a": 0}  # "b" is stale now
    assert q.next_due() == 3.0
    assert q.head == 3.0


def test_drop_keys_removes_every_timer_of_those_keys() -> None:
    owner = Owner()
    owner.gen = {"a": 0, "b": 0}
    q = _queue(owner)
    q.push(1.0, TimerKind.END, "a", 0)
    q.push(2.0, TimerKind.NOTICE, "a", 0)
    q.push(3.0, TimerKind.END, "b", 0)
    q.drop_keys({"a"})
    assert len(q) == 1
    assert q.head == 3.0
    assert q.pop_due(5.0) == (3.0, TimerKind.END, "b")
    q.drop_keys(set())
    assert q.head == math.inf


def test_run_due_runs_each_owners_timers_in_order_and_checks_again_after_each() -> None:
    owner, other = Owner(), Owner()
    owner.gen = {"a": 0, "b": 0}
    other.gen = {"p": 0}
    q = TimerQueue()
    q.own([TimerKind.END, TimerKind.ACTION], owner.valid, owner.run)
    q.own([TimerKind.PANIC], other.valid, other.run)
    q.push(1.0, TimerKind.END, "a", 0)
    q.push(1.5, TimerKind.PANIC, "p", 0)
    q.push(2.0, TimerKind.ACTION, "b", 0)
    q.push(9.0, TimerKind.END, "a", 0)
    after: list[int] = []

    def after_each() -> None:
        after.append(len(owner.ran) + len(other.ran))
        owner.gen["b"] = 1  # the first timer makes "b" stale

    q.run_due(5.0, after_each)
    assert owner.ran == [(TimerKind.END, "a", 1.0)]
    assert other.ran == [(TimerKind.PANIC, "p", 1.5)]
    assert after == [1, 2]
    assert q.next_due() == 9.0


def test_a_timer_not_yet_due_is_not_asked_about() -> None:
    owner = Owner()
    owner.gen = {"a": 0}
    q = _queue(owner)
    q.push(5.0, TimerKind.END, "a", 0)
    assert q.pop_due(1.0) is None
    assert owner.asked == 0


def test_timer_kinds_keep_their_names() -> None:
    assert [k.value for k in TimerKind] == [
        "action",
        "end",
        "continue",
        "fade",
        "timeout",
        "hold",
        "notice",
        "panic",
    ]
