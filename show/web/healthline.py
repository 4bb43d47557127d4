"""The console's health line: one chip per source, output and the renderer.

Each chip says in one word whether that part is healthy (``ok``, ``stale``,
``lost``, ``down``, ``warn``) and carries the details the console shows when the
chip is clicked. Built only for consoles, once per console tick.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = [
    "Chip",
    "RefusalRate",
    "output_chip",
    "refused_chip",
    "renderer_chip",
    "source_chip",
]

Chip = dict[str, Any]

_WINDOW = 60.0


class RefusalRate:
    """Refused inputs per minute for one counter, from its running total."""

    def __init__(self) -> None:
        self._points: deque[tuple[float, int]] = deque()

    def update(self, total: int, now: float) -> float:
        """Add the total seen at ``now``; returns the rate over the last minute."""
        pts = self._points
        if not pts or now - pts[-1][0] >= 1.0:
            pts.append((now, total))
        while len(pts) > 2 and now - pts[1][0] >= _WINDOW:
            pts.popleft()
        t0, n0 = pts[0]
        span = now - t0
        if span <= 0:
            return 0.0
        return (total - n0) * 60.0 / max(span, 1.0)


def source_chip(
    name: str,
    status: str,
    detail: str,
    rate_hz: float,
    signals: list[dict[str, Any]],
    stats: Mapping[str, Any],
    refused_per_min: float,
) -> Chip:
    """A telemetry source: connection, signal health, refusals, Home Assistant entities."""
    counts = {"live": 0, "stale": 0, "lost": 0}
    bad: list[str] = []
    for s in signals:
        h = s.get("health", "lost")
        counts[h] = counts.get(h, 0) + 1
        if h != "live" and len(bad) < 8:
            bad.append(f"{s['name']} {h}")
    entities = stats.get("entities") or {}
    bad_entities = {k: v for k, v in entities.items() if v != "ok"}
    state = _source_state(status, counts, bool(bad_entities) or refused_per_min > 0)
    words = status if status != "connected" else f"{rate_hz:.1f}/s"
    if counts["stale"] or counts["lost"]:
        words += f" · {counts['stale']} stale, {counts['lost']} lost"
    if refused_per_min > 0:
        words += f" · {refused_per_min:.0f} refused/min"
    if bad_entities:
        words += f" · {len(bad_entities)} entit{'y' if len(bad_entities) == 1 else 'ies'} bad"
    details = [f"status: {status}" + (f" ({detail})" if detail else "")]
    details.append(
        f"signals: {counts['live']} live, {counts['stale']} stale, {counts['lost']} lost"
    )
    details += bad
    rejected = stats.get("rejected") or {}
    if rejected:
        details.append(
            "refused: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in rejected.items())
        )
    for entity, health in sorted(entities.items()):
        details.append(f"entity {entity}: {health}")
    return {
        "id": f"source:{name}",
        "kind": "source",
        "label": name,
        "state": state,
        "text": words,
        "details": details,
    }


def _source_state(status: str, counts: Mapping[str, int], warn: bool) -> str:
    """A source chip's word from its connection and its signals' health."""
    if status in ("disconnected", "failed"):
        return "down"
    if status == "connecting":
        return "down" if counts["live"] == 0 else "stale"
    if counts["lost"] and not counts["live"] and not counts["stale"]:
        return "lost"
    if counts["lost"] or counts["stale"]:
        return "stale"
    return "warn" if warn else "ok"


def output_chip(out: dict[str, Any]) -> Chip:
    """An OSC target, MIDI port or control server."""
    st = str(out.get("state", "?"))
    errors = int(out.get("errors", 0) or 0)
    down = ("down", "closed", "absent", "error", "failed")
    state = "ok" if st == "ok" else "down" if st in down else "warn"
    if state == "ok" and errors:
        state = "warn"
    text = (
        str(out["text"]) if out.get("text") else st if st != "ok" else f"{out.get('sent', 0)} sent"
    )
    if errors:
        text += f" · {errors} errors"
    details = [f"{k}: {v}" for k, v in out.items() if k not in ("name",) and v not in ("", None)]
    return {
        "id": f"output:{out.get('name', '?')}",
        "kind": "output",
        "label": str(out.get("name", "?")),
        "state": state,
        "text": text,
        "details": details,
    }


def renderer_chip(renderer: dict[str, Any]) -> Chip | None:
    """The visual renderer (none when the show has no visual output)."""
    st = renderer.get("state")
    if st == "none":
        return None
    fps = renderer.get("fps", 0.0)
    state = "ok" if st == "running" else "down"
    text = f"{fps:.0f} fps" if st == "running" else str(st)
    if renderer.get("restarts"):
        text += f" · {renderer['restarts']} restarts"
        state = "warn" if state == "ok" else state
    details = [f"{k}: {v}" for k, v in renderer.items() if v not in ("", None)]
    return {
        "id": "renderer",
        "kind": "renderer",
        "label": f"visuals {renderer.get('output', '')}".strip(),
        "state": state,
        "text": text,
        "details": details,
    }


def refused_chip(
    by_reason: Mapping[str, int], by_name: Mapping[str, int], per_min: float
) -> Chip | None:
    """Samples the engine refused (unknown names, bad values), by reason and by name."""
    total = sum(by_reason.values())
    if not total:
        return None
    top = sorted(by_name.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    details = ["by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items()))]
    details += [f"{name}: {count}" for name, count in top]
    if len(by_name) > len(top):
        details.append(f"… and {len(by_name) - len(top)} more names")
    rate = f"{per_min:.0f}/min" if math.isfinite(per_min) and per_min > 0 else "none now"
    return {
        "id": "refused",
        "kind": "refused",
        "label": "refused samples",
        "state": "warn" if per_min > 0 else "info",
        "text": f"{total} total · {rate}",
        "details": details,
        "names": [{"name": n, "count": c} for n, c in top],
    }
