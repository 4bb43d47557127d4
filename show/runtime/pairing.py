"""Wiring a main and its tracking backup into ``stovelight run`` (see show.runtime.tracking).

``--tracking-port`` makes a main that backups may follow (after checking that
``--peer``, if given, is not already the main); ``--backup-of HOST:PORT`` makes a
tracking backup, muted until it takes over (``--takeover-after`` for an automatic
takeover, off by default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from show.errors import StovelightError
from show.runtime.runner import ShowRunner
from show.runtime.tracking import (
    DEFAULT_TRACKING_PORT,
    TrackingFollower,
    TrackingServer,
    main_at,
    show_digest,
)
from show.showfile.config import Show

__all__ = ["PairingError", "PairingOptions", "add_arguments", "follower_for", "start_pairing"]

log = logging.getLogger(__name__)


class PairingError(StovelightError, RuntimeError):
    """The pairing cannot start (a busy port, a main already running): one line."""


@dataclass(frozen=True, slots=True)
class PairingOptions:
    """The redundancy flags of ``stovelight run`` (see :func:`add_arguments`)."""

    tracking_port: int | None = None
    backup_of: str | None = None
    takeover_after: float | None = None
    peer: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PairingOptions:
        """The flags :func:`add_arguments` added to a parser."""
        return cls(args.tracking_port, args.backup_of, args.takeover_after, args.peer)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The redundancy flags of ``stovelight run``."""
    p.add_argument(
        "--tracking-port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"let a tracking backup follow this show on PORT (e.g. {DEFAULT_TRACKING_PORT})",
    )
    p.add_argument(
        "--backup-of",
        metavar="HOST:PORT",
        help="run as the tracking backup of the main at HOST:PORT, muted until takeover",
    )
    p.add_argument(
        "--takeover-after",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --backup-of: take over by itself after this long without the main's "
        "heartbeat (default: only when the operator says so)",
    )
    p.add_argument(
        "--peer",
        metavar="HOST:PORT",
        help="the other machine of the pair: a main refuses to start while it is the main",
    )


def follower_for(show: Show, options: PairingOptions) -> TrackingFollower | None:
    """The backup's follower, if ``--backup-of`` was given: build it before the runner
    (it is the runner's clock) and :meth:`~TrackingFollower.attach` the runner to it
    before the runner starts."""
    if not options.backup_of:
        return None
    return TrackingFollower(
        options.backup_of, show_digest(show.path), takeover_after=options.takeover_after
    )


async def start_pairing(
    show: Show,
    runner: ShowRunner,
    options: PairingOptions,
    follower: TrackingFollower | None,
    status: list[Callable[[], dict[str, Any]]],
) -> list[str]:
    """Start the main's tracking server or the backup's follower; returns banner lines
    and appends the pairing's status to ``status`` (the console's health line).

    Raises:
        PairingError: The port is busy, or ``--peer`` already runs the show as main.
    """
    port = options.tracking_port
    if follower is None:
        if port is None:
            return []
        peer = options.peer
        if peer and await main_at(peer) == "main":
            raise PairingError(
                f"{peer} already runs this show as the main; start this machine with "
                f"--backup-of {peer}"
            )
        server = TrackingServer(runner, show_digest(show.path), port=port)
        try:
            await server.start()
        except OSError as exc:
            raise PairingError(f"tracking port {port}: {exc.strerror}") from exc
        runner.add_service("tracking server", server.aclose)
        status.append(server.stats)
        return [f"Tracking backups: port {server.port} (this machine is the main)"]

    server = TrackingServer(
        runner,
        follower.digest,
        port=DEFAULT_TRACKING_PORT if port is None else port,
        input_log=follower.local_log,
    )
    listening: list[asyncio.Task[None]] = []

    def listen_as_main() -> None:
        task = asyncio.create_task(server.start(), name="tracking-server-start")
        task.add_done_callback(_report_listen_failure)
        listening.append(task)
        status[:] = [s for s in status if s != follower.stats] + [server.stats]

    follower.on_takeover = listen_as_main
    task = asyncio.create_task(follower.run(), name="tracking-follower")

    async def close() -> None:
        for pending in (task, *listening):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
        await server.aclose()

    runner.add_service("tracking", close)
    status.append(follower.stats)
    auto = (
        f", automatic after {follower.takeover_after:g} s of silence"
        if follower.takeover_after is not None
        else ""
    )
    return [
        f"Tracking backup of {follower.address}: outputs muted until takeover "
        f"(console TAKEOVER, OSC /stovelight/takeover{auto})"
    ]


def _report_listen_failure(task: asyncio.Task[None]) -> None:
    """After a takeover this machine listens for a backup of its own; say if it cannot."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error(
            "tracking: this machine is the main now but cannot listen for a backup (%s);"
            " the show goes on without one",
            exc,
        )
