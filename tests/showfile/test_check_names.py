"""`stovelight check` refuses what would fail on show night, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from cues.model import CueDef, CueId, VisualAction
from show.errors import ShowFileError
from show.showfile.load import load_show, parse_show


def visual(cue: CueDef) -> VisualAction:
    """A visual cue's action."""
    assert isinstance(cue.action, VisualAction)
    return cue.action


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
    wait = show.model.cues[CueId("Main/4")].wait
    assert wait is not None and wait.fallback == "Main/4.9"


def test_hold_is_read_and_needs_wait_for() -> None:
    show = parse_show(BASE + WAIT.replace('fallback = "FALLBACK"', "hold = 2.5"), "ok.toml")
    wait = show.model.cues[CueId("Main/4")].wait
    assert wait is not None and wait.hold == 2.5
    [msg] = problems('[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\nhold = 2\n')
    assert "only apply with wait_for" in msg
    [msg] = problems(WAIT.replace('fallback = "FALLBACK"', "hold = 5"))
    assert "hold (5 s) is not shorter than timeout (5 s): the wait could only time out" in msg


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
    assert show.model.cues[CueId("Main/1")].notes == "after the call"
    assert show.model.mappings[0].enabled is False
    [msg] = problems(
        '[mappings.m]\nsignal = "s"\nto = { osc = "desk", address = "/m" }\n'
        "armed = false\nenabled = false\n[[cue_lists]]\n"
    )
    assert "not both" in msg


VISUAL = """
[outputs.visuals.projector]
scene = "heat"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "visual"
"""


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ('scene = "heatwave"', "unknown scene 'heatwave'; did you mean 'heat'?"),
        ('scene = "dashbord"', "unknown scene 'dashbord'; did you mean 'dashboard'?"),
        ('scene = "heat"\ntransition = "dissolve"', "unknown transition 'dissolve'"),
        ('scene = "heat"\ntransition = "heat"', "unknown transition 'heat'"),
        ("inputs = { heatt = 0.5 }", "has an input 'heatt'; did you mean 'heat'?"),
        (
            'scene = "dashboard"\ninputs = { accent = 0.5 }',
            "scene input 'accent' is a color; cues, fades, mappings and bindings send numbers",
        ),
    ],
)
def test_scene_names_transitions_and_inputs_are_checked(fields: str, expected: str) -> None:
    [msg] = problems(VISUAL + fields + "\n")
    assert expected in msg
    assert msg.startswith("bad.toml:")


def test_scene_inputs_of_mappings_fades_and_bindings_are_checked() -> None:
    text = VISUAL.replace('scene = "heat"', 'scene = "heat"\ninputs = { hat = "s" }') + (
        'scene = "heat"\n[[cue_lists.cues]]\nnumber = "2"\ntype = "fade"\nto = 1\n'
        'target = { visual = "projector", input = "flickr" }\n'
        '[mappings.m]\nsignal = "s"\nto = { visual = "projector", input = "stove9" }\n'
    )
    found = problems(text)
    assert len(found) == 3
    assert any("input 'hat'; did you mean 'heat'?" in p for p in found)
    assert any("input 'flickr'; did you mean 'flicker'?" in p for p in found)
    assert any("mappings.m.to" in p and "input 'stove9'" in p for p in found)


def test_an_input_any_scene_of_the_output_declares_is_accepted() -> None:
    text = VISUAL + 'scene = "dashboard"\ninputs = { dim = 0.5 }\n'  # dashboard has dim
    text += '[[cue_lists.cues]]\nnumber = "2"\ntype = "visual"\ninputs = { heat = 1 }\n'
    show = parse_show(BASE + text, "ok.toml")
    assert visual(show.model.cues[CueId("Main/2")]).inputs == (("heat", 1.0),)


ISF_TRANSITION = """/*{
    "ISFVSN": "2",
    "INPUTS": [
        {"NAME": "startImage", "TYPE": "image"},
        {"NAME": "endImage", "TYPE": "image"},
        {"NAME": "progress", "TYPE": "float"}
    ]
}*/
void main() {
    gl_FragColor = mix(IMG_NORM_PIXEL(startImage, isf_FragNormCoord),
                       IMG_NORM_PIXEL(endImage, isf_FragNormCoord), progress);
}
"""


