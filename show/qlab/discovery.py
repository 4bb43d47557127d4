"""Zeroconf (Bonjour, mDNS-SD) adverts for the control port, so remotes find the show.

QLab advertises its OSC port as ``_qlab._tcp`` and ``_qlab._udp`` (the service types
Figure 53's QLabKit browses for, ``QLKDefines.m``); QLab remotes list every such
service and then ask it ``/workspaces``. Stovelight registers the same two types
plus ``_osc._udp`` (what TouchOSC and other OSC tools browse), named after the show.
``[control] discovery = false`` turns the adverts off.

The adverts go out on the control port's own interface: loopback for a show that
listens on 127.0.0.1, every interface for 0.0.0.0. The responder runs on its own
thread, and registration in a named task, so neither a slow or absent multicast
network nor a flood of mDNS queries ever holds the show's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence

import ifaddr
from zeroconf import InterfaceChoice, IPVersion, NonUniqueNameException, ServiceInfo, Zeroconf

from show.showfile.access import is_loopback

__all__ = ["SERVICE_TYPES", "ControlAdvert", "service_infos"]

log = logging.getLogger(__name__)

SERVICE_TYPES = ("_qlab._tcp.local.", "_qlab._udp.local.", "_osc._udp.local.")
_MAX_LABEL = 63  # DNS label limit for the instance name, in bytes


def _instance(title: str) -> str:
    name = f"{title} (Stovelight)".replace(".", " ")
    raw = name.encode()[:_MAX_LABEL]
    return raw.decode(errors="ignore")


def service_infos(
    title: str, host: str, tcp_port: int | None, udp_port: int | None
) -> list[ServiceInfo]:
    """The records to register: QLab's two service types and ``_osc._udp``, for the
    ports that are listening. ``host`` is the control port's bind address."""
    name = _instance(title)
    server = f"{socket.gethostname().split('.')[0] or 'stovelight'}.local."
    if host in ("0.0.0.0", "", "::"):
        ips = _ipv4s()
    else:
        ips = ["127.0.0.1" if host == "localhost" else host]
    addresses: Sequence[bytes] = [socket.inet_aton(ip) for ip in ips]
    props = {"app": "Stovelight", "workspace": title[:200]}
    infos = []
    for stype in SERVICE_TYPES:
        port = tcp_port if stype.endswith("_tcp.local.") else udp_port
        if port is None:
            continue
        infos.append(
            ServiceInfo(
                stype,
                f"{name}.{stype}",
                port=port,
                properties=props,
                server=server,
                addresses=addresses,
            )
        )
    return infos


class ControlAdvert:
    """Registers the control port's services and withdraws them on close.

    The mDNS responder runs on python-zeroconf's own thread and loop, never on the
    show's: queries from the network (a flood included) cost the show nothing.
    Registering (about 1.5 s of probing) and closing run in a worker thread.
    """

    def __init__(self, title: str, host: str, tcp_port: int | None, udp_port: int | None) -> None:
        self.title = title
        self.host = host
        self.infos = service_infos(title, host, tcp_port, udp_port)
        self.registered: list[str] = []
        self._zc: Zeroconf | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin registering in the background (named task ``control-discovery``)."""
        self._task = asyncio.get_running_loop().create_task(
            self._register(), name="control-discovery"
        )

    async def _register(self) -> None:
        problem = await asyncio.to_thread(self._register_blocking)
        if problem is not None:
            log.warning(
                "zeroconf adverts for the control port failed (%s); remotes must be"
                " given the address by hand",
                problem,
            )
        else:
            log.info("control port advertised over zeroconf as %s", ", ".join(self.registered))

    def _register_blocking(self) -> str | None:
        interfaces: InterfaceChoice | list[str] = InterfaceChoice.All
        if is_loopback(self.host):
            interfaces = ["127.0.0.1"]
        elif self.host not in ("0.0.0.0", "", "::"):
            interfaces = [self.host]
        try:
            self._zc = Zeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
            for info in self.infos:
                if self._closing:
                    break
                self._zc.register_service(info, allow_name_change=True)
                self.registered.append(info.name)
        except (OSError, NonUniqueNameException, ValueError, RuntimeError) as exc:
            return str(exc) or type(exc).__name__
        return None

    def _close_blocking(self) -> None:
        zc = self._zc
        if zc is not None:
            with contextlib.suppress(OSError, RuntimeError):
                zc.unregister_all_services()
            zc.close()

    async def aclose(self) -> None:
        """Withdraw the adverts (goodbye packets) and close the responder."""
        self._closing = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 5.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.to_thread(self._close_blocking), 5.0)
        self._zc = None


def _ipv4s() -> list[str]:
    """This machine's IPv4 addresses other than loopback (loopback if it has none)."""
    out = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                out.append(ip.ip)
    return out or ["127.0.0.1"]
