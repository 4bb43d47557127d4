"""The event loop Stovelight's processes run on: asyncio's, with timers that are not
woken a millisecond late.

On Linux asyncio waits with ``epoll``, whose timeout is whole milliseconds. The standard
selector rounds a wait up to whole milliseconds as a float (``n * 1e-3``), and for many
``n`` that float lies a hair above ``n`` ms (``9 * 1e-3 == 0.009000000000000001``), which
the ``epoll`` call rounds up once more: the wait lasts ``n + 1`` ms. Every timer of the
loop (``asyncio.sleep``, ``call_at``, ``asyncio.timeout``) then fired 1.4-1.5 ms late
instead of 0.1-0.2 ms on the show's test machine, and the fades and pre-waits of a show
with them (``bench/go_latency.py``: scheduled actions late by up to 1.4 ms at p99).

:class:`PreciseEpollSelector` rounds once: a wait of ``t`` seconds lasts
``ceil(t * 1000)`` ms. Elsewhere (macOS' ``kqueue`` takes nanoseconds) the default loop
is used. :func:`run` is ``asyncio.run`` on such a loop.

Work that could hold the loop (a telemetry flood, a fan-out to many viewers, a backup
catching up) yields with :func:`after_pending_io`, so a GO that arrived meanwhile is
carried out before the work goes on.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["PreciseEpollSelector", "after_pending_io", "new_event_loop", "run"]

_T = TypeVar("_T")

if hasattr(selectors, "EpollSelector"):
    from select import EPOLLIN, EPOLLOUT

    class PreciseEpollSelector(selectors.EpollSelector):
        """An epoll selector whose timed waits last the timeout rounded up to a whole
        millisecond, once (see the module docstring)."""

        def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
            """Wait for I/O at most ``timeout`` seconds (None: until some arrives)."""
            if timeout is None or timeout <= 0:
                return super().select(timeout)
            # Half a millisecond under the whole milliseconds wanted: the epoll call's
            # own rounding up then lands on them whatever the float error.
            seconds = (math.ceil(timeout * 1e3) - 0.5) * 1e-3
            # the parent's epoll object and its file descriptor -> key map
            epoll = self._selector  # type: ignore[attr-defined]
            keys = self._fd_to_key  # type: ignore[attr-defined]
            try:
                events = epoll.poll(seconds, max(len(keys), 1))
            except InterruptedError:
                return []
            ready = []
            for fd, event in events:
                key = keys.get(fd)
                if key is None:  # unregistered by an earlier callback of this turn
                    continue
                mask = 0
                if event & ~EPOLLIN:  # writable, or an error or hang-up the writer must see
                    mask |= selectors.EVENT_WRITE
                if event & ~EPOLLOUT:  # readable, or an error or hang-up the reader must see
                    mask |= selectors.EVENT_READ
                ready.append((key, mask & key.events))
            return ready

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """A selector event loop on :class:`PreciseEpollSelector`."""
        return asyncio.SelectorEventLoop(PreciseEpollSelector())

else:  # pragma: no cover - no epoll: the platform's selector does not round twice
    PreciseEpollSelector = None  # type: ignore[assignment,misc]

    def new_event_loop() -> asyncio.AbstractEventLoop:
        """The platform's default event loop."""
        return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(main)`` on :func:`new_event_loop`."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


def after_pending_io() -> asyncio.Future[None]:
    """A future that is done once the loop has polled its sockets again and run the
    callbacks that poll found (a datagram's GO, a control message), two turns on.

    ``await asyncio.sleep(0)`` resumes in the very next turn, before what that
    turn's poll finds; this lets everything that arrived meanwhile go first.

    Returns:
        The future to await.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    loop.call_soon(loop.call_soon, _wake, future)
    return future


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
