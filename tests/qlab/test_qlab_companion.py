"""Conformance: Companion's QLab module (2.14.1) against a running show.

Each test replays what the module sends (``tests/qlab/qlab_remote.py``) to the real
runner and control server (TCP with SLIP, or UDP) and checks the replies as the
module parses them, the show's state after each action, the ``/update`` pushes and
the OSC the show sends out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridges.osc.wire import OscArg, decode_packet, iter_messages
from cues.model import CueId
from show.qlab.control import QLabControl, TokenBucket
from show.runtime.runner import ShowRunner
from show.showfile.load import parse_show
from tests.bridges.osc.osc_test_support import run, udp_sink
from tests.qlab.qlab_remote import (
    CUE_KEYS,
    MODULE_TYPES,
    CompanionRemote,
    armed_target,
    module_cue,
)
from tests.show.live_support import eventually, running_show

SHOW = """
[show]
title = "Conformance"
min_go_interval = 0
[outputs.osc.desk]
host = "127.0.0.1"
port = {osc_port}
[control]
host = "127.0.0.1"
port = 0
reply_port = 0
discovery = false
passcode = "{passcode}"
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
name = "Opening"
type = "osc"
target = "desk"
address = "/cue/one"
args = ["fired"]
notes = "Houselights at half, then GO"
[[cue_lists.cues]]
number = "2"
name = "Long wait"
type = "wait"
duration = 30
continue = "auto-continue"
[[cue_lists.cues]]
number = "3"
type = "memo"
[[cue_lists.cues]]
number = "4"
name = "Arm two"
type = "arm"
cue = "2"
[[cue_lists.cues]]
number = "5"
type = "group"
  [[cue_lists.cues.children]]
  number = "5.1"
  type = "wait"
  duration = 30
[[cue_lists]]
name = "Side"
[[cue_lists.cues]]
number = "S1"
type = "wait"
duration = 30
[[cue_lists.cues]]
number = "S2"
type = "wait"
duration = 30
"""

Fixture = tuple[ShowRunner, QLabControl, Any]


@contextlib.asynccontextmanager
async def conformance_show(passcode: str = "") -> AsyncIterator[Fixture]:
    """The show running with its control port, and a UDP sink as the desk."""
    async with udp_sink() as desk:
        show = parse_show(SHOW.format(osc_port=desk.port, passcode=passcode), "conf.toml")
        async with running_show(show) as (runner, control):
            yield runner, control, desk


async def companion(control: QLabControl) -> CompanionRemote:
    """A TCP remote that has gone through the module's connect sequence."""
    port = control.server.ports.tcp
    assert port is not None
    remote = await CompanionRemote.tcp(port)
    await remote.connect_sequence()
    return remote


def uid(control: QLabControl, cid: str) -> str:
    return control.cues.uids[cid]  # type: ignore[index]


def list_uid(control: QLabControl, name: str) -> str:
    return control.cues.list_uids[name]


def update_addresses(remote: CompanionRemote) -> list[str]:
    return [m.address for m in remote.received.updates]


async def desk_message(desk: Any) -> tuple[str, tuple[Any, ...]]:
    data, _ = await desk.get()
    message = next(iter_messages(decode_packet(data)))
    return message.address, message.args


