"""Reloading a running ``stovelight run``: SIGHUP and OSC ``/reload`` (sent with
liblo's ``oscsend``), a bad edit refused with the show running on, a running fade
untouched, the edited cues live at the next GO."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pythonosc.osc_message import OscMessage

ROOT = Path(__file__).resolve().parents[2]

SHOW = """
[show]
title = "Reload"
min_go_interval = 0
[control]
host = "127.0.0.1"
port = {control}
[web]
enabled = false
[outputs.osc.desk]
port = {desk}
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "fade"
target = {{ osc = "desk", address = "/fade" }}
from = 0.0
to = 1.0
duration = 4
rate_hz = 10
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "{two}"
"""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def receive(sock: socket.socket, until: float) -> list[tuple[str, list[Any]]]:
    """(address, arguments) of the messages that arrive before ``until``."""
    out: list[tuple[str, list[Any]]] = []
    while time.monotonic() < until:
        sock.settimeout(max(0.01, until - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        if data.startswith(b"#bundle"):
            continue  # the desk here sends plain messages
        msg = OscMessage(data)
        out.append((msg.address, list(msg.params)))
    return out


def test_reload_by_sighup_and_osc_while_a_fade_runs(tmp_path: Path) -> None:
    desk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    desk.bind(("127.0.0.1", 0))
    control = free_udp_port()
    values = {"control": control, "desk": desk.getsockname()[1]}
    show = tmp_path / "show.toml"
    show.write_text(SHOW.format(two="/two", **values))
    proc = subprocess.Popen(
        [sys.executable, "-m", "show.cli", "run", str(show), "--no-visuals", "--duration", "20"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        got = receive(desk, time.monotonic() + 15)[:0]
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:  # wait for the banner
            subprocess.run(["oscsend", "127.0.0.1", str(control), "/go"], check=True)
            got = receive(desk, time.monotonic() + 0.3)
            if got:
                break
        assert got and got[0][0] == "/fade", "the show never started its fade"
        # an edit while the fade runs: cue 2 sends elsewhere, a cue 3 appears
        edited = SHOW.format(two="/two-edited", **values)
        edited += (
            '[[cue_lists.cues]]\nnumber = "3"\ntype = "osc"\ntarget = "desk"\naddress = "/three"\n'
        )
        show.write_text(edited)
        proc.send_signal(signal.SIGHUP)
        got += receive(desk, time.monotonic() + 1.0)
        subprocess.run(["oscsend", "127.0.0.1", str(control), "/go"], check=True)  # cue 2
        got += receive(desk, time.monotonic() + 1.0)
        # a bad edit, reloaded over OSC: refused, the show runs on as it was
        show.write_text(edited.replace('type = "osc"', 'type = "osk"'))
        subprocess.run(["oscsend", "127.0.0.1", str(control), "/reload"], check=True)
        got += receive(desk, time.monotonic() + 1.0)
        subprocess.run(["oscsend", "127.0.0.1", str(control), "/go"], check=True)  # cue 3
        got += receive(desk, time.monotonic() + 4.0)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        desk.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    fade = [float(args[0]) for address, args in got if address == "/fade"]
    assert fade == sorted(fade) and fade[-1] == 1.0  # the fade ran on to its end
    assert len(fade) >= 30  # 10 Hz for 4 s: no step lost across the reloads
    sent = [address for address, _ in got if address != "/fade"]
    assert sent == ["/two-edited", "/three"]
    assert "show file reloaded" in err
    assert "reload refused: 2 problem(s)" in err


def test_run_watch_reloads_when_the_file_is_saved(tmp_path: Path) -> None:
    desk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    desk.bind(("127.0.0.1", 0))
    control = free_udp_port()
    # the file's control port is overridden on the command line, before and after
    values = {"control": 1, "desk": desk.getsockname()[1]}
    show = tmp_path / "show.toml"
    show.write_text(SHOW.format(two="/two", **values))
    args = ["run", str(show), "--watch", "--no-visuals", "--control-port", str(control)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "show.cli", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def go_two() -> list[str]:
        subprocess.run(["oscsend", "127.0.0.1", str(control), "/go/2"], check=True)
        return [a for a, _ in receive(desk, time.monotonic() + 0.5) if a != "/fade"]

    try:
        deadline = time.monotonic() + 20
        first: list[str] = []
        while not first and proc.poll() is None and time.monotonic() < deadline:
            first = go_two()
        show.write_text(SHOW.format(two="/two-saved", **values))
        later: list[str] = []
        while "/two-saved" not in later and time.monotonic() < deadline + 10:
            later = go_two()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        desk.close()
    assert first == ["/two"]
    assert later == ["/two-saved"], err[-2000:]
    assert "reload of" in err and "asked by file change" in err
    assert "apply at the next start" not in err  # the override is no change of the file
