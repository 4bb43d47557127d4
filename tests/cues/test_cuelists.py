"""Cue lists alone: the standby, GO and the double-GO guard, fallbacks outside the GO
order, moving the standby, reset."""

from __future__ import annotations

from cues.commands import Outbox, PlayheadChanged, Report, ReportLevel
from cues.cuelists import CueLists
from cues.model import Above, Condition, CueDef, CueId, CueListDef, CueWait, OnSignal, ShowModel


def cid(n: str) -> CueId:
    return CueId(f"Main/{n}")


def _waits(fallback: str) -> CueWait:
    """A wait that falls back to cue ``fallback``."""
    return CueWait(Condition(OnSignal("x"), Above(0.0)), timeout=1.0, fallback=cid(fallback))


def _lists() -> tuple[CueLists, Outbox]:
    cues = {
        cid("1"): CueDef(cid("1"), "1", "", wait=_waits("1.9")),
        cid("1.9"): CueDef(cid("1.9"), "1.9", ""),
        cid("2"): CueDef(cid("2"), "2", ""),
    }
    show = ShowModel(
        "t", (CueListDef("Main", (cid("1"), cid("1.9"), cid("2"))),), cues, min_go_interval=0.5
    )
    out = Outbox()
    return CueLists(show, dict(cues), out), out


def test_go_takes_the_standby_and_moves_past_fallbacks() -> None:
    lists, out = _lists()
    assert lists.playhead() == cid("1")
    assert lists.go("", 1.0, panicking=False) == cid("1")
    assert lists.playhead() == cid("2")  # not the fallback
    assert lists.last_go == 1.0
    assert out.take() == [PlayheadChanged("Main", cid("2"))]
    assert lists.go("", 2.0, panicking=False) == cid("2")
    assert lists.go("", 3.0, panicking=False) is None  # past the end
    assert out.take()[-1] == Report(ReportLevel.INFO, "GO", "nothing on standby in list 'Main'")


def test_the_guard_and_a_panic_refuse_go_and_count_it() -> None:
    lists, out = _lists()
    lists.go("", 1.0, panicking=False)
    out.take()
    assert lists.go("", 1.25, panicking=False) is None
    assert lists.go("", 2.0, panicking=True) is None
    assert lists.go("Other", 2.0, panicking=False) is None
    assert lists.go_rejected == 2
    assert out.take() == [
        Report(
            ReportLevel.WARNING,
            "GO",
            "ignored by the double-GO guard (0.250 s after the last GO, minimum 0.5 s)",
        ),
        Report(ReportLevel.WARNING, "GO", "ignored: panic in progress"),
        Report(ReportLevel.WARNING, "Other", "GO for an unknown cue list ignored"),
    ]
    lists.set_min_go_interval(-1.0)
    assert lists.min_go_interval == 0.0


def test_moving_the_standby_and_putting_a_cue_on_it() -> None:
    lists, out = _lists()
    lists.move("", 1)
    assert lists.playhead() == cid("2")
    lists.move("", 1)
    assert lists.playhead() is None
    lists.move("", -1)
    assert lists.playhead() == cid("2")
    lists.stand_by(cid("1"))
    assert lists.playhead() == cid("1")
    lists.move("", -1)  # back from the first cue: stays
    assert lists.playhead() == cid("1")
    lists.step_past(cid("2"))  # not on standby: nothing moves
    assert lists.playhead() == cid("1")
    lists.step_past(cid("1"))
    assert lists.playhead() == cid("2")
    lists.reset()
    assert lists.playhead() == cid("1")
    assert lists.last_go == float("-inf")
    assert out.take()[-1] == PlayheadChanged("Main", cid("1"))


def test_what_a_continue_starts_next_skips_fallbacks() -> None:
    lists, _ = _lists()
    one = CueDef(cid("1"), "1", "", wait=_waits("1.9"))
    assert lists.continue_applies(one)
    assert lists.next_of(one) == cid("2")
