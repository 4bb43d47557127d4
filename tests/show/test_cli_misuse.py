"""Every command-line mistake ends in one clear line and a non-zero exit, never a
traceback; a port or file the show needs that cannot be had stops it before it starts."""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KITCHEN = str(ROOT / "examples" / "kitchen.toml")


def stovelight(
    *args: str, timeout: float = 60, preexec_fn: Callable[[], object] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "show.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line that says what went wrong (log lines may come around it)."""
    assert "Traceback" not in result.stderr + result.stdout
    said = [ln for ln in result.stderr.splitlines() if ln.startswith("stovelight")]
    assert len(said) == 1, result.stderr
    return said[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["demo", "--scenario", "nope"], "invalid choice: 'nope' (choose from"),
        (["simulate", "--homes", "0"], "argument --homes: 0 is outside 1..9999"),
        (["simulate", "--rate", "0"], "argument --rate: 0 must be more than 0"),
        (["simulate", "--rate", "nan"], "argument --rate: nan must be more than 0"),
        (["run", KITCHEN, "--web-port", "99999"], "argument --web-port: 99999 is outside"),
        (["demo", "--osc-out", "desk"], "argument --osc-out: 'desk' is not HOST:PORT"),
        (["demo", "--homes", "many"], "argument --homes: 'many' is not a whole number"),
        (["run", KITCHEN, "--duration", "-1"], "argument --duration: -1 must be more than 0"),
    ],
)
def test_a_bad_argument_is_one_usage_line(args: list[str], expected: str) -> None:
    result = stovelight(*args)
    assert result.returncode == 2
    assert expected in last_line(result)


def test_record_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    result = stovelight("record", "ws://127.0.0.1:1/", "-o", str(tmp_path / "no" / "r.sqlite"))
    assert result.returncode == 1
    assert "a recording file could not be opened or written" in last_line(result)


def test_version_and_choices_in_help() -> None:
    version = stovelight("--version")
    assert version.returncode == 0 and version.stdout.startswith("stovelight ")
    helptext = stovelight("demo", "--help").stdout
    assert "malfunction" in helptext and "community-cooking" in helptext
    assert "--sim-port SIM_PORT, --port SIM_PORT" in helptext
    assert "--sim-port PORT, --port PORT" in stovelight("simulate", "--help").stdout


def test_the_simulator_port_flag_has_one_name_everywhere() -> None:
    from show.cli import build_parser

    parser = build_parser()
    for cmd in (["demo"], ["simulate"], ["replay", "x.sqlite", "--serve"]):
        a = parser.parse_args([*cmd, "--sim-port", "9123"])
        b = parser.parse_args([*cmd, "--port", "9123"])
        assert (getattr(a, "sim_port", None) or a.port) == 9123
        assert (getattr(b, "sim_port", None) or b.port) == 9123


def test_simulate_on_a_busy_port_fails_with_one_line(busy_port: int) -> None:
    result = stovelight("simulate", "--port", str(busy_port), "--duration", "5")
    assert result.returncode == 1
    assert f"port {busy_port}: the port is already in use" in last_line(result)


def _run_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run",
        KITCHEN,
        "--no-visuals",
        "--web-host",
        "127.0.0.1",
        "--control-port",
        "0",
        "--log-dir",
        str(tmp_path),
        "--duration",
        "20",
        *extra,
    ]


def test_run_with_a_busy_web_port_stops_before_the_show(tmp_path: Path, busy_port: int) -> None:
    result = stovelight(*_run_args(tmp_path, "--web-port", str(busy_port)))
    assert result.returncode == 1
    line = last_line(result)
    assert f"web server port {busy_port}: the port is already in use" in line
    assert "--web-port" in line
    assert "Stovelight is running" not in result.stdout  # no banner: the show never started


def test_run_with_a_busy_control_port_stops_before_the_show(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        args = _run_args(tmp_path, "--web-port", "0")
        args[args.index("--control-port") + 1] = str(port)
        text = Path(KITCHEN).read_text() + '\n[control]\nhost = "127.0.0.1"\n'
        show = tmp_path / "show.toml"
        show.write_text(text)
        args[1] = str(show)
        result = stovelight(*args)
    assert result.returncode == 1
    assert f"QLab control port {port}: the port is already in use" in last_line(result)


@pytest.mark.parametrize("where", ["missing/rec.sqlite", "."])
def test_run_recording_somewhere_unwritable_is_one_line(tmp_path: Path, where: str) -> None:
    target = tmp_path / where
    result = stovelight(*_run_args(tmp_path, "--web-port", "0", "--record", str(target)))
    assert result.returncode == 1
    line = last_line(result)
    assert line.startswith(f"stovelight: cannot record to {target}")
    assert "does not exist" in line or "is a folder" in line


def _limit_file_size() -> None:  # in the child: files stop growing past 200 kB, like a full disk
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_recording_that_lost_rows_makes_run_exit_non_zero(tmp_path: Path) -> None:
    rec = tmp_path / "rec.sqlite"
    result = stovelight(
        "demo",
        "--no-visuals",
        "--homes",
        "40",
        "--sim-port",
        "0",  # any free port: the demo's show is told which
        "--osc-out",
        f"127.0.0.1:{free_port()}",
        "--web-port",
        "0",
        "--web-host",
        "127.0.0.1",
        "--control-port",
        "0",
        "--log-dir",
        str(tmp_path),
        "--record",
        str(rec),
        "--duration",
        "6",
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 3
    line = last_line(result)
    assert f"the recording {rec} is incomplete:" in line and "rows dropped" in line
