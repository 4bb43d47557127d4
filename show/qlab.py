"""QLab-compatible OSC control: the part of QLab 5's OSC dictionary that remotes use.

Bitfocus Companion's QLab module, QLab remotes and liblo's ``oscsend`` can drive
Stovelight as if it were a QLab workspace. Every message gets a ``/reply/...``
answer whose one string argument is JSON in QLab's shape::

    {"workspace_id": "...", "address": "/cue/3/name", "status": "ok", "data": "..."}

Clients that send ``/updates 1`` also get ``/update/...`` pushes when cues change
state or the playhead moves. ``docs/control-api.md`` lists the subset.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from bridges.osc.server import OscPeer, OscServer, OscServerConfig
from bridges.osc.wire import OscMessage
from cues.commands import Command, CueState, CueStateChanged, PlayheadChanged
from cues.events import ArmCue, EditCue
from cues.model import ContinueMode, CueDef, CueId, CueKind
from show.config import ControlConfig
from show.runner import ShowRunner

__all__ = ["VERSION", "QLabControl"]

log = logging.getLogger(__name__)

VERSION = "5.0.0"
"""What ``/version`` answers: remotes choose their QLab 5 code path by the major number."""

_TYPES = {
    CueKind.MEMO: "Memo",
    CueKind.WAIT: "Wait",
    CueKind.OSC: "Network",
    CueKind.MIDI: "MIDI",
    CueKind.VISUAL: "Video",
    CueKind.NOTICE: "Text",
    CueKind.FADE: "Fade",
    CueKind.GROUP: "Group",
    CueKind.START: "Start",
    CueKind.STOP: "Stop",
    CueKind.ARM: "Arm",
    CueKind.DISARM: "Disarm",
}
_CONTINUE = {
    ContinueMode.DO_NOT_CONTINUE: 0,
    ContinueMode.AUTO_CONTINUE: 1,
    ContinueMode.AUTO_FOLLOW: 2,
}
_WORKSPACE_COMMANDS = {
    "/go": "go",
    "/stop": "stop",
    "/pause": "pause",
    "/resume": "resume",
    "/panic": "panic",
    "/hardStop": "stop",
    "/reset": "reset",
    "/playhead/next": "playhead_next",
    "/playhead/previous": "playhead_previous",
    "/select/next": "playhead_next",
    "/select/previous": "playhead_previous",
}
_CUE_ACTIONS = {
    "start": "start_cue",
    "go": "start_cue",
    "stop": "stop_cue",
    "hardStop": "stop_cue",
    "pause": "pause_cue",
    "resume": "resume_cue",
    "load": "set_playhead",
}
_OPEN = {"/connect", "/version", "/workspaces", "/thump", "/alwaysReply", "/disconnect"}


@dataclass(slots=True)
class _Client:
    peer: OscPeer
    connected: bool = False
    updates: bool = False


def _uid(cid: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"stovelight-cue:{cid}")).upper()


class QLabControl:
    """Answers QLab's OSC dictionary for one running show."""

    def __init__(self, runner: ShowRunner, config: ControlConfig) -> None:
        self.runner = runner
        self.config = config
        title = runner.show.model.title
        self.workspace_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"stovelight:{title}")).upper()
        self._uids: dict[str, CueId] = {_uid(c): c for c in runner.show.model.cues}
        self._list_uids = {cl.name: _uid(f"list:{cl.name}") for cl in runner.show.model.cue_lists}
        self._clients: dict[tuple[str, int, str], _Client] = {}
        self.unknown = 0
        self.denied = 0
        self.server = OscServer(
            self._handle,
            OscServerConfig(
                host=config.host,
                port=config.port,
                reply_port=config.reply_port,
                allowed_clients=frozenset(config.allow) if config.allow else None,
            ),
        )
        runner.listeners.append(self._on_command)

    async def start(self) -> None:
        """Listen on UDP and TCP."""
        await self.server.start()
        ports = self.server.ports
        log.info(
            "QLab-compatible OSC control on %s udp %s / tcp %s (replies to port %s)",
            self.config.host,
            ports.udp,
            ports.tcp,
            self.config.reply_port or "sender's port",
        )

    async def aclose(self) -> None:
        """Stop listening."""
        await self.server.aclose()

    def stats(self) -> dict[str, Any]:
        """Counters for the console."""
        return {
            "name": "qlab-control",
            "kind": "osc-in",
            "state": "listening" if self.server.running else "closed",
            "clients": len(self._clients),
            "unknown": self.unknown,
            "denied": self.denied,
            **{k: v for k, v in self.server.stats().items() if isinstance(v, int)},
        }

    # -- replies ---------------------------------------------------------------

    def _reply(self, peer: OscPeer, address: str, data: Any = None, status: str = "ok") -> None:
        body: dict[str, Any] = {"address": address, "status": status}
        if address not in ("/version", "/workspaces"):
            body = {"workspace_id": self.workspace_id, **body}
        if data is not None:
            body["data"] = data
        peer.reply(f"/reply{address}", [json.dumps(body, separators=(",", ":"))])

    # -- cues as QLab describes them -----------------------------------------------

    def _cue_dict(self, cid: CueId, deep: bool = True) -> dict[str, Any]:
        cue = self.runner.engine.cues[cid]
        run = self.runner.engine.runs[cid]
        out: dict[str, Any] = {
            "uniqueID": _uid(cid),
            "number": cue.number,
            "name": cue.name,
            "listName": cue.name or cue.number,
            "type": _TYPES[cue.kind],
            "colorName": "none",
            "flagged": False,
            "armed": run.armed,
        }
        if deep and cue.kind is CueKind.GROUP:
            out["cues"] = [self._cue_dict(c) for c in cue.children]
        return out

    def _cue_lists(self) -> list[dict[str, Any]]:
        return [
            {
                "uniqueID": self._list_uids[cl.name],
                "number": "",
                "name": cl.name,
                "listName": cl.name,
                "type": "Cue List",
                "colorName": "none",
                "flagged": False,
                "armed": True,
                "cues": [self._cue_dict(c) for c in cl.cues],
            }
            for cl in self.runner.show.model.cue_lists
        ]

    def _values(self, cid: CueId) -> dict[str, Any]:
        """Every readable property of a cue, in QLab's names."""
        engine = self.runner.engine
        cue: CueDef = engine.cues[cid]
        run = engine.runs[cid]
        now = self.runner.now()
        pre, act, post = run.phases(now)

        def pct(phase: Any) -> float:
            return min(1.0, phase.elapsed / phase.total) if phase.total else 0.0

        values: dict[str, Any] = {
            "uniqueID": _uid(cid),
            "number": cue.number,
            "name": cue.name,
            "displayName": cue.name or cue.number,
            "listName": cue.name or cue.number,
            "type": _TYPES[cue.kind],
            "preWait": cue.prewait,
            "postWait": cue.postwait,
            "duration": cue.duration,
            "currentDuration": cue.duration,
            "continueMode": _CONTINUE[cue.continue_mode],
            "armed": run.armed,
            "flagged": False,
            "colorName": "none",
            "isBroken": False,
            "isLoaded": engine.playhead(cid.split("/", 1)[0]) == cid,
            "isRunning": run.state in (CueState.PREWAIT, CueState.RUNNING, CueState.WAITING),
            "isPaused": run.state is CueState.PAUSED,
            "isActionRunning": run.state is CueState.RUNNING,
            "percentPreWaitElapsed": pct(pre),
            "percentActionElapsed": pct(act),
            "percentPostWaitElapsed": pct(post),
            "preWaitElapsed": pre.elapsed,
            "actionElapsed": act.elapsed,
            "postWaitElapsed": post.elapsed,
            "infiniteLoop": False,
            "notes": "",
        }
        return values

    # -- dispatch ----------------------------------------------------------------------

    def _handle(self, message: OscMessage, peer: OscPeer) -> None:
        key = (peer.host, peer.port, peer.transport)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) > 256:
                self._clients.pop(next(iter(self._clients)))
            client = self._clients[key] = _Client(peer, connected=not self.config.passcode)
        client.peer = peer
        address = message.address
        args = list(message.args)
        if address.startswith("/workspace/"):
            parts = address.split("/", 3)
            known = (self.workspace_id, self.runner.show.model.title.upper(), "")
            if len(parts) >= 3 and parts[2].upper() not in known:
                self._reply(peer, address, status="error", data="unknown workspace")
                return
            address = "/" + parts[3] if len(parts) > 3 else "/"
        if not client.connected and address not in _OPEN:
            self.denied += 1
            self._reply(peer, message.address, status="denied")
            return
        try:
            self._dispatch(client, message.address, address, args)
        except (KeyError, ValueError, TypeError) as exc:
            self._reply(peer, message.address, status="error", data=str(exc))

    def _dispatch(self, client: _Client, original: str, address: str, args: list[Any]) -> None:
        peer = client.peer
        r = self.runner
        origin = f"OSC {peer.transport} {peer.host}"
        if address == "/connect":
            ok = not self.config.passcode or (
                bool(args) and hmac.compare_digest(str(args[0]), self.config.passcode)
            )
            client.connected = bool(ok)
            if not ok:
                self.denied += 1
                log.warning("QLab control: wrong passcode from %s", peer.host)
            self._reply(peer, original, "ok:view|edit|control" if ok else "badpass")
            return
        if address == "/disconnect":
            client.connected = not self.config.passcode
            client.updates = False
            self._reply(peer, original)
            return
        if address == "/version":
            self._reply(peer, original, VERSION)
            return
        if address == "/workspaces":
            self._reply(
                peer,
                original,
                [
                    {
                        "uniqueID": self.workspace_id,
                        "displayName": r.show.model.title,
                        "hasPasscode": bool(self.config.passcode),
                        "version": VERSION,
                    }
                ],
            )
            return
        if address in ("/thump", "/alwaysReply"):
            self._reply(peer, original, "thump" if address == "/thump" else None)
            return
        if address == "/updates":
            client.updates = bool(args and int(args[0]))
            self._reply(peer, original)
            return
        if address in _WORKSPACE_COMMANDS:
            result = r.control(_WORKSPACE_COMMANDS[address], origin=origin)
            self._result(peer, original, result)
            return
        if address == "/panicInTime":
            seconds = float(args[0]) if args else None
            self._result(peer, original, r.control("panic", value=seconds, origin=origin))
            return
        if address in ("/stovelight/testPattern", "/stovelight/identify"):
            command = "test_pattern" if address.endswith("testPattern") else "identify"
            value = float(args[0]) if args else None
            self._result(peer, original, r.control(command, value=value, origin=origin))
            return
        if address == "/settings/general/minGoTime":
            if args:
                r.control("set_min_go", value=float(args[0]), origin=origin)
            self._reply(peer, original, r.engine.min_go_interval)
            return
        if address == "/cueLists":
            self._reply(peer, original, self._cue_lists())
            return
        if address == "/runningOrPausedCues" or address == "/runningCues":
            running = [self._cue_dict(c, deep=False) for c in r.engine.running_cues()]
            self._reply(peer, original, running)
            return
        if address == "/selectedCues":
            head = r.engine.playhead()
            self._reply(peer, original, [self._cue_dict(head)] if head else [])
            return
        if address in ("/showMode", "/audition/monitoring"):
            self._reply(peer, original, address == "/showMode")
            return
        parts = address.strip("/").split("/")
        if parts[0] in ("select", "go", "playhead") and len(parts) == 2:
            cid = self._resolve("cue", parts[1])
            result = r.control("set_playhead", cid, origin=origin)
            if parts[0] == "go" and result.get("ok"):
                result = r.control("go", cue_list=cid.split("/", 1)[0], origin=origin)
            self._result(peer, original, result)
            return
        if parts[0] in ("cue", "cue_id") and len(parts) >= 3:
            cid = self._resolve(parts[0], parts[1])
            self._cue_message(peer, original, cid, "/".join(parts[2:]), args, origin)
            return
        self.unknown += 1
        log.info("QLab control: unknown address %s from %s", original, peer.host)
        self._reply(peer, original, status="error", data="unknown address")

    def _resolve(self, kind: str, ref: str) -> CueId:
        engine = self.runner.engine
        if kind == "cue_id":
            cid = self._uids.get(ref.upper())
        elif ref in ("selected", "playhead"):
            cid = engine.playhead()
        else:
            cid = self.runner.cue_id(ref)
        if cid is None:
            raise KeyError(f"no cue {ref!r}")
        return cid

    def _cue_message(
        self, peer: OscPeer, original: str, cid: CueId, action: str, args: list[Any], origin: str
    ) -> None:
        r = self.runner
        if action in _CUE_ACTIONS:
            self._result(peer, original, r.control(_CUE_ACTIONS[action], cid, origin=origin))
            return
        if action == "valuesForKeys":
            keys = json.loads(str(args[0])) if args else []
            values = self._values(cid)
            data = {k: values[k] for k in keys if isinstance(k, str)}
            self._reply(peer, original, data)
            return
        if action == "children":
            cue = r.engine.cues[cid]
            self._reply(peer, original, [self._cue_dict(c) for c in cue.children])
            return
        if not args:
            self._reply(peer, original, self._values(cid)[action])
            return
        value = args[0]
        changes: dict[str, Any] = {}
        if action in ("preWait", "postWait", "duration"):
            v = float(value)
            if not v >= 0:
                raise ValueError(f"{action} must be a number >= 0")
            changes[
                {"preWait": "prewait", "postWait": "postwait", "duration": "duration"}[action]
            ] = v
        elif action == "name":
            changes["name"] = str(value)
        elif action == "continueMode":
            modes = {v: k for k, v in _CONTINUE.items()}
            changes["continue_mode"] = modes[int(value)]
        elif action == "armed":
            r.edit(ArmCue(cid, bool(int(value))), origin)
        elif action == "number":
            raise ValueError("cue numbers are fixed by the show file")
        else:
            raise KeyError(f"{action} cannot be set")
        if changes:
            r.edit(EditCue(cid, **changes), origin)
        log.info("cue %s: %s set to %r by %s", cid, action, value, origin)
        self._reply(peer, original)

    def _result(self, peer: OscPeer, original: str, result: dict[str, Any]) -> None:
        if result.get("ok"):
            self._reply(peer, original)
        else:
            self._reply(peer, original, status="error", data=result.get("error"))

    # -- update pushes ---------------------------------------------------------------

    def _on_command(self, cmd: Command) -> None:
        if not isinstance(cmd, CueStateChanged | PlayheadChanged):
            return
        if not any(c.updates for c in self._clients.values()):
            return
        base = f"/update/workspace/{self.workspace_id}"
        if isinstance(cmd, CueStateChanged):
            address, args = f"{base}/cue_id/{_uid(cmd.cue)}", []
        elif isinstance(cmd, PlayheadChanged):
            lid = self._list_uids.get(cmd.cue_list, "")
            address = f"{base}/cueList/{lid}/playbackPosition"
            args = [_uid(cmd.cue) if cmd.cue else ""]
        else:
            return
        for client in self._clients.values():
            if client.updates and client.connected:
                client.peer.reply(address, args)
