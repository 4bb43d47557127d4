"""Websocket server that broadcasts the simulated telemetry, and the ``simulate`` command.

The server is the only place the simulator reads time: the event loop's clock decides which
tick is due; the model is always stepped on the exact grid ``k / rate`` so that a run is
reproducible whatever the loop's jitter. Every tick's frames are encoded once and offered to
every connected client. Each client has a small bounded queue of messages: a client that
cannot keep up loses the oldest queued messages (counted and logged), so memory never grows
without bound. The websocket server and the clients' queues are :mod:`rehearsal.feed`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from bridges import eventloop
from bridges.ratelimit import RateLimitedLogger
from rehearsal.feed import FeedClient, FeedServer
from rehearsal.mqtt_publish import MqttFramePublisher
from rehearsal.sim.model import NeighbourhoodModel, SimConfig
from rehearsal.sim.scenarios import SCENARIOS
from rehearsal.telemetry import Frame
from show.cliargs import describe_os_error, number_in, port, whole_in

__all__ = ["SimulatorServer", "register", "run", "run_async"]

logger = logging.getLogger(__name__)

#: After falling this many seconds behind, the ticker jumps to the present instead of catching up.
MAX_CATCH_UP_S = 1.0


#: A connected client's bounded message queue (kept under its old name).
_Client = FeedClient


class SimulatorServer(FeedServer):
    """Serve a :class:`NeighbourhoodModel` over websockets.

    The ticker task is named ``sim-ticker``; :meth:`wait` returns when it has finished (after
    ``duration_s``).

    Args:
        model: the model to step.
        rate_hz: ticks per second (each tick steps the model once and sends its frames).
        host: interface to listen on.
        port: TCP port; 0 picks a free one (see :attr:`port`).
        duration_s: stop ticking after this many seconds; None runs until closed.
        max_frames_per_message: a tick's frames are split into arrays of at most this many.
        client_queue: messages a slow client may have queued before the oldest are skipped.
    """

    def __init__(
        self,
        model: NeighbourhoodModel,
        *,
        rate_hz: float,
        host: str = "127.0.0.1",
        port: int = 0,
        duration_s: float | None = None,
        max_frames_per_message: int = 500,
        client_queue: int = 16,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate must be positive, not {rate_hz}")
        super().__init__(
            host=host,
            port=port,
            max_frames_per_message=max_frames_per_message,
            client_queue=client_queue,
            label="simulator",
            task_name="sim-ticker",
            watch_prefix="sim-client-watch",
            log=logger,
        )
        self.model = model
        self.rate_hz = rate_hz
        self.duration_s = duration_s
        self.ticks = 0
        #: Called with every tick's frames too (e.g. an MQTT publisher); must not block.
        self.frame_listeners: list[Callable[[list[Frame]], None]] = []

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        warn = RateLimitedLogger(logger, 5.0)
        k = 0
        last_tick = None if self.duration_s is None else int(self.duration_s * self.rate_hz + 1e-9)
        while last_tick is None or k <= last_tick:
            now = loop.time() - start
            due = int(now * self.rate_hz)
            if due - k > MAX_CATCH_UP_S * self.rate_hz:
                warn.warning(
                    "behind",
                    "simulator is %.1f s behind its clock; jumping ahead (rate too high?)",
                    (due - k) / self.rate_hz,
                    now=now,
                )
                k = due
            while k <= due and (last_tick is None or k <= last_tick):
                frames = self.model.step(k / self.rate_hz)
                k += 1
                self.ticks += 1
                self._broadcast(frames, now)
                for listener in self.frame_listeners:
                    listener(frames)
            await asyncio.sleep(max(0.0, k / self.rate_hz - (loop.time() - start)))
        logger.info("simulation finished after %d ticks", self.ticks)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``simulate`` command to an argparse subparsers object.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers()``.

    Returns:
        The new subparser; its ``func`` default is :func:`run`, returning an exit code.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulate",
        help="serve simulated stovetop and grid telemetry over websockets",
        description="Serve a deterministic simulated neighbourhood over websockets.",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="normal-evening",
        help="%(choices)s (default %(default)s)",
    )
    parser.add_argument(
        "--homes", type=whole_in(1, 9999), default=12, help="home stovetops, 1..9999 (default 12)"
    )
    parser.add_argument(
        "--rate",
        type=number_in(0.0, 1000.0, lo_open=True),
        default=10.0,
        help="ticks per second, up to 1000 (default 10)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument(
        "--sim-port",
        "--port",
        dest="port",
        type=port,
        default=8766,
        help="TCP port (default 8766; --port is the same flag)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="stretch the scenario timeline by this factor (default 1)",
    )
    parser.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    parser.add_argument(
        "--day-speed",
        type=float,
        default=1.0,
        help="simulated clock seconds per second, for solar and household load (default 1)",
    )
    parser.add_argument(
        "--mqtt",
        metavar="URL",
        default="",
        help="also publish every value to this MQTT broker (mqtt://host:1883), retained, "
        "as <prefix>/<source>/<key>",
    )
    parser.add_argument(
        "--mqtt-prefix", default="stovelight", help="first topic level (default stovelight)"
    )
    parser.add_argument(
        "--max-frames",
        type=int,
        default=500,
        help="frames per websocket message at most (default 500)",
    )
    parser.set_defaults(func=run)
    return parser


async def run_async(args: argparse.Namespace) -> int:
    """Run the simulator server described by parsed ``simulate`` arguments; return 0."""
    config = SimConfig(
        scenario=args.scenario,
        homes=args.homes,
        seed=args.seed,
        time_scale=args.time_scale,
        start_wall=time.time(),
        day_speed=args.day_speed,
    )
    model = NeighbourhoodModel(config)
    server = SimulatorServer(
        model,
        rate_hz=args.rate,
        host=args.host,
        port=args.port,
        duration_s=args.duration,
        max_frames_per_message=args.max_frames,
    )
    publisher: asyncio.Task[None] | None = None
    if getattr(args, "mqtt", ""):
        mqtt = MqttFramePublisher(args.mqtt, args.mqtt_prefix)
        server.frame_listeners.append(mqtt.offer)
        publisher = asyncio.create_task(mqtt.run(), name="sim-mqtt-publisher")
    async with server:
        logger.info(
            "simulating %s: %d homes, %.1f Hz, seed %d on ws://%s:%d",
            config.scenario,
            config.homes,
            args.rate,
            config.seed,
            args.host,
            server.port,
        )
        for at, what in model.scenario.timeline(config.time_scale):
            logger.info("timeline %7.1f s: %s", at, what)
        await server.wait()
    if publisher is not None:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
    return 0


def run(args: argparse.Namespace) -> int:
    """CLI entry for ``stovelight simulate``: serve until ``--duration`` or Ctrl-C."""
    print(f"stovelight simulate: ws://{args.host}:{args.port} scenario {args.scenario}")
    try:
        return eventloop.run(run_async(args))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(
            f"stovelight simulate: {describe_os_error(exc, f'port {args.port}')}", file=sys.stderr
        )
        return 1
