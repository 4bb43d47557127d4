"""Cue lifecycles alone: phases, continues, waits, stop, pause, resume and halt, driven
through the lifecycle's own interface with a stand-in for the signal flow."""

from __future__ import annotations

from cues.commands import CueState, CueStateChanged, Outbox, Report, ReportLevel, SendOsc
from cues.cuelists import CueLists
from cues.lifecycle import CueLifecycle
from cues.mapping_scheduler import MappingScheduler
from cues.model import (
    Above,
    Condition,
    ContinueMode,
    CueDef,
    CueId,
    CueListDef,
    CueWait,
    GroupAction,
    GroupMode,
    OnSignal,
    OscAction,
    ShowModel,
)
from cues.timers import TimerQueue


class Links:
    """A stand-in for the signal flow: one condition result set by hand."""

    def __init__(self) -> None:
        self.true = False
        self.triggers: list[tuple[str, bool]] = []

    def holds(self, cond: Condition, now: float, was_true: bool) -> bool:
        return self.true

    def set_trigger_enabled(self, name: str, on: bool, now: float) -> None:
        self.triggers.append((name, on))


def cid(n: str) -> CueId:
    return CueId(f"Main/{n}")


def osc(n: str, **kw: object) -> CueDef:
    return CueDef(cid(n), n, "", OscAction("desk", f"/{n}"), **kw)  # type: ignore[arg-type]


class Rig:
    """A lifecycle with real timers and lists; ``log`` keeps (time, command)."""

    def __init__(self, *cues: CueDef, top: tuple[str, ...] | None = None) -> None:
        defs = {c.id: c for c in cues}
        names = top if top is not None else tuple(c.number for c in cues if c.parent is None)
        show = ShowModel("t", (CueListDef("Main", tuple(cid(n) for n in names)),), defs)
        self.out = Outbox()
        self.links = Links()
        self.timers = TimerQueue()
        live = dict(defs)
        lists = CueLists(show, live, self.out)
        self.cues = CueLifecycle(
            live, self.out, self.timers, lists, MappingScheduler((), self.out), self.links
        )
        self.log: list[tuple[float, object]] = []

    def run_until(self, now: float) -> None:
        while (timer := self.timers.pop_due(now)) is not None:
            due, kind, key = timer
            self.cues.on_timer(kind, key, due)
            self.cues.drain_starts()
            self.log.extend((due, c) for c in self.out.take())
        self.log.extend((now, c) for c in self.out.take())

    def start(self, n: str, now: float) -> None:
        self.run_until(now)
        self.cues.queue_start(cid(n), now)
        self.cues.drain_starts()
        self.log.extend((now, c) for c in self.out.take())

    def states(self, n: str) -> list[tuple[float, str]]:
        return [
            (t, c.state.value)
            for t, c in self.log
            if isinstance(c, CueStateChanged) and c.cue == cid(n)
        ]

    def sends(self) -> list[tuple[float, str]]:
        return [(t, c.address) for t, c in self.log if isinstance(c, SendOsc)]


def test_prewait_action_postwait_and_auto_continue() -> None:
    rig = Rig(
        osc("1", prewait=1.0, duration=2.0, postwait=0.5, continue_mode=ContinueMode.AUTO_CONTINUE),
        osc("2"),
    )
    rig.start("1", 0.0)
    rig.run_until(10.0)
    assert rig.states("1") == [(0.0, "prewait"), (1.0, "running"), (3.0, "idle")]
    assert rig.sends() == [(1.0, "/1"), (1.5, "/2")]


def test_auto_follow_starts_the_next_cue_when_the_action_ends() -> None:
    rig = Rig(osc("1", duration=2.0, continue_mode=ContinueMode.AUTO_FOLLOW), osc("2"))
    rig.start("1", 0.0)
    rig.run_until(5.0)
    assert rig.sends() == [(0.0, "/1"), (2.0, "/2")]


