"""A tracking backup: two ``stovelight run`` processes on loopback sending to one desk.
The main runs a GO sequence with a fade and is SIGKILLed; the backup takes over
(automatically, or by OSC) and the desk's fade goes on from where it was, no cue
fires twice, the next GO fires the next cue, and both recordings agree."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bridges.osc.wire import decode_packet, encode_message, iter_messages
from rehearsal.dryrun import dry_run
from rehearsal.recording import Recording
from show.runtime.tracking import InputLog, TrackingFollower, pairing_proof, show_digest
from show.showfile.load import load_show
from tests.show.test_show_in_browser import _LoopThread
from tests.web.webtest_support import screenshot

pytestmark = pytest.mark.timeout(120)

SHOW = """
[show]
title = "Pair test"
min_go_interval = 0
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
stale_after = 2
lost_after = 60
[outputs.osc.desk]
host = "127.0.0.1"
port = {osc_port}
[mappings.temp]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/temp" }}
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
[[cue_lists.cues]]
number = "2"
type = "fade"
target = {{ osc = "desk", address = "/level" }}
from = 0.0
to = 1.0
duration = 5.0
rate_hz = 30
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/cue/3"
args = [3]
"""


@dataclass
class Desk:
    """A UDP OSC receiver noting (time, sender port, address, first argument)."""

    sock: socket.socket
    got: list[tuple[float, int, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except OSError:
                return
            now = time.monotonic()
            for m in iter_messages(decode_packet(data)):
                with self.lock:
                    self.got.append((now, addr[1], m.address, float(m.args[0])))

    def of(self, address: str) -> list[tuple[float, int, str, float]]:
        with self.lock:
            return [g for g in self.got if g[2] == address]


@dataclass
class Machine:
    proc: subprocess.Popen[str]
    control_port: int
    tracking_port: int | None
    stderr: Path
    banner: str


def start_machine(tmp: Path, name: str, show: Path, *extra: str) -> Machine:
    err = tmp / f"{name}.err"
    args = [sys.executable, "-m", "show.cli", "run", str(show), "--no-visuals"]
    args += ["--control-port", "0", "--tracking-port", "0", "--log-dir", str(tmp / name)]
    args += ["--record", str(tmp / f"{name}.sqlite"), *extra]
    proc = subprocess.Popen(args, cwd=tmp, stdout=subprocess.PIPE, stderr=err.open("w"), text=True)
    assert proc.stdout is not None
    control = tracking = None
    banner = ""
    for line in proc.stdout:
        banner += line
        if m := re.search(r"QLab-compatible OSC control: udp/tcp port (\d+)", line):
            control = int(m.group(1))
        if m := re.search(r"Tracking backups: port (\d+)", line):
            tracking = int(m.group(1))
        if "Press Ctrl-C" in line:
            break
    assert control is not None, err.read_text()[-2000:]
    return Machine(proc, control, tracking, err, banner)


def osc(port: int, address: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(encode_message(address), ("127.0.0.1", port))


def wait_for(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def pair_env(tmp_path: Path) -> Iterator[tuple[Path, Desk, _LoopThread]]:
    feed = _LoopThread()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    desk = Desk(sock)
    threading.Thread(target=desk.run, daemon=True).start()
    show = tmp_path / "show.toml"
    show.write_text(SHOW.format(ws_port=feed.server.port, osc_port=sock.getsockname()[1]))
    try:
        yield show, desk, feed
    finally:
        sock.close()
        feed.close()


def cue_states(path: Path, until: float | None = None) -> list[tuple[str, str]]:
    with Recording.open(path) as rec:
        return [(e.data["cue"], e.data["state"]) for e in rec.events(kind="cue_state", end=until)]


@pytest.mark.parametrize("automatic", [True, False], ids=["automatic", "by-osc"])
def test_backup_takes_over_where_the_main_was(
    pair_env: tuple[Path, Desk, _LoopThread], tmp_path: Path, automatic: bool
) -> None:
    show, desk, _feed = pair_env
    main = start_machine(tmp_path, "main", show)
    assert main.tracking_port is not None
    extra = ["--backup-of", f"127.0.0.1:{main.tracking_port}"]
    if automatic:
        extra += ["--takeover-after", "0.5"]
    backup = start_machine(tmp_path, "backup", show, *extra)
    try:
        wait_for(lambda: "following the main" in backup.stderr.read_text())
        wait_for(lambda: desk.of("/temp"))  # the main's mapping reaches the desk
        main_port = desk.of("/temp")[0][1]

        osc(main.control_port, "/go")  # cue 1
        osc(main.control_port, "/go")  # cue 2: a 5 s fade at 30 Hz
        wait_for(lambda: any(v > 0.3 for _, _, _, v in desk.of("/level")))
        osc(backup.control_port, "/go")  # a backup refuses operator commands
        time.sleep(0.3)
        main.proc.send_signal(signal.SIGKILL)
        main.proc.wait()
        killed = time.monotonic()
        if not automatic:
            time.sleep(0.5)
            osc(backup.control_port, "/stovelight/takeover")

        wait_for(lambda: any(port != main_port for _, port, _, _ in desk.of("/level")))
        wait_for(lambda: desk.of("/level")[-1][3] == 1.0)  # the fade ends on the backup
        osc(backup.control_port, "/go")  # the next GO fires the next cue: 3
        wait_for(lambda: desk.of("/cue/3"))

        levels = desk.of("/level")
        from_main = [g for g in levels if g[1] == main_port]
        from_backup = [g for g in levels if g[1] != main_port]
        last_main, first_backup = from_main[-1], from_backup[0]
        # the backup's fade continues from the main's value, not from the start
        assert first_backup[3] >= last_main[3]
        assert all(b[3] >= a[3] for a, b in itertools.pairwise(levels))
        if automatic:
            gap = first_backup[0] - last_main[0]
            assert gap <= 1.0, f"fade output gap {gap:.2f} s"
        assert len(desk.of("/cue/1")) == 1 and desk.of("/cue/1")[0][1] == main_port
        assert [g[1] != main_port for g in desk.of("/cue/3")] == [True]
        # after the takeover the backup reads telemetry itself and maps it
        wait_for(lambda: any(port != main_port for _, port, _, _ in desk.of("/temp")))
        text = backup.stderr.read_text()
        assert "TAKEOVER" in text and "Traceback" not in text
        elapsed = time.monotonic() - killed
        assert elapsed < 30
    finally:
        for m in (main, backup):
            if m.proc.poll() is None:
                m.proc.send_signal(signal.SIGTERM)
                m.proc.wait(timeout=20)
    # both machines recorded the same cue states up to the main's end
    main_states = cue_states(tmp_path / "main.sqlite")
    backup_states = cue_states(tmp_path / "backup.sqlite")
    assert main_states, "the main recorded its cue states"
    assert backup_states[: len(main_states)] == main_states
    # and a dry run of either recording tells the same show up to the main's end
    parsed = load_show(show)
    runs = {}
    for name in ("main", "backup"):
        commands: list[tuple[float, str]] = []

        def record(t: float, command: object, out: list[tuple[float, str]] = commands) -> None:
            out.append((round(t, 6), repr(command)))

        with Recording.open(tmp_path / f"{name}.sqlite") as rec:
            if name == "main":
                end = max(rec.time_range() or (0.0, 0.0))
            dry_run(
                parsed,
                rec,
                gos_from_recording=True,
                until=end - 0.3,
                on_command=record,
            )
        runs[name] = [c for c in commands if "SendOsc" in c[1] or "CueState" in c[1]]
    assert len(runs["main"]) > 20
    assert runs["backup"] == runs["main"]


def test_a_backup_with_another_show_file_is_refused(tmp_path: Path) -> None:
    show = tmp_path / "a.toml"
    show.write_text('[web]\nenabled = false\n[[cue_lists]]\nname = "Main"\n')
    other = tmp_path / "b.toml"
    other.write_text('[web]\nenabled = false\n[[cue_lists]]\nname = "Other"\n')
    main = start_machine(tmp_path, "main", show)
    try:
        backup = start_machine(
            tmp_path, "backup", other, "--backup-of", f"127.0.0.1:{main.tracking_port}"
        )
        wait_for(lambda: "show files differ" in backup.stderr.read_text())
        backup.proc.send_signal(signal.SIGTERM)
        assert backup.proc.wait(timeout=20) == 0
    finally:
        main.proc.send_signal(signal.SIGTERM)
        main.proc.wait(timeout=20)


def test_a_second_main_refuses_to_start_while_its_peer_is_the_main(tmp_path: Path) -> None:
    show = tmp_path / "a.toml"
    show.write_text('[web]\nenabled = false\n[[cue_lists]]\nname = "Main"\n')
    main = start_machine(tmp_path, "main", show)
    try:
        args = [sys.executable, "-m", "show.cli", "run", str(show), "--no-visuals"]
        args += ["--control-port", "0", "--tracking-port", "0"]
        args += ["--peer", f"127.0.0.1:{main.tracking_port}", "--log-dir", str(tmp_path / "x")]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert done.returncode == 1
        assert "already runs this show as the main" in done.stderr
        assert "--backup-of" in done.stderr
    finally:
        main.proc.send_signal(signal.SIGTERM)
        main.proc.wait(timeout=20)


def test_log_entries_replay_in_order_and_a_gap_is_refused() -> None:
    log = InputLog(clock=lambda: 0.0)
    seen: list[bytes] = []
    log.listeners.append(seen.append)
    log.tick(0.5)
    log.samples(0.6, "kitchen", [("kitchen.temp_c", 21.0)])
    assert [json.loads(e)[0] for e in seen] == [1, 2]
    assert log.since(2) == seen[1:]
    follower = TrackingFollower("127.0.0.1:1", "digest")
    with pytest.raises(ConnectionError, match="#5 after #0"):
        follower.apply([5, 1.0, 0.0, "t"])


def test_show_digest_changes_with_the_file(tmp_path: Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text("x = 1\n")
    first = show_digest(a)
    a.write_text("x = 2\n")
    assert show_digest(a) != first


def test_takeover_from_the_backups_console(
    pair_env: tuple[Path, Desk, _LoopThread], tmp_path: Path, browser: Any
) -> None:
    show, _desk, _feed = pair_env
    text = show.read_text().replace(
        "[web]\nenabled = false\n",
        '[web]\nhost = "127.0.0.1"\nport = 0\nconsole_token = "pair-token"\n',
    )
    show.write_text(text)
    main = start_machine(tmp_path, "main", show)
    backup = start_machine(
        tmp_path, "backup", show, "--backup-of", f"127.0.0.1:{main.tracking_port}"
    )
    try:
        url = re.search(r"Operator console:\s+(\S+)", backup.banner)
        assert url is not None, backup.banner
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(url.group(1))
        button = page.locator("#takeover")
        button.wait_for(state="visible", timeout=15_000)
        page.wait_for_function(
            "() => document.querySelector('#health').textContent.includes('tracking main')",
            timeout=15_000,
        )
        assert page.locator("#go").get_attribute("data-state") == "backup"
        screenshot(page, "console-backup-tracking")
        button.click()
        button.wait_for(state="hidden", timeout=15_000)
        page.wait_for_function(
            "() => document.querySelector('#health').textContent.includes('no backup connected')",
            timeout=15_000,
        )
        wait_for(lambda: "this machine is muted" in main.stderr.read_text())
        context.close()
    finally:
        for m in (main, backup):
            if m.proc.poll() is None:
                m.proc.send_signal(signal.SIGTERM)
                m.proc.wait(timeout=20)


def test_the_tracking_port_tells_strangers_nothing_and_obeys_no_stranger(tmp_path: Path) -> None:
    """A probe learns the role only (not the digest a backup must prove); a client
    without the show file's digest gets no log and cannot mute the main."""
    import asyncio

    from websockets.asyncio.client import connect

    from show.runtime.runner import RunnerParts, ShowRunner
    from show.runtime.tracking import TrackingServer, main_at

    show = tmp_path / "a.toml"
    show.write_text('[web]\nenabled = false\n[[cue_lists]]\nname = "Main"\n')

    async def main() -> None:
        runner = ShowRunner(load_show(show), RunnerParts())
        server = TrackingServer(runner, show_digest(show), host="127.0.0.1", port=0)
        await server.start()
        try:
            async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
                challenge = json.loads(await ws.recv())
                await ws.send(json.dumps({"type": "probe"}))
                assert json.loads(await ws.recv()) == {"type": "role", "role": "main"}
            assert await main_at(f"127.0.0.1:{server.port}") == "main"
            digest = show_digest(show)
            for hello in (
                {"type": "hello", "digest": digest, "from_seq": 1},  # a sniffed digest
                {"type": "hello", "proof": pairing_proof(digest, "old"), "from_seq": 1},
            ):
                async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
                    await ws.recv()
                    await ws.send(json.dumps(hello))
                    with pytest.raises(Exception, match="show files differ"):
                        await ws.recv()
            async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "takeover"}))
                await asyncio.sleep(0.2)
            assert not runner.muted and not server.demoted
            # a real backup that sends garbage leaves nothing behind when it goes
            async with connect(f"ws://127.0.0.1:{server.port}/") as ws:
                nonce = json.loads(await ws.recv())["nonce"]
                proof = pairing_proof(digest, nonce)
                await ws.send(json.dumps({"type": "hello", "proof": proof, "from_seq": 1}))
                assert json.loads(await ws.recv())["type"] == "welcome"
                await ws.send(json.dumps({"type": "ack", "seq": None}))
                await ws.send("not json")
                await asyncio.sleep(0.2)
                assert len(server.backups) == 1
            await asyncio.sleep(1.5)
            assert server.backups == {} and server.log.listeners == []
            assert challenge["type"] == "challenge" and len(challenge["nonce"]) == 32
        finally:
            await server.aclose()

    # its own thread: a Playwright test earlier in this module leaves a loop running here
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(main(), 20)).result()


def test_a_show_followed_by_a_backup_and_a_following_backup_refuse_to_reload(
    tmp_path: Path,
) -> None:
    from show.runtime.runner import RunnerParts, ShowRunner

    show = tmp_path / "a.toml"
    show.write_text('[web]\nenabled = false\n[[cue_lists]]\nname = "Main"\n')
    main = ShowRunner(load_show(show), RunnerParts(), clock=lambda: 0.0)
    main.input_taps.append(InputLog())
    refused = main.request_reload("test")
    assert refused == {
        "ok": False,
        "error": "this show has a tracking backup: restart both machines with the new file"
        " instead of reloading",
    }
    backup = ShowRunner(load_show(show), RunnerParts(), clock=lambda: 0.0)
    TrackingFollower("127.0.0.1:1", "digest").attach(backup)
    assert backup.request_reload("test")["error"] == "a tracking backup reloads by restarting"
    assert backup.control("go")["ok"] is False