def test_connect_sequence_over_tcp_answers_every_message_in_qlab_shapes() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            port = control.server.ports.tcp
            assert port is not None
            remote = await CompanionRemote.tcp(port)
            got = await remote.connect_sequence()
            ws = control.workspace_id
            assert got["/connect (bare)"]["data"] == "ok:view|edit|control"
            assert got["/version"] == {"address": "/version", "status": "ok", "data": "5.0.0"}
            assert got["/workspaces"]["data"][0]["uniqueID"] == ws
            assert got["/workspaces"]["data"][0]["displayName"] == "Conformance"
            assert all(body["status"] == "ok" for body in got.values()), got
            assert got["/playheadID"]["data"] == uid(control, "Main/1")
            assert got["/playheadID"]["address"] == f"/workspace/{ws}/playheadID"
            assert got["/selectedCues"]["data"][0]["uniqueID"] == uid(control, "Main/1")
            for window in ("/alwaysAudition", "/auditionMonitors", "/overrideWindow"):
                assert got[window]["data"] is False
            assert got["/showMode"]["data"] is True
            assert got["/liveFadePreview"]["data"] is False
            assert got["/settings/general/minGoTime"]["data"] == 0
            assert got["/overrides/dmxOutputEnabled"]["data"] is True
            lists = got["/cueLists"]["data"]
            assert [cl["type"] for cl in lists] == ["Cue List", "Cue List"]
            assert [c["number"] for c in lists[0]["cues"]] == ["1", "2", "3", "4", "5"]
            assert lists[0]["cues"][4]["cues"][0]["number"] == "5.1"
            for cue in lists[0]["cues"] + lists[1]["cues"]:
                assert cue["type"].lower() in MODULE_TYPES
                assert isinstance(cue["colorName"], str)
            assert len(control.updates) == 1
            # the module's running-cue query before anything runs: QLab 5.3 answers an error
            remote.send("/cue/active/valuesForKeys", CUE_KEYS)
            assert (await remote.reply("/cue/active/valuesForKeys"))["status"] == "error"
            remote.close()
            assert runner.engine.playhead() == "Main/1"

    run(main(), timeout=30)


def test_cue_state_feedback_follows_the_show() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, desk):
            remote = await companion(control)
            ws = control.workspace_id
            one, two = uid(control, "Main/1"), uid(control, "Main/2")
            # every key of the module's query answers, unknown ones with null in place
            body = await remote.ask(f"/cue_id/{one}/valuesForKeys", CUE_KEYS)
            assert body["status"] == "ok"
            assert set(body["data"]) == set(json.loads(CUE_KEYS))
            assert body["data"]["mode"] is None and body["data"]["autoLoad"] is False
            cue = module_cue(body["data"])
            assert cue["isLoaded"] is True and cue["notes"] == "Houselights at half,"
            assert body["data"]["parent"] == list_uid(control, "Main")
            bogus = await remote.ask(f"/cue_id/{one}/valuesForKeys", '["number","warpFactor"]')
            assert bogus["data"] == {"number": "1", "warpFactor": None}

            assert (await remote.ask("/go"))["status"] == "ok"
            assert await desk_message(desk) == ("/cue/one", ("fired",))
            playhead = (
                f"/update/workspace/{ws}/cueList/{list_uid(control, 'Main')}/playbackPosition"
            )
            await eventually(lambda: playhead in update_addresses(remote))
            assert f"/update/workspace/{ws}/cue_id/{one}" in update_addresses(remote)
            move = [m for m in remote.received.updates if m.address == playhead][-1]
            assert move.args == (two,)

            assert (await remote.ask("/go"))["status"] == "ok"  # cue 2: a 30 s wait
            await eventually(
                lambda: f"/update/workspace/{ws}/cue_id/{two}" in update_addresses(remote)
            )
            remote.send("/cue/active/valuesForKeys", CUE_KEYS)
            active = await remote.reply("/cue/active/valuesForKeys")
            state = module_cue(active["data"])
            assert state["uniqueID"] == two and state["isRunning"] is True
            assert state["duration"] == 30 and 0 <= state["pctElapsed"] < 1

            # Toggle Pause (module: /cue/active/togglePause), twice
            assert (await remote.ask("/cue/active/togglePause"))["status"] == "ok"
            assert runner.engine.state_of(CueId("Main/2")).value == "paused"
            assert (await remote.ask("/cue/active/togglePause"))["status"] == "ok"
            assert runner.engine.state_of(CueId("Main/2")).value != "paused"
            # panic one cue: it stops, the rest of the show does not
            assert (await remote.ask("/cue/2/panic"))["status"] == "ok"
            assert not runner.engine.runs[CueId("Main/2")].active
            remote.close()

    run(main(), timeout=30)


