"""Reloading the show file of a running show (SIGHUP, OSC ``/reload``, the console).

The file is read and validated off the show loop; a file with problems changes
nothing and its problems go to the log. A valid file is handed to
:meth:`show.runtime.runner.ShowRunner.reload`, which applies the cues, lists, signals,
mappings, triggers and show settings at once (rules in :mod:`cues.reload`).
Outputs, sources, ``[control]`` and ``[web]`` keep running as they are: a
reload that adds or removes one is refused (the engine could not reach it), and
other changes to them are reported as applying at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cues.model import ShowModel
from cues.reload import ReloadPlan, plan_reload
from show.errors import ShowFileError
from show.showfile.config import Show, VisualOutputConfig
from show.showfile.load import load_show

if TYPE_CHECKING:
    from show.runtime.runner import ShowRunner

__all__ = ["io_changes", "reload_from_file"]

log = logging.getLogger(__name__)

_MAX_LOGGED_PROBLEMS = 20


def _names(items: Any) -> set[str]:
    return {item.name for item in items}


def io_changes(old: Show, new: Show) -> tuple[list[str], list[str]]:
    """``(refusals, later)``: I/O parts a live reload cannot apply. A refusal names an
    output or source added or removed; ``later`` names parts whose settings changed,
    which take effect when the show is next started."""
    refused: list[str] = []
    later: list[str] = []
    pairs = (
        ("OSC target", old.osc_targets, new.osc_targets),
        ("MIDI port", old.midi_ports, new.midi_ports),
        ("visual output", old.visuals, new.visuals),
        ("source", old.sources, new.sources),
    )
    for what, before, after in pairs:
        added = sorted(_names(after) - _names(before))
        removed = sorted(_names(before) - _names(after))
        if added or removed:
            change = ", ".join([*(f"+{n}" for n in added), *(f"-{n}" for n in removed)])
            refused.append(f"the new file changes which {what}s there are ({change})")
        by_name = {item.name: item for item in before}
        for item in after:
            was = by_name.get(item.name)
            if was is None:
                continue
            if isinstance(was, VisualOutputConfig) and isinstance(item, VisualOutputConfig):
                # scene bindings are applied live
                was, item = replace(was, bindings=()), replace(item, bindings=())
            if was != item:
                later.append(f"{what} {item.name}")
    for what, before_cfg, after_cfg in (
        ("[control]", old.control, new.control),
        ("[web]", old.web, new.web),
    ):
        if before_cfg != after_cfg:
            later.append(what)
    return refused, later


async def reload_from_file(runner: ShowRunner, origin: str) -> dict[str, Any]:
    """Read and validate the running show's file, then apply it. Never raises."""
    path = runner.show.path
    if not path.is_file():
        message = f"reload refused: this show was not loaded from a file ({path})"
        log.warning(message)
        return {"ok": False, "error": message}
    try:
        new, plan = await asyncio.to_thread(_load_and_plan, path, runner.engine.show)
        if runner.overrides is not None:
            new = runner.overrides(new)
    except ShowFileError as exc:
        problems = exc.problems
        for problem in problems[:_MAX_LOGGED_PROBLEMS]:
            log.error("reload: %s", problem)
        more = len(problems) - _MAX_LOGGED_PROBLEMS
        if more > 0:
            log.error("reload: ... and %d more problems", more)
        message = (
            f"reload refused: {len(problems)} problem(s) in {path}; the show runs on unchanged"
            f" (first: {problems[0] if problems else 'unknown'})"
        )
        log.warning("%s (asked by %s)", message, origin or "operator")
        return {"ok": False, "error": message, "problems": [str(p) for p in problems[:50]]}
    except Exception as exc:  # a reload never takes the show down
        log.error("reload of %s failed: %s; the show runs on unchanged", path, exc)
        return {"ok": False, "error": f"reload failed: {exc}"}
    return runner.reload(new, origin, plan)


def _load_and_plan(path: Path, running: ShowModel) -> tuple[Show, ReloadPlan]:
    """In a worker thread: read, check and compare, so the show loop only applies."""
    new = load_show(path)
    return new, plan_reload(running, new.model)
