"""The show-file reference (docs/show-file.md) stays true to the code.

Fenced blocks in the reference are marked by their info string:

* ```` ```toml ```` a complete show: ``parse_show`` must accept it;
* ```` ```toml fragment ```` a piece of a show: it must be valid TOML;
* ```` ```toml broken ```` a show with deliberate mistakes (the "Errors" section):
  ``parse_show`` must reject it, and when a ```` ```text ```` block follows, it must
  show exactly what ``stovelight check show.toml`` prints.

The cue fields the reference documents (the first column of the tables between
``<!-- cue-fields -->`` and ``<!-- /cue-fields -->``) must be the fields the cue
reader accepts, in both directions, and its cue types table must list every kind of
cue with the fields of its action type (``show.showfile.cues.file_keys``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from cues.model import ACTION_KINDS
from show.errors import ShowFileError
from show.showfile import cues as cuefile
from show.showfile.load import parse_show

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "show-file.md"

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_KINDS = ("toml", "toml fragment", "toml broken")


@dataclass(frozen=True)
class Block:
    """One fenced block of the reference."""

    info: str
    text: str
    line: int  # line of the opening fence, for failure messages

    @property
    def label(self) -> str:
        return f"docs/show-file.md:{self.line}"


def _blocks() -> list[Block]:
    doc = REFERENCE.read_text(encoding="utf-8")
    return [
        Block(m.group(1).strip(), m.group(2), doc.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(doc)
    ]


BLOCKS = _blocks()
TOML_BLOCKS = [b for b in BLOCKS if b.info.startswith("toml")]
COMPLETE = [b for b in TOML_BLOCKS if b.info == "toml"]
FRAGMENTS = [b for b in TOML_BLOCKS if b.info == "toml fragment"]
BROKEN = [b for b in TOML_BLOCKS if b.info == "toml broken"]


def _ids(blocks: list[Block]) -> list[str]:
    return [b.label for b in blocks]


def test_reference_has_examples() -> None:
    assert len(COMPLETE) >= 8, "the reference lost its complete examples"
    assert FRAGMENTS and BROKEN


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=_ids(TOML_BLOCKS))
def test_toml_blocks_are_marked(block: Block) -> None:
    assert block.info in _KINDS, (
        f"{block.label}: unknown marker ```{block.info}; use one of "
        + ", ".join(f"```{k}" for k in _KINDS)
    )


@pytest.mark.parametrize("block", COMPLETE, ids=_ids(COMPLETE))
def test_complete_example_is_a_valid_show(block: Block) -> None:
    try:
        show = parse_show(block.text, "example.toml")
    except ShowFileError as exc:
        pytest.fail(f"{block.label}: the example is not a valid show:\n{exc}")
    assert show.model.cue_lists


@pytest.mark.parametrize("block", FRAGMENTS, ids=_ids(FRAGMENTS))
def test_fragment_is_valid_toml(block: Block) -> None:
    try:
        tomllib.loads(block.text)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{block.label}: the fragment is not valid TOML: {exc}")


@pytest.mark.parametrize("block", BROKEN, ids=_ids(BROKEN))
def test_broken_example_is_rejected_as_documented(block: Block) -> None:
    with pytest.raises(ShowFileError) as caught:
        parse_show(block.text, "show.toml")
    following = BLOCKS[BLOCKS.index(block) + 1 :]
    assert following and following[0].info == "text", (
        f"{block.label}: show what `stovelight check` prints in a text block below it"
    )
    documented = following[0].text.rstrip("\n")
    assert str(caught.value) == documented, (
        f"{block.label}: `stovelight check` now prints something else; update the reference"
    )


# -- cue fields --------------------------------------------------------------------


def _documented_cue_fields() -> set[str]:
    doc = REFERENCE.read_text(encoding="utf-8")
    start, end = doc.find("<!-- cue-fields -->"), doc.find("<!-- /cue-fields -->")
    assert 0 <= start < end, "the cue-fields markers are missing from the reference"
    fields: set[str] = set()
    header = ""
    for line in doc[start:end].splitlines():
        if not line.startswith("|"):
            header = ""
            continue
        first = line.strip("|").split("|")[0].strip()
        if not header:
            header = first  # the first row of a table is its header
        elif header == "field" and (m := re.fullmatch(r"`([a-z_]+)`", first)):
            fields.add(m.group(1))
    return fields


def _accepted_cue_fields() -> set[str]:
    accepted = set(cuefile.COMMON_KEYS)
    for action in ACTION_KINDS:
        accepted.update(cuefile.file_keys(action))
    return accepted


def _documented_kinds() -> dict[str, set[str]]:
    """The cue types table: each ``type`` and the fields it lists as its own."""
    doc = REFERENCE.read_text(encoding="utf-8")
    start, end = doc.find("<!-- cue-fields -->"), doc.find("<!-- /cue-fields -->")
    kinds: dict[str, set[str]] = {}
    header = ""
    for line in doc[start:end].splitlines():
        if not line.startswith("|"):
            header = ""
            continue
        columns = [c.strip() for c in line.strip("|").split("|")]
        if not header:
            header = columns[0]
        elif header == "`type`" and len(columns) == 3 and columns[0].startswith("["):
            fields = set(re.findall(r"`([a-z_]+)`", columns[2]))
            for kind in re.findall(r"`([a-z_]+)`", columns[0]):
                kinds[kind] = fields
    return kinds


def test_documented_cue_fields_exist_in_the_cue_reader() -> None:
    documented = _documented_cue_fields()
    assert len(documented) > 20
    unknown = sorted(documented - _accepted_cue_fields())
    assert not unknown, f"documented cue fields that the cue reader refuses: {unknown}"


def test_every_accepted_cue_field_is_documented() -> None:
    undocumented = sorted(_accepted_cue_fields() - _documented_cue_fields())
    assert not undocumented, f"cue fields missing from docs/show-file.md: {undocumented}"


def test_the_cue_types_table_lists_every_kind_with_the_fields_its_action_takes() -> None:
    accepted = {kind.value: set(cuefile.file_keys(a)) for a, kind in ACTION_KINDS.items()}
    assert _documented_kinds() == accepted


def test_quickstart_show_is_valid() -> None:
    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert blocks, "the quick start should contain its example show"
    for block in blocks:
        assert parse_show(block, "quickstart.toml").model.cues