def test_a_cue_list_chosen_by_id_takes_go_stop_reset_next_previous_and_panic() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            port = control.server.ports.tcp
            assert port is not None
            remote = await CompanionRemote.tcp(port)
            side = list_uid(control, "Side")
            got = await remote.connect_sequence(cue_list=side)
            assert got[f"/cue_id/{side}/playheadID"]["data"] == uid(control, "Side/S1")
            engine = runner.engine
            assert (await remote.ask(f"/cue_id/{side}/go"))["status"] == "ok"
            assert engine.runs[CueId("Side/S1")].active
            assert engine.playhead("Side") == "Side/S2" and engine.playhead() == "Main/1"
            assert (await remote.ask(f"/cue_id/{side}/playhead/previous"))["status"] == "ok"
            assert engine.playhead("Side") == "Side/S1"
            assert (await remote.ask(f"/cue_id/{side}/playhead/next"))["status"] == "ok"
            assert engine.playhead("Side") == "Side/S2"
            assert (await remote.ask(f"/cue_id/{side}/cue/active/togglePause"))["status"] == "ok"
            assert engine.state_of(CueId("Side/S1")).value == "paused"
            assert (await remote.ask(f"/cue_id/{side}/stop"))["status"] == "ok"
            assert not engine.runs[CueId("Side/S1")].active
            assert (await remote.ask(f"/cue_id/{side}/go"))["status"] == "ok"
            assert (await remote.ask(f"/cue_id/{side}/panic"))["status"] == "ok"
            assert not engine.runs[CueId("Side/S2")].active
            assert engine.panic_until is None  # only this list's cues, not the whole show
            assert (await remote.ask(f"/cue_id/{side}/reset"))["status"] == "ok"
            assert engine.playhead("Side") == "Side/S1"
            body = await remote.ask(f"/cue_id/{side}/playheadID")
            assert body["data"] == uid(control, "Side/S1")
            remote.close()

    run(main(), timeout=30)


def test_go_to_select_and_sequence_moves_by_id_and_number() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            remote = await companion(control)
            engine = runner.engine
            three = uid(control, "Main/3")
            assert (await remote.ask(f"/playheadID/{three}"))["status"] == "ok"
            assert engine.playhead() == "Main/3"
            assert (await remote.ask(f"/select_id/{uid(control, 'Main/1')}"))["status"] == "ok"
            assert engine.playhead() == "Main/1"
            # cue 2 auto-continues into 3: the next sequence after 1 is 2 (2 and 3 are one),
            # and the one after 2 is 4
            assert (await remote.ask("/playhead/nextSequence"))["status"] == "ok"
            assert engine.playhead() == "Main/2"
            assert (await remote.ask("/playhead/nextSequence"))["status"] == "ok"
            assert engine.playhead() == "Main/4"
            assert (await remote.ask("/playhead/previousSequence"))["status"] == "ok"
            assert engine.playhead() == "Main/2"
            assert (await remote.ask("/playhead/3"))["status"] == "ok"
            assert engine.playhead() == "Main/3"
            assert (await remote.ask("/cue/5.1/load"))["status"] == "error"  # inside a group
            missing = await remote.ask("/select_id/NOT-A-CUE")
            assert missing["status"] == "error" and engine.playhead() == "Main/3"
            remote.close()

    run(main(), timeout=30)


def test_a_tracking_backup_refuses_sequence_moves_without_spinning() -> None:
    """Past the last sequence, QLab's nextSequence steps the playhead to the end of the list
    one step at a time; on a backup that follows its main every step is refused, and the
    answer must be that refusal, not a loop that never ends."""

    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            remote = await companion(control)
            assert (await remote.ask("/playhead/5"))["status"] == "ok"
            runner.following = True  # what a tracking backup's runner is
            submit, calls = runner.submit, [0]

            def counted(request: Any) -> Any:
                calls[0] += 1
                assert calls[0] < 100, "nextSequence kept submitting a refused step"
                return submit(request)

            runner.submit = counted  # type: ignore[method-assign]
            answer = await remote.ask("/playhead/nextSequence")
            assert answer["status"] == "error"
            assert "backup" in str(answer.get("data", "")) or calls[0] == 1
            assert calls[0] == 1 and runner.engine.playhead() == "Main/5"
            # a refused minGoTime is answered as refused, not as set
            before = runner.engine.min_go_interval
            answer = await remote.ask("/settings/general/minGoTime", 2.0)
            assert answer["status"] == "error" and runner.engine.min_go_interval == before
            remote.close()

    run(main(), timeout=30)


