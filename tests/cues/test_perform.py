"""Cue actions alone: what each kind of cue does, fades stepping to their end, groups
and notices, with a stand-in for the lifecycle."""

from __future__ import annotations

from cues.commands import (
    ClearNotice,
    CueState,
    Notice,
    Outbox,
    SendMidi,
    SendOsc,
    SetScene,
    SetVisualInput,
)
from cues.mapping_scheduler import MappingScheduler
from cues.model import (
    ArmAction,
    ChannelMessage,
    Condition,
    CueAction,
    CueDef,
    CueId,
    CueRef,
    CueWait,
    DisarmAction,
    Equals,
    FadeAction,
    GroupAction,
    GroupMode,
    MappingDef,
    MappingRef,
    MappingTarget,
    MemoAction,
    MidiAction,
    NoticeAction,
    OnSignal,
    OscAction,
    OscTarget,
    StartAction,
    StopAction,
    TriggerRef,
    VisualAction,
)
from cues.perform import CueActions, targets_of
from cues.runtime import CueRun
from cues.timers import TimerKind, TimerQueue


class Control:
    """A stand-in lifecycle that records what the actions ask of it."""

    def __init__(self) -> None:
        self.runs: dict[CueId, CueRun] = {}
        self.calls: list[tuple[str, CueId, float]] = []
        self.busy: set[CueId] = set()

    def run_of(self, cid: CueId) -> CueRun:
        return self.runs[cid]

    def queue_start(self, cid: CueId, t: float, follow: bool = False) -> None:
        self.calls.append(("start", cid, t))

    def stop_run(self, run: CueRun, t: float) -> None:
        self.calls.append(("stop", run.cue.id, t))

    def is_busy(self, cid: CueId) -> bool:
        return cid in self.busy

    def end_action(self, run: CueRun, t: float) -> None:
        self.calls.append(("end", run.cue.id, t))


class Triggers:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, float]] = []

    def set_trigger_enabled(self, name: str, on: bool, now: float) -> None:
        self.calls.append((name, on, now))


def _cue(
    action: CueAction, armed: bool = True, wait: CueWait | None = None, duration: float = 0.0
) -> CueDef:
    return CueDef(CueId("Main/1"), "1", "", action, armed=armed, wait=wait, duration=duration)


def _rig(
    mappings: tuple[MappingDef, ...] = (),
) -> tuple[CueActions, Outbox, TimerQueue, Control, Triggers]:
    out, control, triggers = Outbox(), Control(), Triggers()
    timers = TimerQueue()
    timers.own([TimerKind.FADE], lambda *_: True, lambda *_: None)
    actions = CueActions(control, out, timers, MappingScheduler(mappings, out), triggers)
    return actions, out, timers, control, triggers


def _with_mapping(m: MappingDef) -> tuple[CueActions, MappingScheduler, Control, Triggers]:
    out, control, triggers = Outbox(), Control(), Triggers()
    sched = MappingScheduler((m,), out)
    actions = CueActions(control, out, TimerQueue(), sched, triggers)
    return actions, sched, control, triggers


def _running(cue: CueDef, t: float = 0.0) -> CueRun:
    run = CueRun(cue=cue, armed=cue.armed, state=CueState.RUNNING)
    run.action_at, run.action_end = t, t + cue.duration
    return run


def test_sends_scenes_and_inputs() -> None:
    actions, out, _, _, _ = _rig()
    midi = ChannelMessage("cc", number=7, value=64)
    actions.begin(_running(_cue(OscAction("d", "/a"))), 0.0)
    actions.begin(_running(_cue(MidiAction("p", midi))), 0.0)
    visual = _cue(VisualAction("v", scene="s", inputs=(("k", 0.5),)), duration=2.0)
    actions.begin(_running(visual), 0.0)
    assert out.take() == [
        SendOsc("d", "/a", ()),
        SendMidi("p", midi),
        SetScene("v", "s", "crossfade", 2.0, "linear"),
        SetVisualInput("v", "k", 0.5),
    ]
    assert actions.target_values == {"visual:v:k": 0.5}


def test_a_disarmed_cue_does_nothing_and_a_disarmed_group_ends_at_once() -> None:
    actions, out, _, control, _ = _rig()
    run = _running(_cue(OscAction("d", "/a"), armed=False))
    actions.begin(run, 0.0)
    group = _running(_cue(GroupAction(children=(CueId("Main/1.1"),)), armed=False), 0.0)
    group.action_end = 5.0
    actions.begin(group, 1.0)
    assert out.take() == []
    assert control.calls == []
    assert group.action_end == 1.0


def test_a_fade_steps_at_its_rate_and_ends_on_its_target() -> None:
    actions, out, timers, _, _ = _rig()
    target = OscTarget("d", "/f")
    cue = _cue(FadeAction(target, start=0.0, to=1.0, rate_hz=4.0), duration=1.0)
    run = _running(cue)
    actions.begin(run, 0.0)
    actions.schedule_steps(run)
    steps = []
    while (timer := timers.pop_due(0.99)) is not None:
        due, kind, _ = timer
        assert kind is TimerKind.FADE
        steps.append(due)
        actions.step(run, due)
    actions.end(run, 1.0)
    assert steps == [0.25, 0.5, 0.75]
    assert [c.args[0] for c in out.take() if isinstance(c, SendOsc)] == [
        0.0,
        0.25,
        0.5,
        0.75,
        1.0,
    ]
    assert actions.target_values == {"osc:d:/f": 1.0}


