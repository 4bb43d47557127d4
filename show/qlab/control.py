"""QLab-compatible OSC control: the part of QLab 5's OSC dictionary that remotes use.

Bitfocus Companion's QLab module, QLab remotes, TouchOSC layouts and liblo's
``oscsend`` drive Stovelight as if it were a QLab workspace. Every message gets a
``/reply/...`` answer (the address as received) whose one string argument is strict
JSON in QLab's shape::

    {"workspace_id": "...", "address": "/workspace/{id}/cue/3/name", "status": "ok", "data": "..."}

The JSON ``address`` of a workspace method always carries the ``/workspace/{id}``
prefix, as QLab 5 reports it (Companion's module reads the cue number of armed and
flagged replies from its fourth and fifth parts). Refused values answer
``"status": "error"`` with the reason. Clients that send ``/updates 1`` get
``/update/...`` pushes (see :mod:`show.qlab.updates`). ``docs/control-api.md``
lists every address.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from bridges.osc.server import OscPeer, OscServer, OscServerConfig
from bridges.osc.wire import OscMessage
from bridges.ratelimit import RateLimitedLogger
from cues.commands import (
    Command,
    CueState,
    CueStateChanged,
    PlayheadChanged,
    Report,
    ReportLevel,
)
from cues.events import ArmCue, EditCue
from cues.model import CueId, CueKind
from show.qlab.cues import CONTINUE_MODES, MEDIA_ONLY, QLabCues
from show.qlab.discovery import ControlAdvert
from show.qlab.updates import UpdatePusher
from show.qlab.values import (
    MAX_COLOR_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    ControlValueError,
    flag,
    integer_in,
    number_in,
    strict_dumps,
    text,
    time_value,
)
from show.runtime.commands import OperatorCommand, OperatorRequest, Reply
from show.runtime.runner import ShowRunner
from show.runtime.views import RunnerView
from show.showfile.access import exposure
from show.showfile.config import ControlConfig

__all__ = ["VERSION", "QLabControl"]

log = logging.getLogger(__name__)

VERSION = "5.0.0"
"""What ``/version`` answers: remotes choose their QLab 5 code path by the major number."""

_GLOBAL = {
    "/go": OperatorCommand.GO,
    "/playhead/next": OperatorCommand.PLAYHEAD_NEXT,
    "/playhead/previous": OperatorCommand.PLAYHEAD_PREVIOUS,
    "/select/next": OperatorCommand.PLAYHEAD_NEXT,
    "/select/previous": OperatorCommand.PLAYHEAD_PREVIOUS,
    # Stovelight's own: a tracking backup takes over from its main (show.runtime.tracking).
    "/stovelight/takeover": OperatorCommand.TAKEOVER,
    # Stovelight's own: reload the show file (show.runtime.reload); the reply says it started.
    "/reload": OperatorCommand.RELOAD,
}
_CUE_COMMANDS = {
    "start": OperatorCommand.START_CUE,
    "go": OperatorCommand.START_CUE,
    "stop": OperatorCommand.STOP_CUE,
    "hardStop": OperatorCommand.STOP_CUE,
    "reset": OperatorCommand.STOP_CUE,
    "panic": OperatorCommand.STOP_CUE,
    "pause": OperatorCommand.PAUSE_CUE,
    "resume": OperatorCommand.RESUME_CUE,
    "load": OperatorCommand.SET_PLAYHEAD,
}
# /stop, /hardStop, /pause, /resume, /reset: for the whole show, or (under a list's id)
# for each of its active top-level cues
_LIST_COMMANDS = {
    "stop": OperatorCommand.STOP,
    "hardStop": OperatorCommand.STOP,
    "pause": OperatorCommand.PAUSE,
    "resume": OperatorCommand.RESUME,
    "reset": OperatorCommand.RESET,
}
_LIST_CUE_COMMANDS = {"pause": OperatorCommand.PAUSE_CUE, "resume": OperatorCommand.RESUME_CUE}
_PROJECTOR_AIDS = {
    "/stovelight/testPattern": OperatorCommand.TEST_PATTERN,
    "/stovelight/identify": OperatorCommand.IDENTIFY,
}
# QLab application settings that Stovelight lacks: read as off, as a QLab with those
# windows and modes off answers, so a remote's buttons show them off; switching one on
# is refused.
_APP_FALSE = {"/alwaysAudition", "/auditionMonitors", "/auditionWindow", "/overrideWindow"}
_APP_FALSE.update({"/liveFadePreview", "/audition/monitoring"})
_OPEN = {"/connect", "/version", "/workspaces", "/thump", "/alwaysReply", "/disconnect"}
_NO_AUDITION = "audition is not available in Stovelight: nothing was started"
_TIMES = {"preWait": "prewait", "postWait": "postwait", "duration": "duration"}
_MAX_KEYS = 128
_MAX_CLIENTS = 256
_MAX_MATCHES = 64
_MAX_KEYS_CHARS = 8192
#: error and denied replies over UDP, per second for all senders together
_REFUSALS_PER_S = 500.0

_SEQUENCE_MOVES = ("nextSequence", "previousSequence")
_SESSION_HEADS = frozenset(
    ("connect", "disconnect", "version", "workspaces", "thump", "alwaysReply", "updates")
)


class TokenBucket:
    """``rate`` events a second with bursts of ``burst``."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.last = burst, clock()

    def take(self) -> bool:
        """Use one token if there is one."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def _is_action(action: str) -> bool:
    """Whether a cue address without arguments does something (rather than read)."""
    return (
        action in _CUE_COMMANDS
        or action in ("togglePause", "panicInTime", "loadAt", "addSliceMarker")
        or action.startswith(("audition", "preview"))
    )


class _Refused(Exception):
    """A request answered with ``status: error`` (the message is the reply's data)."""


@dataclass(slots=True)
class _Client:
    peer: OscPeer
    connected: bool = False


@dataclass(slots=True)
class _Request:
    client: _Client
    original: str
    args: list[Any]
    origin: str


class QLabControl:
    """Answers QLab's OSC dictionary for one running show."""

    def __init__(self, runner: ShowRunner, config: ControlConfig) -> None:
        self.runner = runner  # commands and cue edits go to the runner
        self.live = live = RunnerView(runner)  # what is read comes from its view
        self.config = config
        title = live.model.title
        self.workspace_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"stovelight:{title}")).upper()
        self.cues = QLabCues(live.model, live.engine, live.now)
        self.updates = UpdatePusher(self.workspace_id, time.monotonic)
        self._clients: dict[tuple[str, int, str], _Client] = {}
        self._heads = {cl.name: live.engine.playhead(cl.name) for cl in live.model.cue_lists}
        self._armed = {c: r.armed for c, r in live.engine.runs.items()}
        self._last_go = live.engine.last_go
        self.unknown = 0
        self.denied = 0
        self.refused = 0
        self.withheld = 0
        self.refusals = TokenBucket(_REFUSALS_PER_S, _REFUSALS_PER_S, time.monotonic)
        self._quiet = RateLimitedLogger(log, interval_s=60.0)
        self.advert: ControlAdvert | None = None
        self.server = OscServer(
            self._handle,
            OscServerConfig(
                host=config.host,
                port=config.port,
                reply_port=config.reply_port,
                allowed_clients=frozenset(config.allow) if config.allow else None,
            ),
        )
        live.listen(self._on_command)

    async def start(self) -> None:
        """Listen on UDP and TCP."""
        await self.server.start()
        ports = self.server.ports
        log.info(
            "QLab-compatible OSC control on %s udp %s / tcp %s (replies to port %s); access: %s",
            self.config.host,
            ports.udp,
            ports.tcp,
            self.config.reply_port or "sender's port",
            exposure(self.config),
        )
        if self.config.discovery:
            self.advert = ControlAdvert(
                self.live.model.title, self.config.host, ports.tcp, ports.udp
            )
            self.advert.start()

    async def aclose(self) -> None:
        """Tell subscribed remotes the workspace is closing, withdraw the zeroconf
        adverts, then stop listening."""
        self.updates.disconnect()
        if self.advert is not None:
            await self.advert.aclose()
        await self.server.aclose()

    def stats(self) -> dict[str, Any]:
        """Counters for the console."""
        server = self.server.stats()
        return {
            "name": "qlab-control",
            "kind": f"osc-in: {exposure(self.config)}",
            "state": "listening" if self.server.running else "closed",
            "clients": len(self._clients),
            "subscribers": len(self.updates),
            "updates_sent": self.updates.sent,
            "unknown": self.unknown,
            "denied": self.denied,
            "refused": self.refused,
            "withheld": self.withheld,
            **{k: v for k, v in server.items() if isinstance(v, int)},
            "throttled": sum(server["throttled"].values()),
        }

    # -- replies -------------------------------------------------------------------------

    def _reply(
        self, req: _Request, rel: str, data: Any = None, status: str = "ok", refusal: bool = False
    ) -> None:
        """Answer ``req``; ``refusal`` marks an ok-status answer that refuses (badpass)."""
        app = (
            rel in ("/version", "/workspaces") or rel in _APP_FALSE or rel.startswith("/overrides/")
        )
        body: dict[str, Any] = {}
        if app:
            body["address"] = rel
        else:
            body["workspace_id"] = self.workspace_id
            body["address"] = f"/workspace/{self.workspace_id}{rel}"
        body["status"] = status
        if data is not None:
            body["data"] = data
        peer = req.client.peer
        refusal = refusal or status != "ok"
        if refusal and peer.transport == "udp" and not self.refusals.take():
            # UDP senders can be forged: refusals are capped so the port cannot be
            # used to bounce traffic at someone else's address
            self.withheld += 1
            return
        peer.reply(f"/reply{req.original}", [strict_dumps(body)])

    # -- dispatch ------------------------------------------------------------------------

    def _handle(self, message: OscMessage, peer: OscPeer) -> None:
        key = (peer.host, peer.port, peer.transport)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= _MAX_CLIENTS:
                # forget a client that never connected first, so a flood of strangers
                # cannot log the operator's remote out
                clients = self._clients
                stale = next((k for k, c in clients.items() if not c.connected), None)
                clients.pop(stale if stale is not None else next(iter(clients)))
            client = self._clients[key] = _Client(peer, connected=not self.config.passcode)
        client.peer = peer
        self.updates.heard(peer)
        req = _Request(
            client, message.address, list(message.args), f"OSC {peer.transport} {peer.host}"
        )
        rel = message.address
        if rel.startswith("/workspace/"):
            parts = rel.split("/", 3)
            known = (self.workspace_id, self.live.model.title.upper())
            if parts[2].upper() not in known:
                self._reply(req, rel, "unknown workspace", status="error")
                return
            rel = "/" + parts[3] if len(parts) > 3 else "/"
        if not client.connected and rel not in _OPEN:
            self.denied += 1
            self._reply(req, rel, status="denied")
            return
        try:
            self._route(req, rel, "")
        except (_Refused, ControlValueError, KeyError, IndexError) as exc:
            self.refused += 1
            reason = exc.args[0] if exc.args else type(exc).__name__
            self._reply(req, rel, str(reason), status="error")
        except Exception as exc:  # a bug: answered, counted and logged, never fatal
            self.refused += 1
            self._quiet.log(
                logging.ERROR,
                "internal",
                "QLab control: %r from %s failed; answered with an error",
                req.original[:80],
                peer.host,
                exc_info=exc,
            )
            self._reply(req, rel, "internal error", status="error")

    def _route(self, req: _Request, rel: str, scope: str) -> None:
        """Answer one workspace-relative address; ``scope`` is a cue list's name when
        the address came under ``/cue_id/{list id}``."""
        parts = rel.strip("/").split("/")
        head, rest = parts[0], parts[1:]
        if head in ("cue", "cue_id") and rest:
            self._cue_route(req, rel, head, rest[0], rest[1:], scope)
        elif rel in _GLOBAL:
            self._command(req, rel, _GLOBAL[rel], cue_list=scope)
        elif self._playhead_route(req, rel, head, rest, scope):
            pass
        elif rel in ("/stop", "/hardStop", "/pause", "/resume", "/togglePause", "/reset"):
            self._list_transport(req, rel, head, scope)
        elif rel in ("/panic", "/panicInTime"):
            seconds = number_in(req.args[0], "panic time", 0, 60) if req.args else None
            self._panic(req, rel, scope, seconds)
        elif head in _SESSION_HEADS:
            self._session(req, rel, head)
        elif rel in _APP_FALSE or head == "overrides":
            self._app_setting(req, rel, head)
        else:
            self._query(req, rel, scope)

    def _playhead_route(
        self, req: _Request, rel: str, head: str, rest: list[str], scope: str
    ) -> bool:
        """Move the playhead (or GO) by sequence, number or unique id; False if not such
        an address."""
        if head in ("playhead", "select") and rest and rest[0] in _SEQUENCE_MOVES:
            self._sequence(req, rel, scope, rest[0] == "nextSequence")
        elif head in ("playhead", "select", "go") and len(rest) == 1:
            cid = self.live.cue_id(rest[0], scope)
            if cid is None:
                raise _Refused(f"no cue {rest[0]!r}")
            self._load_then(req, rel, cid, go=head == "go")
        elif head in ("playheadID", "select_id") and len(rest) == 1:
            self._load_then(req, rel, self._by_uid(rest[0]), go=False)
        elif rel in ("/playheadID", "/playheadId"):
            self._reply(req, rel, self.cues.playhead_uid(scope))
        else:
            return False
        return True

    def _query(self, req: _Request, rel: str, scope: str) -> None:
        if self._list_query(req, rel, scope) or self._setting(req, rel):
            return
        if rel in ("/auditionGo", "/audition/go"):
            raise _Refused(_NO_AUDITION)
        if rel in _PROJECTOR_AIDS:
            command = _PROJECTOR_AIDS[rel]
            value = float(flag(req.args[0], command.value)) if req.args else None
            self._result(
                req,
                rel,
                self.runner.submit(OperatorRequest(command, value=value, origin=req.origin)),
            )
            return
        self.unknown += 1
        self._quiet.log(
            logging.INFO,
            "unknown",
            "QLab control: unknown address %r from %s answered with an error",
            req.original[:80],
            req.client.peer.host,
        )
        raise _Refused("unknown address")

    def _list_query(self, req: _Request, rel: str, scope: str) -> bool:
        """The cue lists, the running cues or the selection; False if not asked for."""
        cues = self.cues
        if rel == "/cueLists":
            self._reply(req, rel, [cues.list_dict(cl.name) for cl in self.live.model.cue_lists])
        elif rel in ("/runningCues", "/runningOrPausedCues"):
            self._reply(req, rel, [cues.cue_dict(c) for c in cues.active(scope)])
        elif rel == "/selectedCues":
            head = self.live.engine.playhead(scope)
            self._reply(req, rel, [cues.cue_dict(head)] if head else [])
        else:
            return False
        return True

    def _setting(self, req: _Request, rel: str) -> bool:
        """Show mode, minGoTime and the double-GO window; False if not asked for."""
        if rel == "/showMode":
            if req.args and not flag(req.args[0], "showMode"):
                raise _Refused("Stovelight is always in show mode; edit the show file instead")
            self._reply(req, rel, True)
        elif rel == "/settings/general/minGoTime":
            if req.args:
                seconds = number_in(req.args[0], "minGoTime", 0, 10)
                answer = self.runner.submit(
                    OperatorRequest(OperatorCommand.SET_MIN_GO, value=seconds, origin=req.origin)
                )
                if not answer.get("ok"):
                    raise _Refused(str(answer.get("error", "minGoTime refused")))
                log.info("minimum GO time set to %g s by %s", seconds, req.origin)
                self.updates.settings("general")
            self._reply(req, rel, self.live.engine.min_go_interval)
        elif rel == "/doubleGoWindowRemaining":
            self._reply(req, rel, self.live.engine.go_guard_left(self.live.now()))
        else:
            return False
        return True

    # -- session and application ---------------------------------------------------------

    def _session(self, req: _Request, rel: str, head: str) -> None:
        client, args = req.client, req.args
        if head == "connect":
            offered = str(args[0]) if args else ""
            ok = not self.config.passcode or (
                bool(offered)
                and hmac.compare_digest(offered.encode(), self.config.passcode.encode())
            )
            client.connected = ok
            if not ok:
                self.denied += 1
                if offered:
                    self._quiet.warning(
                        "badpass", "QLab control: wrong passcode from %s", client.peer.host
                    )
            self._reply(req, rel, "ok:view|edit|control" if ok else "badpass", refusal=not ok)
        elif head == "disconnect":
            client.connected = not self.config.passcode
            self.updates.subscribe(client.peer, False)
            self._reply(req, rel)
        elif head == "version":
            self._reply(req, rel, VERSION)
        elif head == "workspaces":
            entry = {
                "uniqueID": self.workspace_id,
                "displayName": self.live.model.title,
                "hasPasscode": bool(self.config.passcode),
                "version": VERSION,
            }
            self._reply(req, rel, [entry])
        elif head == "updates":
            if not req.args:
                self._reply(req, rel)
                return
            self.updates.subscribe(client.peer, flag(req.args[0], "updates"))
            self._reply(req, rel)
        else:
            self._reply(req, rel, "thump" if head == "thump" else None)

    def _app_setting(self, req: _Request, rel: str, head: str) -> None:
        if head == "overrides":
            # Stovelight's outputs have no master overrides: every one is always on.
            if req.args and not flag(req.args[0], rel):
                raise _Refused("Stovelight has no output overrides: outputs stay on")
            self._reply(req, rel, True)
            return
        if req.args and flag(req.args[0], rel):
            raise _Refused(f"{rel[1:]} is not available in Stovelight")
        self._reply(req, rel, False)

    # -- transport -----------------------------------------------------------------------

    def _command(
        self, req: _Request, rel: str, command: OperatorCommand, cue_list: str = ""
    ) -> None:
        request = OperatorRequest(command, cue_list=cue_list, origin=req.origin)
        self._result(req, rel, self.runner.submit(request))

    def _result(self, req: _Request, rel: str, result: Reply) -> None:
        if not result.get("ok"):
            raise _Refused(result.get("error") or "refused")
        extra = {k: v for k, v in result.items() if k != "ok"}
        self._reply(req, rel, extra or None)

    def _cue_command(self, command: OperatorCommand, cid: CueId, origin: str) -> None:
        result = self.runner.submit(OperatorRequest(command, cid, origin=origin))
        if not result.get("ok"):
            raise _Refused(result.get("error") or "refused")

    def _load_then(self, req: _Request, rel: str, cid: CueId, go: bool) -> None:
        self._cue_command(OperatorCommand.SET_PLAYHEAD, cid, req.origin)
        if go:
            self._command(req, rel, OperatorCommand.GO, cue_list=self.cues.list_of(cid))
        else:
            self._reply(req, rel)

    def _list_transport(self, req: _Request, rel: str, head: str, scope: str) -> None:
        """``/stop``, ``/pause``, ``/resume``, ``/togglePause``, ``/reset``: for the whole
        show, or for one list's cues under ``/cue_id/{list id}``."""
        whole = not scope or len(self.live.model.cue_lists) == 1
        if head == "togglePause":
            active = self.cues.active(scope)
            running = [c for c in active if self.live.engine.runs[c].state is not CueState.PAUSED]
            head = "pause" if running else "resume"
        if whole:
            self._command(req, rel, _LIST_COMMANDS[head])
            return
        for cid in self.cues.active(scope):
            if self.live.engine.cues[cid].parent is None:
                command = _LIST_CUE_COMMANDS.get(head, OperatorCommand.STOP_CUE)
                self._cue_command(command, cid, req.origin)
        if head == "reset":
            first = self.cues.list_cues(scope)
            if first:
                self._cue_command(OperatorCommand.SET_PLAYHEAD, first[0], req.origin)
        self._reply(req, rel)

    def _panic(self, req: _Request, rel: str, scope: str, seconds: float | None) -> None:
        r = self.runner
        if not scope or len(self.live.model.cue_lists) == 1:
            request = OperatorRequest(OperatorCommand.PANIC, value=seconds, origin=req.origin)
            self._result(req, rel, r.submit(request))
            return
        for cid in self.cues.active(scope):
            if self.live.engine.cues[cid].parent is None:
                self._cue_command(OperatorCommand.STOP_CUE, cid, req.origin)
        self._reply(req, rel)

    def _sequence(self, req: _Request, rel: str, scope: str, forward: bool) -> None:
        r = self.runner
        name = scope or self.live.model.cue_lists[0].name
        cues = self.cues.list_cues(name)
        target = self.cues.sequence_target(name, forward)
        if target < len(cues):
            self._cue_command(OperatorCommand.SET_PLAYHEAD, cues[target], req.origin)
        else:  # past the last sequence: to the end of the list, one step at a time
            step = OperatorRequest(OperatorCommand.PLAYHEAD_NEXT, cue_list=name, origin=req.origin)
            for _ in range(len(cues) + 1):  # bounded: a refused step must not spin the loop
                if self.live.engine.playhead(name) is None:
                    break
                answer = r.submit(step)
                if not answer.get("ok"):
                    self._result(req, rel, answer)
                    return
        self._reply(req, rel)

    # -- cues ----------------------------------------------------------------------------

    def _by_uid(self, uid: str) -> CueId:
        cid = self.cues.by_uid.get(uid.upper())
        if cid is None:
            raise _Refused(f"no cue with id {uid[:40]!r}")
        return cid

    def _targets(self, kind: str, ref: str, scope: str) -> list[CueId]:
        engine = self.live.engine
        if ref in ("selected", "playhead"):
            head = engine.playhead(scope)
            if head is None:
                raise _Refused("no cue is on standby")
            return [head]
        if ref == "active":
            active = self.cues.active(scope)
            if not active:
                raise _Refused("no cue is active")
            return active
        if kind == "cue_id":
            return [self._by_uid(ref)]
        if any(c in ref for c in "*?["):
            lists = [scope] if scope else [cl.name for cl in self.live.model.cue_lists]
            found = [
                c
                for c, cue in engine.cues.items()
                if c.split("/", 1)[0] in lists and fnmatchcase(cue.number, ref)
            ]
            if not found:
                raise _Refused(f"no cue matches {ref[:40]!r}")
            if len(found) > _MAX_MATCHES:
                raise _Refused(f"{ref[:40]!r} matches more than {_MAX_MATCHES} cues; narrow it")
            return found
        cid = self.live.cue_id(ref, scope)
        if cid is None:
            raise _Refused(f"no cue {ref[:40]!r}")
        return [cid]

    def _cue_route(
        self, req: _Request, rel: str, kind: str, ref: str, rest: list[str], scope: str
    ) -> None:
        list_name = self.cues.list_by_uid.get(ref.upper()) if kind == "cue_id" else None
        if list_name is not None:
            self._list_route(req, rel, list_name, rest)
            return
        if not rest:
            raise _Refused("unknown address")
        action = "/".join(rest)
        targets = self._targets(kind, ref, scope)
        if action in ("valuesForKeys", "children") or (
            not req.args and "/" not in action and not _is_action(action)
        ):
            for cid in targets:
                self._reply(req, rel, self._read(cid, action, req.args))
            return
        for cid in targets:
            self._act(req, cid, action)
        self._reply(req, rel)

    def _list_route(self, req: _Request, rel: str, name: str, rest: list[str]) -> None:
        """Addresses under ``/cue_id/{list id}``: list transport, or anything else
        scoped to that list (``/cue_id/{list}/cue/active/togglePause``)."""
        action = "/".join(rest)
        if not rest:
            raise _Refused("unknown address")
        if action == "valuesForKeys":
            self._reply(req, rel, self.cues.list_values(name, self._keys(req.args)))
        elif action == "children":
            self._reply(req, rel, [self.cues.cue_dict(c) for c in self.cues.list_cues(name)])
        elif action in ("start", "go"):
            self._command(req, rel, OperatorCommand.GO, cue_list=name)
        elif action == "playhead/nextSequence" or action == "playhead/previousSequence":
            self._sequence(req, rel, name, action.endswith("nextSequence"))
        elif not req.args and "/" not in action and action in self.cues.list_dict(name, deep=False):
            self._reply(req, rel, self.cues.list_dict(name, deep=False)[action])
        else:
            self._route(req, "/" + action, name)

    @staticmethod
    def _keys(args: list[Any]) -> list[str]:
        raw = args[0] if args else "[]"
        if not isinstance(raw, str) or len(raw) > _MAX_KEYS_CHARS:
            raise ControlValueError("valuesForKeys takes one JSON array of key names")
        try:
            keys = json.loads(raw)
        except (ValueError, RecursionError):
            raise ControlValueError("valuesForKeys takes one JSON array of key names") from None
        if not isinstance(keys, list) or len(keys) > _MAX_KEYS:
            raise ControlValueError(f"valuesForKeys takes a JSON array of at most {_MAX_KEYS} keys")
        return [k for k in keys if isinstance(k, str)]

    def _read(self, cid: CueId, action: str, args: list[Any]) -> Any:
        if action == "valuesForKeys":
            return self.cues.values(cid, self._keys(args))
        if action == "children":
            return [self.cues.cue_dict(c) for c in self.live.engine.cues[cid].children]
        return self.cues.value(cid, action)

    def _act(self, req: _Request, cid: CueId, action: str) -> None:
        """A cue action or property change; raises to refuse."""
        args = req.args
        run = self.live.engine.runs[cid]
        if action in _CUE_COMMANDS:
            self._cue_command(_CUE_COMMANDS[action], cid, req.origin)
        elif action == "togglePause":
            paused = run.state is CueState.PAUSED
            command = OperatorCommand.RESUME_CUE if paused else OperatorCommand.PAUSE_CUE
            self._cue_command(command, cid, req.origin)
        elif action == "panicInTime":
            if args:
                number_in(args[0], "panic time", 0, 60)
            self._cue_command(OperatorCommand.STOP_CUE, cid, req.origin)
        elif action.split("/")[0] == "loadAt":
            self._time(args, action, 0.0, "loadAt")
            self._cue_command(OperatorCommand.SET_PLAYHEAD, cid, req.origin)
        elif action.startswith(("audition", "preview")):
            raise _Refused(_NO_AUDITION)
        elif action == "addSliceMarker":
            raise _Refused("Stovelight's cues have no slices")
        elif action.split("/")[0] in _TIMES:
            field = action.split("/")[0]
            current = float(getattr(self.live.engine.cues[cid], _TIMES[field]))
            value = self._time(args, action, current, field)
            edit = {
                "preWait": EditCue(cid, prewait=value),
                "postWait": EditCue(cid, postwait=value),
                "duration": EditCue(cid, duration=value),
            }[field]
            self._edit(req, cid, field, value, edit)
        else:
            self._set(req, cid, action)

    @staticmethod
    def _time(args: list[Any], action: str, current: float, what: str) -> float:
        """A time setter's new value: ``field h m s`` sets, ``field/+ s`` and ``field/- s``
        nudge (a nudge below zero stops at zero, as in QLab)."""
        if action.endswith("/+") or action.endswith("/-"):
            delta = time_value(args, what)
            value = current + delta if action.endswith("/+") else max(0.0, current - delta)
            return number_in(value, what, 0)  # 1e308 + 1e308 is not a time
        if "/" in action:
            raise _Refused("unknown address")
        return time_value(args, what)

    def _set(self, req: _Request, cid: CueId, action: str) -> None:
        if not req.args:
            raise _Refused(f"{action} needs a value")
        value = req.args[0]
        cues = self.cues
        if action == "name":
            name = text(value, "name", MAX_NAME_CHARS)
            self._edit(req, cid, action, name, EditCue(cid, name=name))
        elif action == "continueMode":
            modes = {v: k for k, v in CONTINUE_MODES.items()}
            mode = modes[integer_in(value, "continueMode", 0, 2)]
            self._edit(req, cid, action, mode.value, EditCue(cid, continue_mode=mode))
        elif action == "armed":
            on = flag(value, "armed")
            self._edit(req, cid, action, on, ArmCue(cid, on))
        elif action == "flagged":
            (cues.flagged.add if flag(value, "flagged") else cues.flagged.discard)(cid)
            self._edit(req, cid, action, cid in cues.flagged, None)
        elif action == "colorName":
            color = text(value, "colorName", MAX_COLOR_CHARS).strip() or "none"
            cues.colors[cid] = color
            self._edit(req, cid, action, color, None)
        elif action == "notes":
            cues.notes[cid] = text(value, "notes", MAX_NOTES_CHARS)
            self._edit(req, cid, action, f"{len(cues.notes[cid])} characters", None)
        elif action == "number":
            raise _Refused("cue numbers are fixed by the show file")
        elif action in MEDIA_ONLY or action == "autoLoad":
            raise _Refused(f"{action} does not apply to Stovelight's cues")
        else:
            raise _Refused(f"{action} cannot be set")

    def _edit(
        self, req: _Request, cid: CueId, what: str, value: Any, event: EditCue | ArmCue | None
    ) -> None:
        if event is not None:
            self.runner.edit(event, req.origin)
        if isinstance(event, ArmCue):
            self._armed[cid] = event.armed
        log.info("cue %s: %s set to %r by %s", cid, what, value, req.origin)
        self.updates.cue(self.cues.uids[cid])

    # -- update pushes -------------------------------------------------------------------

    def _on_command(self, cmd: Command) -> None:
        if self.live.engine.last_go != self._last_go:
            # QLab 5.5 pushes its root group after a GO; Companion then asks
            # /doubleGoWindowRemaining to show the double-GO guard on its GO button
            self._last_go = self.live.engine.last_go
            self.updates.cue("__root__")
        if isinstance(cmd, Report) and cmd.subject == "RELOAD" and cmd.level is ReportLevel.INFO:
            self._reloaded()
        elif isinstance(cmd, CueStateChanged):
            self.updates.cue(self.cues.uids[cmd.cue])
            kind = self.live.engine.cues[cmd.cue].kind
            if kind in (CueKind.ARM, CueKind.DISARM) and cmd.state is CueState.RUNNING:
                self._push_armed()
        elif isinstance(cmd, PlayheadChanged):
            before = self._heads.get(cmd.cue_list)
            self._heads[cmd.cue_list] = cmd.cue
            lid = self.cues.list_uids.get(cmd.cue_list)
            if lid is not None:
                self.updates.playhead(lid, self.cues.uids[cmd.cue] if cmd.cue else None)
            for cid in (before, cmd.cue):
                if cid is not None:
                    self.updates.cue(self.cues.uids[cid])
        elif isinstance(cmd, Report) and cmd.subject == "RESET":
            self._push_armed()

    def _reloaded(self) -> None:
        """The show file was reloaded: new cue ids, and every remote told to look again
        (the workspace, each list, each cue)."""
        engine = self.live.engine
        self.cues.reload(self.live.model)
        self._armed = {c: r.armed for c, r in engine.runs.items()}
        self._heads = {cl.name: engine.playhead(cl.name) for cl in self.cues.model.cue_lists}
        self.updates.workspace()
        for uid in self.cues.list_uids.values():
            self.updates.cue(uid)
        for uid in self.cues.uids.values():
            self.updates.cue(uid)

    def _push_armed(self) -> None:
        """Push cues whose armed state changed behind the remotes' back (arm and
        disarm cues, reset)."""
        for cid, run in self.live.engine.runs.items():
            if self._armed.get(cid) != run.armed:
                self._armed[cid] = run.armed
                self.updates.cue(self.cues.uids[cid])