def test_edits_with_hours_minutes_and_nudges_change_the_cue_and_push_updates() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            remote = await companion(control)
            ws = control.workspace_id
            two = uid(control, "Main/2")
            cues = runner.engine.cues
            remote.received.updates.clear()
            assert (await remote.ask("/cue/2/preWait", 0, 1, 30.0))["status"] == "ok"
            assert cues[CueId("Main/2")].prewait == 90.0
            assert (await remote.ask("/cue/2/preWait/+", 5.0))["status"] == "ok"
            assert cues[CueId("Main/2")].prewait == 95.0
            assert (await remote.ask("/cue/2/preWait/-", 200.0))["status"] == "ok"
            assert cues[CueId("Main/2")].prewait == 0.0
            assert (await remote.ask(f"/cue_id/{two}/duration", 1, 0, 0.0))["status"] == "ok"
            assert cues[CueId("Main/2")].duration == 3600.0
            assert (await remote.ask("/cue/selected/postWait", 2.5))["status"] == "ok"
            assert cues[CueId("Main/1")].postwait == 2.5
            assert (await remote.ask("/cue/2/name", "Hold for applause"))["status"] == "ok"
            assert cues[CueId("Main/2")].name == "Hold for applause"
            assert (await remote.ask("/cue/selected/continueMode", 2))["status"] == "ok"
            assert cues[CueId("Main/1")].continue_mode.value == "auto-follow"
            await eventually(
                lambda: f"/update/workspace/{ws}/cue_id/{two}" in update_addresses(remote)
            )
            # armed and flagged: set, then read back as the module does (number from the address)
            assert (await remote.ask("/cue/2/armed", 0))["status"] == "ok"
            armed = await remote.ask("/cue/2/armed")
            assert armed_target(armed) == ("cue", "2") and armed["data"] is False
            assert (await remote.ask("/cue/2/flagged", 1))["status"] == "ok"
            flagged = await remote.ask(f"/cue_id/{two}/flagged")
            assert armed_target(flagged) == ("cue_id", two) and flagged["data"] is True
            assert (await remote.ask("/cue/2/colorName", "Sky Blue"))["status"] == "ok"
            values = (await remote.ask("/cue/2/valuesForKeys", CUE_KEYS))["data"]
            state = module_cue(values)
            assert state["qColor"] == "skyblue" and state["isFlagged"] and not state["isArmed"]
            assert state["qName"] == "Hold for applause"
            # an arm cue re-arms cue 2: the remote is told without asking
            remote.received.updates.clear()
            assert (await remote.ask("/cue/4/start"))["status"] == "ok"
            await eventually(lambda: runner.engine.runs[CueId("Main/2")].armed)
            await eventually(
                lambda: f"/update/workspace/{ws}/cue_id/{two}" in update_addresses(remote)
            )
            remote.close()

    run(main(), timeout=30)


BAD_VALUES = [
    ("/settings/general/minGoTime", (float("inf"),)),
    ("/settings/general/minGoTime", (1e30,)),
    ("/settings/general/minGoTime", (11.0,)),
    ("/settings/general/minGoTime", (-1.0,)),
    ("/settings/general/minGoTime", (float("nan"),)),
    ("/cue/2/duration", (float("inf"),)),
    ("/cue/2/preWait", (-1.0,)),
    ("/cue/2/preWait", (1, float("inf"), 0.0)),
    ("/cue/2/postWait/+", (float("nan"),)),
    ("/cue/2/duration/+", (OscArg("d", 1.7e308), OscArg("d", 1.7e308))),
    ("/cue/2/preWait", ("soon",)),
    ("/cue/2/continueMode", (7,)),
    ("/cue/2/armed", (2,)),
    ("/cue/2/name", ("x" * 300,)),
    ("/panicInTime", (1e9,)),
    ("/cue/2/valuesForKeys", ("{not json",)),
    ("/cue/2/number", ("9",)),
]


@pytest.mark.parametrize(("address", "args"), BAD_VALUES)
def test_refused_values_change_nothing_and_answer_a_strict_json_error(
    address: str, args: tuple[Any, ...]
) -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, _desk):
            udp = control.server.ports.udp
            assert udp is not None
            remote = await CompanionRemote.udp(udp)
            before = (runner.engine.min_go_interval, runner.engine.cues[CueId("Main/2")])
            body = await remote.ask(address, *args)  # the parser rejects NaN/Infinity
            assert body["status"] == "error" and isinstance(body["data"], str)
            assert (runner.engine.min_go_interval, runner.engine.cues[CueId("Main/2")]) == before
            assert runner.engine.panic_until is None
            assert (await remote.ask("/go"))["status"] == "ok"  # GO still works
            remote.close()

    run(main(), timeout=30)


