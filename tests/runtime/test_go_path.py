"""The GO path: a cue's packets leave before anything else the GO causes (log lines,
listeners, update pushes, the control reply), and every GO and cue state still reaches
the log file."""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridges.osc.output import MemoryOscOutput, OscTargetConfig
from bridges.osc.wire import decode_packet, encode_message, iter_messages
from show.qlab.control import QLabControl
from show.runtime.assemble import build_parts
from show.runtime.logsetup import configure_show_logging, stop_show_logging
from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show

CUES = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
name = "Opening"
type = "osc"
target = "desk"
address = "/cue/fired"
args = [1]
[[cue_lists.cues]]
number = "2"
type = "osc"
target = "desk"
address = "/cue/fired"
args = [2]
"""


@pytest.fixture
def root_logging() -> Iterator[None]:
    """configure_show_logging replaces the root handlers; put the test runner's back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    stop_show_logging()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _memory_runner() -> tuple[ShowRunner, MemoryOscOutput]:
    show = parse_show("[show]\nmin_go_interval = 0\n[outputs.osc.desk]\nport = 9\n" + CUES)
    osc = MemoryOscOutput([OscTargetConfig("desk", "127.0.0.1", 9)])
    return ShowRunner(show, RunnerParts(osc=osc)), osc


def test_listeners_and_log_lines_come_after_the_cues_packet() -> None:
    seen_by_listeners: list[int] = []
    seen_by_log: list[tuple[str, int]] = []

    class Spy(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen_by_log.append((record.getMessage(), len(osc.sent)))

    async def main() -> None:
        await runner.start()
        runner.listeners.append(lambda cmd: seen_by_listeners.append(len(osc.sent)))
        assert runner.control("go", origin="test desk")["ok"] is True
        await runner.aclose()

    runner, osc = _memory_runner()
    spy = Spy(logging.INFO)
    logger = logging.getLogger("show.runtime.runner")
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(spy)
    try:
        asyncio.run(main())
    finally:
        logger.removeHandler(spy)
        logger.setLevel(old_level)
    assert [m.address for m in osc.messages("desk")] == ["/cue/fired"]
    # every listener call (update pushes, the recorder's view) saw the packet gone
    assert seen_by_listeners and set(seen_by_listeners) == {1}
    go_lines = [(m, n) for m, n in seen_by_log if "operator go" in m or "cue Main/1" in m]
    assert [m for m, _ in go_lines] == [
        "operator go from test desk",
        "cue Main/1 'Opening': running",
        "cue Main/1 'Opening': idle",
    ]
    assert {n for _, n in go_lines} == {1}


GROUP = """
[[cue_lists]]
name = "Main"
[[cue_lists.cues]]
number = "1"
type = "group"
mode = "timeline"
  [[cue_lists.cues.children]]
  number = "1.1"
  type = "visual"
  scene = "heat"
  transition = "cut"
  [[cue_lists.cues.children]]
  number = "1.2"
  type = "osc"
  target = "desk"
  address = "/cue/fired"
"""


class _Renderer:
    """A renderer that notes how many OSC packets had left when it was handed a change."""

    def __init__(self, osc: MemoryOscOutput) -> None:
        self.osc = osc
        self.handed: list[tuple[str, int]] = []
        self.durations: list[float] = []

    def set_scene(self, name: str, transition: Any = None, duration: float = 0.0, *_: Any) -> None:
        self.handed.append((name, len(self.osc.sent)))
        self.durations.append(duration)

    def set_input(self, name: str, value: Any) -> None:
        self.handed.append((name, len(self.osc.sent)))

    def set_test_pattern(self, on: bool) -> None:
        pass

    def identify(self, on: bool) -> None:
        pass


def _renderer_runner(cues: str) -> tuple[ShowRunner, MemoryOscOutput, _Renderer]:
    show = parse_show(
        "[show]\nmin_go_interval = 0\n[outputs.osc.desk]\nport = 9\n"
        "[outputs.visuals.projector]\n" + cues
    )
    osc = MemoryOscOutput([OscTargetConfig("desk", "127.0.0.1", 9)])
    renderer = _Renderer(osc)
    parts = RunnerParts(osc=osc, renderers={"projector": renderer})  # type: ignore[dict-item]
    return ShowRunner(show, parts), osc, renderer


def test_a_scene_change_is_handed_to_the_renderer_after_the_cues_osc_left() -> None:
    """Handing a renderer a change wakes its process; the cue's OSC goes first, and the
    scene is handed over before GO returns."""
    runner, osc, renderer = _renderer_runner(GROUP)

    async def main() -> None:
        await runner.start()
        assert runner.control("go", origin="test desk")["ok"] is True
        assert renderer.handed == [("heat", 1)]
        await runner.aclose()

    asyncio.run(main())
    assert [m.address for m in osc.messages("desk")] == ["/cue/fired"]


def test_a_muted_runner_holds_the_scene_and_hands_it_over_as_a_cut_when_unmuted() -> None:
    crossfade = GROUP.replace('"cut"', '"crossfade"\n  duration = 2')
    runner, osc, renderer = _renderer_runner(crossfade)

    async def main() -> None:
        await runner.start()
        runner.mute()
        assert runner.control("go", origin="test desk")["ok"] is True
        assert renderer.handed == []  # muted: held, not shown
        runner.unmute()
        assert [name for name, _ in renderer.handed] == ["heat"]
        assert renderer.durations == [0.0]  # the crossfade already ran elsewhere: a cut
        await runner.aclose()

    asyncio.run(main())
    assert osc.messages("desk") == []


def test_qlab_go_sends_the_cue_before_its_update_push_and_its_reply() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.1", 0))
        peer.setblocking(False)
        port = peer.getsockname()[1]
        show = parse_show(
            "[show]\nmin_go_interval = 0\n"
            f'[outputs.osc.desk]\nhost = "127.0.0.1"\nport = {port}\n'
            '[control]\nhost = "127.0.0.1"\nport = 0\nreply_port = 0\ndiscovery = false\n' + CUES
        )
        runner = ShowRunner(show, build_parts(show, clock=loop.time, renderers=False))
        await runner.start()
        control = QLabControl(runner, show.control)
        await control.start()
        addresses: list[str] = []
        try:
            server = ("127.0.0.1", control.server.ports.udp)
            peer.sendto(encode_message("/updates", [1]), server)
            data, _ = await asyncio.wait_for(loop.sock_recvfrom(peer, 65536), 5)
            assert next(iter_messages(decode_packet(data))).address == "/reply/updates"
            peer.sendto(encode_message("/go", []), server)
            while "/reply/go" not in addresses:
                data, _ = await asyncio.wait_for(loop.sock_recvfrom(peer, 65536), 5)
                addresses += [m.address for m in iter_messages(decode_packet(data))]
        finally:
            await control.aclose()
            await runner.aclose()
            peer.close()
        return addresses

    addresses = asyncio.run(main())
    assert addresses[0] == "/cue/fired"
    assert any(a.startswith("/update/") for a in addresses[1:-1])
    assert addresses[-1] == "/reply/go"


def test_every_go_and_cue_state_reaches_the_log_file_through_the_queue(
    tmp_path: Path, root_logging: None
) -> None:
    tail, path = configure_show_logging("Go path", tmp_path)
    root = logging.getLogger()
    # the show's thread only queues: no stream or file handler left on the root
    assert len(root.handlers) == 1
    assert isinstance(root.handlers[0], logging.handlers.QueueHandler)

    async def main() -> None:
        await runner.start()
        runner.control("go", origin="desk A")
        runner.control("go", origin="desk B")
        await runner.aclose()

    runner, _osc = _memory_runner()
    asyncio.run(main())
    stop_show_logging()  # what the end of ``stovelight run`` (and exit) does
    assert path is not None
    text = path.read_text(encoding="utf-8")
    assert "show.runtime.runner: operator go from desk A" in text
    assert "show.runtime.runner: operator go from desk B" in text
    for cue in ("Main/1 'Opening'", "Main/2"):
        assert f"cue {cue}: running" in text and f"cue {cue}: idle" in text
    assert text.index("from desk A") < text.index("cue Main/1 'Opening': running")
    assert text.index("from desk B") < text.index("cue Main/2: running")
    assert any("operator go from desk B" in line for line in tail.lines)