def test_isf_files_are_found_next_to_the_show_and_run_by_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "shaders").mkdir()
    (tmp_path / "shaders" / "wipe.fs").write_text(ISF_TRANSITION)
    (tmp_path / "glow.fs").write_text(
        '/*{"ISFVSN": "2", "INPUTS": [{"NAME": "glow", "TYPE": "float"}]}*/\n'
        "void main() { gl_FragColor = vec4(glow); }\n"
    )
    show_file = tmp_path / "show.toml"
    show_file.write_text(
        BASE + VISUAL + 'scene = "glow.fs"\ntransition = "shaders/wipe.fs"\ninputs = { glow = 1 }\n'
    )
    action = visual(load_show(show_file).model.cues[CueId("Main/1")])
    assert action.scene == str(tmp_path / "glow.fs")
    assert action.transition == str(tmp_path / "shaders" / "wipe.fs")
    show_file.write_text(BASE + VISUAL + 'scene = "heat"\ntransition = "glow.fs"\n')
    with pytest.raises(ShowFileError) as info:
        load_show(show_file)
    assert "'glow.fs' is a scene, not a transition" in str(info.value)
    (tmp_path / "glow.fs").write_text('/*{"INPUTS": [{"NAME": 3}]*/ void main() {}')
    show_file.write_text(BASE + VISUAL + 'scene = "glow.fs"\n')
    with pytest.raises(ShowFileError) as info:
        load_show(show_file)
    assert f"scene file {tmp_path / 'glow.fs'}" in str(info.value)


def test_a_fade_or_mapping_target_given_as_a_name_shows_the_table_form() -> None:
    found = problems(
        '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\ntarget = "desk"\nto = 1\n'
        '[mappings.m]\nsignal = "s"\nto = "desk"\n'
    )
    assert len(found) == 2
    assert "target = { osc = 'desk', address = '/light/1' }" in found[0] + found[1]
    assert "to = { osc = 'desk', address = '/light/1' }" in found[0] + found[1]


def test_an_unquoted_dotted_name_gets_the_quoting_and_no_follow_on_errors() -> None:
    found = problems(
        '[signals.grid.supply_kw]\nunit = "kW"\n'
        '[mappings.m]\nsignal = "grid.supply_kw"\nto = { osc = "desk", address = "/a" }\n'
        "[[cue_lists]]\n"
    )
    assert found == [
        "bad.toml:5: signals.grid.supply_kw: TOML reads [signals.grid.supply_kw] as tables"
        ' inside tables; a name with dots needs quotes: did you mean [signals."grid.supply_kw"]?'
    ]


def test_an_unquoted_dotted_name_makes_no_phantom_signal() -> None:
    with pytest.raises(ShowFileError) as info:
        parse_show("[signals.grid.a]\n[signals.grid.b]\n[[cue_lists]]\n", "bad.toml")
    assert len(info.value.problems) == 2  # one hint each, nothing about a signal 'grid'
    found = problems(
        '[signals.grid.a]\n[derived.t]\nop = "sum"\ninputs = ["grid"]\n[[cue_lists]]\n'
    )
    assert any("unknown signal 'grid'" in p for p in found)


def test_timed_go_without_a_time_is_one_problem_with_the_right_wording() -> None:
    msc = '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "midi"\nport = "p"\n'
    ports = '[outputs.midi.p]\nport = "x"\n'
    [msg] = problems(ports + msc + 'message = { type = "msc", command = "TIMED_GO", cue = "1" }\n')
    assert "MSC TIMED_GO needs time = 'HH:MM:SS:FF'" in msg
    [msg] = problems(
        ports + msc + 'message = { type = "msc", command = "GO", cue = "1", time = "1" }\n'
    )
    assert "MSC GO takes no time (only TIMED_GO and SET do); remove it" in msg


def test_problems_in_an_inline_array_of_tables_point_at_their_element() -> None:
    text = """[[cue_lists]]
name = "Main"
cues = [
  { number = "1", type = "memo" },
  # a comment with { braces } and "quotes ["
  { number = "2", type = "bogus", name = "a, b ] }" },
  { number = "3", type = "osc", target = "dsk", address = "/b" }, { number = "4", prewait = -1 },
]
"""
    found = problems(text)
    lines = sorted(int(p.split(":")[1]) for p in found)
    base = BASE.count("\n")
    assert lines == [base + 6, base + 7, base + 7]