def test_passcode_warnings_are_one_line_and_the_bare_reconnect_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="show.qlab.control")

    async def main() -> None:
        async with conformance_show(passcode="4321") as (runner, control, desk):
            udp = control.server.ports.udp
            assert udp is not None
            remote = await CompanionRemote.udp(udp)
            assert (await remote.ask("/go"))["status"] == "denied"
            assert runner.engine.playhead() == "Main/1"
            assert (await remote.ask("/connect"))["data"] == "badpass"  # reconnect probe
            assert not [r for r in caplog.records if "wrong passcode" in r.getMessage()]
            remote.send("/connect", "4321")  # UDP mode: before every message
            assert (await remote.reply("/connect"))["data"] == "ok:view|edit|control"
            assert (await remote.ask("/go"))["status"] == "ok"
            assert await desk_message(desk) == ("/cue/one", ("fired",))
            for code in ("1234", "0000", "9999"):
                assert (await remote.ask("/connect", code))["data"] == "badpass"
            remote.close()
        warnings = [r for r in caplog.records if "wrong passcode" in r.getMessage()]
        assert len(warnings) == 1

    run(main(), timeout=30)


def test_the_modules_polls_and_harmless_unknowns_do_not_fill_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    async def main() -> None:
        async with conformance_show() as (_runner, control, _desk):
            remote = await companion(control)
            before = len(caplog.records)
            for _ in range(60):  # one minute of 1 s polls
                windows = await remote.poll()
                assert [w["data"] for w in windows] == [False, False, False]
                await remote.reply("/cue/active/valuesForKeys")
            for n in range(100):
                assert (await remote.ask(f"/made/up/{n}"))["status"] == "error"
            lines = [r for r in caplog.records[before:] if r.name.startswith(("show", "bridges"))]
            assert len(lines) <= 2, [r.getMessage() for r in lines]
            assert control.unknown == 100
            remote.close()

    run(main(), timeout=60)


def test_audition_and_media_only_actions_start_nothing_and_say_so() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, desk):
            remote = await companion(control)
            for address in (
                "/auditionGo",
                "/cue/1/audition",
                "/cue/selected/auditionPreview",
                "/cue/selected/preview",
                "/cue/selected/addSliceMarker",
            ):
                body = await remote.ask(address)
                assert body["status"] == "error", address
            for address, value in (
                ("/alwaysAudition", 1),
                ("/overrideWindow", 1),
                ("/cue/selected/infiniteLoop", 1),
                ("/cue/selected/startTime/+", 1.0),
            ):
                assert (await remote.ask(address, value))["status"] == "error", address
            assert (await remote.ask("/alwaysAudition"))["data"] is False
            assert runner.engine.running_cues() == []
            assert desk.queue.empty()
            remote.close()

    run(main(), timeout=30)


def test_updates_are_followed_the_way_the_module_follows_them() -> None:
    """readUpdate: a cue_id update makes the module ask
    ``/workspace/{ws}/cue_id/{id}/valuesForKeys``; the reply's OSC address echoes it."""

    async def main() -> None:
        async with conformance_show() as (_runner, control, _desk):
            remote = await companion(control)
            remote.received.updates.clear()
            assert (await remote.ask("/cue/2/name", "Renamed"))["status"] == "ok"
            await eventually(lambda: bool(remote.received.updates))
            parts = remote.received.updates[0].address.split("/")[1:]
            assert parts[3] == "cue_id"
            node = "/" + "/".join(parts[1:]) + "/valuesForKeys"
            body = await remote.ask(node, CUE_KEYS)
            assert module_cue(body["data"])["qName"] == "Renamed"
            children = await remote.ask(f"/workspace/{control.workspace_id}/cue/5/children")
            assert [c["number"] for c in children["data"]] == ["5.1"]
            remote.close()

    run(main(), timeout=30)


