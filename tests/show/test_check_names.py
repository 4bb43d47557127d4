"""`stovelight check` refuses what would fail on show night, with the fix."""

from __future__ import annotations

import pytest

from show.errors import ShowFileError
from show.showfile import parse_show

BASE = """
[outputs.osc.desk]
port = 9000
[signals.s]
"""

WAIT = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "4"
type = "notice"
text = "back"
wait_for = { signal = "s", above = 0 }
timeout = 5
fallback = "FALLBACK"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ShowFileError) as info:
        parse_show(BASE + text, "bad.toml")
    return [str(p) for p in info.value.problems]


def test_a_fallback_inside_a_group_is_refused_with_the_fix() -> None:
    text = (
        WAIT.replace("FALLBACK", "3.2")
        + """
[[cue_lists.cues]]
number = "3"
type = "group"
  [[cue_lists.cues.children]]
  number = "3.1"
  type = "memo"
  [[cue_lists.cues.children]]
  number = "3.2"
  type = "memo"
"""
    )
    [msg] = problems(text)
    assert "fallback 3.2 is a child of group 3" in msg
    assert "move it to the top level of a list" in msg
    assert "bad.toml:" in msg


def test_a_cue_cannot_be_its_own_fallback() -> None:
    [msg] = problems(WAIT.replace("FALLBACK", "4"))
    assert "its own fallback" in msg


def test_continue_to_a_fallback_is_refused() -> None:
    text = (
        WAIT.replace("FALLBACK", "4.9")
        + """
[[cue_lists.cues]]
number = "4.9"
type = "memo"
[[cue_lists.cues]]
number = "1"
type = "memo"
continue = "auto-continue"
continue_to = "4.9"
"""
    )
    [msg] = problems(text)
    assert "cue 1" in msg and "continue_to" in msg
    assert "fallback of cue 4" in msg and "continue to cue 4 instead" in msg


def test_a_notice_fallback_sharing_its_waiting_cues_id_is_refused() -> None:
    text = WAIT.replace("FALLBACK", "4.9").replace('text = "back"', 'text = "back"\nid = "r"') + (
        '[[cue_lists.cues]]\nnumber = "4.9"\ntype = "notice"\nid = "r"\ntext = "late"\n'
    )
    [msg] = problems(text)
    assert "notice id 'r'" in msg and "give it its own id" in msg


def test_the_documented_fallback_layout_passes() -> None:
    text = WAIT.replace("FALLBACK", "4.9") + (
        '[[cue_lists.cues]]\nnumber = "4.9"\ntype = "notice"\ntext = "late"\n'
        '[[cue_lists.cues]]\nnumber = "5"\ntype = "memo"\n'
    )
    show = parse_show(BASE + text, "ok.toml")
    assert show.model.cues["Main/4"].fallback == "Main/4.9"  # type: ignore[index]


def test_hold_is_read_and_needs_wait_for() -> None:
    show = parse_show(BASE + WAIT.replace('fallback = "FALLBACK"', "hold = 2.5"), "ok.toml")
    assert show.model.cues["Main/4"].wait_hold == 2.5  # type: ignore[index]
    [msg] = problems('[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\nhold = 2\n')
    assert "only apply with wait_for" in msg


def test_a_cue_number_written_differently_gets_a_did_you_mean() -> None:
    text = WAIT.replace("FALLBACK", "4.90") + (
        '[[cue_lists.cues]]\nnumber = "4.9"\ntype = "memo"\n'
    )
    [msg] = problems(text)
    assert "no cue '4.90' in list 'Main'; did you mean '4.9'?" in msg


def test_a_misspelt_cue_number_gets_a_did_you_mean() -> None:
    [msg] = problems(
        '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "intro"\ntype = "memo"\n'
        '[[cue_lists.cues]]\nnumber = "2"\ntype = "start"\ncue = "intor"\n'
    )
    assert "did you mean 'intro'?" in msg


def test_notes_and_armed_mappings_are_carried_in_the_model() -> None:
    show = parse_show(
        BASE
        + '[mappings.m]\nsignal = "s"\nto = { osc = "desk", address = "/m" }\narmed = false\n'
        + '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\nnotes = "after the call"\n'
        + 'type = "arm"\nmapping = "m"\n',
        "ok.toml",
    )
    assert show.model.cues["Main/1"].notes == "after the call"  # type: ignore[index]
    assert show.model.mappings[0].enabled is False
    [msg] = problems(
        '[mappings.m]\nsignal = "s"\nto = { osc = "desk", address = "/m" }\n'
        "armed = false\nenabled = false\n[[cue_lists]]\n"
    )
    assert "not both" in msg