def test_a_notice_that_takes_down_an_id_nothing_puts_up_is_refused() -> None:
    cues = (
        '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "notice"\nid = "alert"\n'
        'text = "Fault!"\n[[cue_lists.cues]]\nnumber = "2"\ntype = "notice"\nid = "alret"\n'
    )
    [msg] = problems(cues)
    assert "no notice cue puts up a message with id 'alret'" in msg
    assert "did you mean 'alert'?" in msg
    parse_show(BASE + cues.replace('"alret"', '"alert"'), "ok.toml")
    [msg] = problems('[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "notice"\n')
    assert "say which with id = '...'" in msg


def test_midi_port_patterns_and_binding_cues_are_checked() -> None:
    found = problems(
        '[outputs.midi.a]\nport = "re:Launch[pad"\n'
        '[outputs.midi.b]\nport = ""\ninput = true\n'
        '[[outputs.midi.b.bindings]]\nmessage = "note"\nnumber = 36\n'
        'action = "start"\ncue = "4.90"\n'
        '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "4.9"\ntype = "memo"\n'
    )
    assert len(found) == 3
    assert any("'re:Launch[pad': not a valid regular expression" in p for p in found)
    assert any("an empty name matches any MIDI port" in p for p in found)
    assert any(
        "bindings[0].cue: no cue '4.90' in this show; did you mean '4.9'?" in p for p in found
    )


def test_osc_addresses_follow_the_osc_bridges_rule() -> None:
    found = problems(
        '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\n'
        'target = { osc = "desk", address = "" }\nto = 1\n'
        '[[cue_lists.cues]]\nnumber = "2"\ntype = "osc"\ntarget = "desk"\naddress = "/a b"\n'
    )
    assert len(found) == 2
    assert "found ''; OSC addresses start with '/'" in found[0]
    assert "contains ' '; only printable ASCII without spaces or '#'" in found[1]


def test_a_constant_for_a_long_input_must_be_one_of_its_values(tmp_path: Path) -> None:
    (tmp_path / "modes.fs").write_text(
        '/*{"ISFVSN": "2", "INPUTS": [{"NAME": "mode", "TYPE": "long",'
        ' "VALUES": [0, 1, 2], "LABELS": ["a", "b", "c"]}]}*/\n'
        "void main() { gl_FragColor = vec4(float(mode)); }\n"
    )
    show_file = tmp_path / "show.toml"
    show_file.write_text(BASE + VISUAL + 'scene = "modes.fs"\ninputs = { mode = 5 }\n')
    with pytest.raises(ShowFileError) as info:
        load_show(show_file)
    assert "scene input 'mode' takes only [0, 1, 2]; 5 would be refused" in str(info.value)
    show_file.write_text(BASE + VISUAL + 'scene = "modes.fs"\ninputs = { mode = 2 }\n')
    assert visual(load_show(show_file).model.cues[CueId("Main/1")]).inputs == (("mode", 2.0),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\nwait_for = {}\n',
            "an empty condition; give signal = '...' and a test",
        ),
        (
            '[[triggers]]\nname = "t"\nwhen = {}\ngo = true\n[[cue_lists]]\n',
            "an empty condition; give signal = '...' and a test",
        ),
        (
            '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\n'
            'wait_for = { signal = "s", health = "" }\n',
            "found ''; expected one of: live, stale, lost",
        ),
        (
            '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\n'
            'target = { osc = "", address = "/a" }\nto = 1\n',
            "unknown OSC target '' (declared: desk)",
        ),
        (
            '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "stop"\nmapping = ""\n',
            "unknown mapping '' (declared: none)",
        ),
    ],
)
def test_a_condition_or_a_target_that_names_nothing_is_refused(text: str, expected: str) -> None:
    """An empty condition, health test or name would make a cue or trigger that can
    never act (or a target that is no destination): each is a problem at its line."""
    assert [p for p in problems(text) if expected in p], problems(text)
