"""A real Daphne process serving Oarlock on the test database, for acceptance tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_of(database: Mapping[str, Any]) -> str:
    """The DATABASE_URL that points a subprocess at the database this test process uses."""
    if database["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(Path(database["NAME"]).resolve())
    user = database.get("USER") or ""
    password = database.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "127.0.0.1"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{database['NAME']}"


class LiveServer:
    def __init__(self, env: Mapping[str, str], *, server: str = "daphne") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = self.url + "/v1"
        self._var_dir = tempfile.mkdtemp(prefix="oarlock-live-")
        self.log_path = Path(self._var_dir) / "server.log"
        self._env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "oarlock.settings",
            "OARLOCK_VAR_DIR": self._var_dir,
            "OARLOCK_SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url_of(settings.DATABASES["default"]),
            "OARLOCK_UPSTREAM_REFRESH_SECONDS": "0",
            "OARLOCK_API_KEY_CACHE_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self._server = server
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        if self._server == "uvicorn":
            return [
                sys.executable,
                "-m",
                "uvicorn",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "oarlock.asgi:application",
            ]
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "oarlock.asgi:application"]

    def start(self, timeout: float = 30.0) -> LiveServer:
        log = self.log_path.open("ab")  # "ab": a restart (same port, same var dir) keeps the log
        self.process = subprocess.Popen(
            self.command(), cwd=PROJECT_DIR, env=self._env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"live server exited at start:\n{self.log_tail()}")
            try:
                httpx.get(self.url + "/health", timeout=1.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"live server did not start in {timeout}s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM (a graceful shutdown), then SIGKILL after ``timeout``. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(5)

    def kill(self) -> int | None:
        """SIGKILL: no shutdown hook runs (what an OOM kill or a crash does)."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.kill()
        return self.process.wait(10)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
