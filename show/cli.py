"""The ``stovelight`` command.

Every subcommand is imported here by name and adds its own parser (:data:`SUBCOMMANDS`).
Dependencies run one way: this command line and ``show``'s runtime (``show.app``,
``show.runcmd``, ``show.runtime``) use ``rehearsal`` (the recorder, the simulator, its
commands); ``rehearsal`` uses only ``show``'s show-file model (``show.showfile``,
``show.errors``) and its argument types (``show.cliargs``), never the runtime, the web
server or QLab control (``tests/test_layers.py`` keeps it so).
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any

from rehearsal import cli as rehearsal_cli
from rehearsal.sim import server as simulator
from show import runcmd
from show.cliargs import describe_os_error
from show.errors import ShowFileError
from show.runtime.logsetup import LOG_FORMAT
from show.showfile.load import load_show
from show.showfile.shadercheck import compile_problems, scene_files
from show.web import relay
from visuals import render_cli

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

log = logging.getLogger(__name__)

SUBCOMMANDS: tuple[Callable[[Any], object], ...] = (
    runcmd.register,  # run, demo
    relay.register,  # relay
    rehearsal_cli.register,  # record, export, import, replay, rehearse
    simulator.register,  # simulate
    render_cli.register,  # render
)
"""Functions that add subcommands (after ``check``, in ``--help`` order) to the parser's
subparsers."""


def _check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.show:
        try:
            show = load_show(path)
        except ShowFileError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        problems, note = compile_problems(scene_files(show))
        if problems:
            print("\n".join(problems), file=sys.stderr)
            status = 1
            continue
        print(show.summary())
        if note:
            print(f"  note:      {note}")
    return status


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="stovelight",
        description="Show control and live visualization driven by telemetry.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"stovelight {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="validate show files and print a summary")
    check.add_argument("show", nargs="+", help="show file(s) in TOML")
    check.set_defaults(func=_check)
    for register in SUBCOMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format=LOG_FORMAT,
        stream=sys.stderr,
    )
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a port, file or device the command needs
        log.debug("%s failed", args.command, exc_info=True)
        why = describe_os_error(exc, "cannot go on")
        print(f"stovelight {args.command}: {why}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # a recording file
        log.debug("%s failed", args.command, exc_info=True)
        print(
            f"stovelight {args.command}: a recording file could not be opened or written"
            f" ({exc}); does its folder exist, and is it writable?",
            file=sys.stderr,
        )
        return 1
    except (ValueError, ShowFileError) as exc:
        log.debug("%s failed", args.command, exc_info=True)
        print(f"stovelight {args.command}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # never a traceback for the operator; -v shows it
        log.debug("%s failed", args.command, exc_info=True)
        print(
            f"stovelight {args.command}: {type(exc).__name__}: {exc} (run with -v for the details)",
            file=sys.stderr,
        )
        return 1


def _version() -> str:
    try:
        return metadata.version("stovelight")
    except metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
