"""Snapshots of the running show for the web pages (shapes in ``docs/web.md``).

Built once per broadcast tick by the web server, on the event loop; everything
here reads runner state and never changes it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from fnmatch import fnmatchcase, translate
from typing import Any

import numpy as np
from orjson import Fragment

from cues.commands import CueState
from cues.model import CueDef, CueId, CueKind, CueListDef
from show.runtime.runner import ShowRunner
from show.runtime.views import CueRunView, RunnerView, SignalView
from show.web.consoleview import ConsoleView
from show.web.healthline import (
    Chip,
    RefusalRate,
    output_chip,
    refused_chip,
    renderer_chip,
    source_chip,
)
from show.web.protocol import encode_message_bytes

__all__ = ["DEFAULT_PANELS", "Snapshots"]

_IDLE = CueState.IDLE

FRAGMENTS_PER_TICK = 256
"""Idle cue rows encoded ahead (as ``orjson.Fragment``) per console tick at most: a show
of thousands of cues, just loaded or reloaded, spreads that work over a few ticks
instead of holding the loop for all of it in one."""

log = logging.getLogger(__name__)

HISTORY_POINTS = 60
HISTORY_PERIOD = 1.0
_CONSOLE_SIGNALS_PER_SOURCE = 200


def _axis(panel: dict[str, Any]) -> dict[str, Any]:
    """A panel's declared chart range and minimum span, when the show file gives them."""
    out: dict[str, Any] = {}
    rng = panel.get("range")
    if isinstance(rng, list) and len(rng) == 2 and all(isinstance(v, int | float) for v in rng):
        out["range"] = [float(rng[0]), float(rng[1])]
    span = panel.get("min_span")
    if isinstance(span, int | float) and not isinstance(span, bool) and span > 0:
        out["min_span"] = float(span)
    return out


def _point(found: tuple[float, float] | None) -> float | None:
    if found is None or not math.isfinite(found[1]):
        return None
    return round(found[1], 4)


