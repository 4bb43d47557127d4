"""Real-time scheduling for the show's loop thread, where the system permits it.

On a cue laptop the show shares its cores with the renderer, the browser showing the
console, telemetry decoders and whatever else runs. At normal priority the kernel
sometimes leaves the show's thread runnable but not running for 1-4 ms: a GO that
arrived waits that long before its cue leaves. Measured with ``bench/go_latency.py``
on a two-core machine, batches of 1,000 GOs of an OSC + MIDI + visual cue with the
renderer running: 8-23 GOs over 1 ms (up to 4 ms) at normal priority, none to a few
(up to 1.4 ms) at real-time priority.

On Linux :func:`loop_priority` puts the calling thread, and only it, in
``SCHED_FIFO`` at :data:`LOOP_PRIORITY`, as audio servers do for their audio threads.
``SCHED_RESET_ON_FORK`` goes with it, so every thread and process the show starts
afterwards (the log writer, worker threads, the renderer, decoder processes) runs at
normal priority. The kernel still keeps 5 % of each second for normal tasks
(``sched_rt_runtime_us``), and the show's loop sleeps whenever it has nothing to do.

It needs permission: root, ``CAP_SYS_NICE``, or an ``rtprio`` limit (``ulimit -r``) of
at least 1, which a line in ``/etc/security/limits.d/`` gives a group of users. Where
it is not permitted, or not on Linux, the show runs at normal priority and says so in
its banner and log.

The cost: while the loop has work, nothing at normal priority runs on its core. That
includes the last millisecond before each timed step, which the loop spends yielding
turn by turn so as not to wake late (``show.runtime.runner._TIMER_GRAIN``): about 1 %
of a core at 30 steps a second, 6 % at 240. At its heaviest (a telemetry flood beyond
what it can parse) it fills one core; on a one-core machine everything else would
share the 5 % the kernel keeps back. Priority does not help against the interpreter
lock: while a worker thread runs Python (a reload parsing the show file), a GO waits
for it as before, up to the switch interval (5 ms).

A thread already at real-time priority (a show started under ``chrt``) is left as it
is. A refusal despite permission means a control group without real-time time (a
container; ``cpu.rt_runtime_us``), and the banner says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

__all__ = ["LOOP_PRIORITY", "LoopPriority", "SchedApi", "loop_priority"]

log = logging.getLogger(__name__)

LOOP_PRIORITY = 10
"""``SCHED_FIFO`` priority of the show's loop thread (1-99): above every normal task,
below the kernel's interrupt threads (50) and audio servers (PipeWire and JACK ask for
20 and more), so sound keeps going first."""

CAP_SYS_NICE = 23
"""The capability that lets a thread ask for any real-time priority
(``linux/capability.h``)."""
PERMISSION_HINT = (
    "this user may not use real-time scheduling; to allow it, give the user an rtprio"
    " limit (a line '@audio - rtprio 20' in /etc/security/limits.d/stovelight.conf for"
    " a member of the audio group, then log in again) or run with CAP_SYS_NICE"
)
GROUP_HINT = (
    "the kernel refused real-time scheduling although this user may use it: the show"
    " runs in a control group without real-time time (a container, or cpu.rt_runtime_us"
    " set to 0)"
)
_REALTIME_POLICIES = frozenset({os.SCHED_FIFO, os.SCHED_RR} if hasattr(os, "SCHED_FIFO") else ())
_POLICY_NAMES = {getattr(os, n): n for n in ("SCHED_FIFO", "SCHED_RR") if hasattr(os, n)}


@dataclass(frozen=True, slots=True)
class LoopPriority:
    """How the show's loop thread is scheduled.

    Attributes:
        realtime: The thread runs at real-time priority.
        detail: One line for the banner and the log.
    """

    realtime: bool
    detail: str


class SchedApi(Protocol):
    """The scheduling calls :func:`loop_priority` makes (``os`` and ``resource`` on
    Linux; tests pass a twin)."""

    def get(self) -> tuple[int, int]:
        """The calling thread's policy and priority."""
        ...

    def set(self, policy: int, priority: int) -> None:
        """Set the calling thread's policy and priority; raises OSError."""
        ...

    def rtprio_limit(self) -> int | None:
        """The soft ``RLIMIT_RTPRIO`` (None: unlimited)."""
        ...

    def privileged(self) -> bool:
        """Whether the thread holds ``CAP_SYS_NICE``."""
        ...


class _LinuxSched:
    def get(self) -> tuple[int, int]:
        return os.sched_getscheduler(0), os.sched_getparam(0).sched_priority

    def set(self, policy: int, priority: int) -> None:
        os.sched_setscheduler(0, policy, os.sched_param(priority))

    def rtprio_limit(self) -> int | None:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_RTPRIO)
        return None if soft == resource.RLIM_INFINITY else int(soft)

    def privileged(self) -> bool:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("CapEff:"):
                        return bool(int(line.split()[1], 16) >> CAP_SYS_NICE & 1)
        except (OSError, ValueError):
            pass
        return False


def _linux_api() -> SchedApi | None:
    if not sys.platform.startswith("linux") or not hasattr(os, "SCHED_FIFO"):
        return None
    return _LinuxSched()


@contextlib.contextmanager
def loop_priority(wanted: bool, api: SchedApi | None = None) -> Iterator[LoopPriority]:
    """Run the calling thread at real-time priority inside the block, if ``wanted`` and
    permitted; the thread's earlier policy is restored on the way out. Never raises for
    a refusal: the outcome says what the thread got.

    Args:
        wanted: False leaves the thread as it is (``--no-realtime``).
        api: The scheduling calls (default: the running system's; None off Linux).

    Yields:
        What the thread got, to show in the banner.
    """
    if not wanted:
        yield LoopPriority(False, "normal priority (--no-realtime)")
        return
    api = api if api is not None else _linux_api()
    if api is None:
        yield LoopPriority(False, "normal priority (real-time scheduling is used on Linux only)")
        return
    before = api.get()
    policy = before[0] & ~os.SCHED_RESET_ON_FORK
    if policy in _REALTIME_POLICIES:  # started under chrt or by a real-time parent
        yield LoopPriority(
            True, f"real-time priority ({_POLICY_NAMES[policy]} {before[1]}, as started)"
        )
        return
    limit = api.rtprio_limit()
    priority = LOOP_PRIORITY if limit is None or limit < 1 else min(LOOP_PRIORITY, limit)
    refusal = _raise(api, priority, limit)
    if refusal is not None:
        yield LoopPriority(False, f"normal priority ({refusal})")
        return
    try:
        yield LoopPriority(True, f"real-time priority (SCHED_FIFO {priority})")
    finally:
        _restore(api, before)


def _raise(api: SchedApi, priority: int, limit: int | None) -> str | None:
    """Ask for ``SCHED_FIFO`` at ``priority``; None when given, else why not."""
    try:
        api.set(os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, priority)
    except PermissionError:
        allowed = api.privileged() or limit is None or limit >= 1
        return GROUP_HINT if allowed else PERMISSION_HINT
    except OSError as exc:
        return f"real-time scheduling refused: {exc}"
    return None


def _restore(api: SchedApi, before: tuple[int, int]) -> None:
    """Back to the thread's earlier policy. A thread without privilege cannot drop the
    reset-on-fork flag, so it keeps that (it only affects threads started later)."""
    policy, priority = before
    for attempt in (policy, policy | os.SCHED_RESET_ON_FORK):
        try:
            api.set(attempt, priority)
            return
        except OSError:
            continue
    log.warning("could not put the show's thread back to normal priority")
