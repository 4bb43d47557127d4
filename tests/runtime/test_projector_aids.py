"""Projector set-up aids from the console and OSC: test pattern and identify."""

from __future__ import annotations

import asyncio
from typing import Any

from show.runtime.runner import RunnerParts, ShowRunner
from show.showfile.load import parse_show

SHOW = '[outputs.visuals.projector]\n[control]\nenabled = false\n[[cue_lists]]\nname = "Main"\n'


class FakeRenderer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def set_scene(self, *args: Any, **kw: Any) -> None:
        self.calls.append(("scene", args))

    def set_input(self, name: str, value: Any) -> None:
        self.calls.append(("input", (name, value)))

    def set_test_pattern(self, on: bool) -> None:
        self.calls.append(("test_pattern", on))

    def identify(self, on: bool) -> None:
        self.calls.append(("identify", on))


def test_test_pattern_and_identify_toggle_or_take_a_value() -> None:
    async def main() -> None:
        fake = FakeRenderer()
        runner = ShowRunner(parse_show(SHOW), RunnerParts(renderers={"projector": fake}))  # type: ignore[dict-item]
        assert runner.control("test_pattern") == {"ok": True, "test_pattern": True}
        assert runner.control("test_pattern") == {"ok": True, "test_pattern": False}
        assert runner.control("identify", value=1.0)["identify"] is True
        assert runner.control("identify", value=1.0)["identify"] is True
        assert fake.calls == [
            ("test_pattern", True),
            ("test_pattern", False),
            ("identify", True),
            ("identify", True),
        ]
        bare = ShowRunner(parse_show('[[cue_lists]]\nname = "Main"\n'), RunnerParts())
        assert bare.control("identify")["ok"] is False

    asyncio.run(main())
