"""Benchmark MQTT ingest: many homes publishing once a second through Mosquitto into
one show's MQTT source.

A publisher process plays N homes, each sending a Tasmota-shaped ``tele/<home>/SENSOR``
message once a second (spread evenly over the second) whose payload also carries the
wall time it was sent; this process runs the show's ``MqttSource`` (the same parser,
backlog and sink path as ``stovelight run``) and measures, per sample, how old the
value is when it reaches the sink (same machine, same clock), and this process's CPU.

Usage::

    .venv/bin/python bench/mqtt_ingest.py                     # 1,000 / 5,000 / 10,000 homes
    .venv/bin/python bench/mqtt_ingest.py --homes 20000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bridges.mqtt import MqttRoute, MqttSource, MqttSourceConfig  # noqa: E402
from bridges.telemetry import Sample, SourceStatus  # noqa: E402
from rehearsal.broker import MosquittoBroker  # noqa: E402


class AgeSink:
    """Notes the age of every ``<home>.sent`` sample (its value is the send time)."""

    def __init__(self) -> None:
        self.ages: list[float] = []
        self.samples = 0
        self.window = (math.inf, math.inf)

    def on_samples(self, source_name: str, samples: list[Sample]) -> None:
        now = time.time()
        self.samples += len(samples)
        if self.window[0] <= now <= self.window[1]:
            for s in samples:
                if s.signal.endswith(".sent") and isinstance(s.value, float):
                    self.ages.append(now - s.value)

    def on_status(self, source_name: str, status: SourceStatus, detail: str) -> None:
        pass


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _remaining_length(len(body)) + body


def _utf8(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


async def publish(port: int, homes: int, seconds: float) -> None:
    """The homes: one message each a second, spread over the second. A bare MQTT 3.1.1
    writer (CONNECT, then QoS 0 PUBLISH packets; MQTT 3.1.1 sections 3.1 and 3.3) so
    that the load generator is not the bottleneck being measured."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    connect = _utf8("MQTT") + bytes([4, 0x02]) + (30).to_bytes(2, "big") + _utf8("bench-pub")
    writer.write(_packet(0x10, connect))
    await reader.readexactly(4)  # CONNACK
    loop = asyncio.get_running_loop()
    start = loop.time()
    k = 0
    total = int(homes * seconds)
    while k < total:
        now = loop.time()
        batch = bytearray()
        while k < total and start + k / homes <= now:
            payload = json.dumps({"ENERGY": {"Power": 100 + k % 900}, "sent": time.time()})
            batch += _packet(0x30, _utf8(f"tele/home-{k % homes:05d}/SENSOR") + payload.encode())
            k += 1
        if batch:
            writer.write(bytes(batch))
            await writer.drain()
        await asyncio.sleep(0.001)
    writer.write(bytes([0xE0, 0]))  # DISCONNECT
    await writer.drain()
    writer.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(broker: MosquittoBroker, homes: int, seconds: float) -> dict[str, float]:
    routes = (
        MqttRoute("tele/{home}/SENSOR", "{home}.power_w", "/ENERGY/Power"),
        MqttRoute("tele/{home}/SENSOR", "{home}.sent", "/sent"),
    )
    sink = AgeSink()
    source = MqttSource(MqttSourceConfig("homes", broker.url, routes, protocol="3.1.1"), sink)
    task = asyncio.create_task(source.run())
    while source.status is not SourceStatus.CONNECTED:
        await asyncio.sleep(0.05)
    warmup = 1.0
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--publish", f"{broker.port}:{homes}:{seconds + warmup}"
    )
    start = time.time() + warmup
    sink.window = (start, start + seconds)
    await asyncio.sleep(warmup)
    cpu0 = time.process_time()
    await asyncio.sleep(seconds)
    cpu = (time.process_time() - cpu0) / seconds * 100
    await child.wait()
    await asyncio.sleep(0.5)
    stats = source.stats()
    await source.aclose()
    await task
    return {
        "homes": homes,
        "msgs": len(sink.ages) / seconds,
        "p50": percentile(sink.ages, 0.5) * 1000,
        "p99": percentile(sink.ages, 0.99) * 1000,
        "max": max(sink.ages, default=math.nan) * 1000,
        "cpu": cpu,
        "conflated": float(str(stats["conflated"])),
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def bench(args: argparse.Namespace) -> None:
    print("homes x 1 Hz (Tasmota SENSOR JSON) -> Mosquitto -> MqttSource (this process)")
    print(
        f"{'homes':>6} {'msg/s':>7} {'age p50 ms':>10} {'p99 ms':>8} {'max ms':>8} "
        f"{'CPU':>5} {'conflated':>9} {'RSS MiB':>8}"
    )
    with MosquittoBroker() as broker:
        for homes in [int(h) for h in args.homes.split(",")]:
            r = await measure(broker, homes, args.seconds)
            print(
                f"{r['homes']:>6} {r['msgs']:>7.0f} {r['p50']:>10.1f} {r['p99']:>8.1f} "
                f"{r['max']:>8.1f} {r['cpu']:>4.0f}% {r['conflated']:>9.0f} {r['rss']:>8.0f}",
                flush=True,
            )


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--homes", default="1000,5000,10000", help="comma-separated counts")
    parser.add_argument("--seconds", type=float, default=5.0, help="measurement window")
    parser.add_argument("--publish", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        port, homes, seconds = args.publish.split(":")
        asyncio.run(publish(int(port), int(homes), float(seconds)))
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
