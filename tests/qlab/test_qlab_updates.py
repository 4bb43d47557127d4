"""Update subscribers: who gets /update pushes, and for how long."""

from __future__ import annotations

from typing import Any

from bridges.osc.server import OscPeer
from show.qlab.updates import MAX_SUBSCRIBERS, UDP_EXPIRY_S, UpdatePusher


class FakePeer(OscPeer):
    """A peer that records what it is sent (or fails every send)."""

    def __init__(
        self,
        port: int,
        sent: list[tuple[int, str, list[Any]]],
        transport: str = "udp",
        works: bool = True,
    ) -> None:
        super().__init__("127.0.0.1", port, transport, lambda packet: None)  # type: ignore[arg-type]
        self.sent = sent
        self.works = works

    def reply(self, address: str, args: Any = ()) -> bool:
        if self.works:
            self.sent.append((self.port, address, list(args)))
        return self.works


def peer(port: int, sent: list[tuple[int, str, list[Any]]], transport: str = "udp") -> OscPeer:
    return FakePeer(port, sent, transport)


def test_pushes_reach_subscribers_in_qlabs_shapes_until_they_unsubscribe() -> None:
    now = [0.0]
    sent: list[tuple[int, str, list[Any]]] = []
    updates = UpdatePusher("WS", lambda: now[0])
    a, b = peer(1, sent), peer(2, sent)
    updates.subscribe(a, True)
    updates.subscribe(b, True)
    updates.cue("C1")
    updates.playhead("L1", "C2")
    updates.playhead("L1", None)
    updates.settings("general")
    assert [(p, addr, args) for p, addr, args in sent if p == 1] == [
        (1, "/update/workspace/WS/cue_id/C1", []),
        (1, "/update/workspace/WS/cueList/L1/playbackPosition", ["C2"]),
        (1, "/update/workspace/WS/cueList/L1/playbackPosition", []),
        (1, "/update/workspace/WS/settings/general", []),
    ]
    updates.subscribe(b, False)
    sent.clear()
    updates.disconnect()
    assert sent == [(1, "/update/workspace/WS/disconnect", [])]


def test_a_silent_udp_subscriber_expires_a_tcp_one_does_not() -> None:
    now = [0.0]
    sent: list[tuple[int, str, list[Any]]] = []
    updates = UpdatePusher("WS", lambda: now[0])
    udp, tcp, chatty = peer(1, sent), peer(2, sent, "tcp"), peer(3, sent)
    for p in (udp, tcp, chatty):
        updates.subscribe(p, True)
    now[0] = UDP_EXPIRY_S - 1
    updates.heard(chatty)
    now[0] = UDP_EXPIRY_S + 1
    updates.cue("C1")
    assert sorted(p for p, _, _ in sent) == [2, 3]
    assert len(updates) == 2


def test_subscribers_are_capped_and_a_failed_send_drops_one() -> None:
    now = [0.0]
    sent: list[tuple[int, str, list[Any]]] = []
    updates = UpdatePusher("WS", lambda: now[0])
    for port in range(MAX_SUBSCRIBERS + 10):
        now[0] = port / 100
        updates.subscribe(peer(port, sent), True)
    assert len(updates) == MAX_SUBSCRIBERS
    broken = FakePeer(9999, sent, works=False)
    updates.subscribe(broken, True)
    updates.cue("C1")
    assert len(updates) == MAX_SUBSCRIBERS - 1  # the oldest made room, the broken one left
    assert sorted({p for p, _, _ in sent}) == list(range(11, MAX_SUBSCRIBERS + 10))
