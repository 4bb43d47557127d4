"""When each continuous mapping runs: the mappings' states and their send schedule.

A mapping runs when its rate limit allows (``MappingState.due``) after something moved
it: a new sample, a level change, being switched on, a filter still settling. The
schedule holds ``(due time, name)`` entries with one live entry per mapping, the one
whose time matches ``_due``; the others are stale and dropped lazily, when they come
first. Entries planned by a sample go on a list, sorted when it is read (a sample-driven
show plans a whole frame's mappings at once, mostly in order); the others go on a heap.
Mappings run in ``(due time, name)`` order across both, as from one heap.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping

from cues.commands import Outbox
from cues.mappings import MappingState, target_command
from cues.model import Health, MappingDef
from cues.signals import Signal

__all__ = ["MappingScheduler"]

_LIVE = Health.LIVE  # read once (a member read through its class costs about 70 ns)
_heappush, _heappop = heapq.heappush, heapq.heappop


def _first_due(heap: list[tuple[float, str]], now: float) -> bool:
    """Whether the first entry of ``heap`` is due at ``now``."""
    return bool(heap) and heap[0][0] <= now


def fresh_states(definitions: Iterable[MappingDef]) -> dict[str, MappingState]:
    """Mapping states as the show file defines them."""
    return {
        m.name: MappingState(definition=m, enabled=m.enabled, level=m.level) for m in definitions
    }


class MappingScheduler:
    """Owns the mappings' states; feeds them samples and runs them when due.

    ``states`` is for reading (the console shows it); changes go through the methods,
    which keep the schedule right.
    """

    def __init__(self, definitions: Iterable[MappingDef], outbox: Outbox) -> None:
        defs = tuple(definitions)
        self._outbox = outbox
        self._heap: list[tuple[float, str]] = []  # planned by mark and by settling
        self._fed: list[tuple[float, str]] = []  # planned by feed, sorted when read
        self._fed_sorted = True
        self._due: dict[str, float] = {}
        self.states: dict[str, MappingState] = fresh_states(defs)
        self._by_signal: dict[str, list[tuple[str, MappingState]]] = {}
        self._index(defs)

    def _index(self, definitions: Iterable[MappingDef]) -> None:
        self._by_signal = {}
        for m in definitions:
            self._by_signal.setdefault(m.signal, []).append((m.name, self.states[m.name]))

    # -- inputs ----------------------------------------------------------------------

    def feed(self, sig: Signal) -> None:
        """A signal changed: the mappings it feeds take its value and health and run
        when their rate limit allows (a queued mapping is never made due sooner)."""
        fed = self._by_signal.get(sig.name)
        if not fed:
            return
        value = sig.value
        if type(value) is not float:  # a float is its own number: no call for the usual
            value = sig.numeric()
        due_of, planned = self._due, self._fed
        stale = sig.health is not _LIVE
        for name, ms in fed:
            ms.stale = stale
            if value is not None:
                ms.raw = value
            if ms.enabled and name not in due_of:
                due = ms.last_send_time + ms.interval  # ms.due(), without the call
                due_of[name] = due
                planned.append((due, name))
                self._fed_sorted = False

    def mark(self, name: str) -> None:
        """Run ``name`` when its rate limit allows (sooner than already planned)."""
        due = self.states[name].due()
        current = self._due.get(name)
        if current is None or due < current:
            self._due[name] = due
            _heappush(self._heap, (due, name))

    def unmark(self, name: str) -> None:
        """Take ``name`` off the schedule."""
        self._due.pop(name, None)

    def set_enabled(self, name: str, on: bool) -> None:
        """Switch a mapping on (its value goes out again) or off."""
        self.states[name].set_enabled(on)
        if on:
            self.mark(name)
        else:
            self.unmark(name)

    def set_level(self, name: str, level: float) -> None:
        """A fade moved a mapping's level; an enabled mapping sends the new product."""
        ms = self.states[name]
        ms.level = level
        if ms.enabled:
            self.mark(name)

    def force_level(self, name: str, level: float) -> None:
        """Set a level and send it at once, whatever the rate limit (a panic's fade)."""
        ms = self.states[name]
        ms.level = level
        ms.last_send_time = -math.inf
        self.mark(name)

    def flush(self, name: str, now: float) -> None:
        """Send a mapping's current value now, whatever its rate limit says."""
        ms = self.states[name]
        if not ms.enabled:
            return
        ms.last_send_time = -math.inf
        cmd, _ = ms.step(now)
        if cmd is not None:
            self._outbox.emit(cmd)

    # -- running ---------------------------------------------------------------------

    def _sorted_fed(self) -> list[tuple[float, str]]:
        """The entries planned by samples, in order, stale ones at the front dropped."""
        fed, due_of = self._fed, self._due
        if not self._fed_sorted:
            fed.sort()
            self._fed_sorted = True
        stale = 0
        for due, name in fed:
            if due_of.get(name) == due:
                break
            stale += 1
        if stale:
            del fed[:stale]
        return fed

    def next_due(self) -> float | None:
        """When the next mapping is due, or None. Drops stale entries that come first."""
        heap, due_of = self._heap, self._due
        while heap:
            due, name = heap[0]
            if due_of.get(name) == due:
                break
            _heappop(heap)
        if self._fed:
            fed = self._sorted_fed()
            if fed and not (heap and heap[0] < fed[0]):
                return fed[0][0]
        return heap[0][0] if heap else None

    def run(self, now: float) -> None:
        """Run every mapping due at or before ``now``, in ``(due time, name)`` order; one
        still settling is scheduled again for its next rate interval."""
        heap = self._heap
        if self._fed or (heap and heap[0][0] <= now):
            self._run_due(now)

    def _run_due(self, now: float) -> None:
        heap, fed, due_of, states = self._heap, self._sorted_fed(), self._due, self.states
        out = self._outbox.items
        taken, planned = 0, len(fed)
        # whether the heap's first entry is due; while it is not, a due entry of the list
        # comes first without a comparison (kept up to date after every pop and push)
        heap_due = _first_due(heap, now)
        while True:  # the first entry of the two, as one heap would give it
            if taken < planned and not (heap_due and heap[0] < fed[taken]):
                due, name = fed[taken]
                if due > now:
                    break
                taken += 1
            elif heap_due:
                due, name = _heappop(heap)
                heap_due = _first_due(heap, now)
            else:
                break  # a stale entry left here is dropped later
            if due_of.get(name) != due:
                continue  # stale: the mapping was taken off or planned again
            del due_of[name]
            ms = states[name]
            if not ms.enabled:
                continue
            if now < ms.last_send_time + ms.interval:  # now < ms.due()
                self.mark(name)  # pushes: the heap is not empty
                heap_due = heap[0][0] <= now
                continue
            cmd, settling = ms.step(now)
            if cmd is not None:
                out.append(cmd)
            if settling:
                self._again(name, ms, now)  # pushes: the heap is not empty
                heap_due = heap[0][0] <= now
        del fed[:taken]

    def _again(self, name: str, ms: MappingState, now: float) -> None:
        """Plan a settling mapping's next run, one rate interval after its last send."""
        if ms.last_send_time < now:
            ms.last_send_time = now
        again = ms.last_send_time + ms.interval
        self._due[name] = again
        _heappush(self._heap, (again, name))

    # -- panic, reset and reload -----------------------------------------------------

    def enabled_levels(self) -> dict[str, float]:
        """The level of every enabled mapping, by name."""
        return {name: ms.level for name, ms in self.states.items() if ms.enabled}

    def silence(self) -> None:
        """Send zero to every enabled mapping's target that last had something else, and
        clear the schedule (a panic's end)."""
        for ms in self.states.values():
            if ms.enabled and ms.last_sent is not None and ms.last_sent != 0.0:
                cmd = target_command(ms.definition.target, 0.0)
                if cmd is not None:
                    self._outbox.emit(cmd)
                ms.last_sent = 0.0
        self._due.clear()

    def disable_all(self) -> None:
        """Switch every mapping off, at its show-file level."""
        for name, ms in self.states.items():
            ms.enabled = False
            ms.level = ms.definition.level
            self.unmark(name)

    def reset(self) -> None:
        """Every mapping back to its state at load; enabled ones run again."""
        for ms in self.states.values():
            ms.reset()
            if ms.enabled:
                self.mark(ms.definition.name)

    def replace(
        self, states: Mapping[str, MappingState], definitions: Iterable[MappingDef]
    ) -> None:
        """Run ``states`` from now on (a reload); a mapping that is gone leaves the
        schedule, an enabled one that is new (not carried over) is scheduled."""
        old = self.states
        for name in old.keys() - states.keys():
            self._due.pop(name, None)
        self.states = dict(states)
        defs = tuple(definitions)
        self._index(defs)
        for m in defs:
            ms = self.states[m.name]
            if ms.enabled and ms is not old.get(m.name):
                self.mark(m.name)
