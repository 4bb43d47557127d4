"""``stovelight relay``: serve the public dashboard from a broker, for large audiences.

A relay holds no show state of its own: it subscribes to the topic a running show
publishes its public snapshot to (``[relay]`` in the show file) and serves the same
dashboard page and read-only websocket, through the same web server, caps and
conflation as the show's own. N relays behind a load balancer serve N times the
viewers; a relay that restarts gets the retained snapshot at once and loses nothing.
The console is never served by a relay.

When no snapshot has arrived for ``stale_after`` seconds (the show stopped, or the
broker is gone) every signal is shown as lost, so the audience never reads old
numbers as live.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiomqtt

from bridges import eventloop
from bridges.mqtt import NewestPerTopicQueue
from bridges.mqtt.config import parse_broker_url
from bridges.mqtt.session import stay_connected
from bridges.ratelimit import RateLimitedLogger
from bridges.telemetry.exceptions import TelemetryConfigError
from show.cliargs import port
from show.showfile.config import WEB_MAX_CONNECTIONS, WEB_MAX_PER_ADDRESS, WEB_PORT, WebConfig

__all__ = ["RelayFeed", "register"]

log = logging.getLogger(__name__)

#: Largest snapshot message accepted from the broker.
MAX_SNAPSHOT_BYTES = 4 << 20

_WAITING: dict[str, Any] = {
    "title": "Waiting for the show…",
    "layout": [],
    "signals": {},
    "alerts": [],
    "messages": [],
}


class RelayFeed:
    """The newest public snapshot from the broker.

    Args:
        broker: ``mqtt://host:port``.
        topic: The topic the show publishes to.
        stale_after: Seconds without a snapshot after which signals show as lost.
        username: Broker user, if needed.
        password: Broker password.
        clock: Monotonic clock for staleness (the show's clock is another machine's).
    """

    def __init__(
        self,
        broker: str,
        topic: str,
        *,
        stale_after: float = 3.0,
        username: str = "",
        password: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parse_broker_url(broker)  # refused here, not at the first connect
        self.broker = broker
        self.topic = topic
        self.stale_after = stale_after
        self.username = username
        self.password = password
        self._clock = clock
        self._snapshot: dict[str, Any] | None = None
        self._received_at = -float("inf")
        self._warn = RateLimitedLogger(log, 30.0)
        self.received = 0
        self.refused = 0
        self.connected = asyncio.Event()

    @property
    def fresh(self) -> bool:
        """True while snapshots keep arriving."""
        return self._clock() - self._received_at <= self.stale_after

    def body(self) -> Mapping[str, Any]:
        """The snapshot to serve now (the web server calls this once per tick)."""
        snap = self._snapshot
        if snap is None:
            return _WAITING
        if self.fresh:
            return snap
        signals = snap.get("signals")
        lost = (
            {
                name: {**entry, "health": "lost"} if isinstance(entry, dict) else entry
                for name, entry in signals.items()
            }
            if isinstance(signals, dict)
            else {}
        )
        return {**snap, "signals": lost}

    def receive(self, payload: bytes) -> bool:
        """Take one message from the broker; malformed ones are counted and refused."""
        if len(payload) > MAX_SNAPSHOT_BYTES:
            self.refused += 1
            return False
        try:
            message = json.loads(payload)
        except (ValueError, RecursionError):
            message = None
        snapshot = message.get("snapshot") if isinstance(message, dict) else None
        if not isinstance(snapshot, dict):
            self.refused += 1
            self._warn.warning("malformed", "relay: refused a malformed snapshot on %s", self.topic)
            return False
        published = message.get("published") if isinstance(message, dict) else None
        if isinstance(published, int | float):
            snapshot["published"] = published  # the show's wall clock, for staleness
        self._snapshot = snapshot
        self._received_at = self._clock()
        self.received += 1
        return True

    async def run(self) -> None:
        """Subscribe and keep the newest snapshot until cancelled; reconnect with backoff."""

        async def follow(client: aiomqtt.Client) -> None:
            await client.subscribe(self.topic, qos=0)
            log.info("relay: following %s on %s", self.topic, self.broker)
            async for message in client.messages:
                payload = message.payload
                if isinstance(payload, bytes | bytearray):
                    self.receive(bytes(payload))
                else:
                    self.refused += 1

        def state(up: bool) -> None:
            (self.connected.set if up else self.connected.clear)()

        await stay_connected(
            self.broker,
            follow,
            label="relay",
            warn=self._warn,
            on_state=state,
            username=self.username,
            password=self.password,
            queue_type=NewestPerTopicQueue,  # the newest snapshot wins
        )

    def stats(self) -> dict[str, Any]:
        """Counters for the log and tests."""
        return {
            "broker": self.broker,
            "topic": self.topic,
            "received": self.received,
            "refused": self.refused,
            "fresh": self.fresh,
        }


def register(subparsers: Any) -> None:
    """Add ``stovelight relay`` to an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "relay",
        help="serve a show's public dashboard from an MQTT broker (for large audiences)",
        description="Subscribe to the public dashboard a show publishes ([relay] in its "
        "show file) and serve it to viewers. Run several behind a load balancer.",
    )
    p.add_argument("--broker", required=True, metavar="URL", help="mqtt://host:1883")
    p.add_argument(
        "--topic", default="stovelight/dashboard", help="default %(default)s ([relay] topic)"
    )
    p.add_argument("--host", default="0.0.0.0", help="interface (default %(default)s)")
    p.add_argument("--port", type=port, default=WEB_PORT, help="HTTP port (default %(default)s)")
    p.add_argument(
        "--max-viewers", type=int, default=WEB_MAX_CONNECTIONS, help="default %(default)s"
    )
    p.add_argument(
        "--max-per-address",
        type=int,
        default=WEB_MAX_PER_ADDRESS,
        help="viewers per client address (raise behind a NAT or proxy; default %(default)s)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=WebConfig().rate_hz,
        help="snapshots per second (default %(default)g)",
    )
    p.add_argument(
        "--stale-after",
        type=float,
        default=3.0,
        help="seconds without a snapshot before signals show as lost (default 3)",
    )
    p.add_argument("--username", default="", help="broker user")
    p.add_argument("--password-file", default="", help="file holding the broker password")
    p.add_argument("--duration", type=float, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=_relay_cmd)


