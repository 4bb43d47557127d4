"""The machine's floor for ``bench/go_latency.py``: the same measurement through bare relays.

A relay in a child process forwards each message it receives to a UDP receiver in this
process, doing nothing else; the time from just before the client's send (one system
call with the message already made, a websocket frame too) to the
kernel's receive timestamp of the forwarded datagram (``SO_TIMESTAMPNS``) is what any
program on this machine pays to be woken by a message and answer it, with the same
client, the same pacing (one message every 20 ms) and the same clock as the GO
cases:

* ``blocking UDP``: a thread blocked in ``recv`` (no event loop);
* ``asyncio UDP``: an asyncio datagram protocol (the show's loop, nothing on it);
* ``websockets -> UDP``: a websockets server whose handler forwards each message.

Usage::

    .venv/bin/python bench/relay_floor.py            # prints the table
    .venv/bin/python bench/relay_floor.py --gos 500
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["RELAYS", "measure_floor", "ws_text_frame"]

RELAYS = ("blocking UDP", "asyncio UDP", "websockets -> UDP")
_KINDS = {"blocking UDP": "blocking", "asyncio UDP": "asyncio", "websockets -> UDP": "ws"}
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
INTERVAL = 0.02


def ws_text_frame(data: bytes) -> bytes:
    """``data`` as one masked websocket text frame, as a browser sends it: written to the
    connection's socket in one system call, so the time taken just before is the time
    the message leaves (websockets' sync client spends about 0.1 ms of its own building
    and writing a frame, which is the client's time, not the relay's)."""
    from websockets.frames import Frame, Opcode

    return Frame(Opcode.TEXT, data).serialize(mask=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _relay(kind: str, in_port: int, out_port: int) -> None:
    """Run one relay until killed (child process)."""
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out.connect(("127.0.0.1", out_port))
    if kind == "blocking":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", in_port))
        print("ready", flush=True)
        while True:
            out.send(sock.recv(65536))
    out.setblocking(False)

    class Forward(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            out.send(data)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "asyncio":
            await loop.create_datagram_endpoint(Forward, local_addr=("127.0.0.1", in_port))
        else:
            from websockets.asyncio.server import ServerConnection, serve

            async def handler(ws: ServerConnection) -> None:
                async for message in ws:
                    out.send(message.encode() if isinstance(message, str) else message)

            await serve(handler, "127.0.0.1", in_port, compression=None)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def _one(relay: str, gos: int) -> list[float]:
    """Latencies (ms) of ``gos`` messages through ``relay``."""
    in_port, receiver = _free_port(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2.0)
    out_port = receiver.getsockname()[1]
    stack = contextlib.ExitStack()
    cmd = [sys.executable, __file__, "--relay", _KINDS[relay], str(in_port), str(out_port)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        child.stdout.readline()
        # each message is made before the clock is read, and sent with one system call
        sock: socket.socket
        if relay.startswith("websockets"):
            from websockets.sync.client import connect

            url = f"ws://127.0.0.1:{in_port}/"
            ws = stack.enter_context(connect(url, compression=None, ping_interval=None))
            sock = ws.socket

            def message(i: int) -> bytes:
                return ws_text_frame(b"go %d" % i)
        else:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            sock.connect(("127.0.0.1", in_port))

            def message(i: int) -> bytes:
                return b"go %d" % i

        out: list[float] = []
        t_next = time.monotonic()
        for i in range(gos + 10):
            t_next += INTERVAL
            time.sleep(max(0.0, t_next - time.monotonic()))
            data = message(i)
            t0 = time.time_ns()
            sock.sendall(data)
            try:
                _data, anc, _flags, _addr = receiver.recvmsg(256, 1024)
            except TimeoutError:
                continue
            sec, nsec = struct.unpack("qq", anc[0][2][:16])
            if i >= 10:  # the first few warm the relay up
                out.append((sec * 1_000_000_000 + nsec - t0) / 1e6)
        return out
    finally:
        stack.close()
        child.kill()
        child.wait()
        receiver.close()


def measure_floor(gos: int = 200) -> list[list[str]]:
    """One row per relay: name, messages, p50, p99, max (ms)."""
    rows = []
    for relay in RELAYS:
        values = sorted(_one(relay, gos))
        if not values:
            rows.append([relay, "0", "-", "-", "-"])
            continue

        def q(p: float, v: list[float] = values) -> str:
            return f"{v[min(len(v) - 1, round(p * (len(v) - 1)))]:.3f}"

        rows.append([relay, str(len(values)), q(0.5), q(0.99), f"{values[-1]:.3f}"])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gos", type=int, default=200)
    parser.add_argument("--relay", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        kind, in_port, out_port = args.relay
        _relay(kind, int(in_port), int(out_port))
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for row in measure_floor(args.gos):
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
