"""Who can reach the QLab-compatible control port: one description for check, banner and console.

A control port that listens beyond loopback must say who may use it: a passcode
(QLab's ``/connect``), an allow list of client addresses, or ``open = true``
(anyone on the network, on purpose). ``stovelight check`` reports a show that
says none of these; the start-up banner and the console show the exposure.
"""

from __future__ import annotations

import ipaddress

from show.showfile.config import ControlConfig

__all__ = ["access_problem", "exposure", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True when ``host`` (an IP address or ``localhost``) only reaches this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure(config: ControlConfig) -> str:
    """A few words for the banner and the console: where the port listens and who may use it."""
    if not config.enabled:
        return "off"
    if is_loopback(config.host):
        where = "this computer only"
    elif config.host in ("0.0.0.0", "::", ""):
        where = "all networks"
    else:
        where = f"network {config.host}"
    guards = []
    if config.passcode:
        guards.append("passcode")
    if config.allow:
        guards.append(f"allow list of {len(config.allow)}")
    if not guards:
        guards.append("open to anyone" if not is_loopback(config.host) else "no passcode")
    return f"{where}, {', '.join(guards)}"


def access_problem(config: ControlConfig) -> str | None:
    """Why this control configuration is not allowed to run, with the fix; None if it is."""
    if not config.enabled or is_loopback(config.host):
        return None
    if config.passcode or config.allow or config.open:
        return None
    return (
        f"the control port listens on {config.host!r} (beyond this computer) with no passcode"
        " and no allow list, so anyone on the network can GO, stop and edit cues; set"
        " passcode = '...', allow = ['192.168.1.20', ...], or open = true to accept that,"
        " or host = '127.0.0.1' to keep it on this computer"
    )
