"""A crashed renderer is restarted while the running show keeps sending OSC."""

from __future__ import annotations

import asyncio
import os
import signal

from bridges.osc.wire import decode_packet, iter_messages
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import run, udp_sink
from tests.show.live_support import TelemetryServer, eventually, running_show

SHOW = """
[sources.kitchen]
kind = "stovelight"
url = "ws://127.0.0.1:{ws_port}/"
[signals."kitchen.temp_c"]
source = "kitchen"
[signals."kitchen.state"]
source = "kitchen"
[outputs.osc.desk]
port = {osc_port}
[outputs.visuals.projector]
scene = "heat"
size = [64, 36]
headless = true
inputs = {{ heat = "kitchen.temp_c" }}
[mappings.temp]
signal = "kitchen.temp_c"
to = {{ osc = "desk", address = "/temp" }}
max_rate_hz = 50
[control]
enabled = false
[[cue_lists]]
name = "Main"
"""


def test_killing_the_renderer_leaves_osc_running_and_it_comes_back() -> None:
    async def main() -> None:
        from show.runtime.assemble import build_parts

        server = TelemetryServer()
        await server.start()
        async with udp_sink() as osc:
            show = parse_show(SHOW.format(ws_port=server.port, osc_port=osc.port), "r.toml")
            parts = build_parts(show, clock=asyncio.get_running_loop().time, headless=True)
            renderer = parts.renderers["projector"]
            async with running_show(show, parts=parts) as (runner, _):
                await eventually(
                    lambda: renderer.stats().running and renderer.stats().frames > 0, timeout=30
                )
                pid = renderer.stats().pid
                assert pid is not None and pid != os.getpid()
                while not osc.queue.empty():  # count only what arrives after the kill
                    osc.queue.get_nowait()
                os.kill(pid, signal.SIGKILL)
                arrivals = 0
                while arrivals < 20:  # OSC keeps flowing while the renderer is down
                    data, _ = await osc.get(timeout=5.0)
                    if any(m.address == "/temp" for m in iter_messages(decode_packet(data))):
                        arrivals += 1
                await eventually(
                    lambda: renderer.stats().restarts == 1 and renderer.stats().scene == "heat",
                    timeout=10,
                )
                st = renderer.stats()
                assert st.running and st.pid != pid
                assert runner.engine.stats.errors == 0
        await server.stop()

    run(main(), timeout=60)
