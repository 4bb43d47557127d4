"""The show's loop thread at real-time priority (show.runtime.priority): asked of the
kernel, refused without a trace, given to that thread only, and given back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from show.runtime.priority import (
    GROUP_HINT,
    LOOP_PRIORITY,
    PERMISSION_HINT,
    LoopPriority,
    loop_priority,
)
from tests.show_process import read_banner, show_process

FIFO_RESET = os.SCHED_FIFO | os.SCHED_RESET_ON_FORK


class FakeSched:
    """The kernel's scheduling calls for one thread, with a permission switch."""

    def __init__(
        self, *, permitted: bool = True, limit: int | None = None, capable: bool = False
    ) -> None:
        self.policy, self.priority = os.SCHED_OTHER, 0
        self.permitted = permitted
        self.limit = limit
        self.capable = capable
        self.refuse_plain_restore = False
        self.calls: list[tuple[int, int]] = []

    def get(self) -> tuple[int, int]:
        return self.policy, self.priority

    def set(self, policy: int, prio: int) -> None:
        self.calls.append((policy, prio))
        if policy & ~os.SCHED_RESET_ON_FORK == os.SCHED_FIFO and not self.permitted:
            raise PermissionError(1, "Operation not permitted")
        if self.refuse_plain_restore and policy == os.SCHED_OTHER:
            raise PermissionError(1, "Operation not permitted")
        self.policy, self.priority = policy, prio

    def rtprio_limit(self) -> int | None:
        return self.limit

    def privileged(self) -> bool:
        return self.capable


def test_the_thread_runs_fifo_inside_the_block_and_goes_back_after() -> None:
    sched = FakeSched()
    with loop_priority(True, sched) as got:
        assert got == LoopPriority(True, f"real-time priority (SCHED_FIFO {LOOP_PRIORITY})")
        assert sched.get() == (FIFO_RESET, LOOP_PRIORITY)
    assert sched.get() == (os.SCHED_OTHER, 0)


def test_the_thread_goes_back_when_the_show_ends_with_an_exception() -> None:
    sched = FakeSched()
    with pytest.raises(KeyboardInterrupt), loop_priority(True, sched):
        raise KeyboardInterrupt
    assert sched.get() == (os.SCHED_OTHER, 0)


def test_not_wanted_leaves_the_thread_alone() -> None:
    sched = FakeSched()
    with loop_priority(False, sched) as got:
        assert not got.realtime
        assert "--no-realtime" in got.detail
    assert sched.calls == []


def test_refused_permission_runs_at_normal_priority_and_says_how_to_allow_it() -> None:
    sched = FakeSched(permitted=False, limit=0)
    with loop_priority(True, sched) as got:
        assert not got.realtime
        assert PERMISSION_HINT in got.detail
        assert "rtprio" in got.detail
        assert sched.get() == (os.SCHED_OTHER, 0)
    assert sched.get() == (os.SCHED_OTHER, 0)


def test_a_refusal_despite_permission_blames_the_control_group() -> None:
    for sched in (FakeSched(permitted=False, capable=True), FakeSched(permitted=False, limit=20)):
        with loop_priority(True, sched) as got:
            assert got == LoopPriority(False, f"normal priority ({GROUP_HINT})")
            assert sched.get() == (os.SCHED_OTHER, 0)


def test_a_refusal_is_not_the_context_of_the_shows_own_errors() -> None:
    with pytest.raises(ValueError) as caught, loop_priority(True, FakeSched(permitted=False)):
        raise ValueError("the show's own")
    assert caught.value.__context__ is None


def test_a_thread_already_at_real_time_priority_is_left_as_it_is() -> None:
    sched = FakeSched()
    sched.policy, sched.priority = os.SCHED_RR, 50
    with loop_priority(True, sched) as got:
        assert got == LoopPriority(True, "real-time priority (SCHED_RR 50, as started)")
    assert sched.calls == []
    assert sched.get() == (os.SCHED_RR, 50)


def test_an_rtprio_limit_below_the_wanted_priority_is_used_as_it_is() -> None:
    sched = FakeSched(limit=3)
    with loop_priority(True, sched) as got:
        assert sched.get() == (FIFO_RESET, 3)
        assert got.detail.endswith("(SCHED_FIFO 3)")


