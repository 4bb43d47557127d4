"""The console's top of page: GO's state, the standby cue, what is running, waiting
cues' stories, and the mappings and triggers panel.

Reads the runner's engine and never changes it. ``on_command`` listens to the
engine's commands to remember how each conditional GO ended (the engine itself
forgets once the cue is idle).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from cues.commands import Command, CueState, CueStateChanged, Report
from cues.model import CueDef, CueId, CueWait, GroupAction, MappingDef, ShowModel
from show.runtime.views import EngineView
from show.web.cuetext import describe_condition, describe_cue, describe_mapping, describe_trigger

__all__ = ["ConsoleView", "WaitOutcome"]

PLOT_POINTS = 60
_MAX_RUNNING = 8
_MAX_ROWS = 200  # mappings or triggers listed; a console is read by a person


def _num(v: object) -> float | str | bool | None:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, int | str | bool):
        return v
    return None


def _pinned(d: MappingDef, raw: float | None) -> str:
    """Whether a clamped mapping's input is beyond its input range."""
    if d.in_range is None or raw is None or not d.clamp:
        return ""
    lo, hi = sorted(d.in_range)
    if raw > hi:
        return "above its input range"
    if raw < lo:
        return "below its input range"
    return ""


@dataclass(slots=True)
class WaitOutcome:
    """How a conditional GO ended: ``succeeded``, ``timed out`` or ``stopped``."""

    result: str
    wall: float
    fallback: str = ""


