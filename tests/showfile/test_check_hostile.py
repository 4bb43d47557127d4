"""`stovelight check` never raises, whatever the file holds, and says what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from show.errors import ShowFileError
from show.showfile.load import MAX_SHOW_FILE_BYTES, load_show, parse_show
from show.showfile.signalnames import SignalNames

ROOT = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    with pytest.raises(ShowFileError) as info:
        parse_show(text, "bad.toml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000 + "\n",
        "x = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n",
        "[show]\ntitle = " + "[" * 100_000 + "\n",
    ],
)
def test_deep_nesting_is_one_problem_not_an_exception(text: str) -> None:
    found = problems(text)
    assert len(found) == 1
    assert "nested too deeply" in found[0] or "not valid TOML" in found[0]


def test_deep_nesting_through_the_check_command(tmp_path: Path) -> None:
    show = tmp_path / "deep.toml"
    show.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(show)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "nested too deeply" in result.stderr


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate(MAX_SHOW_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(ShowFileError) as info:
        load_show(big)
    assert "a show file may be at most" in str(info.value)


def test_a_huge_value_does_not_flood_the_report() -> None:
    found = problems(
        f'[outputs.osc.desk]\nport = "{"9" * 100_000}"\n[[cue_lists]]\nname = "{"x" * 9999}"\n'
    )
    assert len(found) == 1
    assert len(found[0]) < 700 and found[0].endswith("(shortened)")


def test_ten_thousand_duplicate_cue_numbers_each_get_their_line() -> None:
    text = "[[cue_lists]]\n" + '[[cue_lists.cues]]\nnumber = "1"\n' * 10_000
    found = problems(text)
    assert len(found) == 9_999
    assert found[0].startswith("bad.toml:5: ") and found[-1].startswith("bad.toml:20001: ")


def test_thousands_of_unknown_names_still_each_get_a_message() -> None:
    signals = "".join(f'[signals."h{i}.t"]\n' for i in range(3000))
    inputs = ", ".join(f'"z{i}.*"' for i in range(3000))
    found = problems(f'{signals}[derived.d]\nop = "sum"\ninputs = [{inputs}]\n[[cue_lists]]\n')
    assert len(found) == 3000
    assert all("unknown signal 'z" in p for p in found)


def test_signal_name_index_agrees_with_glob_rules() -> None:
    names = SignalNames()
    for n in ("home-1.temp_c", "home-2.temp_c", "grid.kw", "feed-*.x", "a?c"):
        names.add(n)
    assert names.covers("home-1.temp_c") and names.covers("feed-9.x") and names.covers("abc")
    assert not names.covers("home-*.temp_c")  # a pattern is not one signal
    assert not names.covers("home-3.temp_c")
    assert names.meets("home-*.temp_c") and names.meets("home-[12].temp_c")
    assert names.meets("*.kw") and names.meets("feed-*.x") and names.meets("feed-7.x")
    assert not names.meets("home-*.power_w") and not names.meets("z*")
    assert names.meets("h*-2.temp_c") and not names.meets("h*-3.temp_c")
