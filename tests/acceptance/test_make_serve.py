"""``make serve`` as a new user runs it: a taken port is one clear line, and what the first run
prints works when pasted.

These run the Makefile itself (``make -o .venv/.installed-stamp``: never reinstall from a test) with
a throwaway ``OARLOCK_VAR_DIR``, so the SQLite database, the secret key and the demo tenant are
new — a first run — and the project's own ``var/`` is not touched.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import PROJECT_DIR, free_port

MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed-stamp", "serve"]


def serve_environment(var_dir: Path) -> dict[str, str]:
    environment = {**os.environ, "OARLOCK_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"}
    for name in (
        "PADDLER_INFERENCE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "OARLOCK_DEFAULT_MODEL",
        "OARLOCK_DEFAULT_MODEL_ALIASES",
        "DJANGO_SETTINGS_MODULE",
    ):
        environment.pop(name, None)
    return environment


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("variable", ["PORT", "ENGINE_PORT"])
def test_a_taken_port_stops_make_serve_at_once_with_one_line_naming_it(
    variable: str, taken_port: int, tmp_path: Path
) -> None:
    ports = {"PORT": free_port(), "ENGINE_PORT": free_port(), variable: taken_port}
    started = time.monotonic()
    result = subprocess.run(
        [*MAKE, *(f"{name}={port}" for name, port in ports.items())],
        cwd=PROJECT_DIR,
        env=serve_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert time.monotonic() - started < 20  # no migrations, no model load
    ours = [line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("make")]
    assert len(ours) == 1, ours
    suggested = re.fullmatch(
        rf"Port {taken_port} \({variable}\) is already in use on 127\.0\.0\.1: choose another, "
        rf"e\.g\. make serve {variable}=(\d+)",
        ours[0],
    )
    assert suggested and int(suggested.group(1)) > taken_port, ours
    assert not (tmp_path / "oarlock.sqlite3").exists()


def test_check_ports_passes_free_ports_and_names_the_variable_of_a_taken_one(taken_port: int) -> None:
    script = str(PROJECT_DIR / "scripts" / "check-ports")
    free = subprocess.run([script, f"PORT=127.0.0.1:{free_port()}"], capture_output=True, text=True)
    assert (free.returncode, free.stderr) == (0, "")
    taken = subprocess.run(
        [script, f"PORT=127.0.0.1:{free_port()}", f"ENGINE_PORT=127.0.0.1:{taken_port}"],
        capture_output=True,
        text=True,
    )
    assert taken.returncode == 1
    assert taken.stderr.startswith(f"Port {taken_port} (ENGINE_PORT) is already in use")


def printed_blocks(output: str) -> tuple[str, str]:
    """The curl command (with its continuation lines) and the Python snippet, as printed."""
    curl = re.search(r"^curl .*?[^\\]\n", output, re.MULTILINE | re.DOTALL)
    python = re.search(r"^from openai import OpenAI\n.*?^print\(.*?\)\n", output, re.MULTILINE | re.DOTALL)
    assert curl and python, output
    return curl.group(0), python.group(0)


@pytest.mark.local_engine
def test_the_first_run_prints_a_curl_line_and_an_sdk_snippet_that_work_as_printed(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    port, engine_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        serve = subprocess.Popen(
            [*MAKE, f"PORT={port}", f"ENGINE_PORT={engine_port}"],
            cwd=PROJECT_DIR,
            env={**serve_environment(tmp_path), "OARLOCK_LOCAL_CONTEXT_SIZE": "2048", "OARLOCK_LOCAL_THREADS": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_health(f"http://127.0.0.1:{port}/health", serve, log_path)
        curl, python = printed_blocks(log_path.read_text())
        answered = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=120)
        assert answered.returncode == 0, answered.stderr
        assert '"choices"' in answered.stdout and '"content"' in answered.stdout, answered.stdout
        snippet = subprocess.run(
            [sys.executable, "-c", python], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        assert snippet.returncode == 0, snippet.stderr
        assert snippet.stdout.strip()
    finally:
        os.killpg(serve.pid, signal.SIGTERM)  # the group this test started: make, supervisor, engine, Daphne
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()


def wait_for_health(url: str, serve: subprocess.Popen[bytes], log_path: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert serve.poll() is None, log_path.read_text(errors="replace")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"make serve did not answer {url}:\n{log_path.read_text(errors='replace')[-3000:]}")