def test_a_fade_without_from_starts_at_the_last_value_sent() -> None:
    actions, out, _, _, _ = _rig()
    target = OscTarget("d", "/f")
    actions.target_values[target.key] = 0.5
    run = _running(_cue(FadeAction(target, to=0.0), duration=1.0))
    actions.begin(run, 0.0)
    assert run.fade_from == 0.5
    assert out.take() == []  # no jump to the start


def test_a_fade_of_a_mapping_level_and_stop_target() -> None:
    m = MappingDef("m", "x", OscTarget("d", "/m"))
    actions, sched, _, _ = _with_mapping(m)
    fade = _cue(FadeAction(MappingTarget("m"), to=0.25, stop_target=True))
    run = _running(fade)
    actions.begin(run, 0.0)
    actions.end(run, 0.0)
    state = sched.states["m"]
    assert (state.level, state.enabled) == (0.25, False)


def test_control_cues_start_stop_arm_and_switch_mappings_and_triggers() -> None:
    m = MappingDef("m", "x", OscTarget("d", "/m"), enabled=False)
    actions, sched, control, triggers = _with_mapping(m)
    other = CueId("Main/2")
    control.runs[other] = CueRun(cue=_cue(MemoAction()), armed=True)
    actions.begin(_running(_cue(StartAction(CueRef(other)))), 1.0)
    actions.begin(_running(_cue(StopAction(CueRef(other)))), 2.0)
    actions.begin(_running(_cue(DisarmAction(CueRef(other)))), 3.0)
    actions.begin(_running(_cue(DisarmAction(TriggerRef("t")))), 3.0)
    actions.begin(_running(_cue(ArmAction(MappingRef("m")))), 4.0)
    assert control.calls == [("start", other, 1.0), ("stop", CueId("Main/1"), 2.0)]
    assert control.runs[other].armed is False
    assert triggers.calls == [("t", False, 3.0)]
    assert sched.states["m"].enabled


def test_groups_start_their_children_and_end_when_they_are_done() -> None:
    actions, _, _, control, _ = _rig()
    kids = (CueId("Main/1.1"), CueId("Main/1.2"))
    timeline = _running(_cue(GroupAction(children=kids)))
    actions.begin(timeline, 0.0)
    assert control.calls == [("start", kids[0], 0.0), ("start", kids[1], 0.0)]
    control.calls.clear()
    playlist = _running(_cue(GroupAction(GroupMode.PLAYLIST, kids)))
    actions.begin(playlist, 0.0)
    assert playlist.action_end is None
    assert control.calls == [("start", kids[0], 0.0)]
    child = CueRun(cue=CueDef(kids[0], "1.1", ""), armed=True)
    actions.child_finished(playlist, child, 1.0)
    assert control.calls[-1] == ("start", kids[1], 1.0)
    actions.recheck_group(playlist, 2.0)
    assert control.calls[-1] == ("end", CueId("Main/1"), 2.0)
    assert actions.children(playlist.cue) == kids
    assert actions.children(_cue(OscAction("d", "/a"))) == ()


def test_notices_go_up_expire_and_are_taken_down() -> None:
    actions, out, timers, _, _ = _rig()
    notice = _cue(NoticeAction("hi", level="alert", ttl=2.0))
    actions.begin(_running(notice), 1.0)
    assert out.take() == [Notice("Main/1", "hi", "alert")]
    assert timers.pop_due(3.0) == (3.0, TimerKind.NOTICE, "Main/1")
    assert actions.notices.timer_valid("Main/1", -1)
    actions.notices.expire("Main/1", 3.0)
    assert out.take() == [ClearNotice("Main/1")]
    actions.begin(_running(_cue(NoticeAction("again"))), 4.0)
    actions.begin(_running(_cue(NoticeAction())), 5.0)  # no text: take it down
    assert out.take() == [Notice("Main/1", "again", "info"), ClearNotice("Main/1")]


def test_what_a_cue_refers_to() -> None:
    wait = CueWait(Condition(OnSignal("x"), Equals(1.0)), timeout=1.0, fallback=CueId("Main/9"))
    cue = _cue(FadeAction(MappingTarget("m")), wait=wait)
    assert targets_of(cue) == ({"m"}, set(), {CueId("Main/9")})
    assert targets_of(_cue(DisarmAction(TriggerRef("t")))) == (set(), {"t"}, set())
    assert targets_of(_cue(StartAction(MappingRef("m")))) == ({"m"}, set(), set())
    kids = (CueId("Main/1.1"), CueId("Main/1.2"))
    assert targets_of(_cue(GroupAction(children=kids))) == (set(), set(), set(kids))
