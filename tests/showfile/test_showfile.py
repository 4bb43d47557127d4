"""Show-file validation: every problem reported at once, with file, line and fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cues.model import ContinueMode, CueId, CueKind, Curve, FadeAction, GroupAction, GroupMode
from show.errors import ShowFileError
from show.showfile.load import load_show, parse_show

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def problems(text: str) -> list[str]:
    with pytest.raises(ShowFileError) as info:
        parse_show(text, "bad.toml")
    return [str(p) for p in info.value.problems]


BASE = """
[outputs.osc.desk]
port = 9000
"""


def test_every_example_show_is_valid() -> None:
    files = sorted(EXAMPLES.glob("*.toml"))
    assert files
    for f in files:
        show = load_show(f)
        assert show.model.cues


def test_example_show_is_parsed_into_typed_objects() -> None:
    show = load_show(EXAMPLES / "kitchen.toml")
    m = show.model
    group = m.cues[CueId("Main/3")]
    assert group.kind is CueKind.GROUP
    assert isinstance(group.action, GroupAction) and group.action.mode is GroupMode.TIMELINE
    assert group.children == ("Main/3.1", "Main/3.2")
    assert m.cues[CueId("Main/1")].continue_mode is ContinueMode.AUTO_CONTINUE
    fade = m.cues[CueId("Main/2")].action
    assert isinstance(fade, FadeAction) and fade.curve is Curve.S_CURVE
    wait = m.cues[CueId("Main/4")].wait
    assert wait is not None and wait.fallback == "Main/4.9"
    assert show.osc_targets[0].bundle is True


def test_toml_syntax_error_names_the_line() -> None:
    out = problems('[show]\ntitle = "x\n')
    assert len(out) == 1
    assert out[0].startswith("bad.toml:2:") and "not valid TOML" in out[0]


def test_all_problems_are_reported_in_one_pass_with_lines() -> None:
    text = (
        BASE
        + """
[[cue_lists]]
name = "Main"

[[cue_lists.cues]]
number = "1"
type = "osc"
target = "dek"
address = "/x"
prewiat = 2

[[cue_lists.cues]]
number = "1"
type = "wait"
duration = -3

[[cue_lists.cues]]
number = "2"
type = "start"
cue = "99"
"""
    )
    out = problems(text)
    joined = "\n".join(out)
    assert "bad.toml:11: cue 1 (cue_lists[0].cues[0].target): unknown OSC target 'dek'" in joined
    assert any("did you mean 'prewait'" in p and p.startswith("bad.toml:13:") for p in out)
    assert any("cue number '1' is used twice" in p and ":16:" in p for p in out)
    assert any("found -3, must be >= 0" in p and ":18:" in p for p in out)
    assert any("no cue '99' in list 'Main'" in p and ":23:" in p for p in out)
    assert len(out) == 5
    assert [int(p.split(":")[1]) for p in out] == [11, 13, 16, 18, 23]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[signals.x]\nstale_after = "soon"', "expected a number"),
        ("[signals.x]\nstale_after = 10\nlost_after = 5", "must be >= stale_after"),
        ('[mappings.m]\nsignal = "nope"\nto = { osc = "desk", address = "/a" }', "unknown signal"),
        (
            '[signals.x]\n[mappings.m]\nsignal = "x"\nto = { osc = "desk", address = "/a" }\n'
            "range = { in = [1, 1] }",
            "the two ends of 'in' must differ",
        ),
        ('[signals.x]\n[mappings.m]\nsignal = "x"', "missing required field 'to'"),
        (
            '[signals.x]\n[[triggers]]\nname = "t"\nwhen = { signal = "x", above = 1 }',
            "a trigger needs start",
        ),
        (
            '[signals.x]\n[[triggers]]\nname = "t"\nwhen = { signal = "x" }\ngo = true',
            "exactly one test",
        ),
        ('[sources.a]\nkind = "kafka"\nurl = "ws://h/"', "expected one of: stovelight"),
        ('[sources.a]\nkind = "stovelight"\nurl = "http://h/"', "expected ws://"),
        ("[outputs.osc.x]\nport = 70000", "must be between 1 and 65535"),
        ('[show]\ntitle = "t"\npanic_time = -1', "must be >= 0"),
        ("[shwo]\n", "did you mean 'show'"),
    ],
)
def test_each_kind_of_mistake_has_its_message(snippet: str, expected: str) -> None:
    text = BASE + snippet + '\n[[cue_lists]]\nname = "Main"\n'
    assert any(expected in p for p in problems(text)), problems(text)


def test_a_loop_that_takes_no_time_is_rejected() -> None:
    text = (
        BASE
        + """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "start"
cue = "1"
"""
    )
    out = problems(text)
    assert any("Main/1 -> Main/2 -> Main/1" in p and "takes no time" in p for p in out)


def test_a_loop_with_a_postwait_is_allowed() -> None:
    text = (
        BASE
        + """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
continue = "auto-continue"
postwait = 0.5
[[cue_lists.cues]]
number = "2"
type = "start"
cue = "1"
"""
    )
    assert parse_show(text).model.cues


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ShowFileError) as info:
        load_show(tmp_path / "nope.toml")
    assert "cannot read the show file" in str(info.value)


def test_check_command_exit_codes(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(EXAMPLES / "kitchen.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0
    assert "cue lists: 1" in good.stdout and "mappings:  2" in good.stdout
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text(
        '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\ntype = "nope"\n'
    )
    bad = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(bad_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert f"{bad_file}:5:" in bad.stderr and "expected one of: memo" in bad.stderr


@pytest.mark.parametrize(
    "snippet",
    [
        '[mappings.m]\nsignal = "home-*.t"\nto = { osc = "desk", address = "/a" }',
        '[[triggers]]\nname = "t"\nwhen = { signal = "home-*.t", above = 1 }\ngo = true',
    ],
)
def test_patterns_are_refused_where_one_signal_is_needed(snippet: str) -> None:
    text = BASE + '[signals."home-*.t"]\n' + snippet + '\n[[cue_lists]]\nname = "Main"\n'
    assert any("is a pattern; name one signal" in p for p in problems(text))


def test_a_signal_covered_by_a_pattern_can_be_mapped() -> None:
    text = (
        BASE
        + '[signals."home-*.t"]\n[mappings.m]\nsignal = "home-01.t"\n'
        + 'to = { osc = "desk", address = "/a" }\n[[cue_lists]]\nname = "Main"\n'
    )
    assert parse_show(text).model.mappings[0].signal == "home-01.t"
