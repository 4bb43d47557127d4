"""Load a show file (TOML) into a validated, frozen ``Show``.

This is the one place that reads show files. Every problem is collected in one
pass and raised together as ``ShowFileError``, each naming the file, the line
(or the cue and field path), what was found and what is allowed.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bridges.osc.errors import OscConfigError
from bridges.telemetry.homeassistant import DEFAULT_HA_MAX_FRAME_BYTES
from bridges.telemetry.protocol import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_MAX_VALUES,
)
from cues.model import (
    CueId,
    Curve,
    DerivedDef,
    DerivedOp,
    MappingDef,
    Rearm,
    ShowModel,
    SignalDef,
    SmoothingDef,
    StaleMode,
    TriggerDef,
    VisualTarget,
)
from show.errors import Problem, ShowFileError
from show.showfile.access import access_problem
from show.showfile.config import (
    WEB_MAX_CONNECTIONS,
    WEB_MAX_CONSOLES,
    WEB_MAX_PER_ADDRESS,
    WEB_PORT,
    ControlConfig,
    MidiPortConfig,
    OscTargetConfig,
    Show,
    SourceConfig,
    VisualOutputConfig,
    WebConfig,
)
from show.showfile.cues import CueReader, check_notice_ids, find_zero_time_loops
from show.showfile.dashtext import read_dashboard_text
from show.showfile.locate import LineLocator
from show.showfile.mqtt import read_mqtt_source, read_relay
from show.showfile.reader import Reader, unknown
from show.showfile.scenecheck import SceneCatalog, SceneUse
from show.showfile.signalnames import SignalNames
from show.showfile.targets import (
    UNREADABLE_CONDITION,
    UNREADABLE_TARGET,
    one_signal_message,
    read_condition,
    read_midi_ports,
    read_target,
)

__all__ = ["load_show", "parse_show"]

_TOP = (
    "show",
    "control",
    "web",
    "dashboard",
    "sources",
    "signals",
    "derived",
    "outputs",
    "mappings",
    "triggers",
    "cue_lists",
    "relay",
)
MAX_SHOW_FILE_BYTES = 64_000_000
"""Larger files are refused before they are read (a show file is a few kB)."""
_URL = re.compile(r"^wss?://[^\s/]+(/\S*)?$")
#: Where a websocket source decodes frames (``bridges.telemetry.Decoder``).
_DECODERS = ("auto", "thread", "process")


def load_show(path: str | Path) -> Show:
    """Read and validate a show file. Raises ``ShowFileError`` listing every problem."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_SHOW_FILE_BYTES:
            raise ShowFileError(
                [
                    Problem(
                        str(p),
                        None,
                        "",
                        f"the file is {size / 1e6:.1f} MB; a show file may be at most"
                        f" {MAX_SHOW_FILE_BYTES // 1_000_000} MB (is it the right file?)",
                    )
                ]
            )
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShowFileError(
            [Problem(str(p), None, "", f"cannot read the show file: {exc.strerror or exc}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ShowFileError(
            [Problem(str(p), None, "", f"not UTF-8 text ({exc.reason}); save it as UTF-8")]
        ) from exc
    return parse_show(text, p)


def parse_show(text: str, path: str | Path = "<show>") -> Show:
    """Validate show-file text; ``path`` is used in messages and for relative paths."""
    p = Path(path)
    try:
        data = tomllib.loads(text)
    except RecursionError as exc:
        raise ShowFileError(
            [
                Problem(
                    str(p),
                    None,
                    "",
                    "lists or tables are nested too deeply to read; a show file needs a few"
                    " levels at most",
                )
            ]
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
        raise ShowFileError(
            [Problem(str(p), line, "", f"not valid TOML: {exc}; check quotes, brackets and =")]
        ) from exc
    r = Reader(str(p), LineLocator(text))
    show = _Builder(r, data, p).build()
    if r.problems:
        raise ShowFileError(sorted(r.problems, key=lambda pr: pr.line or 0))
    return show


class _Builder:
    def __init__(self, r: Reader, data: dict[str, Any], path: Path) -> None:
        self.r = r
        self.data = data
        self.path = path
        self.signal_names: list[str] = []
        self._index = SignalNames()
        self._indexed = 0
        self.source_names: list[str] = []
        self.osc_names: list[str] = []
        self.midi_names: list[str] = []
        self.visual_names: list[str] = []
        self.scenes = SceneCatalog(path.parent if str(path) != "<show>" else Path.cwd())
        self.scene_use: dict[str, SceneUse] = {}

    def build(self) -> Show:
        r, data = self.r, self.data
        r.check_keys(data, _TOP, "")
        show = r.table(data, "show", "")
        r.check_keys(
            show,
            ("title", "min_go_interval", "panic_time", "health_interval", "log_dir"),
            "show",
        )
        title = r.string(show, "title", "show", default=self.path.stem)
        sources = self._sources()
        signals, derived = self._signals()
        osc, midi, visuals = self._outputs()
        mappings = self._mappings()
        mapping_names = [m.name for m in mappings]
        trig_tables = r.tables(data, "triggers", "")
        trigger_names = [str(t.get("name", "")) for t in trig_tables]
        cues = CueReader(
            r,
            signal_ok=self._one_signal_ok,
            sources=self.source_names,
            osc=self.osc_names,
            midi=self.midi_names,
            visuals=self.visual_names,
            mappings=mapping_names,
            triggers=trigger_names,
            scenes=self.scenes,
            scene_use=self.scene_use,
        )
        lists = cues.read_lists(r.tables(data, "cue_lists", ""))
        triggers = self._triggers(trig_tables, cues)
        cues.resolve_references()
        cues.check_fallbacks()
        for port in midi:
            for i, binding in enumerate(port.bindings):
                if binding.cue:
                    cues.check_number(binding.cue, f"outputs.midi.{port.name}.bindings[{i}].cue")
        check_notice_ids(r, cues.cues, cues.paths)
        for output, use in self.scene_use.items():
            for where, message, label in self.scenes.input_problems(output, use):
                r.problem(where, message, label)
        for loop in find_zero_time_loops(cues.cues, lists):
            chain = " -> ".join(loop)
            first = cues.cues[CueId(loop[0])]
            r.problem(
                cues.paths.get(first.id, ""),
                f"cues {chain} form a loop that takes no time; give one of them a pre-wait,"
                " post-wait or duration",
                f"cue {first.number}",
            )
        if not lists:
            r.problem("cue_lists", "the show has no [[cue_lists]]; add at least one cue list")
        model = ShowModel(
            title=title,
            cue_lists=tuple(lists),
            cues=dict(cues.cues),
            signals=tuple(signals),
            derived=tuple(derived),
            mappings=tuple(mappings),
            triggers=tuple(triggers),
            min_go_interval=r.number(show, "min_go_interval", "show", default=0.25, lo=0, hi=10),
            panic_time=r.number(show, "panic_time", "show", default=1.0, lo=0, hi=60),
            health_interval=r.number(show, "health_interval", "show", default=0.1, lo=0.01, hi=5),
            visual_outputs=tuple(self.visual_names),
        )
        return Show(
            path=self.path,
            model=model,
            sources=tuple(sources),
            osc_targets=tuple(osc),
            midi_ports=tuple(midi),
            visuals=tuple(visuals),
            control=self._control(),
            web=self._web(),
            log_dir=r.string(show, "log_dir", "show", default="logs"),
            relay=read_relay(r, data, self.path.parent),
        )

    # -- sources and signals -----------------------------------------------------

    def _sources(self) -> list[SourceConfig]:
        r = self.r
        out: list[SourceConfig] = []
        for name, t in r.table(self.data, "sources", "").items():
            path = f"sources.{name}"
            if not isinstance(t, dict):
                r.problem(path, "expected a table [sources.NAME]")
                continue
            self.source_names.append(name)
            kind = r.string(
                t, "kind", path, choices=("stovelight", "json", "homeassistant", "mqtt")
            )
            if kind == "mqtt":
                out.append(read_mqtt_source(r, name, t, path, self.path.parent))
            else:
                out.append(self._websocket_source(name, kind, t, path))
        return out

    def _websocket_source(self, name: str, kind: str, t: dict[str, Any], path: str) -> SourceConfig:
        """A ``stovelight``, ``json`` or ``homeassistant`` source: a websocket client."""
        r = self.r
        common = ("kind", "url", "max_frame_bytes", "decoder")
        extra: tuple[str, ...] = ("max_objects", "max_values")
        if kind == "json":
            extra = ("signals", "ts_pointer", "subscribe")
        elif kind == "homeassistant":
            extra = ("token", "token_file", "entities")
        r.check_keys(t, common + extra, path)
        url = r.string(t, "url", path)
        if url and not _URL.match(url):
            r.problem(f"{path}.url", f"found {url!r}, expected ws://host:port/path or wss://")
        frame_default = (
            DEFAULT_HA_MAX_FRAME_BYTES if kind == "homeassistant" else DEFAULT_MAX_FRAME_BYTES
        )
        max_frame = r.integer(
            t, "max_frame_bytes", path, default=frame_default, lo=256, hi=64 << 20
        )
        max_objects = r.integer(t, "max_objects", path, default=DEFAULT_MAX_OBJECTS, lo=1)
        max_values = r.integer(t, "max_values", path, default=DEFAULT_MAX_VALUES, lo=1)
        decoder = r.string(t, "decoder", path, default="auto", choices=_DECODERS)
        pointers = self._pointers(t, path)
        if kind == "json" and not pointers:
            r.problem(f"{path}.signals", "a json source needs at least one signal pointer")
        token, entities = ("", ()) if kind != "homeassistant" else self._home_assistant(t, path)
        return SourceConfig(
            name=name,
            kind=kind,
            url=url,
            max_frame_bytes=max_frame,
            max_objects=max_objects,
            max_values=max_values,
            decoder=decoder,
            pointers=pointers,
            ts_pointer=r.string(t, "ts_pointer", path, default=""),
            subscribe=r.string(t, "subscribe", path, default=""),
            token=token,
            entities=entities,
        )

    def _pointers(self, t: dict[str, Any], path: str) -> tuple[tuple[str, str, float, float], ...]:
        """A json source's ``[signals]``: name = pointer or {pointer, scale, offset}."""
        r = self.r
        pointers: list[tuple[str, str, float, float]] = []
        for sig, spec in r.table(t, "signals", path).items():
            sp = f"{path}.signals.{sig}"
            if isinstance(spec, str):
                spec = {"pointer": spec}
            if not isinstance(spec, dict):
                r.problem(sp, "expected a JSON pointer string or {pointer, scale, offset}")
                continue
            r.check_keys(spec, ("pointer", "scale", "offset"), sp)
            ptr = r.string(spec, "pointer", sp)
            if ptr and not ptr.startswith("/"):
                r.problem(f"{sp}.pointer", f"found {ptr!r}; a JSON pointer starts with '/'")
            scale = r.number(spec, "scale", sp, default=1.0)
            pointers.append((sig, ptr, scale, r.number(spec, "offset", sp, default=0.0)))
        return tuple(pointers)

    def _home_assistant(
        self, t: dict[str, Any], path: str
    ) -> tuple[str, tuple[tuple[str, str], ...]]:
        """A Home Assistant source's token (inline or from a file) and entity map."""
        r = self.r
        token = r.string(t, "token", path, default="")
        token_file = r.string(t, "token_file", path, default="")
        if token_file:
            tf = (self.path.parent / token_file).expanduser()
            try:
                token = tf.read_text(encoding="utf-8").strip()
            except OSError as exc:
                r.problem(f"{path}.token_file", f"cannot read {tf}: {exc.strerror}")
        if not token and not token_file:
            r.problem(path, "Home Assistant needs token = '...' or token_file = 'path'")
        entities: list[tuple[str, str]] = []
        for entity, sig in r.table(t, "entities", path).items():
            if not isinstance(sig, str):
                r.problem(f"{path}.entities.{entity}", "expected a signal name string")
                continue
            entities.append((entity, sig))
        if not entities:
            r.problem(f"{path}.entities", "list the entities: {'sensor.x' = 'sig.name'}")
        return token, tuple(entities)

    def _signals(self) -> tuple[list[SignalDef], list[DerivedDef]]:
        r = self.r
        signals: list[SignalDef] = []
        for name, t in self._named("signals").items():
            path = f"signals.{name}"
            if not isinstance(t, dict):
                r.problem(path, 'expected a table [signals."NAME"]')
                continue
            r.check_keys(
                t, ("unit", "stale_after", "lost_after", "history", "source", "label"), path
            )
            stale = r.number(t, "stale_after", path, default=5.0, lo=0, lo_open=True)
            lost = r.number(t, "lost_after", path, default=max(30.0, stale * 3), lo=0)
            if lost < stale:
                r.problem(
                    f"{path}.lost_after",
                    f"found {lost:g}, must be >= stale_after ({stale:g})",
                )
            source = r.string(t, "source", path, default="")
            if source and source not in self.source_names:
                r.problem(f"{path}.source", unknown("source", source, self.source_names))
            signals.append(
                SignalDef(
                    name=name,
                    unit=r.string(t, "unit", path, default=""),
                    stale_after=stale,
                    lost_after=lost,
                    history=r.integer(t, "history", path, default=600, lo=0, hi=1_000_000),
                    source=source,
                    label=r.string(t, "label", path, default=""),
                )
            )
            self.signal_names.append(name)
        derived = self._derived()
        self.signal_names.extend(d.name for d in derived)
        return signals, derived

    def _derived(self) -> list[DerivedDef]:
        """The ``[derived."NAME"]`` signals, computed from telemetry signals."""
        r = self.r
        derived: list[DerivedDef] = []
        declared = set(self.signal_names)
        earlier_derived: set[str] = set()
        for name, t in self._named("derived").items():
            path = f"derived.{name}"
            if not isinstance(t, dict):
                r.problem(path, 'expected a table [derived."NAME"]')
                continue
            r.check_keys(t, ("op", "inputs", "unit"), path)
            if name in declared:
                r.problem(path, f"{name!r} is already a declared signal; pick another name")
            op = r.enum(t, "op", path, DerivedOp, DerivedOp.SUM)
            if "op" not in t:
                r.problem(
                    f"{path}.op", "missing required field 'op' (sum, mean, min, max, difference)"
                )
            inputs = r.strings(t, "inputs", path)
            for i, pattern in enumerate(inputs):
                if pattern in earlier_derived or pattern == name:
                    r.problem(
                        f"{path}.inputs",
                        f"{pattern!r} is a derived signal; derived signals are computed from"
                        " telemetry signals only",
                    )
                if not self._signal_ok(pattern):
                    r.problem(f"{path}.inputs", r.unknown("signal", pattern, self.signal_names))
                if op is DerivedOp.DIFFERENCE and i == 0 and any(c in pattern for c in "*?["):
                    r.problem(f"{path}.inputs", "difference needs a plain first input")
            derived.append(
                DerivedDef(name, op, tuple(inputs), unit=r.string(t, "unit", path, default=""))
            )
            earlier_derived.add(name)
        return derived

    def _named(self, key: str, table_fields: tuple[str, ...] = ()) -> dict[str, Any]:
        """The ``[key.NAME]`` tables. An unquoted dotted name (``[signals.grid.kw]``, read
        by TOML as nested tables) is reported with the quoting it needs and then taken
        as the name it was meant to be, so it makes no phantom entry and no follow-on
        errors. ``table_fields`` are the fields that hold tables themselves."""
        out: dict[str, Any] = {}
        for name, t in self.r.table(self.data, key, "").items():
            self._unnest(key, name, t, table_fields, out)
        return out

    def _unnest(
        self, key: str, name: str, t: Any, table_fields: tuple[str, ...], out: dict[str, Any]
    ) -> None:
        if not isinstance(t, dict):
            out[name] = t
            return
        nested = {k: v for k, v in t.items() if isinstance(v, dict) and k not in table_fields}
        for k, v in nested.items():
            self.r.problem(
                f"{key}.{name}.{k}",
                f"TOML reads [{key}.{name}.{k}] as tables inside tables; a name with dots"
                f' needs quotes: did you mean [{key}."{name}.{k}"]?',
            )
            self._unnest(key, f"{name}.{k}", v, table_fields, out)
        if not nested or len(nested) < len(t):
            out[name] = {k: v for k, v in t.items() if k not in nested}

    def _names(self) -> SignalNames:
        """The index of ``signal_names``, brought up to date with what was declared."""
        index = self._index
        while self._indexed < len(self.signal_names):
            index.add(self.signal_names[self._indexed])
            self._indexed += 1
        return index

    def _one_signal_ok(self, name: str) -> bool:
        """A single signal (no pattern) that the show declares or a pattern covers."""
        return self._names().covers(name)

    def _signal_ok(self, name: str) -> bool:
        return self._names().meets(name)

    # -- outputs ---------------------------------------------------------------------

    def _outputs(
        self,
    ) -> tuple[list[OscTargetConfig], list[MidiPortConfig], list[VisualOutputConfig]]:
        r = self.r
        outputs = r.table(self.data, "outputs", "")
        r.check_keys(outputs, ("osc", "midi", "visuals"), "outputs")
        osc = self._osc_targets(r.table(outputs, "osc", "outputs"))
        midi = read_midi_ports(r, r.table(outputs, "midi", "outputs"))
        self.midi_names.extend(m.name for m in midi)
        visuals = self._visual_outputs(r.table(outputs, "visuals", "outputs"))
        return osc, midi, visuals

    def _osc_targets(self, tables: dict[str, Any]) -> list[OscTargetConfig]:
        """``[outputs.osc.NAME]`` tables."""
        r = self.r
        osc: list[OscTargetConfig] = []
        for name, t in tables.items():
            path = f"outputs.osc.{name}"
            if not isinstance(t, dict):
                r.problem(path, "expected a table [outputs.osc.NAME]")
                continue
            r.check_keys(t, ("host", "port", "transport", "bundle", "max_rate_hz"), path)
            self.osc_names.append(name)
            transport = r.string(t, "transport", path, default="udp", choices=("udp", "tcp"))
            try:  # the OSC bridge's own config type, which checks what the reader lets through
                target = OscTargetConfig(
                    name=name,
                    host=r.string(t, "host", path, default="127.0.0.1"),
                    port=r.integer(t, "port", path, lo=1, hi=65535),
                    transport="tcp" if transport == "tcp" else "udp",
                    bundle=r.boolean(t, "bundle", path, False),
                    max_rate_hz=r.optional_number(t, "max_rate_hz", path, lo=0, lo_open=True),
                )
            except OscConfigError as err:
                r.problem(path, str(err))
                continue
            osc.append(target)
        return osc

    def _visual_outputs(self, tables: dict[str, Any]) -> list[VisualOutputConfig]:
        """``[outputs.visuals.NAME]`` tables."""
        r = self.r
        visuals: list[VisualOutputConfig] = []
        for name, t in tables.items():
            path = f"outputs.visuals.{name}"
            if not isinstance(t, dict):
                r.problem(path, "expected a table [outputs.visuals.NAME]")
                continue
            r.check_keys(
                t,
                ("scene", "display", "fullscreen", "size", "headless", "preview_fps", "inputs"),
                path,
            )
            size = t.get("size", [1280, 720])
            if (
                not isinstance(size, list)
                or len(size) != 2
                or not all(isinstance(v, int) and 16 <= v <= 8192 for v in size)
            ):
                r.problem(f"{path}.size", f"found {size!r}, expected [width, height] in pixels")
                size = [1280, 720]
            headless = t.get("headless")
            if headless is not None and not isinstance(headless, bool):
                r.problem(f"{path}.headless", "expected true or false (leave out for automatic)")
                headless = None
            bindings: list[tuple[str, str]] = []
            use = self.scene_use.setdefault(name, SceneUse())
            for inp, sig in r.table(t, "inputs", path).items():
                if not isinstance(sig, str) or not self._one_signal_ok(sig):
                    r.problem(f"{path}.inputs.{inp}", one_signal_message(str(sig)))
                    continue
                bindings.append((inp, sig))
                use.inputs.append((inp, f"{path}.inputs.{inp}", ""))
            scene, problem = self.scenes.scene(r.string(t, "scene", path, default="heat"))
            if problem:
                r.problem(f"{path}.scene", problem)
            use.scenes.add(scene)
            visuals.append(
                VisualOutputConfig(
                    name=name,
                    scene=scene,
                    display=r.integer(t, "display", path, default=0, lo=0, hi=16),
                    fullscreen=r.boolean(t, "fullscreen", path, False),
                    size=(int(size[0]), int(size[1])),
                    headless=headless,
                    preview_fps=r.number(t, "preview_fps", path, default=4.0, lo=0, hi=30),
                    bindings=tuple(bindings),
                )
            )
            self.visual_names.append(name)
        return visuals

    # -- mappings and triggers ------------------------------------------------------------

    def _mappings(self) -> list[MappingDef]:
        r = self.r
        out: list[MappingDef] = []
        allowed = (
            "signal",
            "to",
            "range",
            "curve",
            "smooth",
            "deadband",
            "slew",
            "stale",
            "fallback",
            "max_rate_hz",
            "armed",
            "enabled",
            "level",
        )
        for name, t in self._named("mappings", ("to", "range", "smooth")).items():
            path = f"mappings.{name}"
            if not isinstance(t, dict):
                r.problem(path, "expected a table [mappings.NAME]")
                continue
            r.check_keys(t, allowed, path)
            signal = r.string(t, "signal", path)
            if signal and not self._one_signal_ok(signal):
                r.problem(
                    f"{path}.signal",
                    (
                        one_signal_message(signal)
                        if "*" in signal or "?" in signal or "[" in signal
                        else r.unknown("signal", signal, self.signal_names)
                    ),
                )
            if isinstance(t.get("to"), str):
                r.problem(
                    f"{path}.to",
                    f"found {t['to']!r}; 'to' is a table, e.g. to = {{ osc = {t['to']!r},"
                    " address = '/light/1' }} (or { midi = 'PORT', cc = 7 },"
                    " { visual = 'OUTPUT', input = 'NAME' })",
                )
                t = {k: v for k, v in t.items() if k != "to"}
            elif "to" not in t:
                r.problem(f"{path}.to", "missing required field 'to' (where the value goes)")
            target = (
                read_target(
                    r,
                    r.table(t, "to", path),
                    f"{path}.to",
                    "",
                    self.osc_names,
                    self.midi_names,
                    self.visual_names,
                    [],
                )
                if "to" in t
                else None
            )
            if isinstance(target, VisualTarget):
                self.scene_use.setdefault(target.output, SceneUse()).inputs.append(
                    (target.name, f"{path}.to", "")
                )
            in_range, out_range, clamp = self._range(t, path)
            smoothing = self._smoothing(t, path)
            out.append(
                MappingDef(
                    name=name,
                    signal=signal,
                    target=target if target is not None else UNREADABLE_TARGET,
                    in_range=in_range,
                    out_range=out_range,
                    clamp=clamp,
                    curve=r.enum(t, "curve", path, Curve, Curve.LINEAR),
                    smoothing=smoothing,
                    deadband=r.number(t, "deadband", path, default=0.0, lo=0),
                    slew=r.optional_number(t, "slew", path, lo=0, lo_open=True),
                    stale=r.enum(t, "stale", path, StaleMode, StaleMode.HOLD),
                    fallback=r.number(t, "fallback", path, default=0.0),
                    max_rate_hz=r.number(t, "max_rate_hz", path, default=30.0, lo=0, lo_open=True),
                    enabled=self._armed(t, path),
                    level=r.number(t, "level", path, default=1.0, lo=0),
                )
            )
        return out

    def _range(
        self, t: dict[str, Any], path: str
    ) -> tuple[tuple[float, float] | None, tuple[float, float] | None, bool]:
        """A mapping's ``range = {in, out, clamp}``."""
        r = self.r
        in_range = out_range = None
        clamp = True
        rng = r.table(t, "range", path)
        if rng:
            r.check_keys(rng, ("in", "out", "clamp"), f"{path}.range")
            in_range = _pair(r, rng, "in", f"{path}.range")
            out_range = _pair(r, rng, "out", f"{path}.range") if "out" in rng else None
            clamp = r.boolean(rng, "clamp", f"{path}.range", True)
            if in_range is not None and in_range[0] == in_range[1]:
                r.problem(f"{path}.range.in", "the two ends of 'in' must differ")
        return in_range, out_range, clamp

    def _smoothing(self, t: dict[str, Any], path: str) -> SmoothingDef | None:
        """A mapping's ``smooth = {ema = S}`` or ``smooth = {one_euro = {...}}``."""
        r = self.r
        sm = r.table(t, "smooth", path)
        if not sm:
            return None
        r.check_keys(sm, ("ema", "one_euro"), f"{path}.smooth")
        if ("ema" in sm) == ("one_euro" in sm):
            r.problem(f"{path}.smooth", "give exactly one of ema = SECONDS or one_euro")
        if "ema" in sm:
            return SmoothingDef(ema=r.number(sm, "ema", f"{path}.smooth", lo=0))
        oe = r.table(sm, "one_euro", f"{path}.smooth")
        op = f"{path}.smooth.one_euro"
        r.check_keys(oe, ("min_cutoff", "beta", "d_cutoff"), op)
        return SmoothingDef(
            one_euro_min_cutoff=r.number(oe, "min_cutoff", op, default=1.0, lo=0, lo_open=True),
            one_euro_beta=r.number(oe, "beta", op, default=0.0, lo=0),
            one_euro_d_cutoff=r.number(oe, "d_cutoff", op, default=1.0, lo=0, lo_open=True),
        )

    def _armed(self, t: dict[str, Any], path: str) -> bool:
        """A mapping's ``armed`` (``enabled`` is the older name for the same switch)."""
        if "armed" in t and "enabled" in t:
            self.r.problem(f"{path}.enabled", "give armed or enabled (the same switch), not both")
        key = "armed" if "armed" in t else "enabled"
        return self.r.boolean(t, key, path, True)

    def _triggers(self, tables: list[dict[str, Any]], cues: CueReader) -> list[TriggerDef]:
        r = self.r
        out: list[TriggerDef] = []
        seen: set[str] = set()
        for i, t in enumerate(tables):
            path = f"triggers[{i}]"
            r.check_keys(
                t, ("name", "when", "hold", "rearm", "cooldown", "start", "go", "enabled"), path
            )
            name = r.string(t, "name", path)
            if name in seen:
                r.problem(f"{path}.name", f"trigger {name!r} is declared twice")
            seen.add(name)
            label = f"trigger {name}"
            cond = read_condition(
                r,
                r.table(t, "when", path),
                f"{path}.when",
                label,
                self._one_signal_ok,
                self.source_names,
            )
            if "when" not in t:
                r.problem(f"{path}.when", "missing required field 'when' (the condition)", label)
            elif cond is None and t["when"] == {}:
                r.problem(
                    f"{path}.when", "an empty condition; give signal = '...' and a test", label
                )
            start = cues.ref(t.get("start"), f"{path}.start", label) if "start" in t else None
            go = r.boolean(t, "go", path, False)
            if start is None and not go:
                r.problem(path, "a trigger needs start = 'CUE' or go = true", label)
            out.append(
                TriggerDef(
                    name=name,
                    condition=cond if cond is not None else UNREADABLE_CONDITION,
                    hold=r.number(t, "hold", path, default=0.0, lo=0),
                    rearm=r.enum(t, "rearm", path, Rearm, Rearm.ON_CLEAR),
                    cooldown=r.number(t, "cooldown", path, default=0.0, lo=0),
                    start_cue=start,
                    go=go,
                    enabled=r.boolean(t, "enabled", path, True),
                )
            )
        return out

    # -- control and web -----------------------------------------------------------------

    def _control(self) -> ControlConfig:
        r = self.r
        t = r.table(self.data, "control", "")
        keys = ("enabled", "host", "port", "reply_port", "passcode", "allow", "open", "discovery")
        r.check_keys(t, keys, "control")
        reply: int | None = r.integer(t, "reply_port", "control", default=53001, lo=0, hi=65535)
        control = ControlConfig(
            enabled=r.boolean(t, "enabled", "control", True),
            host=r.string(t, "host", "control", default="127.0.0.1"),
            port=r.integer(t, "port", "control", default=53000, lo=0, hi=65535),
            reply_port=reply or None,
            passcode=r.string(t, "passcode", "control", default=""),
            allow=tuple(r.strings(t, "allow", "control", default=[])),
            open=r.boolean(t, "open", "control", False),
            discovery=r.boolean(t, "discovery", "control", True),
        )
        problem = access_problem(control)
        if problem is not None:
            r.problem("control.host" if "host" in t else "control", problem)
        return control

    def _web(self) -> WebConfig:
        r = self.r
        t = r.table(self.data, "web", "")
        r.check_keys(
            t,
            (
                "enabled",
                "host",
                "port",
                "console_token",
                "rate_hz",
                "max_connections",
                "max_per_address",
                "max_consoles",
                "allowed_origins",
            ),
            "web",
        )
        dash = r.table(self.data, "dashboard", "")
        r.check_keys(dash, ("title", "panels", "text"), "dashboard")
        panels = r.tables(dash, "panels", "dashboard")
        for i, panel in enumerate(panels):
            kind = panel.get("kind")
            if kind not in ("balance", "stoves", "signal", "chart", "messages", "alerts"):
                r.problem(
                    f"dashboard.panels[{i}].kind",
                    f"found {kind!r}, expected one of: balance, stoves, signal, chart,"
                    " messages, alerts",
                )
            if "range" in panel:  # the chart's declared axis range
                _pair(r, panel, "range", f"dashboard.panels[{i}]")
            if "min_span" in panel:  # the smallest axis span the chart autoscales to
                r.number(panel, "min_span", f"dashboard.panels[{i}]", lo=0, lo_open=True)
            for key in ("signal", "supply", "demand", "exchange", "balance"):
                value = panel.get(key)
                if isinstance(value, str) and not self._signal_ok(value):
                    r.problem(
                        f"dashboard.panels[{i}].{key}",
                        r.unknown("signal", value, self.signal_names),
                    )
        return WebConfig(
            enabled=r.boolean(t, "enabled", "web", True),
            host=r.string(t, "host", "web", default="0.0.0.0"),
            port=r.integer(t, "port", "web", default=WEB_PORT, lo=0, hi=65535),
            console_token=r.string(t, "console_token", "web", default=""),
            rate_hz=r.number(t, "rate_hz", "web", default=10.0, lo=0.5, hi=60),
            max_connections=r.integer(
                t, "max_connections", "web", default=WEB_MAX_CONNECTIONS, lo=1
            ),
            max_per_address=r.integer(
                t, "max_per_address", "web", default=WEB_MAX_PER_ADDRESS, lo=1
            ),
            max_consoles=r.integer(t, "max_consoles", "web", default=WEB_MAX_CONSOLES, lo=1),
            allowed_origins=tuple(r.strings(t, "allowed_origins", "web", default=[])),
            title=r.string(dash, "title", "dashboard", default=""),
            panels=tuple(dict(p) for p in panels),
            texts=read_dashboard_text(r, r.table(dash, "text", "dashboard")),
        )


def _pair(r: Reader, t: dict[str, Any], key: str, path: str) -> tuple[float, float] | None:
    value = t.get(key)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        r.problem(f"{path}.{key}", f"found {value!r}, expected [low, high]")
        return None
    return float(value[0]), float(value[1])
