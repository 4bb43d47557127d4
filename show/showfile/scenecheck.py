"""Scenes, transitions and scene inputs a show file names, checked before show night.

Scene names are resolved the way the renderer resolves them (an ISF file first,
then a built-in scene), except that relative paths are taken from the show file's
folder, and the resolved path is what the show runs, so a show behaves the same
whichever folder it is started from. ISF files are parsed here, once each; compiling
needs a GL context, which only ``stovelight check`` opens (show.showfile.shadercheck).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from visuals.errors import IsfError
from visuals.isf import InputType, IsfDocument, load_isf
from visuals.scenes import builtin_scene_names, builtin_scene_path

__all__ = ["TRANSITIONS", "SceneCatalog", "SceneUse"]

TRANSITIONS = ("crossfade", "cut")
"""Transitions built into the renderer; any other is an ISF transition file."""

_NUMERIC = frozenset({InputType.FLOAT, InputType.BOOL, InputType.LONG, InputType.EVENT})


@dataclass(slots=True)
class SceneUse:
    """Where a show sends numbers to one visual output's inputs, for ``input_problems``."""

    scenes: set[str] = field(default_factory=set)
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (input, path, label)
    constants: dict[tuple[str, str], float] = field(default_factory=dict)  # (input, path)


def _long_values(docs: list[IsfDocument], name: str) -> set[int]:
    """The VALUES a ``long`` input takes, when every scene declaring it lists them."""
    items = [i for d in docs for i in d.inputs if i.name == name]
    if not items or any(i.type is not InputType.LONG or not i.values for i in items):
        return set()
    return {v for i in items for v in i.values}


class SceneCatalog:
    """Resolves and parses the scenes of one show file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._docs: dict[str, IsfDocument | str] = {}  # resolved name -> document or problem

    def scene(self, name: str) -> tuple[str, str]:
        """``(name to run, problem)``: the name, or an absolute path for a file; the
        problem is empty when the scene exists and parses."""
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        if name and path.is_file():
            resolved = str(path.resolve())
            return resolved, self._problem_of(resolved, path)
        if builtin_scene_path(name) is not None:
            return name, self._problem_of(name, builtin_scene_path(name))
        close = difflib.get_close_matches(name, builtin_scene_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return name, (
            f"unknown scene {name!r}{hint} (built-in: {', '.join(builtin_scene_names())};"
            " or the path of an ISF .fs file, relative to the show file)"
        )

    def transition(self, name: str) -> tuple[str, str]:
        """``(name to run, problem)`` for a transition: built in, or an ISF transition."""
        if name in TRANSITIONS:
            return name, ""
        path = Path(name).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        if name and path.is_file():
            resolved = str(path.resolve())
            problem = self._problem_of(resolved, path)
            doc = self._docs.get(resolved)
            if not problem and isinstance(doc, IsfDocument) and not doc.is_transition:
                problem = (
                    f"{name!r} is a scene, not a transition (a transition has image inputs"
                    " startImage and endImage and a float progress)"
                )
            return resolved, problem
        close = difflib.get_close_matches(name, TRANSITIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return name, (
            f"unknown transition {name!r}{hint} (crossfade, cut, or the path of an ISF"
            " transition file, relative to the show file)"
        )

    def document(self, resolved: str) -> IsfDocument | None:
        """The parsed scene behind a name ``scene`` returned, if it parsed."""
        doc = self._docs.get(resolved)
        return doc if isinstance(doc, IsfDocument) else None

    def _problem_of(self, key: str, path: Path | None) -> str:
        if key not in self._docs:
            try:
                self._docs[key] = load_isf(path) if path is not None else "missing"
            except (IsfError, OSError, ValueError) as exc:
                detail = getattr(exc, "detail", None) or str(exc)
                line = getattr(exc, "line", None)
                where = f" line {line}" if line else ""
                self._docs[key] = f"scene file {key}{where}: {detail.splitlines()[0][:300]}"
        doc = self._docs[key]
        return doc if isinstance(doc, str) else ""

    def input_problems(self, output: str, use: SceneUse) -> list[tuple[str, str, str]]:
        """``(path, message, label)`` for inputs sent to ``output`` that none of the
        scenes it may show declares, or that take no number."""
        docs = [d for d in (self.document(s) for s in sorted(use.scenes)) if d is not None]
        if len(docs) < len(use.scenes):
            return []  # an unknown or broken scene is reported already
        shown = ", ".join(Path(s).stem for s in sorted(use.scenes))
        declared = sorted({i.name for d in docs for i in d.inputs})
        out: list[tuple[str, str, str]] = []
        for name, path, label in use.inputs:
            kinds = {i.type for d in docs for i in d.inputs if i.name == name}
            if not kinds:
                close = difflib.get_close_matches(name, declared, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                out.append(
                    (
                        path,
                        f"no scene that output {output!r} shows ({shown}) has an input"
                        f" {name!r}{hint} (inputs: {', '.join(declared) or 'none'})",
                        label,
                    )
                )
            elif (value := use.constants.get((name, path))) is not None and (
                allowed := _long_values(docs, name)
            ):
                if round(value) not in allowed:
                    out.append(
                        (
                            path,
                            f"scene input {name!r} takes only {sorted(allowed)}; {value:g}"
                            " would be refused when the cue runs",
                            label,
                        )
                    )
            elif not kinds & _NUMERIC:
                types = ", ".join(sorted(k.value for k in kinds))
                out.append(
                    (
                        path,
                        f"scene input {name!r} is a {types}; cues, fades, mappings and"
                        " bindings send numbers (to float, bool, long or event inputs)",
                        label,
                    )
                )
        return out
