"""Control access is a decision: check refuses an unguarded port beyond loopback, the
banner and the console say who can reach it, and zeroconf adverts it as QLab does."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from zeroconf import IPVersion, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from bridges.osc.wire import decode_packet, encode_message, iter_messages
from show.errors import ShowFileError
from show.qlab.discovery import SERVICE_TYPES, service_infos
from show.showfile.access import access_problem, exposure
from show.showfile.config import ControlConfig
from show.showfile.load import parse_show
from show.web.snapshots import Snapshots
from tests.bridges.osc.osc_test_support import run
from tests.show.live_support import running_show

LIST = '[[cue_lists]]\nname = "Main"\n[[cue_lists.cues]]\nnumber = "1"\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ShowFileError) as info:
        parse_show(text, "show.toml")
    return [str(p) for p in info.value.problems]


def test_a_control_port_beyond_loopback_needs_a_passcode_an_allow_list_or_open() -> None:
    out = problems('[control]\nhost = "0.0.0.0"\n' + LIST)
    assert len(out) == 1
    assert out[0].startswith("show.toml:2: control.host:")
    for fix in ("passcode = '...'", "allow = [", "open = true", "host = '127.0.0.1'"):
        assert fix in out[0]
    for guard in ('passcode = "4321"', 'allow = ["192.168.1.20"]', "open = true"):
        show = parse_show(f'[control]\nhost = "0.0.0.0"\n{guard}\n' + LIST, "show.toml")
        assert access_problem(show.control) is None
    assert parse_show(LIST, "show.toml").control.host == "127.0.0.1"  # the default
    off = parse_show('[control]\nhost = "0.0.0.0"\nenabled = false\n' + LIST, "show.toml")
    assert not off.control.enabled


def test_stovelight_check_says_so_with_the_fix(tmp_path: Path) -> None:
    show = tmp_path / "show.toml"
    show.write_text('[control]\nhost = "0.0.0.0"\n' + LIST)
    done = subprocess.run(
        [sys.executable, "-m", "show.cli", "check", str(show)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "anyone on the network" in done.stdout + done.stderr
    assert "open = true" in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (ControlConfig(), "this computer only, no passcode"),
        (ControlConfig(host="0.0.0.0", passcode="x"), "all networks, passcode"),
        (ControlConfig(host="0.0.0.0", open=True), "all networks, open to anyone"),
        (
            ControlConfig(host="192.168.1.5", allow=("192.168.1.20", "192.168.1.21")),
            "network 192.168.1.5, allow list of 2",
        ),
        (ControlConfig(enabled=False), "off"),
    ],
)
def test_exposure_in_words(config: ControlConfig, words: str) -> None:
    assert exposure(config) == words


def test_the_console_shows_the_control_ports_exposure() -> None:
    async def main() -> None:
        show = parse_show(
            '[control]\nhost = "127.0.0.1"\nport = 0\ndiscovery = false\npasscode = "7"\n' + LIST,
            "show.toml",
        )
        async with running_show(show) as (runner, control):
            outputs = Snapshots(runner, None, [control.stats]).console()["outputs"]
            row = next(o for o in outputs if o["name"] == "qlab-control")
            assert row["kind"] == "osc-in: this computer only, passcode"
            assert row["state"] == "ok"

    run(main())


def test_service_records_are_qlabs_two_types_and_osc_udp() -> None:
    infos = service_infos("The Central Stove", "127.0.0.1", 53100, 53101)
    assert [i.type for i in infos] == list(SERVICE_TYPES)
    assert [i.port for i in infos] == [53100, 53101, 53101]
    assert infos[0].name == "The Central Stove (Stovelight)._qlab._tcp.local."
    assert infos[0].parsed_addresses() == ["127.0.0.1"]
    assert [i.type for i in service_infos("x", "127.0.0.1", None, 9)] == list(SERVICE_TYPES[1:])
    long = service_infos("A" * 100 + ".b", "127.0.0.1", 1, 1)[0]
    assert len(long.name.split("._qlab")[0].encode()) <= 63


def test_a_zeroconf_browser_on_loopback_finds_the_running_show() -> None:
    """A real mDNS browser (python-zeroconf) on 127.0.0.1 resolves the advert to the
    control port; closing the show withdraws it."""

    async def main() -> None:
        show = parse_show(
            '[show]\ntitle = "Found By Browser"\n'
            '[control]\nhost = "127.0.0.1"\nport = 0\nreply_port = 0\n' + LIST,
            "show.toml",
        )
        browser_zc = AsyncZeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        seen: dict[str, list[str]] = {t: [] for t in SERVICE_TYPES}
        removed: list[str] = []

        def changed(
            zeroconf: object, service_type: str, name: str, state_change: ServiceStateChange
        ) -> None:
            if "Found By Browser" not in name:
                return
            if state_change is ServiceStateChange.Added:
                seen[service_type].append(name)
            elif state_change is ServiceStateChange.Removed:
                removed.append(name)

        browser = AsyncServiceBrowser(browser_zc.zeroconf, list(SERVICE_TYPES), handlers=[changed])
        try:
            async with running_show(show) as (_runner, control):
                async with asyncio.timeout(15):
                    while not all(seen.values()):
                        await asyncio.sleep(0.05)
                name = seen["_qlab._tcp.local."][0]
                info = await browser_zc.async_get_service_info("_qlab._tcp.local.", name, 3000)
                assert info is not None
                assert info.port == control.server.ports.tcp
                assert info.parsed_addresses() == ["127.0.0.1"]
                # what a QLab remote does next: ask the advertised UDP port for workspaces
                udp_name = seen["_qlab._udp.local."][0]
                udp = await browser_zc.async_get_service_info("_qlab._udp.local.", udp_name, 3000)
                assert udp is not None and udp.port == control.server.ports.udp
                loop = asyncio.get_running_loop()
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                    probe.setblocking(False)
                    probe.bind(("127.0.0.1", 0))
                    target = (udp.parsed_addresses()[0], udp.port)
                    await loop.sock_sendto(probe, encode_message("/workspaces"), target)
                    async with asyncio.timeout(5):
                        data = await loop.sock_recv(probe, 65536)
                reply = next(iter_messages(decode_packet(data)))
                assert reply.address == "/reply/workspaces"
                assert (
                    json.loads(str(reply.args[0]))["data"][0]["displayName"] == "Found By Browser"
                )
            async with asyncio.timeout(10):
                while not removed:
                    await asyncio.sleep(0.05)
        finally:
            await browser.async_cancel()
            await browser_zc.async_close()

    run(main(), timeout=40)


def test_discovery_off_registers_nothing() -> None:
    async def main() -> None:
        show = parse_show(
            '[control]\nhost = "127.0.0.1"\nport = 0\ndiscovery = false\n' + LIST, "show.toml"
        )
        async with running_show(show) as (_runner, control):
            assert control.advert is None

    run(main())
