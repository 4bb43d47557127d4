"""Command-line entries ``record``, ``export`` and ``import`` (``simulate`` lives in sim.server).

``register(subparsers)`` adds the three commands; each sets ``func`` to a function taking the
parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from websockets.exceptions import InvalidURI
from websockets.uri import parse_uri

from rehearsal.errors import RehearsalError
from rehearsal.export import FORMATS, export
from rehearsal.importer import ImportMapping, import_file
from rehearsal.live import record_urls
from rehearsal.recorder import Recorder

__all__ = ["cmd_export", "cmd_import", "cmd_record", "register"]

logger = logging.getLogger(__name__)

_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def register(subparsers: Any) -> None:
    """Add ``record``, ``export`` and ``import`` to an argparse subparsers object."""
    rec = subparsers.add_parser(
        "record",
        help="record websocket telemetry into a recording file",
        description="Record every sample from telemetry websocket URLs until Ctrl-C.",
    )
    rec.add_argument("urls", nargs="+", metavar="URL", help="ws:// telemetry URL(s)")
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


async def _record(args: argparse.Namespace) -> int:
    for url in args.urls:
        parse_uri(url)  # refuse a bad URL before creating the file
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    recorder = Recorder(args.output, show=args.show).start()
    try:
        await record_urls(args.urls, recorder, stop=stop)
    finally:
        stats = recorder.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print(f"recorded {stats.committed} rows to {args.output} ({stats.dropped} dropped)")
    return 0 if stats.dropped == 0 else 3


def cmd_record(args: argparse.Namespace) -> int:
    """``stovelight record URL... -o FILE``: record until Ctrl-C / SIGTERM."""
    try:
        return asyncio.run(_record(args))
    except InvalidURI as err:
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
