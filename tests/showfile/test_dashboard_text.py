"""``[dashboard.text]``: the dashboard's wording from the show file, checked like
every other field, and the page's defaults cover exactly the keys the parser allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from show.errors import ShowFileError
from show.showfile.dashtext import TEXT_KEYS
from show.showfile.load import parse_show

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[show]
title = "Texts"
[[cue_lists]]
[[cue_lists.cues]]
number = "1"
type = "memo"
[dashboard.text]
"""


def test_the_page_has_a_default_for_every_key_the_show_file_may_set() -> None:
    js = (ROOT / "show" / "web" / "static" / "dashboard.js").read_text()
    block = js[js.index("export const DEFAULT_TEXT = {") : js.index("};", js.index("DEFAULT_TEXT"))]
    keys = re.findall(r"^\s+([a-z_]+):", block, re.M)
    assert keys == list(TEXT_KEYS)
    for key, allowed in TEXT_KEYS.items():  # each default uses only its own placeholders
        default = re.search(rf'^\s+{key}:\s*"([^"]*)"', block, re.M)
        assert default is not None, key
        assert set(re.findall(r"\{([a-z_]+)\}", default.group(1))) <= set(allowed), key


def test_texts_and_language_reach_the_web_config() -> None:
    show = parse_show(
        BASE + 'language = "de"\nenergy_made = "Erzeugt"\n'
        'energy_surplus = "Die Häuser erzeugen {value} {unit} mehr."\n'
    )
    assert dict(show.web.texts) == {
        "language": "de",
        "energy_made": "Erzeugt",
        "energy_surplus": "Die Häuser erzeugen {value} {unit} mehr.",
    }


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('energy_mde = "x"', "did you mean 'energy_made'?"),
        ('energy_made = "{value} kW"', "unknown placeholder {value} (this text may use: none)"),
        ('language = "Deutsch!"', "expected a language tag such as 'de'"),
        ("live = 3", "expected a string"),
        (f'live = "{"x" * 301}"', "at most 300"),
    ],
)
def test_bad_texts_are_refused_with_the_reason(line: str, message: str) -> None:
    with pytest.raises(ShowFileError) as err:
        parse_show(BASE + line + "\n")
    assert message in str(err.value)
    assert "dashboard.text" in str(err.value)


def test_a_chart_range_must_be_a_pair() -> None:
    with pytest.raises(ShowFileError) as err:
        parse_show(
            BASE.replace("[dashboard.text]\n", "")
            + '[[dashboard.panels]]\nkind = "messages"\nrange = [1]\n'
        )
    assert "expected [low, high]" in str(err.value)
