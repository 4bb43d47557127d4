"""One exception root: every exception class a package defines derives from StovelightError."""

from __future__ import annotations

import ast
import builtins
import importlib
from pathlib import Path

import pytest

from cues.errors import StovelightError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cues", "bridges", "show", "rehearsal", "visuals")
_BUILTIN_EXCEPTIONS = {
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def exception_classes(source: str) -> list[str]:
    """Public classes in ``source`` whose bases look like exceptions (``*Error``,
    ``*Exception`` or a builtin exception). Private ones (``_Refused``) are control
    flow inside their module and never escape it."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        for base in node.bases:
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name.endswith(("Error", "Exception")) or name in _BUILTIN_EXCEPTIONS:
                found.append(node.name)
                break
    return found


def _defined() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            pairs += [(module, name) for name in exception_classes(path.read_text())]
    return pairs


DEFINED = _defined()


def test_every_package_defines_exceptions_somewhere() -> None:
    modules = {module.split(".")[0] for module, _ in DEFINED}
    assert modules >= {"cues", "bridges", "show", "rehearsal", "visuals"}
    assert len(DEFINED) >= 30


@pytest.mark.parametrize(("module", "name"), DEFINED, ids=[f"{m}.{n}" for m, n in DEFINED])
def test_exception_derives_from_the_root(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, StovelightError), f"{module}.{name} bases: {cls.__mro__}"


def test_show_errors_re_exports_the_one_root() -> None:
    from show import errors

    assert errors.StovelightError is StovelightError


@pytest.mark.parametrize(
    ("module", "name", "builtin"),
    [
        ("bridges.midi.errors", "MidiValueError", ValueError),
        ("bridges.osc.errors", "OscDecodeError", ValueError),
        ("bridges.telemetry.exceptions", "TelemetryConfigError", ValueError),
        ("bridges.telemetry.jsonfeed", "PointerNotFound", LookupError),
        ("rehearsal.errors", "UnknownScenarioError", KeyError),
        ("rehearsal.broker", "BrokerError", RuntimeError),
        ("show.web.protocol", "ProtocolError", ValueError),
        ("show.qlab.values", "ControlValueError", ValueError),
        ("show.runtime.pairing", "PairingError", RuntimeError),
    ],
)
def test_builtin_bases_that_callers_catch_are_kept(
    module: str, name: str, builtin: type[Exception]
) -> None:
    assert issubclass(getattr(importlib.import_module(module), name), builtin)


def test_the_scan_finds_exceptions_of_every_shape() -> None:
    source = (
        "class A(ValueError): pass\n"
        "class B(errors.OscError): pass\n"
        "class C(Exception): pass\n"
        "class _D(Exception): pass\n"
        "class E(object): pass\n"
        "class F(LookupError, Mixin): pass\n"
    )
    assert exception_classes(source) == ["A", "B", "C", "F"]
