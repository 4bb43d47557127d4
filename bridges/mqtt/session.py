"""One reconnecting broker session, for the MQTT publishers and subscribers that are
not telemetry sources (the simulator's publisher, the show's dashboard publisher and
the dashboard relay's follower)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt

from bridges.ratelimit import RateLimitedLogger
from bridges.telemetry.config import BackoffPolicy

from .config import parse_broker_url, tls_context_for

__all__ = ["stay_connected"]

_BACKOFF = BackoffPolicy(initial=0.25, cap=5.0)


async def stay_connected(
    url: str,
    session: Callable[[aiomqtt.Client], Awaitable[None]],
    *,
    label: str,
    warn: RateLimitedLogger,
    on_state: Callable[[bool], None] = lambda up: None,
    username: str = "",
    password: str = "",
    backoff: BackoffPolicy = _BACKOFF,
    **client_options: Any,
) -> None:
    """Run ``session`` on a client connected to ``url`` until cancelled; when the
    broker goes away, wait (capped, jittered backoff) and connect again.

    Args:
        url: ``mqtt://host:port`` or ``mqtts://host:port`` (TLS).
        session: What to do while connected; it ends by raising ``MqttError``.
        label: Who is speaking, for the rate-limited warning.
        warn: Where repeated broker warnings go.
        on_state: Told True once connected and False when the connection ends.
        username: Broker user, if needed.
        password: Broker password.
        backoff: Reconnection backoff.
        client_options: More ``aiomqtt.Client`` options (``queue_type``, ``identifier``).
    """
    host, port, _ = parse_broker_url(url)
    attempt = 0
    while True:
        try:
            async with aiomqtt.Client(
                host,
                port,
                tls_context=tls_context_for(url),
                username=username or None,
                password=password or None,
                timeout=5.0,
                **client_options,
            ) as client:
                attempt = 0
                on_state(True)
                await session(client)
        except aiomqtt.MqttError as err:
            warn.warning("broker", "%s: broker %s: %s; retrying", label, url, err)
        finally:
            on_state(False)
        await asyncio.sleep(backoff.delay(attempt, random.random()))
        attempt += 1
