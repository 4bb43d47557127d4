"""Benchmark failover: the gap in a 30 Hz fade when the main dies and its tracking
backup takes over by itself.

Two ``stovelight run`` processes on loopback share a show file and one UDP "desk";
the main runs a 20 s fade at 30 steps a second, is SIGKILLed 2 s in, and the backup
(``--takeover-after T``) continues it. The table gives, per ``T``: the silence at the
desk between the main's last fade step and the backup's first, the step the value
made across the gap against what the fade's slope predicts (a continued fade, not a
restarted one), and how often the GO's cue message reached the desk (once).

Usage::

    .venv/bin/python bench/failover.py                  # takeover after 0.25, 0.5, 1.0 s
    .venv/bin/python bench/failover.py --after 0.5 --runs 3
"""

from __future__ import annotations

import argparse
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridges.osc.wire import decode_packet, encode_message, iter_messages  # noqa: E402

SHOW = """
[show]
title = "Failover bench"
min_go_interval = 0
[outputs.osc.desk]
host = "127.0.0.1"
port = {osc_port}
[web]
enabled = false
[control]
host = "127.0.0.1"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/cue/1"
args = [1]
continue = "auto-continue"
[[cue_lists.cues]]
number = "2"
type = "fade"
target = {{ osc = "desk", address = "/level" }}
from = 0.0
to = 20.0
duration = 20.0
rate_hz = 30
"""


class Desk:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.got: list[tuple[float, int, str, float]] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                return
            now = time.monotonic()
            for m in iter_messages(decode_packet(data)):
                self.got.append((now, addr[1], m.address, float(m.args[0])))


def start(
    folder: Path, name: str, show: Path, *extra: str
) -> tuple[subprocess.Popen[str], dict[str, int]]:
    args = [sys.executable, "-m", "show.cli", "run", str(show), "--no-visuals"]
    args += ["--control-port", "0", "--tracking-port", "0", "--log-dir", str(folder / name), *extra]
    proc = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    for line in proc.stdout:
        if m := re.search(r"QLab-compatible OSC control: udp/tcp port (\d+)", line):
            ports["control"] = int(m.group(1))
        if m := re.search(r"Tracking backups: port (\d+)", line):
            ports["tracking"] = int(m.group(1))
        if "Press Ctrl-C" in line:
            return proc, ports
    raise RuntimeError(f"{name} did not start")


def one_run(after: float) -> dict[str, float]:
    desk = Desk()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        show = folder / "show.toml"
        show.write_text(SHOW.format(osc_port=desk.sock.getsockname()[1]))
        main, ports = start(folder, "main", show)
        backup, _ = start(
            folder,
            "backup",
            show,
            "--backup-of",
            f"127.0.0.1:{ports['tracking']}",
            "--takeover-after",
            str(after),
        )
        time.sleep(1.0)  # the backup pairs
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(encode_message("/go"), ("127.0.0.1", ports["control"]))
        time.sleep(2.0)
        main.send_signal(signal.SIGKILL)
        main.wait()
        time.sleep(after + 2.0)
        backup.send_signal(signal.SIGTERM)
        backup.wait(timeout=20)
    desk.sock.close()
    levels = [g for g in desk.got if g[2] == "/level"]
    main_port = levels[0][1]
    last_main = [g for g in levels if g[1] == main_port][-1]
    first_backup = next(g for g in levels if g[1] != main_port)
    gap = first_backup[0] - last_main[0]
    return {
        "after": after,
        "gap_ms": gap * 1000,
        "step": first_backup[3] - last_main[3],
        "expected": gap * 1.0,  # the fade climbs 1.0 a second
        "cue_fires": float(sum(1 for g in desk.got if g[2] == "/cue/1")),
    }


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--after", default="0.25,0.5,1.0", help="takeover delays (s)")
    parser.add_argument("--runs", type=int, default=1, help="runs per delay")
    args = parser.parse_args()
    print("main SIGKILLed 2 s into a 20 s, 30 Hz fade; backup takes over by itself")
    head = f"{'takeover after':>14} {'gap ms':>8} {'value step':>10} {'slope x gap':>11}"
    print(f"{head} {'cue fires':>9}")
    for after in [float(a) for a in args.after.split(",")]:
        for _ in range(args.runs):
            r = one_run(after)
            print(
                f"{r['after']:>12.2f} s {r['gap_ms']:>8.0f} {r['step']:>10.3f} "
                f"{r['expected']:>11.3f} {r['cue_fires']:>9.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
