"""Record live telemetry from websocket URLs into a :class:`Recorder`.

One named task per URL (``record:<url>``) connects, decodes each message with
:func:`rehearsal.telemetry.decode_message` and hands the samples to the recorder stamped with
the receive time: ``t_recv`` from the event loop clock (relative to the recording start, the
same clock for every URL) and ``wall`` from the system clock. A lost or refused connection is
retried with exponential backoff (0.5 s doubling to 10 s, reset after a successful connect).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException
from websockets.uri import parse_uri

from bridges.ratelimit import RateLimitedLogger
from rehearsal.errors import TelemetryDecodeError
from rehearsal.recorder import Recorder
from rehearsal.telemetry import decode_message

__all__ = ["Backoff", "record_url", "record_urls"]

logger = logging.getLogger(__name__)


class Backoff:
    """Exponential reconnect delays (pure: no clock).

    Args:
        initial: first delay in seconds.
        maximum: delays never exceed this.
        factor: growth per failed attempt.
    """

    def __init__(self, initial: float = 0.5, maximum: float = 10.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def next(self) -> float:
        """Return the delay before the next attempt and grow the following one."""
        delay = self._next
        self._next = min(self.maximum, self._next * self.factor)
        return delay

    def reset(self) -> None:
        """Start again from ``initial`` (after a successful connection)."""
        self._next = self.initial


async def record_url(
    url: str, recorder: Recorder, t0: float, *, backoff: Backoff | None = None
) -> None:
    """Record ``url`` into ``recorder`` until cancelled, reconnecting after failures.

    Args:
        url: ``ws://`` or ``wss://`` URL speaking the telemetry protocol.
        recorder: a started recorder.
        t0: event loop time that is show time 0.
        backoff: reconnect policy (default 0.5 s → 10 s).
    """
    loop = asyncio.get_running_loop()
    backoff = backoff or Backoff()
    bad_messages = 0
    warn = RateLimitedLogger(logger, 5.0, loop.time)
    while True:
        try:
            async with connect(url, max_size=1 << 24, open_timeout=5.0) as ws:
                backoff.reset()
                logger.info("recording telemetry from %s", url)
                async for message in ws:
                    now = loop.time()
                    wall = time.time()
                    try:
                        samples = decode_message(message)
                    except TelemetryDecodeError as err:
                        bad_messages += 1
                        warn.warning(
                            "invalid",
                            "%s sent an invalid message (%d so far), skipped: %s",
                            url,
                            bad_messages,
                            err,
                            now=now,
                        )
                        continue
                    recorder.add_telemetry(now - t0, wall, samples)
            logger.warning("%s closed the connection; reconnecting", url)
            delay = backoff.next()
        except (OSError, TimeoutError, WebSocketException) as err:
            delay = backoff.next()
            logger.warning("%s unreachable (%s); retrying in %.1f s", url, err, delay)
        await asyncio.sleep(delay)


async def record_urls(
    urls: Sequence[str],
    recorder: Recorder,
    *,
    stop: asyncio.Event | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Record every URL until ``stop`` is set (or the caller is cancelled).

    Raises:
        InvalidURI: a URL is not a websocket URL (checked before anything starts).
    """
    for url in urls:
        parse_uri(url)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    recorder.add_event(0.0, "note", {"text": "recording started", "urls": list(urls)})
    tasks = [
        asyncio.create_task(
            record_url(url, recorder, t0, backoff=backoff or Backoff()), name=f"record:{url}"
        )
        for url in urls
    ]
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        for task in reversed(tasks):
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        recorder.add_event(loop.time() - t0, "note", {"text": "recording stopped"})