class ConsoleView:
    """Builds the console snapshot's ``go``, ``standby``, ``running``, ``mappings`` and
    ``triggers`` parts, and the waiting story of each conditional cue."""

    def __init__(
        self,
        engine: EngineView,
        model: ShowModel,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.model = model
        self.wall = wall
        self._fires: dict[CueId, str] = {}
        self._waiting: set[CueId] = set()
        self.outcomes: dict[CueId, WaitOutcome] = {}
        self.panic_done_at: float | None = None
        self._panicked: set[str] = set()
        self._seen_on: set[str] = set()
        self._plots: dict[str, deque[float | None]] = {}
        self._plot_anchor = -math.inf

    # -- listening ---------------------------------------------------------------

    def on_command(self, cmd: Command) -> None:
        """Remember how waiting cues end and when a PANIC turned the mappings off."""
        if isinstance(cmd, CueStateChanged):
            cid = cmd.cue
            if cmd.state is CueState.WAITING:
                self._waiting.add(cid)
                self.outcomes.pop(cid, None)
            elif cid in self._waiting and cmd.state is not CueState.PAUSED:
                self._waiting.discard(cid)
                ok = cmd.state in (CueState.PREWAIT, CueState.RUNNING)
                self.outcomes[cid] = WaitOutcome("succeeded" if ok else "stopped", self.wall())
        elif isinstance(cmd, Report):
            if cmd.message.startswith("waited ") and cmd.subject in self.model.cues:
                cue = self.model.cues[CueId(cmd.subject)]
                fb = cue.wait.fallback if cue.wait is not None else None
                fallback = fb.split("/", 1)[-1] if fb else ""
                self.outcomes[cue.id] = WaitOutcome("timed out", self.wall(), fallback)
            elif cmd.subject == "PANIC" and cmd.message.startswith("fading"):
                on = {n for n, ms in self.engine.mappings.items() if ms.enabled}
                self._panicked = on | self._seen_on  # a zero-time panic has already run
            elif cmd.subject == "PANIC" and cmd.message.startswith("complete"):
                self.panic_done_at = self.wall()
            elif cmd.subject == "RESET":
                self.panic_done_at = None
                self._panicked = set()

    # -- cues --------------------------------------------------------------------

    def fires(self, cue: CueDef) -> str:
        """What GO on ``cue`` will fire (cached: the model is frozen)."""
        text = self._fires.get(cue.id)
        if text is None:
            text = self._fires[cue.id] = describe_cue(cue)
        return text

    def wait_story(self, cue: CueDef, now: float) -> dict[str, Any] | None:
        """The condition in words, its live value, the countdown, and how it ended."""
        wait = cue.wait
        if wait is None:
            return None
        cond = wait.condition
        run = self.engine.runs[cue.id]
        sig = self.engine.signals.get(cond.signal) if cond.signal else None
        story: dict[str, Any] = {
            "condition": describe_condition(cond),
            "value": _num(sig.value) if sig is not None else None,
            "unit": sig.definition.unit if sig is not None else "",
            "health": sig.health.value if sig is not None else "",
            "timeout": wait.timeout,
            "fallback": wait.fallback.split("/", 1)[-1] if wait.fallback else "",
            "remaining": None,
            "hold": wait.hold,
            "held_for": None,
        }
        if run.state is CueState.WAITING and run.wait_since is not None:
            story["held_for"] = round(max(0.0, now - run.wait_since), 1)
        if run.state is CueState.WAITING and run.wait_deadline is not None:
            story["remaining"] = round(max(0.0, run.wait_deadline - now), 2)
        elif run.state is CueState.PAUSED and run.wait_deadline is not None and run.paused_at:
            story["remaining"] = round(max(0.0, run.wait_deadline - run.paused_at), 2)
        out = self.outcomes.get(cue.id)
        if out is not None and run.state is not CueState.WAITING:
            story["outcome"] = {"result": out.result, "at": out.wall, "fallback": out.fallback}
        return story

    def standby(self) -> list[dict[str, Any]]:
        """The cue on standby in each list, with what it will fire."""
        out = []
        for cl in self.model.cue_lists:
            cid = self.engine.playhead(cl.name)
            if cid is None:
                out.append({"list": cl.name, "number": None})
                continue
            cue = self.engine.cues[cid]
            item: dict[str, Any] = {
                "list": cl.name,
                "number": cue.number,
                "name": cue.name,
                "type": cue.kind.value,
                "notes": cue.notes,
                "fires": self.fires(cue),
                "armed": self.engine.runs[cid].armed,
            }
            if cue.wait is not None:
                item["waits_for"] = _waits_for(cue.wait)
            if isinstance(cue.action, GroupAction):
                item["children"] = [
                    {
                        "number": self.engine.cues[c].number,
                        "name": self.engine.cues[c].name,
                        "fires": self.fires(self.engine.cues[c]),
                    }
                    for c in cue.action.children[:6]
                ]
            out.append(item)
        return out

    def running(self, now: float) -> list[dict[str, Any]]:
        """Cues that are not idle, with elapsed and remaining time (top-level first)."""
        rows = []
        runs = self.engine.runs
        for cid in self.engine.running_cues():  # the engine keeps them: no scan of all
            run = runs[cid]
            cue = run.cue
            t = run.paused_at if run.state is CueState.PAUSED and run.paused_at else now
            remaining: float | None = None
            if run.state is CueState.WAITING and run.wait_deadline is not None:
                remaining = run.wait_deadline - t
            elif run.action_at is None:
                remaining = run.started_at + cue.prewait - t
            elif not run.action_done and run.action_end is not None:
                remaining = run.action_end - t
            elif run.continue_at is not None:
                remaining = run.continue_at - t
            rows.append(
                {
                    "list": cid.split("/", 1)[0],
                    "number": cue.number,
                    "name": cue.name,
                    "type": cue.kind.value,
                    "state": run.state.value,
                    "depth": 0 if cue.parent is None else 1,
                    "elapsed": round(max(0.0, t - run.started_at), 1),
                    "remaining": None if remaining is None else round(max(0.0, remaining), 1),
                }
            )
        rows.sort(key=lambda r: (r["depth"], r["elapsed"]))
        return rows[:_MAX_RUNNING]

    def go_state(self, now: float) -> dict[str, Any]:
        """Whether GO is allowed now, and if not why and for how long."""
        e = self.engine
        if e.panic_until is not None:
            left = max(0.0, e.panic_until - now)
            return {
                "state": "panic",
                "allowed": False,
                "reason": f"PANIC: fading out, GO refused for {left:.1f} s",
                "remaining": round(left, 2),
            }
        guard = e.go_guard_left(now)
        if guard > 0:
            return {
                "state": "guard",
                "allowed": False,
                "reason": f"double-GO guard: {guard:.1f} s",
                "remaining": round(guard, 2),
            }
        runs = e.runs
        for cid in e.running_cues():  # waiting cues are among them, in show order
            run = runs[cid]
            cue = run.cue
            if run.state is CueState.WAITING and cue.wait is not None:
                until = run.wait_deadline
                wait_left = None if until is None else max(0.0, until - now)
                when = f", {wait_left:.0f} s left" if wait_left is not None else ""
                return {
                    "state": "waiting",
                    "allowed": True,
                    "reason": f"cue {cue.number} waits for {describe_condition(cue.wait.condition)}"
                    f"{when}",
                    "remaining": None if wait_left is None else round(wait_left, 1),
                }
        if all(e.playhead(cl.name) is None for cl in self.model.cue_lists[:1]):
            return {"state": "end", "allowed": True, "reason": "end of the list", "remaining": None}
        return {"state": "ready", "allowed": True, "reason": "ready", "remaining": None}

    # -- mappings and triggers -------------------------------------------------------

    def _sample_plots(self, now: float) -> None:
        anchor = math.floor(now)
        if anchor == self._plot_anchor:
            return
        steps = 1 if self._plot_anchor == -math.inf else int(min(anchor - self._plot_anchor, 60))
        self._plot_anchor = anchor
        for name, ms in islice(self.engine.mappings.items(), _MAX_ROWS):
            plot = self._plots.get(name)
            if plot is None:
                plot = self._plots[name] = deque([None] * PLOT_POINTS, maxlen=PLOT_POINTS)
            value = ms.last_sent if ms.enabled and ms.last_sent is not None else None
            for _ in range(max(1, steps) - 1):
                plot.append(None)  # no console was watching: a gap, not a made-up line
            plot.append(None if value is None or not math.isfinite(value) else round(value, 4))

    def mappings(self, now: float) -> dict[str, Any]:
        """Every mapping's input, output, armed state and last minute of output."""
        self._sample_plots(now)
        mappings = self.engine.mappings
        self._seen_on = {n for n, ms in mappings.items() if ms.enabled}
        signals = self.engine.signals
        panicking = self.engine.panic_until is not None
        rows = []
        for name, ms in islice(mappings.items(), _MAX_ROWS):
            d = ms.definition
            sig = signals.get(d.signal)
            if ms.enabled and panicking:
                state = "fading (PANIC)"
            elif ms.enabled:
                state = "on"
            elif self.panic_done_at is not None and name in self._panicked:
                state = "off (PANIC)"
            else:
                state = "off"
            rows.append(
                {
                    "name": name,
                    "describe": describe_mapping(d),
                    "signal": d.signal,
                    "input": _num(sig.value) if sig is not None else None,
                    "input_unit": sig.definition.unit if sig is not None else "",
                    "input_health": sig.health.value if sig is not None else "lost",
                    "output": _num(ms.last_sent),
                    "out_range": list(d.out_range) if d.out_range else None,
                    "level": round(ms.level, 3),
                    "enabled": ms.enabled,
                    "state": state,
                    "pinned": _pinned(d, ms.raw),
                    "sent": ms.sent,
                    "plot": list(self._plots[name]),
                }
            )
        return {
            "panic_off_at": self.panic_done_at,
            "all_off": bool(rows) and not self._seen_on,
            "rows": rows,
            "more": max(0, len(mappings) - _MAX_ROWS),
        }

    def triggers(self, now: float) -> list[dict[str, Any]]:
        """Every trigger's state, live value and last firing."""
        rows = []
        signals = self.engine.signals
        for name, ts in islice(self.engine.triggers.items(), _MAX_ROWS):
            d = ts.definition
            sig = signals.get(d.condition.signal)
            if not ts.enabled:
                state = "disarmed"
            elif ts.fired:
                state = "fired"
            elif ts.holding:
                state = "holding"
            else:
                state = "armed"
            ago = now - ts.last_fired if math.isfinite(ts.last_fired) else None
            rows.append(
                {
                    "name": name,
                    "describe": describe_trigger(d),
                    "state": state,
                    "value": _num(sig.value) if sig is not None else None,
                    "unit": sig.definition.unit if sig is not None else "",
                    "holding_for": round(now - ts.since, 1) if ts.holding else None,
                    "hold": d.hold,
                    "fired": ts.fire_count,
                    "last_fired_ago": None if ago is None else round(ago, 1),
                }
            )
        return rows


def _waits_for(wait: CueWait) -> str:
    """A conditional GO in words: the condition, the timeout and the fallback."""
    to = f", at most {wait.timeout:g} s" if wait.timeout else ""
    fb = f" then fallback {wait.fallback.split('/', 1)[-1]}" if wait.fallback else ""
    return f"{describe_condition(wait.condition)}{to}{fb}"
