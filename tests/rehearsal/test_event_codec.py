"""Engine events as recorded by a live run and read back by a dry run."""

from __future__ import annotations

import json

import pytest

from cues import events as ev
from cues.eventcodec import decode_event, encode_event
from cues.model import ContinueMode, CueId

EVENTS: list[ev.Event] = [
    ev.Go(),
    ev.Go("Events"),
    ev.Stop(),
    ev.Stop(CueId("Main/2")),
    ev.Pause(CueId("Main/1")),
    ev.Resume(),
    ev.Panic(),
    ev.Panic(2.5),
    ev.Reset(),
    ev.StartCue(CueId("Main/3")),
    ev.StopCue(CueId("Main/3")),
    ev.SetPlayhead(CueId("Main/4")),
    ev.PlayheadNext(),
    ev.PlayheadPrevious("Main"),
    ev.SetMinGoInterval(0.75),
    ev.EditCue(CueId("Main/4"), prewait=0.2, continue_mode=ContinueMode.AUTO_FOLLOW),
    ev.EditCue(CueId("Main/1"), name="Doors"),
    ev.ArmCue(CueId("Main/5"), False),
    ev.SourceHealth("kitchen", False),
    ev.ExternalTrigger(trigger="hot"),
    ev.ExternalTrigger(cue=CueId("Main/6")),
    ev.Sample("kitchen.temp_c", 21.5, "kitchen"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_survives_json(event: ev.Event) -> None:
    data = json.loads(json.dumps(encode_event(event)))
    assert data["type"] == type(event).__name__
    assert decode_event(data) == event


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Explode"},
        {},
        {"type": "StartCue"},  # no cue
        {"type": "Panic", "duration": "soon"},
        {"type": "EditCue", "cue": "Main/1", "continue_mode": "sideways"},
    ],
)
def test_malformed_records_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        decode_event(data)
