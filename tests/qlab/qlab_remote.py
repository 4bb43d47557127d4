"""A test client that talks to Stovelight's control port the way Companion's QLab module does.

The messages, their order and the key list are those of
bitfocus/companion-module-figure53-qlab-advance 2.14.1 (``qlabfb.js``: the TCP
``ready`` handler, ``prime_vars``, ``rePulse``; ``actions.js``). Replies are parsed
the way the module parses them, so a reply shape that would break the module fails
here: ``cues.js`` lower-cases ``type`` and ``colorName`` and slices ``notes``, and
the armed/flagged handlers read the cue number from the JSON ``address``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from bridges.osc.framing import SlipDecoder, slip_encode
from bridges.osc.wire import OscMessage, decode_packet, encode_message, iter_messages

#: qlabfb.js ``qCueRequest``: the 25 keys of the cue-state query, spaces included.
CUE_KEYS = (
    '["number","uniqueID","listName","type","mode","isPaused","duration","actionElapsed",'
    ' "preWait", "postWait","parent",'
    '"flagged","notes","autoLoad","colorName","isRunning","isAuditioning","isLoaded","armed",'
    '"isBroken","continueMode","percentActionElapsed","cartPosition","infiniteLoop",'
    '"holdLastFrame"]'
)
#: choices.js ``OVERRIDE`` ids, polled once at connect.
OVERRIDES = [
    "midiInputEnabled",
    "midiOutputEnabled",
    "mscInputEnabled",
    "mscOutputEnabled",
    "sysexInputEnabled",
    "sysexOutputEnabled",
    "oscOutputEnabled",
    "timecodeInputEnabled",
    "timecodeOutputEnabled",
    "artNetEnabled",
    "dmxOutputEnabled",
    "networkExternalInputEnabled",
    "networkExternalOutputEnabled",
    "networkLocalInputEnabled",
    "networkLocalOutputEnabled",
]
#: cues.js: a cue is kept only if its lower-cased type is one of these.
MODULE_TYPES = frozenset(
    [
        "audio",
        "mic",
        "video",
        "camera",
        "text",
        "light",
        "fade",
        "network",
        "midi",
        "timecode",
        "group",
        "start",
        "stop",
        "pause",
        "load",
        "reset",
        "devamp",
        "goto",
        "target",
        "cart",
        "arm",
        "disarm",
        "wait",
        "memo",
        "script",
        "midi file",
        "cue list",
    ]
)


def module_cue(j: dict[str, Any]) -> dict[str, Any]:
    """What cues.js ``JSONtoCue`` does with a cue dictionary (raises where it would)."""
    return {
        "uniqueID": j["uniqueID"],
        "qName": "[none]" if j["listName"] == "" else j["listName"],
        "qNumber": j["number"].replace("/", "_"),
        "qType": j["type"].lower(),
        "qColor": j["colorName"].lower().replace(" ", ""),
        "isRunning": j["isRunning"],
        "isPaused": j["isPaused"],
        "isLoaded": j["isLoaded"],
        "isArmed": j["armed"],
        "isFlagged": j["flagged"],
        "duration": j["duration"],
        "pctElapsed": j["percentActionElapsed"],
        "elapsed": j["actionElapsed"],
        "notes": j["notes"][:20] if j["notes"] else "",
        "continueMode": j["continueMode"],
    }


def armed_target(reply: dict[str, Any]) -> tuple[str, str]:
    """qlabfb.js ``readReply`` case 'armed'/'flagged': (``cue`` or ``cue_id``, ref)."""
    parts = reply["address"].split("/")
    return parts[3], parts[4]


@dataclass
class Received:
    """Replies and updates as the module sorts them (``node[1]``)."""

    replies: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    updates: list[OscMessage] = field(default_factory=list)
    other: list[OscMessage] = field(default_factory=list)

    def take(self, message: OscMessage) -> None:
        kind = message.address.split("/")[1]
        if kind == "reply":
            body = json.loads(str(message.args[0]), parse_constant=_no_constant)
            self.replies.put_nowait((message.address, body))
        elif kind == "update":
            self.updates.append(message)
        else:
            self.other.append(message)


def _no_constant(name: str) -> Any:
    raise AssertionError(f"reply carries {name}, which strict JSON parsers reject")


class _Tcp(asyncio.Protocol):
    def __init__(self, received: Received) -> None:
        self.received = received
        self.decoder = SlipDecoder(1 << 20)
        self.closed = asyncio.Event()

    def data_received(self, data: bytes) -> None:
        for packet in self.decoder.feed(data):
            for message in iter_messages(decode_packet(packet)):
                self.received.take(message)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, received: Received) -> None:
        self.received = received

    def datagram_received(self, data: bytes, addr: Any) -> None:
        for message in iter_messages(decode_packet(data)):
            self.received.take(message)


class CompanionRemote:
    """One connection as the module opens it: TCP with SLIP framing, or UDP."""

    def __init__(self, transport: asyncio.BaseTransport, received: Received, udp: bool) -> None:
        self._transport = transport
        self.received = received
        self.is_udp = udp

    @classmethod
    async def tcp(cls, port: int) -> CompanionRemote:
        received = Received()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(lambda: _Tcp(received), "127.0.0.1", port)
        return cls(transport, received, udp=False)

    @classmethod
    async def udp(cls, port: int, reply_port: int = 0) -> CompanionRemote:
        """A UDP socket bound to ``reply_port`` (the module binds 53001) sending to ``port``."""
        received = Received()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Udp(received),
            local_addr=("127.0.0.1", reply_port),
            remote_addr=("127.0.0.1", port),
        )
        return cls(transport, received, udp=True)

    @property
    def local_port(self) -> int:
        return int(self._transport.get_extra_info("sockname")[1])

    def send(self, address: str, *args: Any) -> None:
        packet = encode_message(address, args)
        if self.is_udp:
            self._transport.sendto(packet)  # type: ignore[attr-defined]
        else:
            self._transport.write(slip_encode(packet))  # type: ignore[attr-defined]

    async def reply(self, address: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next reply to ``address`` (replies to other addresses are skipped)."""
        async with asyncio.timeout(timeout):
            while True:
                osc_address, body = await self.received.replies.get()
                if osc_address == "/reply" + address:
                    return body

    async def ask(self, address: str, *args: Any) -> dict[str, Any]:
        """Send and wait for the reply."""
        self.send(address, *args)
        return await self.reply(address)

    def close(self) -> None:
        self._transport.close()

    # -- the module's sequences ----------------------------------------------------------

    async def connect_sequence(self, passcode: str = "", cue_list: str = "") -> dict[str, Any]:
        """qlabfb.js on TCP ``ready``, then ``prime_vars`` twice (before and after a
        workspace is known); returns the replies by address."""
        got: dict[str, Any] = {}
        self.send("/connect")
        got["/connect (bare)"] = await self.reply("/connect")
        self.send("/version")
        self.send("/workspaces")
        if passcode:
            self.send("/connect", passcode)
            self.send("/showMode")
        else:
            self.send("/connect")
        got["/version"] = await self.reply("/version")
        got["/workspaces"] = await self.reply("/workspaces")
        got["/connect"] = await self.reply("/connect")
        if passcode:
            got["/showMode (passcode)"] = await self.reply("/showMode")
        prefix = f"/cue_id/{cue_list}" if cue_list else ""
        sequence: list[tuple[str, tuple[Any, ...]]] = [
            (f"{prefix}/playheadID", ()),
            ("/updates", ()),
            ("/updates", (1,)),
            ("/cueLists", ()),
            ("/selectedCues", ()),
            ("/alwaysAudition", ()),
            ("/auditionMonitors", ()),
            ("/overrideWindow", ()),
            ("/showMode", ()),
            ("/liveFadePreview", ()),
            ("/settings/general/minGoTime", ()),
            *((f"/overrides/{o}", ()) for o in OVERRIDES),
        ]
        for address, args in sequence:
            self.send(address, *args)
        for address, args in sequence:
            got[address + (" 1" if args else "")] = await self.reply(address)
        return got

    async def poll(self) -> list[dict[str, Any]]:
        """rePulse every fourth beat, with a cue running: the window polls and the
        running-cue query. Returns the window replies."""
        out = [
            await self.ask(a) for a in ("/overrideWindow", "/alwaysAudition", "/auditionMonitors")
        ]
        self.send("/cue/active/valuesForKeys", CUE_KEYS)
        return out
