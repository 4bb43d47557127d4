"""A show whose telemetry comes from a third-party JSON feed (JSON pointers with unit
scaling) and whose OSC goes out over TCP with SLIP framing."""

from __future__ import annotations

import asyncio
import contextlib
import json

from websockets.asyncio.server import ServerConnection, serve

from bridges.osc.framing import SlipDecoder
from bridges.osc.wire import decode_packet, iter_messages
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import run
from tests.show.live_support import eventually, running_show

SHOW = """
[sources.meter]
kind = "json"
url = "ws://127.0.0.1:{ws_port}/"
[sources.meter.signals]
"kitchen.temp_c" = {{ pointer = "/data/sensors/0/t", scale = 0.1 }}
"kitchen.power_kw" = {{ pointer = "/data/power_w", scale = 0.001, offset = 0.5 }}
[signals."kitchen.temp_c"]
source = "meter"
[signals."kitchen.power_kw"]
source = "meter"
[outputs.osc.desk]
host = "127.0.0.1"
port = {osc_port}
transport = "tcp"
[mappings.temp]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/temp" }}
[mappings.power]
signal = "kitchen.power_kw"
to = {{ osc = "desk", address = "/power" }}
[control]
enabled = false
[[cue_lists]]
name = "Main"
"""


def test_json_feed_in_and_tcp_slip_osc_out() -> None:
    async def main() -> None:
        received: dict[str, float] = {}

        async def desk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            slip = SlipDecoder()
            while data := await reader.read(4096):
                for packet in slip.feed(data):
                    for message in iter_messages(decode_packet(packet)):
                        received[message.address] = float(message.args[0])
            writer.close()

        async def feed(ws: ServerConnection) -> None:
            with contextlib.suppress(Exception):
                while True:
                    frame = {"data": {"sensors": [{"t": 2150}], "power_w": 1800}}
                    await ws.send(json.dumps(frame))
                    await asyncio.sleep(0.05)

        tcp = await asyncio.start_server(desk, "127.0.0.1", 0)
        async with serve(feed, "127.0.0.1", 0) as ws_server:
            text = SHOW.format(
                ws_port=ws_server.sockets[0].getsockname()[1],
                osc_port=tcp.sockets[0].getsockname()[1],
            )
            async with running_show(parse_show(text, "feeds.toml")):
                await eventually(lambda: {"/temp", "/power"} <= received.keys(), timeout=10)
        tcp.close()
        assert received["/temp"] == 215.0  # 2150 x 0.1
        assert abs(received["/power"] - 2.3) < 1e-6  # 1800 x 0.001 + 0.5

    run(main(), timeout=30)
