"""Benchmark: OSC encoding with bridges.osc.wire vs python-osc's builders.

Run from the repository root::

    .venv/bin/python bench/osc_encode.py [--seconds 0.5]

Prints packets per second (best of several runs) for each case and the ratio.
Both sides produce byte-identical packets for these cases (checked before
timing).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_message_builder import ArgValue, OscMessageBuilder

from bridges.osc.wire import (
    OscMessage,
    bundle_from_encoded,
    decode_packet,
    encode_message,
)

__all__ = ["main"]

ONE_FLOAT: tuple[str, list[ArgValue]] = ("/stove/temp", [21.5])
FOUR_ARGS: tuple[str, list[ArgValue]] = ("/stove/burner/2", [3, 21.5, "simmer", True])
BUNDLE = [(f"/grid/feeder/{i}", [float(i) * 0.5, i]) for i in range(8)]


def pyosc_message(address: str, args: Sequence[ArgValue]) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return bytes(builder.build().dgram)


def pyosc_bundle() -> bytes:
    builder = OscBundleBuilder(IMMEDIATELY)
    for address, args in BUNDLE:
        msg = OscMessageBuilder(address)
        for arg in args:
            msg.add_arg(arg)
        builder.add_content(msg.build())
    return bytes(builder.build().dgram)


def ours_bundle() -> bytes:
    return bundle_from_encoded([encode_message(a, args) for a, args in BUNDLE])


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per second, best of 5 runs of about ``seconds`` each."""
    timer = timeit.Timer(func)
    number, elapsed = timer.autorange()
    number = max(1, int(number * seconds / max(elapsed, 1e-9)))
    best = min(timer.repeat(repeat=5, number=number))
    return number / best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="time per run")
    opts = parser.parse_args(argv)

    one = OscMessage(*ONE_FLOAT[:1], tuple(ONE_FLOAT[1]))
    four_packet = encode_message(*FOUR_ARGS)
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "encode /stove/temp ,f",
            lambda: encode_message("/stove/temp", [21.5]),
            lambda: pyosc_message("/stove/temp", [21.5]),
        ),
        (
            "encode OscMessage.encode() ,f",
            one.encode,
            lambda: pyosc_message("/stove/temp", [21.5]),
        ),
        (
            "encode 4 args ,ifsT",
            lambda: encode_message(*FOUR_ARGS),
            lambda: pyosc_message(*FOUR_ARGS),
        ),
        ("encode bundle of 8 messages", ours_bundle, pyosc_bundle),
        (
            "decode 4 args ,ifsT",
            lambda: decode_packet(four_packet),
            lambda: PyOscMessage(four_packet).params,
        ),
    ]
    # The comparison only means something if both produce the same bytes.
    assert encode_message(*ONE_FLOAT) == pyosc_message(*ONE_FLOAT)
    assert four_packet == pyosc_message(*FOUR_ARGS)
    assert ours_bundle() == pyosc_bundle()

    print(f"Python {sys.version.split()[0]}, packets per second (best of 5)")
    print(f"{'case':<32} {'bridges.osc':>14} {'python-osc':>14} {'speed-up':>9}")
    for name, ours, theirs in cases:
        ours_rate, theirs_rate = rate(ours, opts.seconds), rate(theirs, opts.seconds)
        print(
            f"{name:<32} {ours_rate:>14,.0f} {theirs_rate:>14,.0f} {ours_rate / theirs_rate:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
