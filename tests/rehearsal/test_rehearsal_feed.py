"""The shared websocket feed: a ten-line subclass, its named task, splitting and slow clients."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from websockets.asyncio.client import connect

from rehearsal.feed import FeedClient, FeedServer, split_messages
from rehearsal.telemetry import Frame


def frames(n: int) -> list[Frame]:
    return [Frame(source=f"s{i}", ts=float(i), values={"x": float(i)}) for i in range(n)]


class CountingFeed(FeedServer):
    """Sends one batch of five frames once a client is there, then ends."""

    def __init__(self) -> None:
        super().__init__(
            host="127.0.0.1", port=0, max_frames_per_message=2, client_queue=8,
            label="test", task_name="test-feed", watch_prefix="test-client-watch",
        )  # fmt: skip
        self.sent = 0

    async def _run(self) -> None:
        await self._first_client.wait()
        self.sent = self._broadcast(frames(5), asyncio.get_running_loop().time())


def test_split_messages_bounds_each_array() -> None:
    assert [len(json.loads(m)) for m in split_messages(frames(5), 2)] == [2, 2, 1]
    assert [len(json.loads(m)) for m in split_messages(frames(2), 0)] == [1, 1]
    assert split_messages([], 3) == []


def test_feed_serves_its_named_task_to_a_real_client() -> None:
    async def scenario() -> tuple[list[int], int, int, set[str]]:
        feed = CountingFeed()
        with pytest.raises(RuntimeError):
            _ = feed.port
        assert feed._broadcast(frames(3), 0.0) == 0  # nobody listening: nothing encoded
        async with feed, asyncio.timeout(10):
            names = {t.get_name() for t in asyncio.all_tasks()}
            async with connect(f"ws://127.0.0.1:{feed.port}/") as ws:
                sizes = [len(json.loads(await ws.recv())) for _ in range(3)]
                count = feed.client_count
                await feed.wait()
        return sizes, feed.sent, count, names

    sizes, sent, count, names = asyncio.run(scenario())
    assert (sizes, sent, count) == ([2, 2, 1], 3, 1)
    assert "test-feed" in names


def test_slow_client_skips_the_oldest_and_warns_at_a_limited_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class FakeConnection:
        remote_address = ("127.0.0.1", 1)

    async def scenario() -> FeedClient:
        log = logging.getLogger("test.feed")
        client = FeedClient(FakeConnection(), 2, label="test", log=log)  # type: ignore[arg-type]
        for i in range(8):
            client.offer([f"m{i}"], now=float(i))
        return client

    with caplog.at_level(logging.WARNING, logger="test.feed"):
        client = asyncio.run(scenario())
    assert (list(client.queue), client.skipped) == (["m6", "m7"], 6)
    assert [r.getMessage() for r in caplog.records] == [
        "test client ('127.0.0.1', 1) is too slow: skipping messages (1 skipped so far)",
        "test client ('127.0.0.1', 1) is too slow: skipping messages (6 skipped so far)"
        " (4 similar messages suppressed in the last 5 s)",
    ]
