"""The examples in docs/telemetry-protocol.md and docs/telemetry.schema.json are honest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bridges.telemetry.protocol import (
    DEFAULT_MAX_FRAME_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_MAX_VALUES,
    KEY_PATTERN,
    SOURCE_PATTERN,
    parse_frame,
)
from bridges.telemetry.types import MAX_STRING_LENGTH
from show.showfile.load import parse_show

DOCS = Path(__file__).resolve().parents[3] / "docs"
SCHEMA = json.loads((DOCS / "telemetry.schema.json").read_text(encoding="utf-8"))
MARKED_EXAMPLE = re.compile(
    r"<!-- (accepted|rejected: ([a-z_, ]+)) -->\n```json\n(.*?)\n```", re.DOTALL
)


def doc_examples() -> list[tuple[str, list[str], str]]:
    text = (DOCS / "telemetry-protocol.md").read_text(encoding="utf-8")
    found = []
    for match in MARKED_EXAMPLE.finditer(text):
        reasons = [] if match.group(2) is None else match.group(2).replace(" ", "").split(",")
        found.append((match.group(1).split(":")[0], reasons, match.group(3)))
    return found


def test_doc_has_marked_examples() -> None:
    kinds = [kind for kind, _, _ in doc_examples()]
    assert kinds.count("accepted") >= 2
    assert kinds.count("rejected") >= 2


@pytest.mark.parametrize(("kind", "reasons", "frame"), doc_examples())
def test_doc_examples_parse_as_documented(kind: str, reasons: list[str], frame: str) -> None:
    result = parse_frame(frame)
    assert [reason.value for reason in result.rejections] == reasons
    assert result.samples, "every example should still yield some samples"


@pytest.mark.parametrize("example", SCHEMA["examples"])
def test_schema_examples_are_accepted(example: dict[str, Any] | list[dict[str, Any]]) -> None:
    result = parse_frame(json.dumps(example))
    assert result.rejections == []
    objects = example if isinstance(example, list) else [example]
    assert len(result.samples) == sum(len(obj["values"]) for obj in objects)


def test_schema_limits_match_the_parser() -> None:
    definitions = SCHEMA["$defs"]["object"]["properties"]
    assert definitions["source"]["pattern"] == f"^{SOURCE_PATTERN.pattern}$"
    assert definitions["values"]["propertyNames"]["pattern"] == f"^{KEY_PATTERN.pattern}$"
    assert SCHEMA["oneOf"][1]["maxItems"] == DEFAULT_MAX_OBJECTS
    string_rule = SCHEMA["$defs"]["value"]["oneOf"][2]
    assert string_rule == {"type": "string", "maxLength": MAX_STRING_LENGTH}
    assert str(DEFAULT_MAX_FRAME_BYTES) in SCHEMA["description"]
    assert definitions["values"]["maxProperties"] == DEFAULT_MAX_VALUES


def test_documented_limit_defaults_are_the_show_file_defaults() -> None:
    text = (DOCS / "telemetry-protocol.md").read_text(encoding="utf-8")
    rows = {
        row.split("|")[1].strip(): row.split("|")[2].strip()
        for row in text.splitlines()
        if row.startswith("| ") and row.count("|") > 4
    }
    assert rows["frame size (UTF-8 bytes)"].startswith("65 536 (64 KiB)")
    assert rows["objects per array frame"] == "256"
    assert rows["values per object"] == "1 024"
    show = parse_show(
        '[sources.s]\nkind = "stovelight"\nurl = "ws://h:1/"\n'
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "memo"\n'
    )
    source = show.sources[0]
    assert (source.max_frame_bytes, source.max_objects, source.max_values) == (
        DEFAULT_MAX_FRAME_BYTES,
        DEFAULT_MAX_OBJECTS,
        DEFAULT_MAX_VALUES,
    )
    assert DEFAULT_MAX_FRAME_BYTES == 65_536