def _number(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: Most signal panels a dashboard gets when the show file lists none.
DEFAULT_PANELS = 24

_BACKUP_GO = {
    "state": "backup",
    "allowed": False,
    "reason": "tracking backup: GO on the main, or TAKEOVER",
    "remaining": None,
}


class Snapshots:
    """Builds the public and console snapshots of one runner."""

    def __init__(self, runner: ShowRunner, tail: Any = None, extra_outputs: Any = None) -> None:
        self.runner = RunnerView(runner)
        self.tail = tail
        self.extra_outputs = extra_outputs or []
        self._rates: dict[str, tuple[float, int, float]] = {}
        self._layout_cache: tuple[int, list[dict[str, Any]], set[str]] | None = None
        self._histories: dict[str, tuple[float, list[float | None]]] = {}
        self._texts = dict(runner.show.web.texts)
        self._public_anchor = -math.inf
        self.view = ConsoleView(self.runner.engine, runner.show.model)
        self.runner.listen(self.view.on_command)
        self._refusals: dict[str, RefusalRate] = {}
        # an idle cue's row, as a dict and as encoded JSON, until it changes
        self._idle_rows: dict[CueId, tuple[CueDef, bool, dict[str, Any], Fragment | None]] = {}
        self._orders: dict[str, tuple[CueListDef, tuple[tuple[CueId, int], ...]]] = {}

    # -- public ------------------------------------------------------------------

    def _layout(self) -> tuple[list[dict[str, Any]], set[str]]:
        """The dashboard's panels and the signals they show; signals are only ever
        added, so this is rebuilt only when their number changes."""
        count = len(self.runner.engine.signals)
        if self._layout_cache is None or self._layout_cache[0] != count:
            self._layout_cache = (count, *self._build_layout())
        return self._layout_cache[1], self._layout_cache[2]

    def _build_layout(self) -> tuple[list[dict[str, Any]], set[str]]:
        r = self.runner
        signals = r.engine.signals
        names = set(signals)
        used: set[str] = set()
        layout: list[dict[str, Any]] = []
        panels = list(r.show.web.panels) or self._default_panels()
        for panel in panels:
            kind = panel.get("kind")
            title = str(panel.get("title", ""))
            if kind == "balance":
                sigs = {k: panel[k] for k in ("supply", "demand", "exchange") if k in panel}
                used.update(sigs.values())
                layout.append(
                    {
                        "kind": "balance",
                        "title": title,
                        "unit": panel.get("unit", "kW"),
                        "signals": sigs,
                        **_axis(panel),
                    }
                )
            elif kind == "stoves":
                temp = str(panel.get("temperature", "*.temp_c"))
                state = str(panel.get("state", "*.state"))
                regex = re.compile(translate(temp).replace(".*", "(.*)", 1))
                stoves = []
                for name in sorted(names):
                    m = regex.fullmatch(name)
                    if not m:
                        continue
                    key = m.group(1) if m.groups() else name
                    state_name = state.replace("*", key, 1)
                    stoves.append(
                        {
                            "label": key,
                            "state": state_name,
                            "temperature": name,
                            "unit": panel.get("unit", "°C"),
                        }
                    )
                    used.update((name, state_name))
                layout.append({"kind": "stoves", "title": title, "stoves": stoves, **_axis(panel)})
            elif kind in ("signal", "chart"):
                sig = str(panel.get("signal", ""))
                matched = [n for n in sorted(names) if fnmatchcase(n, sig)] or [sig]
                for n in matched:
                    used.add(n)
                    defn = signals.get(n)
                    layout.append(
                        {
                            "kind": "signal",
                            "signal": n,
                            "label": panel.get("label")
                            or (defn.definition.label if defn else "")
                            or n,
                            "unit": panel.get("unit") or (defn.definition.unit if defn else ""),
                            "decimals": int(panel.get("decimals", 1)),
                            "title": title,
                            **_axis(panel),
                        }
                    )
            elif kind in ("messages", "alerts"):
                layout.append({"kind": "messages", "title": title or "Messages"})
        return layout, used

    def _default_panels(self) -> list[dict[str, Any]]:
        """Without ``[dashboard]`` panels: one per declared and derived signal, at most
        :data:`DEFAULT_PANELS` of them (a show with hundreds of signals would otherwise
        build and send hundreds of panels to every phone, every tick), then messages."""
        model = self.runner.show.model
        names = [d.name for d in model.signals if not any(c in d.name for c in "*?[")]
        names += [d.name for d in model.derived]
        if len(names) > DEFAULT_PANELS:
            log.warning(
                "dashboard: %d signals and no [dashboard] panels; showing the first %d"
                " (list the panels the audience should see in [[dashboard.panels]])",
                len(names),
                DEFAULT_PANELS,
            )
            names = names[:DEFAULT_PANELS]
        panels: list[dict[str, Any]] = [{"kind": "signal", "signal": n} for n in names]
        panels.append({"kind": "messages"})
        return panels

    def _signal(self, sig: SignalView, now: float, history: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": _number(sig.value),
            "unit": sig.definition.unit,
            "health": sig.health.value,
            "age": round(now - sig.time, 2) if math.isfinite(sig.time) else None,
        }
        if history:
            out["history"] = self._history(sig, now)
        return out

    def _history(self, sig: SignalView, now: float) -> list[float | None]:
        """The last minute at one point per period, on a grid aligned to the period.

        Each signal's history changes once per period; when the grid moves on by a few
        periods only the new points are looked up (a search in the signal's ring each),
        so the second in which every history moves costs little more than the others.
        """
        anchor = math.floor(now / HISTORY_PERIOD) * HISTORY_PERIOD
        cached = self._histories.get(sig.name)
        if cached is not None and cached[0] == anchor:
            return cached[1]
        steps = round((anchor - cached[0]) / HISTORY_PERIOD) if cached is not None else 0
        if cached is not None and len(cached[1]) == HISTORY_POINTS and 0 < steps < 8:
            points = cached[1][steps:]
            for k in range(steps - 1, -1, -1):
                points.append(_point(sig.value_at(anchor - k * HISTORY_PERIOD)))
        else:
            points = self._resample(sig, anchor)
        self._histories[sig.name] = (anchor, points)
        return points

    @staticmethod
    def _resample(sig: SignalView, anchor: float) -> list[float | None]:
        times, values = sig.history()
        if not times.size:
            return []
        grid = anchor - HISTORY_PERIOD * np.arange(HISTORY_POINTS - 1, -1, -1)
        idx = np.searchsorted(times, grid, side="right") - 1
        picked = np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan)
        return [None if not math.isfinite(v) else round(float(v), 4) for v in picked]

    def public(self) -> dict[str, Any]:
        """The dashboard's snapshot."""
        r = self.runner
        now = r.now()
        layout, used = self._layout()
        signals = r.engine.signals
        # histories change once per period: they ride on the first snapshot of each
        # period only, and the page keeps the last one it got
        anchor = math.floor(now / HISTORY_PERIOD)
        with_history = anchor != self._public_anchor
        self._public_anchor = anchor
        out_signals = {
            name: self._signal(signals[name], now, with_history)
            for name in sorted(used)
            if name in signals
        }
        notices = r.notices.values()
        alerts = [
            {"id": n.id, "text": n.text, "level": "critical"} for n in notices if n.level == "alert"
        ]
        messages = [
            {"id": n.id, "text": n.text, "level": n.level} for n in notices if n.level != "alert"
        ]
        show = r.show
        return {
            "title": show.web.title or show.model.title,
            "history_period_s": HISTORY_PERIOD,
            "text": self._texts,
            "layout": layout,
            "signals": out_signals,
            "alerts": alerts,
            "messages": messages,
        }

    # -- console ----------------------------------------------------------------------

    def _rate(self, source: str, samples: int, now: float) -> float:
        """Samples per second over the last second or more (0 once a source goes quiet)."""
        t0, n0, rate = self._rates.get(source, (now, samples, 0.0))
        if now - t0 >= 1.0:
            rate = (samples - n0) / (now - t0)
            t0, n0 = now, samples
        self._rates[source] = (t0, n0, rate)
        return rate

    def _display_order(self, cl: CueListDef) -> tuple[tuple[CueId, int], ...]:
        """Every cue of ``cl`` with its depth, in the console's row order (a group, then
        its children); worked out once per cue list of a loaded show (edits cannot
        change a group's members, a reload makes new lists)."""
        cached = self._orders.get(cl.name)
        if cached is not None and cached[0] is cl:
            return cached[1]
        cues = self.runner.engine.cues
        order: list[tuple[CueId, int]] = []

        def walk(ids: tuple[CueId, ...], depth: int) -> None:
            for cid in ids:
                order.append((cid, depth))
                cue = cues[cid]
                if cue.kind is CueKind.GROUP:
                    walk(cue.children, depth + 1)

        walk(cl.cues, 0)
        self._orders[cl.name] = (cl, tuple(order))
        return self._orders[cl.name][1]

    def _cue_rows(self, cl: CueListDef, now: float, wire: bool) -> list[dict[str, Any] | Fragment]:
        rows: list[dict[str, Any] | Fragment] = []
        append = rows.append
        engine = self.runner.engine
        cues, runs = engine.cues, engine.runs
        idle = self._idle_rows
        budget = FRAGMENTS_PER_TICK if wire else 0
        for cid, depth in self._display_order(cl):
            cue = cues[cid]
            run = runs[cid]
            if run.state is not _IDLE or cue.wait is not None:
                append(self._cue_row(cue, run, depth, now))
                continue
            # an idle cue's row does not change from tick to tick: built once, until the
            # cue is edited or reloaded (a new object), armed or disarmed; encoded once
            # when it is used again, a bounded number per tick
            cached = idle.get(cid)
            if cached is None or cached[0] is not cue or cached[1] != run.armed:
                row = self._cue_row(cue, run, depth, now)
                idle[cid] = (cue, run.armed, row, None)
                append(row)
                continue
            fragment = cached[3]
            if fragment is None and budget:
                budget -= 1
                fragment = Fragment(encode_message_bytes(cached[2]))
                idle[cid] = (*cached[:3], fragment)
            append(fragment if wire and fragment is not None else cached[2])
        return rows

    def _cue_row(self, cue: CueDef, run: CueRunView, depth: int, now: float) -> dict[str, Any]:
        """One row of the console's cue list."""
        pre, act, post = run.phases(now)
        state = run.state.value
        if not run.armed:
            state = "disarmed" if run.state is CueState.IDLE else state
        row: dict[str, Any] = {
            "number": cue.number,
            "name": cue.name,
            "type": cue.kind.value,
            "state": state,
            "depth": depth,
            "continue": cue.continue_mode.value,
            "prewait": {"elapsed": round(pre.elapsed, 2), "total": pre.total},
            "action": {"elapsed": round(act.elapsed, 2), "total": act.total},
            "postwait": {"elapsed": round(post.elapsed, 2), "total": post.total},
        }
        if cue.wait is not None:
            row["wait"] = self.view.wait_story(cue, now)
        return row

    def console(self, wire: bool = False) -> dict[str, Any]:
        """The operator console's snapshot; ``wire``: the rows of idle cues as the JSON
        they were encoded to once (for the broadcaster, which encodes each tick), not
        as dicts."""
        r = self.runner
        engine = r.engine
        now = r.now()
        source_stats = r.source_stats()
        sources = self._sources(source_stats, now)
        chips = self._source_chips(sources, source_stats, now)
        self._refused_samples(sources, chips, now)
        outputs = self._outputs()
        status = r.renderer()
        renderer = status.row() if status is not None else {"state": "none"}
        chips += [output_chip(o) for o in outputs]
        rchip = renderer_chip(renderer)
        if rchip is not None:
            chips.append(rchip)
        return {
            "title": r.model.title,
            "cue_lists": self._cue_lists(now, wire),
            "sources": sources,
            "outputs": outputs,
            "renderer": renderer,
            "log": list(self.tail.lines)[-40:] if self.tail is not None else [],
            "go_guard": {
                "min_interval": engine.min_go_interval,
                "remaining": round(engine.go_guard_left(now), 3),
            },
            "panic": engine.panic_until is not None,
            "go": _BACKUP_GO if r.following else self.view.go_state(now),
            "standby": self.view.standby(),
            "running": self.view.running(now),
            "health": chips,
            "mappings": self.view.mappings(now),
            "triggers": self.view.triggers(now),
        }

    def _cue_lists(self, now: float, wire: bool) -> list[dict[str, Any]]:
        engine = self.runner.engine
        lists = []
        for cl in self.runner.model.cue_lists:
            head = engine.playhead(cl.name)
            lists.append(
                {
                    "name": cl.name,
                    "playhead": engine.cues[head].number if head else None,
                    "cues": self._cue_rows(cl, now, wire),
                }
            )
        return lists

    def _sources(
        self, source_stats: Mapping[str, Mapping[str, Any]], now: float
    ) -> list[dict[str, Any]]:
        """Each source (and ``derived``) with its signals, at most
        ``_CONSOLE_SIGNALS_PER_SOURCE`` each."""
        r = self.runner
        by_source: dict[str, list[dict[str, Any]]] = {}
        for name, sig in sorted(r.engine.signals.items()):
            rows = by_source.setdefault(sig.source or "derived", [])
            if len(rows) < _CONSOLE_SIGNALS_PER_SOURCE:
                rows.append({"name": name, **self._signal(sig, now, False)})
        sources = []
        for name in sorted(set(r.sources) | set(by_source)):
            info = r.sources.get(name)
            st = source_stats.get(name, {})
            sources.append(
                {
                    "name": name,
                    "status": info.status if info else "derived",
                    "detail": info.detail if info else "",
                    "rate_hz": round(self._rate(name, info.samples, now), 1) if info else 0.0,
                    "rejected": st.get("rejected_total", 0),
                    "signals": by_source.get(name, []),
                }
            )
        return sources

    def _source_chips(
        self,
        sources: list[dict[str, Any]],
        source_stats: Mapping[str, Mapping[str, Any]],
        now: float,
    ) -> list[Chip]:
        chips: list[Chip] = []
        for src in sources:
            st = source_stats.get(src["name"], {})
            per_min = self._refused_rate(src["name"], int(src["rejected"] or 0), now)
            if src["status"] == "derived":
                continue
            chips.append(
                source_chip(
                    src["name"],
                    src["status"],
                    src["detail"],
                    src["rate_hz"],
                    src["signals"],
                    st,
                    per_min,
                )
            )
        return chips

    def _refused_samples(
        self, sources: list[dict[str, Any]], chips: list[Chip], now: float
    ) -> None:
        """Samples the engine refused: a row under the sources and a chip."""
        engine = self.runner.engine
        rejected = engine.rejected
        if not rejected:
            return
        total = sum(rejected.values())
        sources.append(
            {
                "name": "engine (refused samples)",
                "status": "info",
                "rate_hz": 0.0,
                "rejected": total,
                "detail": ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items())),
                "signals": [],
            }
        )
        chip = refused_chip(rejected, engine.rejected_names, self._refused_rate("", total, now))
        if chip is not None:
            chips.append(chip)

    def _outputs(self) -> list[dict[str, Any]]:
        """OSC targets, MIDI ports, then the extra outputs (control server, pairing)."""
        outputs = [o.row() for o in self.runner.outputs()]
        for extra in self.extra_outputs:
            st = extra()
            outputs.append(
                {**st, "state": "ok" if st.get("state") == "listening" else st.get("state")}
            )
        return outputs

    def _refused_rate(self, key: str, total: int, now: float) -> float:
        rate = self._refusals.get(key)
        if rate is None:
            rate = self._refusals[key] = RefusalRate()
        return round(rate.update(total, now), 1)