def _relay_cmd(args: argparse.Namespace) -> int:
    password = ""
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                password = f.read().strip()
        except OSError as exc:
            print(f"stovelight relay: cannot read {args.password_file}: {exc.strerror}")
            return 1
    try:
        feed = RelayFeed(
            args.broker,
            args.topic,
            stale_after=args.stale_after,
            username=args.username,
            password=password,
        )
    except TelemetryConfigError as err:
        print(f"stovelight relay: {err}", file=sys.stderr)
        return 2
    from show.web import new_console_token

    config = WebConfig(  # the show's own web server, public pages only
        host=args.host,
        port=args.port,
        console_token=new_console_token(),  # never used: no console is served
        rate_hz=args.rate,
        max_connections=args.max_viewers,
        max_per_address=args.max_per_address,
        console=False,
    )
    return eventloop.run(_serve(feed, config, args.duration))


async def _serve(feed: RelayFeed, config: WebConfig, duration: float | None) -> int:
    from show.web import WebServer

    def refuse(_message: dict[str, Any]) -> dict[str, Any]:
        return {"ok": False, "error": "a relay has no console"}

    web = WebServer(config, public_snapshot=feed.body, console_snapshot=dict, control=refuse)
    try:
        await web.start()
    except OSError as exc:
        print(f"stovelight relay: cannot listen on port {config.port}: {exc.strerror}")
        return 1
    follower = asyncio.create_task(feed.run(), name="relay-feed")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    print(
        f"Stovelight relay: dashboard on http://{config.host}:{web.port}/ "
        f"from {feed.broker} topic {feed.topic}",
        flush=True,
    )
    await stop.wait()
    follower.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follower
    await web.aclose()
    log.info("relay stopped: %s", feed.stats())
    return 0
