"""A show fed by MQTT through a real Mosquitto: values reach OSC, a broker restart
mid-show is survived, and the show file's mqtt table is checked like the others."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest

from bridges.osc.wire import decode_packet, iter_messages
from rehearsal.broker import MosquittoBroker
from show.errors import ShowFileError
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import run
from tests.show.live_support import eventually, running_show
from tests.tools import missing

pytestmark = pytest.mark.timeout(60)

SHOW = """
[sources.homes]
kind = "mqtt"
url = "{url}"
protocol = "3.1.1"
[[sources.homes.topics]]
topic = "tele/{{home}}/SENSOR"
signal = "{{home}}.power_kw"
pointer = "/ENERGY/Power"
scale = 0.001
[signals."*.power_kw"]
source = "homes"
stale_after = 5
[outputs.osc.desk]
host = "127.0.0.1"
port = {osc_port}
[mappings.power]
signal = "flat-1.power_kw"
to = {{ osc = "desk", address = "/power" }}
[control]
enabled = false
[[cue_lists]]
name = "Main"
"""


class Desk(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.values: list[float] = []

    def datagram_received(self, data: bytes, addr: object) -> None:
        for message in iter_messages(decode_packet(data)):
            if message.address == "/power":
                self.values.append(float(message.args[0]))


async def publish(broker: MosquittoBroker, watts: float, retain: bool = False) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        payload = json.dumps({"ENERGY": {"Power": watts}})
        await client.publish("tele/flat-1/SENSOR", payload, qos=1, retain=retain)


def test_mqtt_values_reach_osc_and_survive_a_broker_restart(broker: MosquittoBroker) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        desk = Desk()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: desk, local_addr=("127.0.0.1", 0)
        )
        osc_port = transport.get_extra_info("sockname")[1]
        await publish(broker, 1500, retain=True)  # the state a new subscriber starts from
        show = parse_show(SHOW.format(url=broker.url, osc_port=osc_port), "mqtt.toml")
        async with running_show(show) as (runner, _control):
            await eventually(lambda: 1.5 in desk.values, timeout=10)
            await publish(broker, 2200)
            await eventually(lambda: abs(desk.values[-1] - 2.2) < 1e-6, timeout=10)

            await asyncio.to_thread(broker.stop)
            await eventually(lambda: runner.sources["homes"].up is False, timeout=10)
            await asyncio.to_thread(broker.start)
            await eventually(lambda: runner.sources["homes"].up is True, timeout=10)
            await publish(broker, 900)
            await eventually(lambda: abs(desk.values[-1] - 0.9) < 1e-6, timeout=10)
        transport.close()

    run(main(), timeout=50)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('url = "ws://x"', "mqtt://host:1883"),
        ('url = "mqtt://h"\nprotocol = "4"', "expected one of: 5, 3.1.1"),
        ('url = "mqtt://h"\ntopics = [{ topic = "a/#/b", signal = "s" }]', "must be the last"),
        (
            'url = "mqtt://h"\ntopics = [{ topic = "tele/{home}", signal = "{room}.w" }]',
            r"{room} is not a level",
        ),
        ('url = "mqtt://h"', "needs topics"),
        (
            'url = "mqtt://h"\npassword_file = "nope.txt"\n'
            'topics = [{ topic = "t", signal = "s" }]',
            "cannot read",
        ),
        ('url = "mqtt://h"\nbroker = 1\ntopics = [{ topic = "t", signal = "s" }]', "broker"),
    ],
)
def test_mqtt_source_mistakes_are_reported_with_the_line(table: str, message: str) -> None:
    text = f'[sources.m]\nkind = "mqtt"\n{table}\n[[cue_lists]]\nname = "Main"\n'
    with pytest.raises(ShowFileError) as err:
        parse_show(text, "bad.toml")
    assert message in str(err.value)
    assert "bad.toml:" in str(err.value)


def test_demo_over_mqtt_runs_the_show_through_a_private_broker(tmp_path: Path) -> None:
    if not Path("/usr/sbin/mosquitto").exists():
        missing("mosquitto is not installed")
    exe = Path(sys.executable).with_name("stovelight")
    args = [str(exe), "demo", "--mqtt", "--no-visuals", "--duration", "5"]
    args += ["--web-port", "0", "--control-port", "0", "--sim-port", "0"]
    args += ["--osc-out", "127.0.0.1:9", "--log-dir", str(tmp_path)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "telemetry source neighbourhood subscribed at mqtt://127.0.0.1:" in done.stderr
    assert re.search(r"(source neighbourhood.* live|home-01\.temp_c is live)", done.stderr)
    assert "closed MQTT publisher" in done.stderr
