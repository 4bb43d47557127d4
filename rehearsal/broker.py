"""A private Mosquitto broker on loopback, for the tests, the demo and rehearsals.

Stovelight never implements a broker: this module writes a small configuration into
a temporary folder and starts the Debian package's ``mosquitto`` on a free loopback
port (no system service involved), then stops it again. A show night's broker is
whatever the venue runs; see docs/deployment.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from rehearsal.errors import RehearsalError

__all__ = ["BrokerError", "MosquittoBroker", "free_port"]

log = logging.getLogger(__name__)

MOSQUITTO = "/usr/sbin/mosquitto"


class BrokerError(RehearsalError, RuntimeError):
    """Mosquitto is missing or would not start."""


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _readable_by_broker(folder: Path, passwords: Path) -> None:
    """Started as root, mosquitto drops to its own user: let it reach the password
    file (0600, owned by that user) without opening the file to anyone else."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam("mosquitto")
    except KeyError:
        return
    folder.chmod(0o711)
    shutil.chown(passwords, user="mosquitto")
    passwords.chmod(0o600)


def _make_certificates(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it (openssl)."""
    crt, key = folder / "server.crt", folder / "server.key"
    if crt.exists():
        return crt, key
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    san = folder / "san.ext"
    san.write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    ca = ["-subj", "/CN=Stovelight test CA", "-days", "2"]
    sign = ["-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-extfile", str(san)]
    steps = [
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", *ca],
        ["req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", "server.csr", "-out", "server.crt", "-days", "2", *sign],
    ]
    for args in steps:
        try:
            subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as err:
            raise BrokerError(f"cannot make a test certificate with openssl: {err}") from err
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            pwd.getpwnam("mosquitto")
            folder.chmod(0o711)
            shutil.chown(key, user="mosquitto")
            for readable in (crt, folder / "ca.crt"):
                readable.chmod(0o644)
    return crt, key


class MosquittoBroker:
    """``with MosquittoBroker() as broker: broker.url`` — a broker for as long as needed.

    Args:
        port: Loopback port; 0 picks a free one.
        users: user → password; when given, anonymous clients are refused.
        tls: Listen with TLS (``mqtts://``) using a certificate made for 127.0.0.1 by
            a throwaway CA (:attr:`ca_file`), generated with ``openssl``.
        executable: The mosquitto binary.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        users: dict[str, str] | None = None,
        tls: bool = False,
        executable: str = MOSQUITTO,
    ) -> None:
        self.port = port or free_port()
        self.users = dict(users or {})
        self.tls = tls
        self.executable = executable
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT`` (``mqtts://`` with TLS)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        """The CA certificate that signed a TLS broker's certificate."""
        if self._dir is None:
            raise BrokerError("the broker has not been started")
        return str(Path(self._dir.name) / "ca.crt")

    @property
    def running(self) -> bool:
        """True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 5.0) -> None:
        """Write the configuration and start mosquitto; wait until it listens.

        Raises:
            BrokerError: mosquitto is not installed, or did not listen in time.
        """
        if not Path(self.executable).exists() and shutil.which("mosquitto") is None:
            raise BrokerError(
                "mosquitto is not installed (Debian package 'mosquitto'; ./scripts/setup "
                "installs it)"
            )
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="stovelight-mqtt-")
        folder = Path(self._dir.name)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if self.users:
            passwords = folder / "passwords"
            passwords.write_text("", encoding="utf-8")
            for user, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            _readable_by_broker(folder, passwords)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            server_crt, server_key = _make_certificates(folder)
            lines += [f"cafile {folder / 'ca.crt'}", f"certfile {server_crt}"]
            lines.append(f"keyfile {server_key}")
        config = folder / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        exe = self.executable if Path(self.executable).exists() else "mosquitto"
        logfile = folder / "mosquitto.log"
        with logfile.open("ab") as errors:
            self._proc = subprocess.Popen(
                [exe, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=errors
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = logfile.read_text(encoding="utf-8", errors="replace")
                raise BrokerError(f"mosquitto exited at start: {err.strip()[:300]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                log.info("mosquitto listening on %s", self.url)
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        """Stop the broker (its configuration stays for a restart on the same port)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the broker and remove its folder."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> MosquittoBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
