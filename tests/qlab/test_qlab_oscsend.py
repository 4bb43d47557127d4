"""QLab-remote smoke test: liblo's ``oscsend`` drives a real ``stovelight run`` over UDP,
``oscdump`` hears the show's OSC out, and the replies are strict QLab JSON; then
Companion's connect sequence over TCP/SLIP against the same process follows a GO."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from bridges.osc.wire import decode_packet, iter_messages
from tests.bridges.osc.osc_test_support import (
    free_port,
    free_udp_tcp_port,
    needs_liblo,
    oscdump,
    run,
    run_oscsend,
    udp_sink,
)
from tests.qlab.qlab_remote import CUE_KEYS, CompanionRemote, module_cue

SHOW = """
[show]
title = "Smoke"
min_go_interval = 0
[outputs.osc.desk]
host = "127.0.0.1"
port = {desk}
[control]
host = "127.0.0.1"
port = {control}
reply_port = {replies}
discovery = false
[web]
enabled = false
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
name = "Opening"
type = "osc"
target = "desk"
address = "/cue/one"
args = ["fired"]
[[cue_lists.cues]]
number = "2"
type = "wait"
duration = 30
"""


def _strict(packet: bytes, address: str) -> dict[str, object]:
    message = next(iter_messages(decode_packet(packet)))
    assert message.address == address

    def refuse(name: str) -> object:
        raise AssertionError(f"reply carries {name}")

    body = json.loads(str(message.args[0]), parse_constant=refuse)
    assert isinstance(body, dict)
    return body


def _probe(port: int) -> object:
    async def ready() -> None:
        await run_oscsend("127.0.0.1", str(port), "/ready")

    return ready


@needs_liblo
def test_oscsend_drives_stovelight_run_and_oscdump_hears_the_show(tmp_path: Path) -> None:
    async def main() -> None:
        desk, control = free_port(), free_udp_tcp_port()
        async with udp_sink() as replies:
            show = tmp_path / "show.toml"
            show.write_text(SHOW.format(desk=desk, control=control, replies=replies.port))
            errors = tmp_path / "stderr.log"
            async with oscdump(str(desk), _probe(desk)) as dump:  # type: ignore[arg-type]
                with errors.open("w") as show_stderr:  # the child keeps its own copy
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "show.cli",
                        "run",
                        str(show),
                        "--no-visuals",
                        cwd=tmp_path,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=show_stderr,
                    )
                try:
                    banner: list[str] = []
                    assert proc.stdout is not None
                    async with asyncio.timeout(30):
                        while not banner or "Press Ctrl-C" not in banner[-1]:
                            line = (await proc.stdout.readline()).decode()
                            assert line, f"the show ended before its banner: {errors.read_text()}"
                            banner.append(line)
                    line = next(b for b in banner if "QLab-compatible OSC control" in b)
                    assert f"port {control} (this computer only, no passcode)" in line

                    await run_oscsend("127.0.0.1", str(control), "/go")
                    assert (await dump.line())[:3] == ["/cue/one", "s", "fired"]
                    body = _strict((await replies.get())[0], "/reply/go")
                    assert body["status"] == "ok"

                    await run_oscsend(
                        "127.0.0.1", str(control), "/cue/2/valuesForKeys", "s", '["number","mode"]'
                    )
                    body = _strict((await replies.get())[0], "/reply/cue/2/valuesForKeys")
                    assert body["data"] == {"number": "2", "mode": None}

                    for value in ("inf", "nan", "1e30"):
                        await run_oscsend(
                            "127.0.0.1", str(control), "/settings/general/minGoTime", "f", value
                        )
                        body = _strict(
                            (await replies.get())[0], "/reply/settings/general/minGoTime"
                        )
                        assert body["status"] == "error", value
                    await run_oscsend("127.0.0.1", str(control), "/settings/general/minGoTime")
                    body = _strict((await replies.get())[0], "/reply/settings/general/minGoTime")
                    assert body["data"] == 0

                    await run_oscsend(
                        "127.0.0.1", str(control), "/cue/2/preWait", "iif", "0", "1", "30"
                    )
                    assert (
                        _strict((await replies.get())[0], "/reply/cue/2/preWait")["status"] == "ok"
                    )
                    await run_oscsend("127.0.0.1", str(control), "/cue/2/preWait")
                    assert _strict((await replies.get())[0], "/reply/cue/2/preWait")["data"] == 90.0

                    # Companion's module over TCP/SLIP against the same process
                    remote = await CompanionRemote.tcp(control)
                    got = await remote.connect_sequence()
                    assert all(body["status"] == "ok" for body in got.values()), got
                    two = got["/playheadID"]["data"]  # cue 1 went, cue 2 is on standby
                    remote.received.updates.clear()
                    await remote.ask("/go")
                    update = f"/update/workspace/{got['/workspaces']['data'][0]['uniqueID']}"
                    async with asyncio.timeout(10):
                        while f"{update}/cue_id/{two}" not in [
                            m.address for m in remote.received.updates
                        ]:
                            await asyncio.sleep(0.02)
                    remote.send("/cue/active/valuesForKeys", CUE_KEYS)
                    running = module_cue((await remote.reply("/cue/active/valuesForKeys"))["data"])
                    assert running["uniqueID"] == two and running["isRunning"] is True
                    remote.close()
                finally:
                    if proc.returncode is None:
                        proc.send_signal(signal.SIGTERM)
                        try:
                            async with asyncio.timeout(20):
                                await proc.wait()
                        except TimeoutError:
                            proc.kill()
                            await proc.wait()
                assert proc.returncode == 0

    run(main(), timeout=90)