def test_hostile_requests_are_refused_without_harm() -> None:
    async def main() -> None:
        async with conformance_show(passcode="4321") as (runner, control, _desk):
            port, udp = control.server.ports.tcp, control.server.ports.udp
            assert port is not None and udp is not None
            operator = await CompanionRemote.tcp(port)
            assert (await operator.ask("/connect", "4321"))["data"] == "ok:view|edit|control"
            # 300 strangers (more than the client table holds) cannot log the operator out
            for _ in range(300):
                stranger = await CompanionRemote.udp(udp)
                assert (await stranger.ask("/go"))["status"] == "denied"
                stranger.close()
            assert runner.engine.playhead() == "Main/1"
            deep = "[" * 5000 + "]" * 5000
            for address, args in (
                ("/cue/1/valuesForKeys", (deep[:8000],)),
                ("/cue/1/valuesForKeys", ("[" + ",".join(['"number"'] * 500) + "]",)),
                ("/cue/1/valuesForKeys", ("x" * 60_000,)),
                ("/workspace/NOT-OURS/go", ()),
                ("/cue_id/" + "A" * 1000 + "/start", ()),
            ):
                assert (await operator.ask(address, *args))["status"] == "error", address
            # a nudge whose sum is not a finite time
            huge = OscArg("d", 1.7e308)
            assert (await operator.ask("/cue/3/duration", huge))["status"] == "ok"
            assert (await operator.ask("/cue/3/duration/+", huge))["status"] == "error"
            assert runner.engine.cues[CueId("Main/3")].duration == 1.7e308
            assert (await operator.ask("/go"))["status"] == "ok"  # still connected
            assert runner.engine.playhead() == "Main/2"
            operator.close()

    run(main(), timeout=60)


def test_min_go_changes_and_closing_the_show_are_pushed() -> None:
    async def main() -> None:
        remote: CompanionRemote | None = None
        async with conformance_show() as (runner, control, _desk):
            remote = await companion(control)
            ws = control.workspace_id
            remote.received.updates.clear()
            body = await remote.ask("/settings/general/minGoTime", 10.0)
            assert body["data"] == 10.0 and runner.engine.min_go_interval == 10.0
            await eventually(
                lambda: f"/update/workspace/{ws}/settings/general" in update_addresses(remote)
            )
            # a GO pushes the root group; the module then asks how long GO stays disabled
            assert (await remote.ask("/go"))["status"] == "ok"
            root = f"/update/workspace/{ws}/cue_id/__root__"
            await eventually(lambda: root in update_addresses(remote))
            left = (await remote.ask("/doubleGoWindowRemaining"))["data"]
            assert 0 < left <= 10.0
        assert remote is not None
        await eventually(lambda: f"/update/workspace/{ws}/disconnect" in update_addresses(remote))
        remote.close()

    run(main(), timeout=30)


def test_a_reloaded_show_file_is_pushed_and_its_new_cues_answer() -> None:
    async def main() -> None:
        async with conformance_show() as (runner, control, desk):
            remote = await companion(control)
            ws = control.workspace_id
            assert (await remote.ask("/cue/2/flagged", 1))["status"] == "ok"
            remote.received.updates.clear()
            text = SHOW.format(osc_port=desk.port, passcode="").replace(
                '[[cue_lists]]\nname = "Side"',
                '[[cue_lists.cues]]\nnumber = "6"\nname = "Encore"\ntype = "memo"\n'
                '[[cue_lists]]\nname = "Side"',
            )
            result = runner.reload(parse_show(text, "conf.toml"))
            assert result["ok"], result
            await eventually(lambda: f"/update/workspace/{ws}" in update_addresses(remote))
            main_list = f"/update/workspace/{ws}/cue_id/{list_uid(control, 'Main')}"
            await eventually(lambda: main_list in update_addresses(remote))
            addresses = update_addresses(remote)
            six = uid(control, "Main/6")
            assert f"/update/workspace/{ws}/cue_id/{six}" in addresses
            children = await remote.ask(f"/cue_id/{list_uid(control, 'Main')}/children")
            assert [c["number"] for c in children["data"]] == ["1", "2", "3", "4", "5", "6"]
            values = await remote.ask(f"/cue_id/{six}/valuesForKeys", CUE_KEYS)
            assert module_cue(values["data"])["qName"] == "Encore"
            assert (await remote.ask("/cue/2/flagged"))["data"] is True  # flags stay
            assert (await remote.ask("/go"))["status"] == "ok"
            remote.close()

    run(main(), timeout=30)


