"""The show-file reader gives every documented field its documented default and
refuses values outside the documented range (docs/show-file.md's tables), as tables
of cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cues.model import (
    Above,
    ContinueMode,
    CueDef,
    CueId,
    CueKind,
    Curve,
    FadeAction,
    GroupAction,
    GroupMode,
    NoticeAction,
    OscTarget,
    RateAbove,
    Rearm,
    ShowModel,
    SmoothingDef,
    StaleMode,
    VisualAction,
)
from show.errors import ShowFileError
from show.showfile.load import parse_show

BASE = """
[signals.x]
[outputs.osc.desk]
port = 9000
[outputs.visuals.projector]
"""

MAPPING = '[mappings.m]\nsignal = "x"\nto = { osc = "desk", address = "/m" }\n'
TRIGGER = '[[triggers]]\nname = "t"\nstart = "1"\n'
CUES = '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\n'
FADE = (
    '[[cue_lists]]\n[[cue_lists.cues]]\nnumber = "1"\ntype = "fade"\n'
    'target = { osc = "desk", address = "/f" }\nto = 1.0\n'
)


def model(text: str) -> ShowModel:
    return parse_show(BASE + text, "show.toml").model


def cue(m: ShowModel, number: str = "1", lst: str = "Main") -> CueDef:
    return m.cues[CueId(f"{lst}/{number}")]


DEFAULTS: list[tuple[str, Callable[[ShowModel], object], object]] = [
    # [show]
    (CUES, lambda m: m.min_go_interval, 0.25),
    (CUES, lambda m: m.panic_time, 1.0),
    (CUES, lambda m: m.health_interval, 0.1),
    (CUES, lambda m: m.title, "show"),
    # [signals]
    (CUES, lambda m: m.signals[0].stale_after, 5.0),
    (CUES, lambda m: m.signals[0].lost_after, 30.0),  # stale_after x 3, at least 30
    (CUES, lambda m: m.signals[0].history, 600),
    (CUES, lambda m: (m.signals[0].unit, m.signals[0].label, m.signals[0].source), ("", "", "")),
    ("[signals.y]\nstale_after = 20\n" + CUES, lambda m: m.signals[1].lost_after, 60.0),
    # [mappings]
    (MAPPING + CUES, lambda m: m.mappings[0].clamp, True),
    (MAPPING + CUES, lambda m: m.mappings[0].curve, Curve.LINEAR),
    (MAPPING + CUES, lambda m: m.mappings[0].smoothing, None),
    (MAPPING + CUES, lambda m: m.mappings[0].deadband, 0.0),
    (MAPPING + CUES, lambda m: m.mappings[0].slew, None),
    (MAPPING + CUES, lambda m: m.mappings[0].level, 1.0),
    (MAPPING + CUES, lambda m: m.mappings[0].max_rate_hz, 30.0),
    (MAPPING + CUES, lambda m: m.mappings[0].stale, StaleMode.HOLD),
    (MAPPING + CUES, lambda m: m.mappings[0].fallback, 0.0),
    (MAPPING + CUES, lambda m: m.mappings[0].enabled, True),
    (MAPPING + CUES, lambda m: m.mappings[0].in_range, None),
    (
        MAPPING + "range = { in = [40, 240] }\n" + CUES,
        lambda m: (m.mappings[0].in_range, m.mappings[0].out_range),
        ((40.0, 240.0), None),  # the engine maps to [0, 1] (tests/cues)
    ),
    (
        MAPPING + "range = { in = [1, 0], out = [5, -5], clamp = false }\n" + CUES,
        lambda m: (m.mappings[0].in_range, m.mappings[0].out_range, m.mappings[0].clamp),
        ((1.0, 0.0), (5.0, -5.0), False),
    ),
    (
        MAPPING + "smooth = { ema = 0.8 }\n" + CUES,
        lambda m: m.mappings[0].smoothing,
        SmoothingDef(ema=0.8),
    ),
    (
        MAPPING + "smooth = { one_euro = {} }\n" + CUES,
        lambda m: m.mappings[0].smoothing,
        SmoothingDef(one_euro_min_cutoff=1.0, one_euro_beta=0.0, one_euro_d_cutoff=1.0),
    ),
    (
        MAPPING
        + "smooth = { one_euro = { min_cutoff = 0.5, beta = 0.05, d_cutoff = 2 } }\n"
        + CUES,
        lambda m: m.mappings[0].smoothing,
        SmoothingDef(one_euro_min_cutoff=0.5, one_euro_beta=0.05, one_euro_d_cutoff=2.0),
    ),
    (
        MAPPING + 'stale = "fallback"\nfallback = 0.15\nslew = 0.5\ndeadband = 0.002\n' + CUES,
        lambda m: (m.mappings[0].stale, m.mappings[0].fallback, m.mappings[0].slew),
        (StaleMode.FALLBACK, 0.15, 0.5),
    ),
    # [[triggers]] and conditions
    (TRIGGER + 'when = { signal = "x", above = 1 }\n' + CUES, lambda m: m.triggers[0].hold, 0.0),
    (
        TRIGGER + 'when = { signal = "x", above = 1 }\n' + CUES,
        lambda m: m.triggers[0].rearm,
        Rearm.ON_CLEAR,
    ),
    (
        TRIGGER + 'when = { signal = "x", above = 1 }\n' + CUES,
        lambda m: (m.triggers[0].cooldown, m.triggers[0].enabled, m.triggers[0].go),
        (0.0, True, False),
    ),
    (
        TRIGGER + 'when = { signal = "x", above = 1 }\n' + CUES,
        lambda m: m.triggers[0].condition.test,
        Above(1.0, hysteresis=0.0),
    ),
    (
        TRIGGER + 'when = { signal = "x", rate_above = 1 }\n' + CUES,
        lambda m: m.triggers[0].condition.test,
        RateAbove(1.0, window=1.0),
    ),
    (
        TRIGGER + 'when = { signal = "x", equals = 1 }\n' + CUES,
        lambda m: m.triggers[0].start_cue,
        CueId("Main/1"),
    ),
    # cues
    (CUES, lambda m: cue(m).kind, CueKind.MEMO),
    (CUES, lambda m: cue(m).name, ""),
    (CUES, lambda m: (cue(m).prewait, cue(m).postwait), (0.0, 0.0)),
    (CUES, lambda m: cue(m).continue_mode, ContinueMode.DO_NOT_CONTINUE),
    (CUES, lambda m: cue(m).armed, True),
    (CUES, lambda m: m.cue_lists[0].name, "Main"),
    (CUES + "[[cue_lists]]\n", lambda m: m.cue_lists[1].name, "List 2"),
    (FADE, lambda m: cue(m).duration, 0.0),
    (
        FADE,
        lambda m: cue(m).action,
        FadeAction(
            OscTarget("desk", "/f"),
            start=None,
            to=1.0,
            curve=Curve.LINEAR,
            stop_target=False,
            rate_hz=30.0,
        ),
    ),
    (
        CUES.replace('"1"\n', '"1"\ntype = "notice"\ntext = "hi"\n'),
        lambda m: cue(m).action,
        NoticeAction("hi", level="info", ttl=0.0, notice_id=""),
    ),
    (
        CUES.replace('"1"\n', '"1"\ntype = "visual"\nscene = "heat"\n'),
        lambda m: cue(m).action,
        VisualAction("projector", "heat", "crossfade", Curve.LINEAR, ()),
    ),
    (
        CUES.replace('"1"\n', '"1"\ntype = "group"\n')
        + '[[cue_lists.cues.children]]\nnumber = "1.1"\n',
        lambda m: cue(m).action,
        GroupAction(GroupMode.TIMELINE, (CueId("Main/1.1"),)),
    ),
]


@pytest.mark.parametrize(("text", "get", "expected"), DEFAULTS)
def test_documented_default(
    text: str, get: Callable[[ShowModel], object], expected: object
) -> None:
    assert get(model(text)) == expected


BOUNDS: list[tuple[str, str]] = [
    ("[show]\nmin_go_interval = -1\n" + CUES, "show.min_go_interval: found -1, must be >= 0"),
    ("[show]\nmin_go_interval = 11\n" + CUES, "show.min_go_interval: found 11, must be <= 10"),
    ("[show]\npanic_time = 61\n" + CUES, "show.panic_time: found 61, must be <= 60"),
    (
        "[show]\nhealth_interval = 0.001\n" + CUES,
        "show.health_interval: found 0.001, must be >= 0.01",
    ),
    ("[signals.y]\nstale_after = 0\n" + CUES, "signals.y.stale_after: found 0, must be > 0"),
    (
        "[signals.y]\nhistory = -1\n" + CUES,
        "signals.y.history: found -1, must be between 0 and 1000000",
    ),
    (MAPPING + "deadband = -0.1\n" + CUES, "mappings.m.deadband: found -0.1, must be >= 0"),
    (MAPPING + "level = -1\n" + CUES, "mappings.m.level: found -1, must be >= 0"),
    (MAPPING + "slew = 0\n" + CUES, "mappings.m.slew: found 0, must be > 0"),
    (MAPPING + "max_rate_hz = 0\n" + CUES, "mappings.m.max_rate_hz: found 0, must be > 0"),
    (MAPPING + "smooth = { ema = -1 }\n" + CUES, "mappings.m.smooth.ema: found -1, must be >= 0"),
    (
        MAPPING + "smooth = { one_euro = { min_cutoff = 0 } }\n" + CUES,
        "mappings.m.smooth.one_euro.min_cutoff: found 0, must be > 0",
    ),
    (
        MAPPING + "smooth = { one_euro = { beta = -1 } }\n" + CUES,
        "mappings.m.smooth.one_euro.beta: found -1, must be >= 0",
    ),
    (MAPPING + "range = { in = [1, 1] }\n" + CUES, "the two ends of 'in' must differ"),
    (
        TRIGGER + 'when = { signal = "x", above = 1 }\nhold = -1\n' + CUES,
        "triggers[0].hold: found -1, must be >= 0",
    ),
    (
        TRIGGER + 'when = { signal = "x", above = 1, hysteresis = -1 }\n' + CUES,
        "found -1, must be >= 0",
    ),
    (
        TRIGGER + 'when = { signal = "x", rate_above = 1, window = 0 }\n' + CUES,
        "found 0, must be > 0",
    ),
    (FADE + "rate_hz = 0.5\n", "found 0.5, must be >= 1"),
    (FADE + "rate_hz = 241\n", "found 241, must be <= 240"),
    (FADE + "duration = -1\n", "found -1, must be >= 0"),
]


@pytest.mark.parametrize(("text", "message"), BOUNDS)
def test_out_of_range_values_are_refused_with_the_documented_bound(text: str, message: str) -> None:
    with pytest.raises(ShowFileError) as err:
        model(text)
    assert message in str(err.value)