def test_a_thread_that_may_not_drop_the_reset_flag_keeps_it_at_normal_priority() -> None:
    sched = FakeSched()
    with loop_priority(True, sched):
        sched.refuse_plain_restore = True
    assert sched.get() == (os.SCHED_OTHER | os.SCHED_RESET_ON_FORK, 0)


def test_off_linux_the_loop_runs_at_normal_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with loop_priority(True) as got:
        assert got == LoopPriority(
            False, "normal priority (real-time scheduling is used on Linux only)"
        )


def _permitted() -> bool:
    """Whether the kernel gives this process SCHED_FIFO: asked, in a thread of its own
    that ends at once (capabilities, rtprio limits and control groups all decide)."""
    answer: list[bool] = []

    def ask() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(1))
        except OSError:
            answer.append(False)
        else:
            answer.append(True)

    t = threading.Thread(target=ask)
    t.start()
    t.join()
    return answer == [True]


CHILD_POLICY = "import os; print(os.sched_getscheduler(0))"


def test_the_kernel_gives_the_loop_thread_fifo_and_nothing_it_starts() -> None:
    """Against the running kernel, in a thread of its own (pytest's stays as it is):
    inside the block the thread is SCHED_FIFO; a thread and a process it starts run at
    normal priority; after the block it is back to normal. Without permission the
    thread stays normal and the outcome says how to allow it."""
    seen: dict[str, object] = {}

    def show_thread() -> None:
        with loop_priority(True) as got:
            seen["got"] = got
            seen["inside"] = os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK
            seen["priority"] = os.sched_getparam(0).sched_priority
            worker: dict[str, int] = {}
            t = threading.Thread(target=lambda: worker.update(p=os.sched_getscheduler(0)))
            t.start()
            t.join()
            seen["thread"] = worker["p"]
            out = subprocess.run(
                [sys.executable, "-c", CHILD_POLICY], capture_output=True, text=True, check=True
            )
            seen["process"] = int(out.stdout)
        seen["after"] = os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK

    pytest_policy = os.sched_getscheduler(0)
    t = threading.Thread(target=show_thread)
    t.start()
    t.join(30)
    assert not t.is_alive()
    got = seen["got"]
    assert isinstance(got, LoopPriority)
    assert got.realtime is _permitted()
    if got.realtime:
        assert (seen["inside"], seen["priority"]) == (os.SCHED_FIFO, LOOP_PRIORITY)
    else:
        assert seen["inside"] == os.SCHED_OTHER
        assert PERMISSION_HINT in got.detail or GROUP_HINT in got.detail
    assert seen["thread"] == os.SCHED_OTHER
    assert seen["process"] == os.SCHED_OTHER
    assert seen["after"] == os.SCHED_OTHER
    assert os.sched_getscheduler(0) == pytest_policy  # this thread was never touched


SHOW = """
[show]
title = "Priority test"
[control]
port = 0
[web]
port = 0
host = "127.0.0.1"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "memo"
"""


def _policies(pid: int) -> dict[int, int]:
    """Each thread of ``pid``: its scheduling policy (without the reset flag)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            out[int(tid)] = os.sched_getscheduler(int(tid)) & ~os.SCHED_RESET_ON_FORK
        except ProcessLookupError:
            continue  # the thread ended meanwhile
    return out


@pytest.mark.parametrize("flag", [[], ["--no-realtime"]])
def test_stovelight_run_says_how_its_loop_runs_and_only_the_loop_is_raised(
    tmp_path: Path, flag: list[str]
) -> None:
    show = tmp_path / "show.toml"
    show.write_text(SHOW)
    with show_process(["run", str(show), "--no-visuals", *flag], tmp_path) as proc:
        lines = read_banner(proc)
        policies = _policies(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    banner = next(x for x in lines if "Show loop:" in x)
    expect_fifo = _permitted() and not flag
    if expect_fifo:
        assert f"real-time priority (SCHED_FIFO {LOOP_PRIORITY})" in banner
    elif flag:
        assert "normal priority (--no-realtime)" in banner
    else:
        assert PERMISSION_HINT in banner or GROUP_HINT in banner
    assert policies.pop(proc.pid) == (os.SCHED_FIFO if expect_fifo else os.SCHED_OTHER)
    assert policies, "the show has other threads (the log writer at least)"
    assert set(policies.values()) == {os.SCHED_OTHER}
    assert "show loop: " in (tmp_path / "logs" / "Priority-test.log").read_text()
