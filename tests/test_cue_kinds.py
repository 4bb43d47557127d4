"""Adding a kind of cue touches one place per layer.

A kind is one action type in the ``cues.model.CueAction`` union. mypy's
``assert_never`` makes every ``match`` on the union (the engine's actions, the console's
wording, the QLab values) handle it; these tests hold the tables that ``match`` cannot:
each action type has exactly one kind, one show-file reader, one QLab cue type and one
sentence on the console, and a show with one cue of each kind parses, describes and runs.
"""

from __future__ import annotations

from typing import get_args

import pytest

from cues import events as ev
from cues.commands import Report, ReportLevel
from cues.engine import Engine
from cues.model import ACTION_KINDS, TIMED_ACTIONS, CueAction, CueId, CueKind, MemoAction
from show.errors import ShowFileError
from show.qlab import cues as qlab_cues
from show.showfile import cues as cue_reader
from show.showfile.load import parse_show
from show.web.cuetext import describe_cue

ACTIONS: tuple[type[CueAction], ...] = get_args(CueAction)

HEADER = """
[outputs.osc.desk]
port = 9000
[outputs.midi.synth]
port = "Synth"
[outputs.visuals.projector]
[signals.x]
[mappings.glow]
signal = "x"
to = { osc = "desk", address = "/glow" }
[[triggers]]
name = "hot"
when = { signal = "x", above = 1 }
go = true
[[cue_lists]]
name = "Main"
"""

# One cue of each kind (its number is the kind's name); a new kind needs a line here.
EXAMPLES: dict[CueKind, str] = {
    CueKind.MEMO: "",
    CueKind.WAIT: "duration = 0.5",
    CueKind.OSC: 'target = "desk"\naddress = "/a"\nargs = [1, "two"]',
    CueKind.MIDI: 'port = "synth"\nmessage = { type = "cc", controller = 7, value = 64 }',
    CueKind.VISUAL: 'scene = "heat"\ninputs = { heat = 0.5 }\nduration = 1.0',
    CueKind.NOTICE: 'text = "Welcome"\nlevel = "announcement"',
    CueKind.FADE: 'target = { mapping = "glow" }\nto = 0.5\nduration = 1.0',
    CueKind.GROUP: '[[cue_lists.cues.children]]\nnumber = "group.1"\ntype = "memo"',
    CueKind.START: 'cue = "memo"',
    CueKind.STOP: 'mapping = "glow"',
    CueKind.ARM: 'trigger = "hot"',
    CueKind.DISARM: 'cue = "wait"',
}


def _show() -> str:
    cues = [
        f'[[cue_lists.cues]]\nnumber = "{k.value}"\ntype = "{k.value}"\n{body}\n'
        for k, body in EXAMPLES.items()
    ]
    return HEADER + "".join(cues)


def test_every_action_type_is_one_kind_and_every_kind_one_action_type() -> None:
    assert set(ACTION_KINDS) == set(ACTIONS)
    assert sorted(ACTION_KINDS.values(), key=lambda k: k.value) == sorted(
        CueKind, key=lambda k: k.value
    )
    assert set(TIMED_ACTIONS) <= set(ACTIONS)


def test_every_action_type_has_one_reader_one_qlab_type_and_an_example() -> None:
    assert set(cue_reader.READERS) == set(ACTIONS)
    assert set(qlab_cues._TYPES) == set(ACTIONS)
    assert len(set(qlab_cues._TYPES.values())) == len(ACTIONS)  # no two kinds look alike
    assert set(EXAMPLES) == set(CueKind)


def test_each_kind_is_read_into_its_action_type_with_the_keys_its_fields_name() -> None:
    model = parse_show(_show(), "kinds.toml").model
    for action, kind in ACTION_KINDS.items():
        cue = model.cues[CueId(f"Main/{kind.value}")]
        assert type(cue.action) is action, kind
        assert cue.kind is kind
    assert model.cues[CueId("Main/wait")].duration == 0.5


@pytest.mark.parametrize("kind", list(CueKind), ids=[k.value for k in CueKind])
def test_a_key_of_another_kind_is_refused(kind: CueKind) -> None:
    own = set(cue_reader.file_keys(next(a for a, k in ACTION_KINDS.items() if k is kind)))
    foreign = sorted(set().union(*map(cue_reader.file_keys, ACTIONS)) - own)[0]
    text = HEADER + f'[[cue_lists.cues]]\nnumber = "1"\ntype = "{kind.value}"\n{foreign} = 1\n'
    with pytest.raises(ShowFileError, match=f"unknown field '{foreign}'"):
        parse_show(text, "kinds.toml")


def test_each_kind_has_its_own_sentence_on_the_console() -> None:
    model = parse_show(_show(), "kinds.toml").model
    words = {k: describe_cue(model.cues[CueId(f"Main/{k.value}")]) for k in CueKind}
    assert len(set(words.values())) == len(words), words
    assert words[CueKind.MEMO] == "nothing (memo)"
    assert words[CueKind.STOP] == "stop mapping glow"
    assert words[CueKind.FADE] == "fade mapping glow's level current → 0.5 over 1 s (linear)"


def test_each_kind_runs_in_the_engine_without_an_error() -> None:
    model = parse_show(_show(), "kinds.toml").model
    engine = Engine(model)
    for t, kind in enumerate(CueKind):
        engine.handle(ev.StartCue(CueId(f"Main/{kind.value}")), float(t))
        engine.advance(t + 0.9)
    errors = [
        c for c in engine.commands() if isinstance(c, Report) and c.level is ReportLevel.ERROR
    ]
    assert errors == []
    assert engine.stats.errors == 0
    assert engine.runs[CueId("Main/wait")].armed is False  # the disarm cue acted
    assert isinstance(model.cues[CueId("Main/memo")].action, MemoAction)