def test_every_transport_and_cue_action_class_of_the_module() -> None:
    """The addresses actions.js sends for each remaining action class, with the show's
    state after each (the other classes have their own tests above)."""

    async def main() -> None:
        async with conformance_show() as (runner, control, desk):
            remote = await companion(control)
            engine = runner.engine

            def active() -> list[str]:
                return sorted(engine.running_cues())

            async def ok(address: str, *args: Any) -> None:
                body = await remote.ask(address, *args)
                assert body["status"] == "ok", (address, body)

            await ok("/cue/2/start")  # start (by number)
            assert active() == ["Main/2"]
            await ok("/pause")
            assert engine.state_of(CueId("Main/2")).value == "paused"
            await ok("/resume")
            assert engine.state_of(CueId("Main/2")).value == "running"
            await ok("/stop")
            assert active() == []
            await ok(f"/cue_id/{uid(control, 'Main/2')}/start")  # start_id
            await ok(f"/cue_id/{uid(control, 'Main/2')}/stop")  # stop_id
            assert active() == []
            await ok("/playhead/next")  # next
            assert engine.playhead() == "Main/2"
            await ok("/playhead/previous")  # previous
            assert engine.playhead() == "Main/1"
            await ok("/select/3")  # select (by number)
            assert engine.playhead() == "Main/3"
            await ok("/cue/selected/load")  # load
            await ok("/cue/2/loadAt", 0, 0, 5.0)  # new_loadAt: standby, time ignored
            assert engine.playhead() == "Main/2"
            await ok("/cue/selected/start")  # new_Go (selected)
            await ok("/cue/selected/stop")  # stopSelected
            assert active() == []
            await ok("/go/1")  # go to 1, then GO
            assert await desk_message(desk) == ("/cue/one", ("fired",))
            assert engine.playhead() == "Main/2"
            await ok("/cue/2/start")
            await ok("/cue/2/panicInTime", 2.0)  # panicInTime_cue
            assert active() == []
            await ok("/cue/2/start")
            await ok("/panicInTime", 0.5)  # panicInTime (all)
            assert engine.panic_until is not None
            await eventually(lambda: engine.panic_until is None and active() == [])
            await ok("/cue/2/start")
            await ok("/panic")  # panic (all)
            await eventually(lambda: engine.panic_until is None and active() == [])
            await ok("/reset")  # reset
            assert engine.playhead() == "Main/1"
            await ok("/showMode", 1)  # showMode on
            assert (await remote.ask("/showMode", 0))["status"] == "error"
            await ok("/overrides/midiOutputEnabled", 1)  # overrides: on is what they are
            assert (await remote.ask("/overrides/midiOutputEnabled", 0))["status"] == "error"
            await ok("/liveFadePreview", 0)
            remote.close()

    run(main(), timeout=60)


def test_udp_refusals_are_capped_so_the_port_cannot_bounce_traffic() -> None:
    """Forged UDP senders cannot turn the port into an amplifier: error and denied
    replies share one budget; ok replies and TCP are not limited."""

    async def main() -> None:
        async with conformance_show() as (_runner, control, _desk):
            udp = control.server.ports.udp
            assert udp is not None
            control.refusals = TokenBucket(5.0, 5.0, lambda: 0.0)  # time stands still
            remote = await CompanionRemote.udp(udp)
            for n in range(20):
                remote.send(f"/made/up/{n}")
            remote.send("/thump")
            got: list[tuple[str, dict[str, Any]]] = []
            while not got or got[-1][0] != "/reply/thump":
                got.append(await asyncio.wait_for(remote.received.replies.get(), 5))
            assert [body["status"] for _, body in got] == ["error"] * 5 + ["ok"]
            assert control.withheld == 15
            tcp = await companion(control)
            assert (await tcp.ask("/made/up/tcp"))["status"] == "error"
            remote.close()
            tcp.close()

    run(main(), timeout=30)