def test_a_wait_goes_on_when_its_condition_holds_and_times_out_to_its_fallback() -> None:
    cond = Condition(OnSignal("x"), Above(0.0))
    rig = Rig(
        osc("1", wait=CueWait(cond, timeout=2.0, fallback=cid("9"))),
        osc("9"),
        top=("1", "9"),
    )
    rig.start("1", 0.0)
    assert rig.cues.waiting == {cid("1")}
    rig.links.true = True
    rig.cues.recheck_waits("x", 0.5)
    rig.run_until(0.5)
    assert rig.sends() == [(0.5, "/1")]
    assert rig.cues.waiting == set()
    rig.links.true = False
    rig.start("1", 1.0)
    rig.run_until(5.0)
    assert (3.0, "/9") in rig.sends()
    assert (
        3.0,
        Report(ReportLevel.WARNING, "Main/1", "waited 2 s for x > 0; starting fallback Main/9"),
    ) in rig.log


def test_a_stale_timer_after_stop_does_nothing() -> None:
    rig = Rig(osc("1", prewait=1.0))
    rig.start("1", 0.0)
    rig.cues.stop(cid("1"), 0.5)
    rig.run_until(0.5)
    rig.run_until(2.0)
    assert rig.sends() == []
    assert rig.states("1") == [(0.0, "prewait"), (0.5, "idle")]
    assert rig.cues.timer_valid("Main/1", 0) is False
    assert rig.timers.next_due() is None


def test_pause_and_resume_shift_the_pending_times() -> None:
    rig = Rig(osc("1", prewait=1.0))
    rig.start("1", 0.0)
    rig.cues.pause(cid("1"), 0.5)
    rig.run_until(3.0)
    rig.cues.resume(None, 3.0)
    rig.run_until(10.0)
    assert rig.sends() == [(3.5, "/1")]


def test_a_playlist_group_runs_its_children_one_after_another() -> None:
    group = CueDef(
        cid("1"),
        "1",
        "",
        GroupAction(GroupMode.PLAYLIST, (cid("1.1"), cid("1.2"))),
    )
    rig = Rig(
        group,
        osc("1.1", duration=1.0, parent=cid("1")),
        osc("1.2", duration=1.0, parent=cid("1")),
        top=("1",),
    )
    rig.start("1", 0.0)
    rig.run_until(5.0)
    assert rig.sends() == [(0.0, "/1.1"), (1.0, "/1.2")]
    assert rig.states("1") == [(0.0, "running"), (2.0, "idle")]


def test_halt_refuses_starts_until_released() -> None:
    rig = Rig(osc("1", prewait=1.0), osc("2", duration=3.0))
    rig.start("1", 0.0)
    rig.start("2", 0.0)
    rig.cues.halt(0.5)
    rig.start("1", 0.6)
    assert rig.cues.runs[cid("1")].state is CueState.IDLE  # in pre-wait: stopped
    assert rig.cues.runs[cid("2")].state is CueState.RUNNING  # acting: left to end
    assert (0.6, Report(ReportLevel.WARNING, "Main/1", "not started: panic in progress")) in rig.log
    rig.cues.release(1.0)
    assert rig.cues.runs[cid("2")].state is CueState.IDLE
    rig.start("1", 1.0)
    assert rig.cues.runs[cid("1")].state is CueState.PREWAIT


def test_a_reload_removes_adds_and_changes_cues() -> None:
    rig = Rig(osc("1", duration=5.0), osc("2"))
    rig.start("1", 0.0)
    assert rig.cues.busy() == {cid("1")}
    rig.cues.remove_cue(cid("2"))
    rig.cues.add_cue(osc("3"))
    assert rig.cues.change_cue(osc("1", duration=1.0), rearm=False)  # running: next start
    assert rig.cues.runs[cid("1")].cue.duration == 5.0
    assert set(rig.cues.runs) == {cid("1"), cid("3")}
