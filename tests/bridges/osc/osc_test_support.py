"""Helpers for the OSC tests: bounded asyncio runs, free ports, liblo processes."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import pytest

from tests.tools import REQUIRED

T = TypeVar("T")

#: Upper bound for any single test coroutine.
TEST_TIMEOUT_S = 15.0

needs_liblo = pytest.mark.skipif(
    not REQUIRED and (shutil.which("oscdump") is None or shutil.which("oscsend") is None),
    reason="liblo-tools (oscdump/oscsend) not installed",
)


def run(coro: Awaitable[T], timeout: float = TEST_TIMEOUT_S) -> T:
    """Run ``coro`` on a fresh event loop, bounded by ``timeout`` seconds."""

    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port number that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_tcp_port() -> int:
    """A port number free for UDP and TCP on 127.0.0.1 a moment ago (a QLab-compatible
    control port listens on both)."""
    while True:
        port = free_port()
        with socket.socket() as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``predicate()`` is true, yielding to the loop; fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


class UdpSink(asyncio.DatagramProtocol):
    """A UDP socket on 127.0.0.1 collecting datagrams into a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (asyncio's selector datagram transport is not a DatagramTransport subclass
        # on Python 3.11, so no isinstance check here.)
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait((data, addr))

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    async def get(self, timeout: float = 5.0) -> tuple[bytes, Any]:
        async with asyncio.timeout(timeout):
            return await self.queue.get()


@contextlib.asynccontextmanager
async def udp_sink(port: int = 0) -> AsyncIterator[UdpSink]:
    """Open a :class:`UdpSink` on 127.0.0.1 and close it afterwards."""
    loop = asyncio.get_running_loop()
    transport, sink = await loop.create_datagram_endpoint(UdpSink, local_addr=("127.0.0.1", port))
    try:
        yield sink
    finally:
        transport.close()


class OscDump:
    """A running liblo ``oscdump`` process whose output lines are parsed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self, timeout: float = 5.0) -> list[str]:
        """Next dumped message as tokens: [address, types, value, ...]."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            raw = await self.proc.stdout.readline()
        if not raw:
            raise EOFError("oscdump exited")
        tokens = shlex.split(raw.decode())
        return tokens[1:]  # drop oscdump's timestamp column


@contextlib.asynccontextmanager
async def oscdump(url: str, ready: Callable[[], Awaitable[None]]) -> AsyncIterator[OscDump]:
    """Run ``oscdump -L url``; ``ready()`` must make it print a ``/ready`` line.

    ``ready`` is called repeatedly until oscdump prints ``/ready`` (it cannot
    signal that it has bound its socket any other way). The process is always
    killed on exit.
    """
    proc = await asyncio.create_subprocess_exec(
        "oscdump",
        "-L",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    dump = OscDump(proc)
    try:
        async with asyncio.timeout(5.0):
            while True:
                await ready()
                try:
                    tokens = await dump.line(timeout=0.1)
                except TimeoutError:
                    continue
                if tokens and tokens[0] == "/ready":
                    break
        # Drain extra /ready lines from repeated probes.
        while True:
            try:
                tokens = await dump.line(timeout=0.2)
            except TimeoutError:
                break
            assert tokens[0] == "/ready", tokens
        yield dump
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def run_oscsend(*args: str) -> None:
    """Run liblo's ``oscsend`` with ``args`` and wait (bounded) for it to exit."""
    proc = await asyncio.create_subprocess_exec(
        "oscsend", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(5.0):
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err
