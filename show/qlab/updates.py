"""QLab remotes that asked for ``/updates 1``, and the ``/update/...`` pushes they get.

QLab 5's update messages carry ids, not values; the remote asks for what it needs::

    /update/workspace/{ws}                       the workspace changed (the show reloaded)
    /update/workspace/{ws}/cue_id/{cue}          a cue changed (state, name, times, ...)
    /update/workspace/{ws}/cueList/{list}/playbackPosition [cue]
                                                 the standby cue (no argument: none)
    /update/workspace/{ws}/settings/general      minGoTime changed
    /update/workspace/{ws}/disconnect            the show is closing

A UDP subscriber that sends nothing for ``UDP_EXPIRY_S`` seconds is dropped (QLab's
rule, so a vanished remote is not sent updates forever); a TCP subscriber lasts as
long as its connection. A failed send drops the subscriber.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridges.osc.server import OscPeer

__all__ = ["UDP_EXPIRY_S", "Subscriber", "UpdatePusher"]

UDP_EXPIRY_S = 61.0
MAX_SUBSCRIBERS = 64


@dataclass(slots=True)
class Subscriber:
    """One remote's reply path and when it was last heard."""

    peer: OscPeer
    last_seen: float


class UpdatePusher:
    """Sends ``/update`` messages to every subscriber of one workspace."""

    def __init__(self, workspace_id: str, clock: Callable[[], float]) -> None:
        self.base = f"/update/workspace/{workspace_id}"
        self._clock = clock
        self._subs: dict[tuple[str, int, str], Subscriber] = {}
        self.sent = 0

    def __len__(self) -> int:
        return len(self._subs)

    @staticmethod
    def _key(peer: OscPeer) -> tuple[str, int, str]:
        return (peer.host, peer.port, peer.transport)

    def subscribe(self, peer: OscPeer, on: bool) -> None:
        """``/updates 1`` (or 0) from ``peer``."""
        key = self._key(peer)
        if not on:
            self._subs.pop(key, None)
            return
        if key not in self._subs and len(self._subs) >= MAX_SUBSCRIBERS:
            oldest = min(self._subs, key=lambda k: self._subs[k].last_seen)
            del self._subs[oldest]
        self._subs[key] = Subscriber(peer, self._clock())

    def heard(self, peer: OscPeer) -> None:
        """Any message from ``peer`` keeps its subscription alive."""
        sub = self._subs.get(self._key(peer))
        if sub is not None:
            sub.peer = peer
            sub.last_seen = self._clock()

    def cue(self, uid: str) -> None:
        """A cue changed."""
        self._push(f"{self.base}/cue_id/{uid}", [])

    def playhead(self, list_uid: str, cue_uid: str | None) -> None:
        """A list's standby cue moved (None: past the end)."""
        self._push(f"{self.base}/cueList/{list_uid}/playbackPosition", [cue_uid] if cue_uid else [])

    def workspace(self) -> None:
        """The workspace changed as a whole (a reload): remotes ask again."""
        self._push(self.base, [])

    def settings(self, section: str) -> None:
        """Workspace settings changed (``general``: minGoTime)."""
        self._push(f"{self.base}/settings/{section}", [])

    def disconnect(self) -> None:
        """The workspace is going away."""
        self._push(f"{self.base}/disconnect", [])

    def _push(self, address: str, args: list[Any]) -> None:
        if not self._subs:
            return
        now = self._clock()
        for key, sub in list(self._subs.items()):
            if sub.peer.transport == "udp" and now - sub.last_seen > UDP_EXPIRY_S:
                del self._subs[key]
            elif sub.peer.reply(address, args):
                self.sent += 1
            else:
                del self._subs[key]
