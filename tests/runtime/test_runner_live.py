"""The running show against real peers: a websocket source, liblo's oscdump and
oscsend, and a MIDI port object."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from bridges.midi.memory import MemoryMidiBackend
from bridges.osc.wire import decode_packet, iter_messages
from cues.commands import Health
from cues.model import CueId
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import needs_liblo, oscdump, run, run_oscsend, udp_sink
from tests.show.live_support import TelemetryServer, eventually, running_show
from tests.show_process import read_banner, show_process

SHOW = """
[show]
title = "Live test"
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
stale_after = 0.5
lost_after = 1.0
[signals."kitchen.state"]
source = "kitchen"
[outputs.osc.desk]
port = {osc_port}
[outputs.midi.synth]
port = "Synth"
[mappings.temp]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/temp" }}
max_rate_hz = 20
[mappings.temp_cc]
signal = "kitchen.temp_c"
to = {{ midi = "synth", cc = 7 }}
range = {{ in = [0, 1000], out = [0, 127] }}
[control]
host = "127.0.0.1"
port = 0
reply_port = {reply_port}
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
name = "First"
type = "osc"
target = "desk"
address = "/cue/one"
args = ["fired"]
[[cue_lists.cues]]
number = "2"
type = "wait"
duration = 30
"""


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _show(ws_port: int, osc_port: int, reply_port: int) -> object:
    text = SHOW.format(ws_port=ws_port, osc_port=osc_port, reply_port=reply_port)
    return parse_show(text, "live.toml")


def _probe(port: int) -> object:
    async def ready() -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port)
        )
        transport.sendto(b"/ready\x00\x00,\x00\x00\x00")
        transport.close()

    return ready


@needs_liblo
def test_live_source_drives_oscdump_and_a_midi_port() -> None:
    async def main() -> None:
        server = TelemetryServer()
        await server.start()
        osc_port = _free_udp_port()
        midi = MemoryMidiBackend(outputs=["Synth"])
        async with oscdump(str(osc_port), _probe(osc_port)) as dump:  # type: ignore[arg-type]
            show = _show(server.port, osc_port, _free_udp_port())
            async with running_show(show, midi) as (runner, _):  # type: ignore[arg-type]
                values: list[float] = []
                while len(values) < 5:
                    tokens = await dump.line(timeout=5.0)
                    if tokens[0] == "/temp":
                        values.append(float(tokens[2]))
                assert values == sorted(values) and values[-1] > values[0]
                await eventually(lambda: len(midi.outputs["Synth"]) >= 3)
                cc = midi.outputs["Synth"][-1]
                assert cc[0] == 0xB0 and cc[1] == 7
                info = runner.sources["kitchen"]
                assert info.status == "connected" and info.samples > 0
        await server.stop()

    run(main(), timeout=30)


@needs_liblo
def test_oscsend_go_fires_the_standby_cue_and_gets_qlab_replies() -> None:
    async def main() -> None:
        server = TelemetryServer()
        await server.start()
        osc_port = _free_udp_port()
        async with udp_sink() as replies:
            reply_port = replies.port
            show = _show(server.port, osc_port, reply_port)
            async with (
                oscdump(str(osc_port), _probe(osc_port)) as dump,  # type: ignore[arg-type]
                running_show(show, MemoryMidiBackend(outputs=["Synth"])) as (runner, control),  # type: ignore[arg-type]
            ):
                port = control.server.ports.udp
                assert port is not None
                await run_oscsend("localhost", str(port), "/go")
                while True:
                    tokens = await dump.line(timeout=5.0)
                    if tokens[0] == "/cue/one":
                        assert tokens[2] == "fired"
                        break
                body = _reply((await replies.get())[0], "/reply/go")
                assert body == {
                    "workspace_id": control.workspace_id,
                    "address": f"/workspace/{control.workspace_id}/go",
                    "status": "ok",
                }
                assert runner.engine.playhead() == "Main/2"
                await run_oscsend("localhost", str(port), "/cueLists")
                lists = _reply((await replies.get())[0], "/reply/cueLists")["data"]
                assert [c["number"] for c in lists[0]["cues"]] == ["1", "2"]
                assert lists[0]["cues"][0]["name"] == "First"
                await run_oscsend("localhost", str(port), "/cue/2/preWait", "f", "1.5")
                assert _reply((await replies.get())[0], "/reply/cue/2/preWait")["status"] == "ok"
                assert runner.engine.cues[CueId("Main/2")].prewait == 1.5
                await run_oscsend("localhost", str(port), "/no/such/thing")
                reply = _reply((await replies.get())[0], "/reply/no/such/thing")
                assert reply["status"] == "error"
        await server.stop()

    run(main(), timeout=30)


def _reply(packet: bytes, address: str) -> dict[str, Any]:
    messages = list(iter_messages(decode_packet(packet)))
    assert messages[0].address == address
    body = json.loads(str(messages[0].args[0]))
    assert isinstance(body, dict)
    return body


def test_pulling_the_telemetry_server_mid_show_and_bringing_it_back() -> None:
    async def main() -> None:
        server = TelemetryServer()
        await server.start()

        show = _show(server.port, _free_udp_port(), _free_udp_port())
        async with running_show(show, MemoryMidiBackend(outputs=["Synth"])) as (runner, _):  # type: ignore[arg-type]
            sig = runner.engine.signals.signals["kitchen.temp_c"]
            await eventually(lambda: sig.health is Health.LIVE)
            await server.stop()
            await eventually(lambda: sig.health is Health.LOST, timeout=5.0)
            assert runner.sources["kitchen"].status in ("disconnected", "connecting")
            # the cue list still runs while the source is away
            assert runner.control("go")["ok"]
            sent_before = runner.engine.mappings["temp"].sent
            await server.start()
            # resumption within two seconds rests on the sources' backoff cap (1 s by
            # default, tested in the telemetry bridge); this bound is only liveness
            await eventually(lambda: runner.engine.mappings["temp"].sent > sent_before, timeout=10)
            assert sig.health is Health.LIVE
        await server.stop()

    run(main(), timeout=30)


def test_stovelight_run_stops_cleanly_on_sigterm(tmp_path: object) -> None:
    import signal
    from pathlib import Path

    folder = Path(str(tmp_path))
    show = folder / "show.toml"
    show.write_text(
        SHOW.format(ws_port=_free_udp_port(), osc_port=_free_udp_port(), reply_port=0)
        + '\n[web]\nport = 0\nhost = "127.0.0.1"\n'
    )
    with show_process(["run", str(show), "--no-visuals"], folder) as proc:
        lines = read_banner(proc)
        assert any("Operator console: http://127.0.0.1:" in x for x in lines), lines
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped cleanly" in out
    closed = [
        line.split("closed ", 1)[1]
        for line in err.splitlines()
        if "show.runtime.runner: closed" in line
    ]
    assert closed == ["web server", "QLab control", "MIDI", "OSC output"]
    assert "no MIDI system" in err or "Synth" in err
    assert (folder / "logs" / "Live-test.log").read_text().count("closed OSC output") == 1


MIDI_SHOW = """
[outputs.osc.desk]
port = {osc_port}
[outputs.midi.synth]
port = "Synth"
timecode_fps = 25
[outputs.midi.pads]
port = "Pads"
output = false
input = true
msc_device = 1
bindings = [{{ message = "note", channel = 1, number = 60, action = "go" }}]
[control]
enabled = false
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "osc"
target = "desk"
address = "/one"
[[cue_lists.cues]]
number = "2"
type = "midi"
port = "synth"
message = {{ type = "msc", command = "GO", cue = "12.5", device = 1, format = "lighting" }}
[[cue_lists.cues]]
number = "3"
type = "osc"
target = "desk"
address = "/three"
"""


def test_midi_timecode_msc_out_and_note_and_msc_in_drive_the_show() -> None:
    async def main() -> None:
        show = parse_show(MIDI_SHOW.format(osc_port=_free_udp_port()), "midi.toml")
        midi = MemoryMidiBackend(outputs=["Synth"], inputs=["Pads"])
        async with running_show(show, midi) as (runner, _):
            sent = midi.outputs["Synth"]
            await eventually(lambda: sum(1 for m in sent if m[0] == 0xF1) >= 8)
            # a full frame first (rate code 1 = 25 fps in the hours byte), then quarter frames
            assert sent[0][:5] == bytes([0xF0, 0x7F, 0x7F, 0x01, 0x01])
            assert sent[0][5] >> 5 == 1
            midi.deliver("Pads", bytes([0x90, 60, 100]))  # note on: GO -> cue 1
            await eventually(lambda: runner.engine.playhead() == "Main/2")
            await asyncio.sleep(0.3)  # past the double-GO guard
            midi.deliver("Pads", bytes([0x90, 60, 100]))  # second GO
            await eventually(lambda: any(m[:2] == b"\xf0\x7f" and m[3] == 0x02 for m in sent))
            msc = next(m for m in sent if m[:2] == b"\xf0\x7f" and m[3] == 0x02)
            # F0 7F <device 1> 02 <lighting 01> <GO 01> "12.5" F7
            assert msc == bytes([0xF0, 0x7F, 0x01, 0x02, 0x01, 0x01]) + b"12.5" + b"\xf7"
            # an MSC GO with a cue number from the lighting desk fires that cue
            midi.deliver("Pads", bytes([0xF0, 0x7F, 0x01, 0x02, 0x01, 0x01]) + b"3" + b"\xf7")
            await eventually(lambda: runner.engine.runs[CueId("Main/3")].starts == 1)

    run(main(), timeout=30)
