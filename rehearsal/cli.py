"""Command-line entries ``record``, ``export``, ``import``, ``replay`` and ``rehearse``
(``simulate`` lives in sim.server).

``register(subparsers)`` adds the commands; each sets ``func`` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import InvalidURI
from websockets.uri import parse_uri

from bridges import eventloop
from bridges.mqtt import MqttRoute
from bridges.mqtt.config import parse_broker_url
from bridges.telemetry import TelemetryConfigError
from rehearsal.errors import RehearsalError
from rehearsal.export import FORMATS, export
from rehearsal.importer import ImportMapping, import_file
from rehearsal.live import DEFAULT_MQTT_ROUTES, record_urls
from rehearsal.recorder import Recorder
from rehearsal.recording import Recording
from show.errors import ShowFileError
from show.showfile.load import load_show

__all__ = [
    "cmd_export",
    "cmd_import",
    "cmd_record",
    "cmd_rehearse",
    "cmd_replay",
    "parse_speed",
    "register",
]

logger = logging.getLogger(__name__)

_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def register(subparsers: Any) -> None:
    """Add ``record``, ``export``, ``import``, ``replay`` and ``rehearse`` to an argparse
    subparsers object."""
    rec = subparsers.add_parser(
        "record",
        help="record websocket or MQTT telemetry into a recording file",
        description="Record every sample from telemetry websocket URLs and MQTT brokers "
        "until Ctrl-C.",
    )
    rec.add_argument(
        "urls", nargs="+", metavar="URL", help="ws:// telemetry URL(s) or mqtt:// broker(s)"
    )
    rec.add_argument(
        "--topic",
        action="append",
        default=[],
        metavar="PATTERN=SIGNAL[@POINTER]",
        help="for mqtt:// URLs: which topics to record as which signals, e.g. "
        "'tele/{home}/SENSOR={home}.power_w@/ENERGY/Power' (repeatable; default "
        "'stovelight/{source}/{key}={source}.{key}', the simulator's layout)",
    )
    rec.add_argument("-o", "--output", required=True, help="recording file (SQLite)")
    rec.add_argument("--show", default="", help="show name stored in the recording")
    rec.set_defaults(func=cmd_record)

    exp = subparsers.add_parser(
        "export",
        help="export a recording to JSONL, CSV or MCAP",
        description="Export a recording. CSV holds samples only; JSONL and MCAP add events.",
    )
    exp.add_argument("file", help="recording file")
    exp.add_argument("--format", choices=FORMATS, required=True)
    exp.add_argument("-o", "--output", required=True, help="file to write")
    exp.set_defaults(func=cmd_export)

    imp = subparsers.add_parser(
        "import",
        help="import CSV or JSONL telemetry into a new recording",
        description=(
            "Import telemetry from other tools. Wide layout: --map COLUMN=SIGNAL per signal "
            "column. Long layout: --long with source/signal/value/time columns."
        ),
    )
    imp.add_argument("input", help="CSV or JSONL file")
    imp.add_argument("-o", "--output", required=True, help="recording file to create")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=SIGNAL",
        help="wide layout: column to signal name (repeat)",
    )
    imp.add_argument("--long", action="store_true", help="long layout (one value per row)")
    imp.add_argument("--time-col", default="time", help="time column (default: time)")
    imp.add_argument("--source-col", default="source", help="long layout source column")
    imp.add_argument("--signal-col", default="signal", help="long layout signal column")
    imp.add_argument("--value-col", default="value", help="long layout value column")
    imp.add_argument("--time-unit", choices=sorted(_TIME_UNITS), default="s")
    imp.add_argument("--format", choices=("csv", "jsonl"), default=None)
    imp.add_argument("--show", default="", help="show name stored in the recording")
    imp.set_defaults(func=cmd_import)
    _register_replay(subparsers)
    _register_rehearse(subparsers)


def parse_speed(text: str) -> float | None:
    """``--speed``: a positive multiple of real time, or ``max`` for as fast as possible."""
    if text.strip().lower() in ("max", "inf", "fast"):
        return None
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a speed: {text!r} (a number or 'max')") from None
    if not speed > 0 or speed == float("inf"):
        raise argparse.ArgumentTypeError(f"speed must be positive, not {text!r}")
    return speed


def _register_replay(subparsers: Any) -> None:
    rep = subparsers.add_parser(
        "replay",
        help="replay a recording as a live telemetry feed",
        description=(
            "Replay a recording at its recorded pace (or faster/slower). With --serve, serve it "
            "as a websocket telemetry feed in Stovelight's protocol, so a show on another "
            "machine can rehearse against it; the replay starts when the first client connects. "
            "Without --serve, print the protocol messages to stdout, one per line."
        ),
    )
    rep.add_argument("file", help="recording file")
    rep.add_argument("--serve", action="store_true", help="serve over websockets")
    rep.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    rep.add_argument(
        "--sim-port",
        "--port",
        dest="port",
        type=int,
        default=8766,
        help="TCP port (default 8766; --port is the same flag)",
    )
    rep.add_argument(
        "--speed",
        type=parse_speed,
        default=1.0,
        help="multiple of real time, e.g. 0.5 or 10; 'max' for as fast as possible (default 1)",
    )
    start = rep.add_mutually_exclusive_group()
    start.add_argument(
        "--from",
        dest="start",
        type=float,
        default=None,
        metavar="T",
        help="start at show time T seconds",
    )
    start.add_argument(
        "--from-cue",
        dest="cue",
        default=None,
        metavar="N",
        help="start where cue N (or LIST/N) fired in the recording",
    )
    rep.add_argument("--until", type=float, default=None, metavar="T", help="stop before T")
    rep.add_argument("--loop", action="store_true", help="start over at the end, forever")
    rep.add_argument(
        "--no-wait",
        action="store_true",
        help="with --serve: start at once instead of at the first connection",
    )
    rep.set_defaults(func=cmd_replay)


def _register_rehearse(subparsers: Any) -> None:
    reh = subparsers.add_parser(
        "rehearse",
        help="dry-run a show against a recording and write a report",
        description=(
            "Run the show against a recording on a virtual clock, as fast as possible, and "
            "write summary.txt, timeline.png and report.html."
        ),
    )
    reh.add_argument("show", help="show file (TOML)")
    reh.add_argument("recording", help="recording file")
    reh.add_argument(
        "--go-at",
        type=float,
        action="append",
        default=[],
        metavar="T",
        help="press GO at show time T (repeatable)",
    )
    reh.add_argument(
        "--from-recording",
        "--gos-from-recording",
        dest="gos_from_recording",
        action="store_true",
        help=(
            "replay the operator's actions from the recording at their times (GO, refused"
            " GOs, stop, pause, resume, panic, playhead moves, cue edits)"
        ),
    )
    reh.add_argument(
        "--until",
        type=float,
        default=None,
        metavar="T",
        help="run until show time T (default: the last sample or event)",
    )
    reh.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="report folder (default: rehearsal-<recording name>)",
    )
    reh.set_defaults(func=cmd_rehearse)


def _mqtt_routes(items: list[str]) -> tuple[MqttRoute, ...]:
    routes = []
    for item in items:
        pattern, sep, rest = item.partition("=")
        signal_name, _, pointer = rest.partition("@")
        if not sep or not signal_name:
            raise TelemetryConfigError(f"--topic {item!r}: expected PATTERN=SIGNAL[@POINTER]")
        routes.append(MqttRoute(pattern.strip(), signal_name.strip(), pointer.strip()))
    return tuple(routes) or DEFAULT_MQTT_ROUTES


async def _record(args: argparse.Namespace) -> int:
    routes = _mqtt_routes(args.topic)
    for url in args.urls:  # refuse a bad URL before creating the file
        if url.startswith("mqtt"):
            parse_broker_url(url)
        else:
            parse_uri(url)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    recorder = Recorder(args.output, show=args.show).start()
    try:
        await record_urls(args.urls, recorder, stop=stop, mqtt_routes=routes)
    finally:
        stats = recorder.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print(f"recorded {stats.committed} rows to {args.output} ({stats.dropped} dropped)")
    return 0 if stats.dropped == 0 else 3


def cmd_record(args: argparse.Namespace) -> int:
    """``stovelight record URL... -o FILE``: record until Ctrl-C / SIGTERM."""
    try:
        return eventloop.run(_record(args))
    except (InvalidURI, TelemetryConfigError) as err:
        print(f"record: {err}")
        return 2
    except RehearsalError as err:
        print(f"record: {err}")
        return 1


def cmd_export(args: argparse.Namespace) -> int:
    """``stovelight export FILE --format jsonl|csv|mcap -o OUT``."""
    try:
        count = export(args.file, args.output, args.format)
    except (RehearsalError, OSError) as err:
        print(f"export: {err}")
        return 1
    print(f"exported {count} records to {args.output}")
    return 0


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, signal_name = item.partition("=")
        if not sep:
            raise ValueError(f"--map {item!r}: expected COLUMN=SIGNAL")
        mapping[column.strip()] = signal_name.strip()
    return mapping


def cmd_import(args: argparse.Namespace) -> int:
    """``stovelight import IN -o FILE --map COLUMN=SIGNAL ...`` (or ``--long``)."""
    try:
        mapping = ImportMapping(
            time_column=args.time_col,
            columns=_parse_map(args.map),
            long=args.long,
            source_column=args.source_col,
            signal_column=args.signal_col,
            value_column=args.value_col,
            time_unit=_TIME_UNITS[args.time_unit],
        )
        count = import_file(args.input, args.output, mapping, fmt=args.format, show=args.show)
    except (RehearsalError, ValueError, OSError) as err:
        print(f"import: {err}")
        return 1
    print(f"imported {count} samples into {args.output}")
    return 0


def _start(args: argparse.Namespace) -> float | str | None:
    start: float | str | None = args.cue if args.cue is not None else args.start
    return start


async def _replay(args: argparse.Namespace) -> int:
    from rehearsal.replay import Replayer
    from rehearsal.replay_serve import ReplayServer, instant_messages

    with Recording.open(args.file) as recording:
        replayer = Replayer(
            recording, speed=args.speed, start=_start(args), end=args.until, loop=args.loop
        )
        if not args.serve:
            async for instant in replayer.play_instants():
                for message in instant_messages(instant):
                    print(message, flush=True)
            return 0
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        server = ReplayServer(
            replayer, host=args.host, port=args.port, wait_for_client=not args.no_wait
        )
        try:
            async with server:
                print(
                    f"stovelight replay: serving {args.file} on ws://{args.host}:{server.port}/"
                    f" from t = {replayer.origin:.3f} s"
                    + (" (starts when the first client connects)" if not args.no_wait else ""),
                    flush=True,
                )
                finished = asyncio.ensure_future(server.wait())
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait([finished, stopped], return_when=asyncio.FIRST_COMPLETED)
                if finished.done():
                    await server.drain(2.0)
                for task in (finished, stopped):
                    task.cancel()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        stats = server.stats()
        print(f"replayed {stats['samples']} samples in {stats['messages']} messages")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """``stovelight replay FILE [--serve] [--speed X] [--from T | --from-cue N] [--loop]``."""
    try:
        return eventloop.run(_replay(args))
    except (RehearsalError, OSError) as err:
        print(f"replay: {err}")
        return 1


def _progress_printer(every_s: float = 2.0) -> Callable[[float, float, float], None]:
    """A dry-run progress callback printing one line to stderr at most every ``every_s``."""
    began = time.monotonic()
    shown = [began]

    def show(t: float, start: float, end: float) -> None:
        now = time.monotonic()
        if now - shown[0] < every_s or t >= end:
            return
        shown[0] = now
        done = (t - start) / (end - start) if end > start else 1.0
        print(
            f"dry run: {done:4.0%} ({t - start:,.0f} s of {end - start:,.0f} s of show,"
            f" {now - began:.0f} s so far)",
            file=sys.stderr,
            flush=True,
        )

    return show


def cmd_rehearse(args: argparse.Namespace) -> int:
    """``stovelight rehearse SHOW RECORDING [--go-at T ...] [--gos-from-recording] [--out DIR]``."""
    from pathlib import Path

    from rehearsal.dryrun import dry_run
    from rehearsal.report import write_report

    try:
        show = load_show(args.show)
    except ShowFileError as err:
        print(err)
        return 1
    out = Path(args.out) if args.out else Path(f"rehearsal-{Path(args.recording).stem}")
    try:
        with Recording.open(args.recording) as recording:
            result = dry_run(
                show,
                recording,
                go_at=args.go_at,
                gos_from_recording=args.gos_from_recording,
                until=args.until,
                progress=_progress_printer(),
            )
        files = write_report(result, out)
    except (RehearsalError, OSError) as err:
        print(f"rehearse: {err}")
        return 1
    fired = sum(1 for _, _, state in result.cue_changes if state == "running")
    span = result.end - result.start
    print(
        f"dry run: {result.samples:,} samples, {span:.1f} s of show in {result.wall_s:.2f} s"
        f" ({span / max(result.wall_s, 1e-9):,.0f}x real time); {fired} cue firings,"
        f" {len(result.triggers)} trigger firings"
    )
    for path in (files.summary, files.png, files.html):
        print(f"  {path}")
    return 0
